#!/usr/bin/python3
"""Writes gomlx_models/optim/testdata/torch_trajectories.json.

Reference trajectories of torch.optim (SGD, SGD with momentum, RMSprop, Adam)
on two fixed small problems, in float64 and float32, so that the Go tests in
gomlx_models/optim can check our own update rules against PyTorch without
needing Python at test time.

Run from the repository root with Debian's torch:

    /usr/bin/python3 scripts/optim_fixtures.py

Problems (both expressed over one flat parameter vector p):
  * rosenbrock: f(x, y) = (a - x)^2 + b (y - x^2)^2, a=1, b=100, start (-1.5, 2).
  * linreg: mean squared error of a linear model, loss = mean((X w + c - y)^2),
    p = [w..., c], with fixed data X (16x3) and y stored in the JSON.
"""

import json
import os
import sys

import torch

STEPS = 100
OUT = os.path.join("gomlx_models", "optim", "testdata", "torch_trajectories.json")

# Hyper-parameters per problem and optimizer. Names follow torch.optim.
HPARAMS = {
    "rosenbrock": {
        "sgd": {"lr": 5e-4},
        "momentum": {"lr": 1e-4, "momentum": 0.9},
        "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8},
        "adam": {"lr": 5e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    },
    "linreg": {
        "sgd": {"lr": 5e-2},
        "momentum": {"lr": 2e-2, "momentum": 0.9},
        "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8},
        "adam": {"lr": 5e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    },
}


def make_linreg_data():
    """Fixed data: X ~ N(0,1) (seed 0), y = X [1.5, -2, 0.5] + 0.3 + 0.1 noise."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    noise = torch.randn(16, generator=gen, dtype=torch.float64)
    w_true = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    y = x @ w_true + 0.3 + 0.1 * noise
    return x, y


def make_optimizer(name, params, hp):
    if name == "sgd":
        return torch.optim.SGD(params, lr=hp["lr"])
    if name == "momentum":
        return torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"])
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"])
    if name == "adam":
        return torch.optim.Adam(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])
    raise ValueError(f"unknown optimizer {name!r}")


def trajectory(problem, start, loss_fn, opt_name, hp, dtype):
    p = torch.tensor(start, dtype=dtype, requires_grad=True)
    opt = make_optimizer(opt_name, [p], hp)
    points = [p.detach().double().tolist()]
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(p)
        losses.append(float(loss.item()))
        loss.backward()
        opt.step()
        points.append(p.detach().double().tolist())
    final = float(loss_fn(p).item())
    if not all(map(lambda v: v == v and abs(v) < 1e30, losses + [final])):
        sys.exit(f"{problem}/{opt_name}/{dtype}: trajectory diverged, pick smaller learning rates")
    return points, losses + [final]


def main():
    torch.set_num_threads(1)
    x64, y64 = make_linreg_data()
    problems = {
        "rosenbrock": {"a": 1.0, "b": 100.0, "start": [-1.5, 2.0]},
        "linreg": {"x": x64.tolist(), "y": y64.tolist(), "start": [0.0, 0.0, 0.0, 0.0]},
    }
    cases = []
    for dtype_name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        x, y = x64.to(dtype), y64.to(dtype)
        a, b = problems["rosenbrock"]["a"], problems["rosenbrock"]["b"]

        def rosenbrock(p):
            return (a - p[0]) ** 2 + b * (p[1] - p[0] ** 2) ** 2

        def linreg(p):
            pred = x @ p[:3] + p[3]
            return ((pred - y) ** 2).mean()

        for problem, fn in (("rosenbrock", rosenbrock), ("linreg", linreg)):
            for opt_name, hp in HPARAMS[problem].items():
                points, losses = trajectory(problem, problems[problem]["start"], fn, opt_name, hp, dtype)
                cases.append({
                    "problem": problem,
                    "optimizer": opt_name,
                    "dtype": dtype_name,
                    "hparams": hp,
                    "trajectory": points,
                    "losses": losses,
                })
    doc = {
        "generator": "scripts/optim_fixtures.py",
        "torch_version": torch.__version__,
        "steps": STEPS,
        "problems": problems,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    for c in cases:
        print(f'{c["problem"]:10s} {c["optimizer"]:8s} {c["dtype"]:7s} loss {c["losses"][0]:.4g} -> {c["losses"][-1]:.4g}  end {[round(v, 4) for v in c["trajectory"][-1]]}')


if __name__ == "__main__":
    main()
