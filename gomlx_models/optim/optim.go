// Package optim holds our own implementations of the classic first-order update rules of
// notebook 01 (GD/SGD, SGD with momentum, RMSProp, Adam), each written twice from the same
// equations:
//
//   - as a GoMLX optimizer (it satisfies optimizer.Interface of
//     github.com/gomlx/gomlx/ml/train/optimizer), so train.NewTrainer can train any model with it;
//   - as a pure-Go float64 Stepper, the reference used to draw trajectories on 2-D test
//     functions (Quadratic, Rosenbrock) and to sweep learning rates.
//
// The conventions are PyTorch's torch.optim ones (momentum v = μv + g, RMSProp's ε outside the
// square root, Adam's bias correction), and the tests check 100-step trajectories of both
// implementations against fixtures written by scripts/optim_fixtures.py with torch.optim.
package optim

import (
	"fmt"
	"path"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Optimizer is one update rule, usable both inside a GoMLX graph (optimizer.Interface, e.g. by
// train.NewTrainer) and as a pure-Go float64 reference (NewStepper).
type Optimizer interface {
	optimizer.Interface

	// Name is a short identifier: "sgd", "momentum", "momentum_ema", "rmsprop" or "adam".
	// It also names the scope holding the optimizer's state variables.
	Name() string

	// Validate reports invalid hyper-parameters (e.g. a non-positive learning rate).
	Validate() error

	// NewStepper returns a fresh pure-Go stepper (zeroed state) for a parameter vector of n values.
	NewStepper(n int) Stepper
}

// Stepper is the pure-Go, float64 form of an update rule, holding its own state
// (velocity, moving averages, step count) for one parameter vector.
type Stepper interface {
	// Step updates theta in place, given the gradient of the loss at theta.
	Step(theta, grad []float64)
}

// stateScopePath is where an optimizer named name keeps the state of variable v:
// "/optimizers/<name>/<scope of v>", so two optimizers on one store never collide.
func stateScopePath(name string, v *model.Variable) string {
	return path.Join("/", optimizer.Scope, name, v.Scope())
}

// stateVariable returns (creating it zero-initialised if needed) the non-trainable state
// variable "<v>_<suffix>" that optimizer name keeps for the trainable variable v.
func stateVariable(scope *model.Scope, name string, v *model.Variable, suffix string) *model.Variable {
	return scope.Store().Scope(stateScopePath(name, v)).
		WithInitializer(initializer.Zero).
		VariableWithShape(fmt.Sprintf("%s_%s", v.Name(), suffix), v.Shape()).
		SetTrainable(false)
}

// updateFn computes the new value of a trainable variable v given its current value theta,
// the gradient grad of the loss and the learning rate lr (all in v's dtype).
type updateFn func(v *model.Variable, theta, grad, lr *graph.Node) *graph.Node

// applyUpdates is the skeleton shared by every GoMLX optimizer of this package: it checks the
// hyper-parameters and the loss, builds the gradients of the loss with respect to every
// trainable variable used in the graph, increments the global step (used by the trainer for
// bookkeeping), and sets each variable to update(v, θ, ∇θ, lr).
//
// The learning rate lives in the standard GoMLX variable "/optimizers/learning_rate" so the
// usual learning-rate schedules work; it is created with value lr on first use, so use one
// model.Store per run (a second optimizer on the same store reuses the first one's value).
//
// It is a graph-building function and panics on error, as optimizer.Interface requires.
func applyUpdates(o Optimizer, lrValue float64, scope *model.Scope, loss *graph.Node, update updateFn) {
	if err := o.Validate(); err != nil {
		exceptions.Panicf("optim.%s: %v", o.Name(), err)
	}
	if !loss.Shape().IsScalar() {
		exceptions.Panicf("optim.%s: the loss must be a scalar, got shape %s", o.Name(), loss.Shape())
	}
	g := loss.Graph()
	var vars []*model.Variable
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	if len(vars) == 0 {
		exceptions.Panicf("optim.%s: no trainable variables are used by the graph", o.Name())
	}
	grads := scope.BuildTrainableVariablesGradientsGraph(loss)
	if len(grads) != len(vars) {
		exceptions.Panicf("optim.%s: got %d gradients for %d trainable variables", o.Name(), len(grads), len(vars))
	}
	_ = optimizer.IncrementGlobalStep(g, dtypes.Int64)
	lrVar := optimizer.LearningRateVarWithValue(scope, loss.DType(), lrValue)
	lrLoss := lrVar.NodeValue(g)
	for i, v := range vars {
		theta := v.NodeValue(g)
		grad := grads[i]
		if grad.DType() != theta.DType() {
			grad = graph.ConvertDType(grad, theta.DType())
		}
		lr := lrLoss
		if lr.DType() != theta.DType() {
			lr = graph.ConvertDType(lr, theta.DType())
		}
		v.SetNodeValue(update(v, theta, grad, lr))
	}
}

// clearState deletes all state variables kept by the optimizer named name.
func clearState(scope *model.Scope, name string) error {
	if err := scope.Store().DeleteVariablesInScope(path.Join("/", optimizer.Scope, name)); err != nil {
		return fmt.Errorf("optim.%s: clearing optimizer state: %w", name, err)
	}
	return nil
}

// checkPositive returns an error naming the hyper-parameter if value is not > 0.
func checkPositive(name string, value float64) error {
	if !(value > 0) {
		return fmt.Errorf("%s must be > 0, got %g", name, value)
	}
	return nil
}

// checkUnit returns an error naming the hyper-parameter if value is not in [0, 1).
func checkUnit(name string, value float64) error {
	if !(value >= 0 && value < 1) {
		return fmt.Errorf("%s must be in [0, 1), got %g", name, value)
	}
	return nil
}
