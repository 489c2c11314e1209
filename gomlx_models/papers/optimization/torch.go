package optimization

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
)

// TorchCase is the agreement of our two implementations of one rule with torch.optim on one problem.
type TorchCase struct {
	Problem, Optimizer, DType string
	Steps                     int
	// PureGo and Graph are the largest deviation over the trajectory, |ours − torch| / max(1, |torch|), of the
	// pure-Go float64 stepper and of the GoMLX optimizer (in DType, on the backend).
	PureGo, Graph float64
}

// TorchTolerance is the agreement required with torch.optim over 100 steps.
const TorchTolerance = 1e-5

// TorchAgreement replays every case of the torch.optim fixture (4 rules × Rosenbrock and linear regression ×
// float64 and float32, 100 steps each) with our pure-Go steppers and with our GoMLX optimizers on backend, and
// returns the largest deviation of each from torch's trajectory.
func TorchAgreement(backend compute.Backend) (torchVersion string, cases []TorchCase, err error) {
	f, err := optim.LoadTorchFixture()
	if err != nil {
		return "", nil, err
	}
	linreg, err := optim.LinearRegression(f.Problems.Linreg.X, f.Problems.Linreg.Y)
	if err != nil {
		return "", nil, fmt.Errorf("torch fixture: %w", err)
	}
	for _, c := range f.Cases {
		var obj optim.Objective
		var start []float64
		switch c.Problem {
		case "rosenbrock":
			r := f.Problems.Rosenbrock
			obj, start = optim.Rosenbrock(r.A, r.B), r.Start
		case "linreg":
			obj, start = linreg, f.Problems.Linreg.Start
		default:
			return "", nil, fmt.Errorf("torch fixture: unknown problem %q", c.Problem)
		}
		hp := c.HParams
		var opt optim.Optimizer
		switch c.Optimizer {
		case "sgd":
			opt = optim.SGD{LR: hp["lr"]}
		case "momentum":
			opt = optim.Momentum{LR: hp["lr"], Mu: hp["momentum"]}
		case "rmsprop":
			opt = optim.RMSProp{LR: hp["lr"], Alpha: hp["alpha"], Eps: hp["eps"]}
		case "adam":
			opt = optim.Adam{LR: hp["lr"], Beta1: hp["beta1"], Beta2: hp["beta2"], Eps: hp["eps"]}
		default:
			return "", nil, fmt.Errorf("torch fixture: unknown optimizer %q", c.Optimizer)
		}
		dt := dtypes.Float64
		if c.DType == "float32" {
			dt = dtypes.Float32
		}
		name := fmt.Sprintf("%s/%s/%s", c.Problem, c.Optimizer, c.DType)
		ref, err := optim.Trajectory(opt, obj.F, obj.Grad, start, f.Steps)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
		gp, err := optim.GraphTrajectory(backend, opt, obj, start, dt, f.Steps)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
		tc := TorchCase{Problem: c.Problem, Optimizer: c.Optimizer, DType: c.DType, Steps: f.Steps}
		if tc.PureGo, err = trajectoryDeviation(ref.Points, c.Trajectory); err != nil {
			return "", nil, fmt.Errorf("%s: pure Go: %w", name, err)
		}
		if tc.Graph, err = trajectoryDeviation(gp.Points, c.Trajectory); err != nil {
			return "", nil, fmt.Errorf("%s: GoMLX: %w", name, err)
		}
		cases = append(cases, tc)
	}
	return f.TorchVersion, cases, nil
}

// trajectoryDeviation is the largest |got − want| / max(1, |want|) over two trajectories (NaN counts as +Inf).
func trajectoryDeviation(got, want [][]float64) (float64, error) {
	if len(got) != len(want) {
		return 0, fmt.Errorf("trajectory has %d points, want %d", len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return 0, fmt.Errorf("point %d has %d values, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			d := math.Abs(got[i][j]-want[i][j]) / math.Max(1, math.Abs(want[i][j]))
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			worst = math.Max(worst, d)
		}
	}
	return worst, nil
}

// WriteTorchTable prints the agreement of every case with torch.optim.
func WriteTorchTable(w io.Writer, cases []TorchCase) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "problem\trule\tdtype\tsteps\tpure Go vs torch\tGoMLX vs torch\tok")
	for _, c := range cases {
		ok := "yes"
		if !(c.PureGo <= TorchTolerance && c.Graph <= TorchTolerance) {
			ok = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.1e\t%.1e\t%s\n", c.Problem, c.Optimizer, c.DType, c.Steps, c.PureGo, c.Graph, ok)
	}
	return tw.Flush()
}

// MaxTorchDeviation returns the largest deviation over all cases and both implementations.
func MaxTorchDeviation(cases []TorchCase) float64 {
	worst := 0.0
	for _, c := range cases {
		worst = math.Max(worst, math.Max(c.PureGo, c.Graph))
	}
	return worst
}
