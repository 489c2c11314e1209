package optimization

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"

	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/plots"
)

// NamedOptimizer is an update rule with the label it has in plots and tables.
type NamedOptimizer struct {
	Label string
	Opt   optim.Optimizer
}

// Landscape is a 2-D test function with a start point, a plotting window and the optimizers raced on it.
type Landscape struct {
	Title     string
	Objective optim.Objective
	Start     []float64
	Steps     int
	// XMin, XMax, YMin, YMax bound the contour plot.
	XMin, XMax, YMin, YMax float64
	// LogLevels spaces the contour levels geometrically (Rosenbrock's valley floor is very flat).
	LogLevels  bool
	Optimizers []NamedOptimizer
}

// QuadraticCurvature is the steep-axis curvature b of notebook 01's ill-conditioned bowl (our own example)
// f(x, y) = ½(x² + b·y²): the Hessian is diag(1, b), so its condition number is b and plain gradient descent
// is stable only for η < 2/b.
const QuadraticCurvature = 10

// QuadraticLandscape is our ill-conditioned quadratic f(x, y) = ½(x² + 10y²) from (−4.5, 1.5), with
// learning rates chosen to show each method's character: GD at η = 0.18 (90% of its stability limit 2/10)
// zig-zags across the narrow axis and crawls along the long one; momentum damps the zig-zag and speeds up the
// long axis; RMSProp and Adam rescale each coordinate, so they head diagonally at first.
func QuadraticLandscape() Landscape {
	return Landscape{
		Title:     "f(x, y) = ½(x² + 10y²)",
		Objective: optim.Quadratic(1, QuadraticCurvature),
		Start:     []float64{-4.5, 1.5},
		Steps:     40,
		XMin:      -5, XMax: 5, YMin: -2.5, YMax: 2.5,
		Optimizers: []NamedOptimizer{
			{"GD η=0.18", optim.NewSGD(0.18)},
			{"momentum η=0.04 μ=0.8", optim.NewMomentum(0.04, 0.8)},
			{"RMSProp η=0.3", optim.NewRMSProp(0.3)},
			{"Adam η=0.2", optim.NewAdam(0.2)},
		},
	}
}

// RosenbrockLandscape is Rosenbrock's banana valley f(x, y) = (1 − x)² + 100(y − x²)² from (−1.5, 2), the
// problem of the torch.optim fixtures: GD needs a tiny η because the valley walls are steep (curvature ~10³)
// while its floor is almost flat, so it reaches the floor at once and then creeps along it.
func RosenbrockLandscape() Landscape {
	return Landscape{
		Title:     "Rosenbrock (1 − x)² + 100(y − x²)²",
		Objective: optim.Rosenbrock(1, 100),
		Start:     []float64{-1.5, 2},
		Steps:     1500,
		XMin:      -2, XMax: 2, YMin: -1, YMax: 3,
		LogLevels: true,
		Optimizers: []NamedOptimizer{
			{"GD η=5e-4", optim.NewSGD(5e-4)},
			{"momentum η=2e-4 μ=0.9", optim.NewMomentum(2e-4, 0.9)},
			{"RMSProp η=1e-2", optim.NewRMSProp(1e-2)},
			{"Adam η=5e-2", optim.NewAdam(5e-2)},
		},
	}
}

// Trajectories are the paths of a landscape's optimizers, in the same order.
type Trajectories struct {
	Landscape Landscape
	Paths     []optim.Path
}

// Run runs every optimizer of l for l.Steps steps from l.Start (pure-Go float64 steppers).
func (l Landscape) Run() (*Trajectories, error) {
	if len(l.Optimizers) == 0 {
		return nil, fmt.Errorf("landscape %q: no optimizers", l.Title)
	}
	t := &Trajectories{Landscape: l}
	for _, o := range l.Optimizers {
		p, err := optim.Trajectory(o.Opt, l.Objective.F, l.Objective.Grad, l.Start, l.Steps)
		if err != nil {
			return nil, fmt.Errorf("landscape %q: %s: %w", l.Title, o.Label, err)
		}
		t.Paths = append(t.Paths, p)
	}
	return t, nil
}

