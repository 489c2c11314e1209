package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
)

// torchTolerance is the bar: trajectories match torch.optim within 1e-5 (relative to
// the magnitude of the value when it is larger than 1).
const torchTolerance = 1e-5

// testBackend is the project's backend choice ($GOMLX_BACKEND, else the Go backend as backend.Default),
// created once per process.
func testBackend() (compute.Backend, error) { return cnbackend.New("") }

func backend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := testBackend()
	if err != nil {
		t.Fatalf("creating backend: %v", err)
	}
	return b
}

// fixture is the torch.optim reference (scripts/optim_fixtures.py).
type fixture = TorchFixture

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "torch_trajectories.json"))
	if err != nil {
		t.Fatalf("reading fixture (regenerate with /usr/bin/python3 scripts/optim_fixtures.py): %v", err)
	}
	var f fixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parsing fixture: %v", err)
	}
	if len(f.Cases) != 16 || f.Steps != 100 {
		t.Fatalf("fixture has %d cases of %d steps, want 16 cases of 100 steps", len(f.Cases), f.Steps)
	}
	return &f
}

// optimizerFromHParams maps a fixture case to our optimizer with the same hyper-parameters.
func optimizerFromHParams(name string, hp map[string]float64) (Optimizer, error) {
	switch name {
	case "sgd":
		return SGD{LR: hp["lr"]}, nil
	case "momentum":
		return Momentum{LR: hp["lr"], Mu: hp["momentum"]}, nil
	case "rmsprop":
		return RMSProp{LR: hp["lr"], Alpha: hp["alpha"], Eps: hp["eps"]}, nil
	case "adam":
		return Adam{LR: hp["lr"], Beta1: hp["beta1"], Beta2: hp["beta2"], Eps: hp["eps"]}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q", name)
}

func (f *fixture) objective(t *testing.T, problem string) (Objective, []float64) {
	t.Helper()
	switch problem {
	case "rosenbrock":
		r := f.Problems.Rosenbrock
		return Rosenbrock(r.A, r.B), r.Start
	case "linreg":
		l := f.Problems.Linreg
		obj, err := LinearRegression(l.X, l.Y)
		if err != nil {
			t.Fatalf("LinearRegression: %v", err)
		}
		return obj, l.Start
	}
	t.Fatalf("unknown problem %q", problem)
	return Objective{}, nil
}

// maxDeviation returns the largest |got−want|/max(1,|want|) over the whole trajectory, and where.
func maxDeviation(t *testing.T, got, want [][]float64) (worst float64, step int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("trajectory has %d points, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("point %d has %d values, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			d := math.Abs(got[i][j]-want[i][j]) / math.Max(1, math.Abs(want[i][j]))
			if !(d <= worst) { // also catches NaN
				worst, step = d, i
			}
		}
	}
	return worst, step
}

// TestMatchesTorch compares 100-step trajectories of both forms of every rule (pure Go and
// GoMLX graph on the Go backend) to torch.optim, on Rosenbrock and on linear regression, in
// float64 and float32.
func TestMatchesTorch(t *testing.T) {
	f := loadFixture(t)
	b := backend(t)
	for _, c := range f.Cases {
		name := fmt.Sprintf("%s/%s/%s", c.Problem, c.Optimizer, c.DType)
		t.Run(name, func(t *testing.T) {
			opt, err := optimizerFromHParams(c.Optimizer, c.HParams)
			if err != nil {
				t.Fatal(err)
			}
			obj, start := f.objective(t, c.Problem)
			dtype := dtypes.Float64
			if c.DType == "float32" {
				dtype = dtypes.Float32
			}

			// The float64 reference must match torch's float64 run; against torch's float32 run
			// it still must be within the tolerance (float32 rounding is far below it).
			ref, err := Trajectory(opt, obj.F, obj.Grad, start, f.Steps)
			if err != nil {
				t.Fatalf("Trajectory: %v", err)
			}
			if dev, step := maxDeviation(t, ref.Points, c.Trajectory); dev > torchTolerance {
				t.Errorf("pure-Go %s deviates from torch by %.3g at step %d", opt.Name(), dev, step)
			}

			gp, err := GraphTrajectory(b, opt, obj, start, dtype, f.Steps)
			if err != nil {
				t.Fatalf("GraphTrajectory: %v", err)
			}
			dev, step := maxDeviation(t, gp.Points, c.Trajectory)
			if dev > torchTolerance {
				t.Errorf("GoMLX %s (%s) deviates from torch by %.3g at step %d", opt.Name(), dtype, dev, step)
			}
			t.Logf("GoMLX %s %s: max relative deviation from torch %.2g", opt.Name(), dtype, dev)
		})
	}
}
