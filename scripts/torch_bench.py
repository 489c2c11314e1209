# PyTorch CPU CNN throughput benchmark (Debian python3-torch 1.13.1): the (c) column of `convnotes bench`.
#
# Project copy of /work/shared/reference/torch_bench.py (the script behind the numbers in issue 3): the same model
# definitions, data, optimizer and timing method; added here are --min-steps/--min-seconds (so the Go bench can
# bound each round like its own columns), peak RSS (VmHWM) and a machine-readable "JSON" line.
#
# Usage: /usr/bin/python3 torch_bench.py MODEL(lenet|resnet20) MODE(train|infer) THREADS [BATCH] [WARMUP] [STEPS]
#            [--min-steps N] [--min-seconds S] [--json]
# With --min-seconds, timing stops after at least --min-steps steps once S seconds have passed (at most STEPS).
import sys, time, os, json, resource
import torch, torch.nn as nn, torch.nn.functional as F

argv = [a for a in sys.argv[1:]]
opts = {"--min-steps": None, "--min-seconds": None}
as_json = "--json" in argv
argv = [a for a in argv if a != "--json"]
for k in list(opts):
    if k in argv:
        i = argv.index(k)
        opts[k] = argv[i + 1]
        del argv[i:i + 2]
model_name, mode, threads = argv[0], argv[1], int(argv[2])
batch = int(argv[3]) if len(argv) > 3 else (64 if model_name == "lenet" else 128)
warmup = int(argv[4]) if len(argv) > 4 else 5
steps = int(argv[5]) if len(argv) > 5 else 30
min_steps = int(opts["--min-steps"]) if opts["--min-steps"] else steps
min_seconds = float(opts["--min-seconds"]) if opts["--min-seconds"] else float("inf")
torch.set_num_threads(threads)
torch.manual_seed(0)

class LeNet(nn.Module):  # conv3x3x32+relu+maxpool2, conv3x3x64+relu+maxpool2, dense 10 (valid convs)
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3); self.c2 = nn.Conv2d(32, 64, 3); self.fc = nn.Linear(64 * 5 * 5, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(torch.flatten(x, 1))

class Block(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.a = nn.Conv2d(cin, c, 3, stride, 1, bias=False); self.bna = nn.BatchNorm2d(c)
        self.b = nn.Conv2d(c, c, 3, 1, 1, bias=False); self.bnb = nn.BatchNorm2d(c)
        self.proj = None
        if stride != 1 or cin != c:  # "option B" 1x1 conv projection (same as the GoMLX version)
            self.proj = nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c))
    def forward(self, x):
        y = F.relu(self.bna(self.a(x)))
        y = self.bnb(self.b(y))
        return F.relu(y + (x if self.proj is None else self.proj(x)))

class ResNet20(nn.Module):  # He et al. 2016 CIFAR ResNet, n=3
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        layers, cin = [], 16
        for stage, c in enumerate([16, 32, 64]):
            for blk in range(3):
                layers.append(Block(cin, c, 2 if (stage > 0 and blk == 0) else 1)); cin = c
        self.layers = nn.Sequential(*layers); self.fc = nn.Linear(64, 10)
    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

if model_name == "lenet":
    model, shape = LeNet(), (batch, 1, 28, 28)
else:
    model, shape = ResNet20(), (batch, 3, 32, 32)
dev = os.environ.get("DEV", "cpu")
model = model.to(dev)
x = torch.randn(*shape, device=dev); y = torch.randint(0, 10, (batch,), device=dev)
nparams = sum(p.numel() for p in model.parameters())

if mode == "train":
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward(); opt.step()
        return loss.item()
else:
    model.eval()
    def step():
        with torch.inference_mode():
            return model(x)[0, 0].item()

def busy():  # whole-machine busy seconds (all CPUs) from /proc/stat
    f = open("/proc/stat").readline().split()
    return sum(float(f[i]) for i in (1, 2, 3, 6, 7, 8)) / 100.0

for _ in range(warmup): step()
ts = []
c0, b0, t0 = time.process_time(), busy(), time.perf_counter()
while len(ts) < steps and (len(ts) < min_steps or time.perf_counter() - t0 < min_seconds):
    s = time.perf_counter(); step(); ts.append(time.perf_counter() - s)
wall = time.perf_counter() - t0; cpu = time.process_time() - c0; bz = busy() - b0
n = len(ts); srt = sorted(ts); mean = wall / n; med = srt[n // 2]
def peak_rss_kib():  # VmHWM of this process; ru_maxrss would include the RSS of a parent that forked us
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
maxrss_kib = peak_rss_kib()
print(f"RESULT torch{torch.__version__} model={model_name} mode={mode} threads={threads} batch={batch} params={nparams} "
      f"steps={n}: mean {mean*1e3:.1f} ms/step = {batch/mean:.0f} img/s; median {med*1e3:.1f} ms ({batch/med:.0f} img/s); "
      f"best {srt[0]*1e3:.1f} ms ({batch/srt[0]:.0f} img/s); cores used by this process {cpu/wall:.2f}; "
      f"other load on machine {(bz-cpu)/wall:.2f} cores; maxrss {maxrss_kib/1024:.0f} MiB", flush=True)
if as_json:
    print("JSON " + json.dumps({"torch": torch.__version__, "step_seconds": ts, "maxrss_kib": maxrss_kib}), flush=True)