// Figure draws one contour panel per optimizer with its path.
func (t *Trajectories) Figure() (*plots.Figure, error) {
	l := t.Landscape
	f := func(x, y float64) float64 { return l.Objective.F([]float64{x, y}) }
	panels := make([]plots.ContourPanel, len(t.Paths))
	for i, p := range t.Paths {
		xs, ys := make([]float64, len(p.Points)), make([]float64, len(p.Points))
		for j, pt := range p.Points {
			xs[j], ys[j] = pt[0], pt[1]
		}
		_, final := p.Final()
		panels[i] = plots.ContourPanel{
			Title: fmt.Sprintf("%s: f=%.2g after %d", l.Optimizers[i].Label, final, len(p.Points)-1),
			F:     f, XMin: l.XMin, XMax: l.XMax, YMin: l.YMin, YMax: l.YMax, LogLevels: l.LogLevels,
			Paths: []plots.Series{{Name: l.Optimizers[i].Label, X: xs, Y: ys, Points: len(xs) <= 60}},
		}
	}
	return plots.ContourGrid(panels, 2)
}

// TrajectoryRow summarises one optimizer's path.
type TrajectoryRow struct {
	Label string
	// FinalLoss is f after the last step; Distance is the distance from there to the known minimum.
	FinalLoss, Distance float64
	// StepsTo is the first step at which f < Tolerance (−1 if never).
	StepsTo   int
	Tolerance float64
}

// Summary returns one row per optimizer: final loss, distance to the minimum and steps to reach f < tol.
func (t *Trajectories) Summary(tol float64) []TrajectoryRow {
	rows := make([]TrajectoryRow, len(t.Paths))
	for i, p := range t.Paths {
		pt, final := p.Final()
		dist := math.NaN()
		if m := t.Landscape.Objective.Minimum; m != nil && len(m) == len(pt) {
			var s float64
			for j := range m {
				s += (pt[j] - m[j]) * (pt[j] - m[j])
			}
			dist = math.Sqrt(s)
		}
		rows[i] = TrajectoryRow{Label: t.Landscape.Optimizers[i].Label, FinalLoss: final, Distance: dist,
			StepsTo: slices.IndexFunc(p.Loss, func(v float64) bool { return v < tol }), Tolerance: tol}
	}
	return rows
}

// WriteTrajectoryTable prints rows as an aligned table.
func WriteTrajectoryTable(w io.Writer, rows []TrajectoryRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(rows) > 0 {
		fmt.Fprintf(tw, "optimizer\tfinal f\t|θ−θ*|\tsteps to f<%g\n", rows[0].Tolerance)
	}
	for _, r := range rows {
		steps := "never"
		if r.StepsTo >= 0 {
			steps = fmt.Sprint(r.StepsTo)
		}
		fmt.Fprintf(tw, "%s\t%.3g\t%.3g\t%s\n", r.Label, r.FinalLoss, r.Distance, steps)
	}
	return tw.Flush()
}

// SweepCurve is a learning-rate sweep of one method: the loss after a fixed number of steps for each η.
type SweepCurve struct {
	Label   string
	Results []optim.SweepResult
	// Threshold is the smallest η found to diverge (bisected between the last stable and first diverging η of
	// the sweep), NaN if none diverged.
	Threshold float64
}

// SweepStudy is the learning-rate sweep of notebook 01 on the quadratic.
type SweepStudy struct {
	Objective optim.Objective
	Start     []float64
	Steps     int
	Curves    []SweepCurve
}

// MomentumSweepMu is the momentum used in the learning-rate sweep.
const MomentumSweepMu = 0.9

// GDStabilityLimit is the largest stable learning rate of plain gradient descent on a quadratic whose largest
// Hessian eigenvalue is lMax: the error along that eigenvector is multiplied by (1 − ηλ) each step, which
// grows in magnitude once η > 2/λ.
func GDStabilityLimit(lMax float64) float64 { return 2 / lMax }

// MomentumStabilityLimit is the same limit for heavy-ball momentum (v ← μv + g, θ ← θ − ηv): the iteration
// θ' = θ − ηλθ + μ(θ − θ_prev) is stable for 0 < ηλ < 2(1 + μ).
func MomentumStabilityLimit(lMax, mu float64) float64 { return 2 * (1 + mu) / lMax }

