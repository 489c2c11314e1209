package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TestTestsCanFail guards the torch comparison: the notes' EMA form of momentum is a
// different rule, so it must NOT pass as torch's SGD(momentum) — while it must equal torch's
// form with the learning rate scaled by (1−β).
func TestTestsCanFail(t *testing.T) {
	f := loadFixture(t)
	obj, start := f.objective(t, "linreg")
	for _, c := range f.Cases {
		if c.Problem != "linreg" || c.Optimizer != "momentum" || c.DType != "float64" {
			continue
		}
		lr, mu := c.HParams["lr"], c.HParams["momentum"]
		ema, err := Trajectory(Momentum{LR: lr, Mu: mu, EMA: true}, obj.F, obj.Grad, start, f.Steps)
		if err != nil {
			t.Fatal(err)
		}
		if dev, _ := maxDeviation(t, ema.Points, c.Trajectory); dev <= torchTolerance {
			t.Errorf("EMA momentum matches torch momentum (deviation %.3g): the comparison has no teeth", dev)
		}
		scaled, err := Trajectory(Momentum{LR: lr / (1 - mu), Mu: mu, EMA: true}, obj.F, obj.Grad, start, f.Steps)
		if err != nil {
			t.Fatal(err)
		}
		if dev, step := maxDeviation(t, scaled.Points, c.Trajectory); dev > 1e-9 {
			t.Errorf("EMA momentum with lr/(1-β) deviates from torch momentum by %.3g at step %d", dev, step)
		}
		return
	}
	t.Fatal("fixture has no linreg/momentum/float64 case")
}

