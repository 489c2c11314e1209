package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Path is an optimisation trajectory: Points[0] is the start and Points[i] the parameters
// after i steps; Loss[i] is the objective at Points[i] (evaluated in float64).
type Path struct {
	// Points are the parameter vectors visited, start first.
	Points [][]float64
	// Loss holds f at each point.
	Loss []float64
}

// Final returns the last point and its loss (nil, NaN for an empty path).
func (p Path) Final() ([]float64, float64) {
	if len(p.Points) == 0 {
		return nil, math.NaN()
	}
	return p.Points[len(p.Points)-1], p.Loss[len(p.Loss)-1]
}

// Trajectory runs steps updates of the pure-Go form of opt on f from start, using grad for
// the gradients, and returns the visited points and their losses. A diverging run is not an
// error: its losses simply grow to ±Inf/NaN (see LRSweep).
func Trajectory(opt Optimizer, f func([]float64) float64, grad func([]float64) []float64,
	start []float64, steps int) (Path, error) {
	if opt == nil || f == nil || grad == nil {
		return Path{}, errors.New("optim.Trajectory: optimizer, f and grad must be non-nil")
	}
	if err := opt.Validate(); err != nil {
		return Path{}, fmt.Errorf("optim.Trajectory(%s): %w", opt.Name(), err)
	}
	if len(start) == 0 || steps < 0 {
		return Path{}, fmt.Errorf("optim.Trajectory(%s): need a non-empty start and steps >= 0, got %d values and %d steps",
			opt.Name(), len(start), steps)
	}
	return Walk(opt.NewStepper(len(start)), f, grad, start, steps)
}

// SweepResult is the outcome of one learning rate in LRSweep.
type SweepResult struct {
	// LR is the learning rate tried.
	LR float64
	// FinalLoss is the loss after the last step (may be +Inf or NaN).
	FinalLoss float64
	// Diverged is true if the final loss is not finite or is larger than the starting loss.
	Diverged bool
}

// LRSweep runs Trajectory for each learning rate in lrs, building the optimizer with
// newOpt(lr), and returns the final losses: the curve that shows the stable range of η and
// where the method diverges (e.g. plain GD on Quadratic(a, b) diverges for η > 2/max(a, b)).
func LRSweep(newOpt func(lr float64) Optimizer, f func([]float64) float64, grad func([]float64) []float64,
	start []float64, steps int, lrs []float64) ([]SweepResult, error) {
	if newOpt == nil {
		return nil, errors.New("optim.LRSweep: newOpt must be non-nil")
	}
	results := make([]SweepResult, 0, len(lrs))
	for _, lr := range lrs {
		path, err := Trajectory(newOpt(lr), f, grad, start, steps)
		if err != nil {
			return results, fmt.Errorf("optim.LRSweep: lr=%g: %w", lr, err)
		}
		_, final := path.Final()
		diverged := math.IsNaN(final) || math.IsInf(final, 0) || final > path.Loss[0]
		results = append(results, SweepResult{LR: lr, FinalLoss: final, Diverged: diverged})
	}
	return results, nil
}

// GraphTrajectory runs steps updates of the GoMLX form of opt, on the given backend, on the
// objective obj.Graph, with the parameters held in one trainable variable of the given float
// dtype (Float32 or Float64) in a fresh model.Store. It returns the visited points (converted
// to float64) and obj.F at each. It is the graph counterpart of Trajectory: both must agree
// with torch.optim (see the package tests).
func GraphTrajectory(backend compute.Backend, opt Optimizer, obj Objective, start []float64,
	dtype dtypes.DType, steps int) (path Path, err error) {
	if backend == nil || opt == nil || obj.Graph == nil || obj.F == nil {
		return Path{}, errors.New("optim.GraphTrajectory: backend, optimizer, obj.Graph and obj.F must be non-nil")
	}
	if err := opt.Validate(); err != nil {
		return Path{}, fmt.Errorf("optim.GraphTrajectory(%s): %w", opt.Name(), err)
	}
	if len(start) == 0 || steps < 0 || (obj.Dim != 0 && len(start) != obj.Dim) {
		return Path{}, fmt.Errorf("optim.GraphTrajectory(%s): start has %d values (objective %s needs %d) and steps=%d",
			opt.Name(), len(start), obj.Name, obj.Dim, steps)
	}
	var init *tensors.Tensor
	switch dtype {
	case dtypes.Float64:
		init = tensors.FromValue(slices.Clone(start))
	case dtypes.Float32:
		s32 := make([]float32, len(start))
		for i, v := range start {
			s32[i] = float32(v)
		}
		init = tensors.FromValue(s32)
	default:
		return Path{}, fmt.Errorf("optim.GraphTrajectory(%s): dtype must be Float32 or Float64, got %s", opt.Name(), dtype)
	}

	// GoMLX reports graph-building problems (bad shapes, ...) by panicking: turn them into errors.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("optim.GraphTrajectory(%s) on %s: %v", opt.Name(), obj.Name, r)
		}
	}()
	store := model.NewStore()
	theta, err := store.RootScope().CreateVariable("theta", init)
	if err != nil {
		return Path{}, fmt.Errorf("optim.GraphTrajectory(%s): creating the parameter variable: %w", opt.Name(), err)
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, g *graph.Graph) *graph.Node {
		// A graph that updates its variables is a training graph: marking it so keeps GoMLX from treating
		// theta as a frozen inference weight.
		scope.Store().SetTraining(g, true)
		loss := obj.Graph(theta.NodeValue(g))
		opt.UpdateGraph(scope, g, loss)
		return loss
	})
	if err != nil {
		return Path{}, fmt.Errorf("optim.GraphTrajectory(%s): building the step: %w", opt.Name(), err)
	}
	defer exec.Finalize()

	read := func() ([]float64, error) {
		t, err := theta.Value()
		if err != nil {
			return nil, err
		}
		switch dtype {
		case dtypes.Float64:
			return tensors.CopyFlatData[float64](t)
		default:
			f32, err := tensors.CopyFlatData[float32](t)
			out := make([]float64, len(f32))
			for i, v := range f32 {
				out[i] = float64(v)
			}
			return out, err
		}
	}
	path = Path{Points: make([][]float64, 0, steps+1), Loss: make([]float64, 0, steps+1)}
	record := func() error {
		p, err := read()
		if err != nil {
			return err
		}
		path.Points = append(path.Points, p)
		path.Loss = append(path.Loss, obj.F(p))
		return nil
	}
	if err := record(); err != nil {
		return path, fmt.Errorf("optim.GraphTrajectory(%s): reading the start: %w", opt.Name(), err)
	}
	for i := range steps {
		outs, err := exec.Call()
		if err != nil {
			return path, fmt.Errorf("optim.GraphTrajectory(%s): step %d: %w", opt.Name(), i, err)
		}
		for _, t := range outs {
			t.MustFinalizeAll()
		}
		if err := record(); err != nil {
			return path, fmt.Errorf("optim.GraphTrajectory(%s): step %d: reading parameters: %w", opt.Name(), i, err)
		}
	}
	return path, nil
}