// LearningRateSweep runs GD, momentum (μ = 0.9) and Adam on the quadratic ½(x² + 10y²) from (−4.5, 1.5) for
// the given steps at η on a log grid from 1e-3 to 10, and bisects each method's divergence threshold. GD and
// momentum blow up just above their theoretical limits 2/10 and 2(1+μ)/10; Adam's steps are bounded by ≈η,
// so it never overflows, it just ends far from the minimum.
func LearningRateSweep(steps int) (*SweepStudy, error) {
	if steps < 1 {
		return nil, fmt.Errorf("learning-rate sweep: steps must be positive, got %d", steps)
	}
	obj := optim.Quadratic(1, QuadraticCurvature)
	start := []float64{-4.5, 1.5}
	var lrs []float64
	for e := -3.0; e <= 1.0001; e += 0.125 {
		lrs = append(lrs, math.Pow(10, e))
	}
	methods := []struct {
		label string
		mk    func(lr float64) optim.Optimizer
	}{
		{"GD", func(lr float64) optim.Optimizer { return optim.NewSGD(lr) }},
		{fmt.Sprintf("momentum μ=%g", MomentumSweepMu), func(lr float64) optim.Optimizer {
			return optim.NewMomentum(lr, MomentumSweepMu)
		}},
		{"Adam", func(lr float64) optim.Optimizer { return optim.NewAdam(lr) }},
	}
	s := &SweepStudy{Objective: obj, Start: start, Steps: steps}
	for _, m := range methods {
		res, err := optim.LRSweep(m.mk, obj.F, obj.Grad, start, steps, lrs)
		if err != nil {
			return nil, fmt.Errorf("learning-rate sweep %s: %w", m.label, err)
		}
		c := SweepCurve{Label: m.label, Results: res, Threshold: math.NaN()}
		if i := slices.IndexFunc(res, func(r optim.SweepResult) bool { return r.Diverged }); i > 0 {
			th, err := bisectDivergence(m.mk, obj, start, steps, res[i-1].LR, res[i].LR)
			if err != nil {
				return nil, fmt.Errorf("learning-rate sweep %s: %w", m.label, err)
			}
			c.Threshold = th
		}
		s.Curves = append(s.Curves, c)
	}
	return s, nil
}

// bisectDivergence narrows [lo, hi] (lo stable, hi diverging) to the divergence threshold, to 1e-4 relative.
// "Diverging" is LRSweep's: the loss after steps is not finite or larger than at the start.
func bisectDivergence(mk func(float64) optim.Optimizer, obj optim.Objective, start []float64, steps int, lo, hi float64) (float64, error) {
	for hi/lo > 1+1e-4 {
		mid := math.Sqrt(lo * hi)
		r, err := optim.LRSweep(mk, obj.F, obj.Grad, start, steps, []float64{mid})
		if err != nil {
			return 0, err
		}
		if r[0].Diverged {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// sweepCeiling is where diverged (infinite) losses are drawn in the sweep figure; sweepFloor clips the losses
// that underflow.
const sweepCeiling, sweepFloor = 1e8, 1e-30

// Figure draws the loss after Steps steps against η on log-log axes (diverged runs at the top), with the
// theoretical limits of GD and momentum as vertical lines.
func (s *SweepStudy) Figure() (*plots.Figure, error) {
	var series []plots.Series
	for _, c := range s.Curves {
		xs, ys := make([]float64, len(c.Results)), make([]float64, len(c.Results))
		for i, r := range c.Results {
			xs[i], ys[i] = r.LR, math.Max(sweepFloor, math.Min(r.FinalLoss, sweepCeiling))
			if math.IsNaN(r.FinalLoss) {
				ys[i] = sweepCeiling
			}
		}
		series = append(series, plots.Series{Name: c.Label, X: xs, Y: ys, Points: true})
	}
	gd := GDStabilityLimit(QuadraticCurvature)
	mom := MomentumStabilityLimit(QuadraticCurvature, MomentumSweepMu)
	series = append(series,
		plots.Series{Name: fmt.Sprintf("2/λmax = %g", gd), X: []float64{gd, gd}, Y: []float64{sweepFloor, sweepCeiling}},
		plots.Series{Name: fmt.Sprintf("2(1+μ)/λmax = %g", mom), X: []float64{mom, mom}, Y: []float64{sweepFloor, sweepCeiling}})
	return plots.Curves(fmt.Sprintf("loss after %d steps on ½(x²+10y²) (diverged runs drawn at %g)", s.Steps, sweepCeiling),
		"learning rate η", "f(θ_T)", series, plots.LogX(), plots.LogY(), plots.LegendBottom(), plots.LegendLeft())
}

// WriteSweepTable prints each method's measured divergence threshold next to the theory.
func (s *SweepStudy) WriteSweepTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tdiverges above η (measured)\ttheory")
	theory := []string{fmt.Sprintf("2/λmax = %g", GDStabilityLimit(QuadraticCurvature)),
		fmt.Sprintf("2(1+μ)/λmax = %g", MomentumStabilityLimit(QuadraticCurvature, MomentumSweepMu)),
		"no fixed limit (steps ≈ η)"}
	for i, c := range s.Curves {
		th := "never (up to η=10)"
		if !math.IsNaN(c.Threshold) {
			th = fmt.Sprintf("%.4f", c.Threshold)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Label, th, theory[min(i, len(theory)-1)])
	}
	return tw.Flush()
}