// TestFirstStep checks each rule's very first update against the equations by hand, with
// θ = 1 and g = 2 (so g² = 4).
func TestFirstStep(t *testing.T) {
	tests := []struct {
		opt  Optimizer
		want float64
	}{
		{SGD{LR: 0.1}, 1 - 0.1*2},
		{Momentum{LR: 0.1, Mu: 0.9}, 1 - 0.1*2},                                      // v = 0·μ + g
		{Momentum{LR: 0.1, Mu: 0.9, EMA: true}, 1 - 0.1*0.1*2},                       // v = (1−β)g
		{Momentum{LR: 0.1, Mu: 0.9, WeightDecay: 0.5}, 1 - 0.1*(2+0.5)},              // v = g + λθ
		{RMSProp{LR: 0.1, Alpha: 0.99, Eps: 1e-8}, 1 - 0.1*2/(math.Sqrt(0.04)+1e-8)}, // s = 0.01·4
		{Adam{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, 1 - 0.1*2/(2+1e-8)},     // m̂ = g, v̂ = g²
	}
	for _, tc := range tests {
		t.Run(tc.opt.Name(), func(t *testing.T) {
			theta := []float64{1}
			tc.opt.NewStepper(1).Step(theta, []float64{2})
			if math.Abs(theta[0]-tc.want) > 1e-12 {
				t.Errorf("after one step θ = %.15g, want %.15g", theta[0], tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		opt     Optimizer
		wantErr string
	}{
		{NewSGD(0.1), ""},
		{SGD{}, "learning rate"},
		{NewMomentum(0.1, 0.9), ""},
		{Momentum{LR: 0.1, Mu: 1}, "momentum"},
		{Momentum{LR: 0.1, Mu: 0.9, WeightDecay: -1}, "weight decay"},
		{NewRMSProp(0.01), ""},
		{RMSProp{LR: 0.01, Alpha: 0.99}, "eps"},
		{NewAdam(1e-3), ""},
		{Adam{LR: 1e-3, Beta1: 0.9, Beta2: -0.1, Eps: 1e-8}, "beta2"},
	}
	for _, tc := range tests {
		err := tc.opt.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s %+v: unexpected error %v", tc.opt.Name(), tc.opt, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s %+v: got error %v, want one mentioning %q", tc.opt.Name(), tc.opt, err, tc.wantErr)
		}
	}
	if _, err := Trajectory(SGD{}, Quadratic(1, 10).F, Quadratic(1, 10).Grad, []float64{1, 1}, 3); err == nil {
		t.Error("Trajectory accepted a zero learning rate")
	}
	if _, err := GraphTrajectory(backend(t), SGD{LR: 0.1}, Quadratic(1, 10), []float64{1}, dtypes.Float32, 3); err == nil {
		t.Error("GraphTrajectory accepted a start of the wrong length")
	}
}

// TestObjectives checks each objective's gradient against central finite differences, and
// its graph form against F, at a few points.
func TestObjectives(t *testing.T) {
	lin, err := LinearRegression([][]float64{{1, 2}, {-1, 0.5}, {0.3, -2}}, []float64{1, 0, -1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		obj    Objective
		points [][]float64
	}{
		{Quadratic(1, 10), [][]float64{{1, 1}, {-2, 0.3}}},
		{RotatedQuadratic(1, 20, math.Pi/6), [][]float64{{1, 1}, {-2, 0.3}}},
		{Rosenbrock(1, 100), [][]float64{{-1.5, 2}, {0.3, -0.7}, {1, 1}}},
		{lin, [][]float64{{0, 0, 0}, {0.5, -1, 2}}},
	}
	b := backend(t)
	for _, tc := range tests {
		t.Run(tc.obj.Name, func(t *testing.T) {
			for _, p := range tc.points {
				g := tc.obj.Grad(p)
				for i := range p {
					const h = 1e-6
					pp, pm := append([]float64(nil), p...), append([]float64(nil), p...)
					pp[i] += h
					pm[i] -= h
					fd := (tc.obj.F(pp) - tc.obj.F(pm)) / (2 * h)
					if math.Abs(fd-g[i]) > 1e-5*math.Max(1, math.Abs(fd)) {
						t.Errorf("at %v: ∂f/∂p%d = %g, finite difference %g", p, i, g[i], fd)
					}
				}
				got, err := model.CallOnce(b, model.NewStore(), func(_ *model.Scope, g *graph.Graph) *graph.Node {
					return tc.obj.Graph(graph.Const(g, p))
				})
				if err != nil {
					t.Fatalf("graph form: %v", err)
				}
				if v := tensors.ToScalar[float64](got); math.Abs(v-tc.obj.F(p)) > 1e-12*math.Max(1, math.Abs(v)) {
					t.Errorf("at %v: graph form %g, F %g", p, v, tc.obj.F(p))
				}
			}
			if m := tc.obj.Minimum; m != nil {
				for i, gi := range tc.obj.Grad(m) {
					if math.Abs(gi) > 1e-12 {
						t.Errorf("gradient at the stated minimum %v is non-zero on axis %d: %g", m, i, gi)
					}
				}
			}
		})
	}
	if _, err := LinearRegression([][]float64{{1, 2}, {1}}, []float64{1, 2}); err == nil {
		t.Error("LinearRegression accepted a ragged x")
	}
}

// TestLRSweepShowsDivergence: plain GD on ½(x² + 10y²) is stable iff η < 2/10 = 0.2.
func TestLRSweepShowsDivergence(t *testing.T) {
	q := Quadratic(1, 10)
	lrs := []float64{0.01, 0.1, 0.19, 0.21, 0.3}
	want := []bool{false, false, false, true, true}
	res, err := LRSweep(func(lr float64) Optimizer { return NewSGD(lr) }, q.F, q.Grad, []float64{1, 1}, 100, lrs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.LR != lrs[i] || r.Diverged != want[i] {
			t.Errorf("lr=%g: diverged=%v (final loss %g), want diverged=%v", r.LR, r.Diverged, r.FinalLoss, want[i])
		}
	}
	// Inside the stable range, more steps of GD never increase the loss on a convex quadratic.
	p, err := Trajectory(NewSGD(0.1), q.F, q.Grad, []float64{1, 1}, 50)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(p.Loss); i++ {
		if p.Loss[i] > p.Loss[i-1] {
			t.Fatalf("loss went up at step %d: %g -> %g", i, p.Loss[i-1], p.Loss[i])
		}
	}
	if _, final := p.Final(); final > 1e-4 { // x shrinks by 0.9 per step: ½(0.9⁵⁰)² ≈ 1.3e-5
		t.Errorf("GD η=0.1 did not converge in 50 steps: final loss %g", final)
	}
}

// sliceDataset yields the same full batch (x, y) steps times.
type sliceDataset struct {
	x     [][]float64
	y     []float64
	steps int
}

func (d *sliceDataset) Name() string { return "linreg" }

func (d *sliceDataset) Iter() func(yield func(train.Batch, error) bool) {
	return func(yield func(train.Batch, error) bool) {
		for range d.steps {
			b := train.Batch{Inputs: []*tensors.Tensor{tensors.FromValue(d.x)},
				Labels: []*tensors.Tensor{tensors.FromValue(d.y)}}
			if !yield(b, nil) {
				return
			}
		}
	}
}

// TestTrainerUsesOptimizers trains linear regression (two variables, w and c, zero-initialised)
// with train.Trainer and each of our optimizers, and checks the result equals the pure-Go
// trajectory of the same rule on the same objective: the optimizers are drop-in for the trainer.
func TestTrainerUsesOptimizers(t *testing.T) {
	f := loadFixture(t)
	lin := f.Problems.Linreg
	obj, start := f.objective(t, "linreg")
	const steps = 30
	for _, opt := range []Optimizer{NewSGD(0.05), NewMomentum(0.02, 0.9), Momentum{LR: 0.2, Mu: 0.9, EMA: true},
		Momentum{LR: 0.02, Mu: 0.9, WeightDecay: 0.1}, NewRMSProp(0.01), NewAdam(0.05)} {
		t.Run(opt.Name(), func(t *testing.T) {
			store := model.NewStore()
			modelFn := func(scope *model.Scope, x *graph.Node) *graph.Node {
				scope = scope.In("linear").WithInitializer(initializer.Zero)
				w := scope.VariableWithShape("w", shapes.Make(x.DType(), 3)).NodeValue(x.Graph())
				c := scope.VariableWithShape("c", shapes.Make(x.DType())).NodeValue(x.Graph())
				return graph.Add(graph.DotProduct(x, w), c)
			}
			trainer := train.NewTrainer(backend(t), store, modelFn, loss.MeanSquaredError, opt, nil, nil)
			ds := &sliceDataset{x: lin.X, y: lin.Y, steps: steps}
			for batch, err := range ds.Iter() {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := trainer.TrainStep(batch); err != nil {
					t.Fatalf("TrainStep: %v", err)
				}
			}
			if got := optimizer.GetGlobalStep(store); got != steps {
				t.Errorf("global step = %d, want %d", got, steps)
			}
			w := tensors.MustCopyFlatData[float64](store.GetVariable("/linear/w").MustValue())
			c := tensors.ToScalar[float64](store.GetVariable("/linear/c").MustValue())
			ref, err := Trajectory(opt, obj.F, obj.Grad, start, steps)
			if err != nil {
				t.Fatal(err)
			}
			got := [][]float64{append(w, c)}
			if dev, _ := maxDeviation(t, got, ref.Points[steps:]); dev > torchTolerance {
				t.Errorf("trainer result %v deviates from the pure-Go rule %v by %.3g", got[0], ref.Points[steps], dev)
			}
			// Clear removes the optimizer's state, so training would restart it.
			if err := opt.Clear(store.RootScope()); err != nil {
				t.Fatalf("Clear: %v", err)
			}
			for v := range store.IterVariables() {
				if strings.HasPrefix(v.Path(), "/"+optimizer.Scope+"/"+opt.Name()+"/") {
					t.Errorf("Clear left state variable %s", v.Path())
				}
			}
		})
	}
}
