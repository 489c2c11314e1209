package optim

import (
	"errors"
	"fmt"
	"math"
	"path"

	"github.com/gomlx/compute/dtypes"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// Default hyper-parameters, PyTorch's torch.optim defaults.
const (
	// DefaultRMSPropAlpha is RMSProp's smoothing constant α (torch.optim.RMSprop default).
	DefaultRMSPropAlpha = 0.99
	// DefaultRMSPropEps is RMSProp's ε, added outside the square root (torch.optim.RMSprop default).
	DefaultRMSPropEps = 1e-8
	// DefaultAdamBeta1 is Adam's β₁ (Kingma & Ba 2015, Algorithm 1; torch default).
	DefaultAdamBeta1 = 0.9
	// DefaultAdamBeta2 is Adam's β₂ (Kingma & Ba 2015, Algorithm 1; torch default).
	DefaultAdamBeta2 = 0.999
	// DefaultAdamEps is Adam's ε (Kingma & Ba 2015, Algorithm 1; torch default).
	DefaultAdamEps = 1e-8
)

// Compile-time checks that every rule satisfies both interfaces.
var (
	_ Optimizer = SGD{}
	_ Optimizer = Momentum{}
	_ Optimizer = RMSProp{}
	_ Optimizer = Adam{}
)

// ---------------------------------------------------------------- SGD

// SGD is plain gradient descent, θ ← θ − η·∇f(θ).
//
// GD, batch GD, SGD and mini-batch GD all use this same rule: they differ only in how many
// examples the gradient is averaged over (all of them, one, or a mini-batch), which is the
// data pipeline's business. Unlike GoMLX's own optimizer.StochasticGradientDescent it has no
// hidden 1/√t learning-rate decay.
type SGD struct {
	// LR is the learning rate η.
	LR float64
}

// NewSGD returns plain gradient descent with learning rate lr.
func NewSGD(lr float64) SGD { return SGD{LR: lr} }

// Name implements Optimizer.
func (o SGD) Name() string { return "sgd" }

// Validate implements Optimizer.
func (o SGD) Validate() error { return checkPositive("learning rate", o.LR) }

// UpdateGraph implements optimizer.Interface: θ ← θ − η·g.
func (o SGD) UpdateGraph(scope *model.Scope, _ *graph.Graph, loss *graph.Node) {
	applyUpdates(o, o.LR, scope, loss, func(_ *model.Variable, theta, grad, lr *graph.Node) *graph.Node {
		return graph.Sub(theta, graph.Mul(lr, grad))
	})
}

// Clear implements optimizer.Interface; SGD keeps no state besides the learning rate.
func (o SGD) Clear(scope *model.Scope) error { return clearState(scope, o.Name()) }

// NewStepper implements Optimizer.
func (o SGD) NewStepper(int) Stepper { return &sgdStepper{lr: o.LR} }

type sgdStepper struct{ lr float64 }

// Step implements Stepper: θ ← θ − η·g.
func (s *sgdStepper) Step(theta, grad []float64) {
	for i := range theta {
		theta[i] -= s.lr * grad[i]
	}
}

// ---------------------------------------------------------------- Momentum

// Momentum is SGD with (heavy-ball) momentum. With the default PyTorch convention
// (torch.optim.SGD(momentum=μ), dampening 0, no Nesterov):
//
//	v ← μ·v + g,        θ ← θ − η·v,        v₀ = 0.
//
// With EMA set it uses the notes' exponentially-weighted-average form instead:
//
//	v ← β·v + (1−β)·g,  θ ← θ − η·v,        v₀ = 0,  β = Mu,
//
// which is the same rule with η scaled by (1−β). (It is not torch's dampening=β, which
// skips the (1−β) factor on the very first step.)
type Momentum struct {
	// LR is the learning rate η.
	LR float64
	// Mu is the momentum coefficient μ (β in the EMA form), in [0, 1).
	Mu float64
	// EMA selects the (1−β) exponentially-weighted-average form of the notes.
	EMA bool
	// WeightDecay λ adds λ·θ to the gradient before the velocity update (torch.optim.SGD's weight_decay). With
	// μ = 0.9 and λ = 5e-4 this is AlexNet's rule (Krizhevsky et al. 2012, §5): v ← 0.9·v − 0.0005·ε·w − ε·∂L/∂w,
	// w ← w + v, which is ours with v_paper = −η·v.
	WeightDecay float64
}

// NewMomentum returns SGD with PyTorch-convention momentum mu and learning rate lr.
func NewMomentum(lr, mu float64) Momentum { return Momentum{LR: lr, Mu: mu} }

// Name implements Optimizer: "momentum", or "momentum_ema" for the EMA form.
func (o Momentum) Name() string {
	if o.EMA {
		return "momentum_ema"
	}
	return "momentum"
}

// Validate implements Optimizer.
func (o Momentum) Validate() error {
	err := errors.Join(checkPositive("learning rate", o.LR), checkUnit("momentum", o.Mu))
	if o.WeightDecay < 0 || o.WeightDecay != o.WeightDecay {
		err = errors.Join(err, fmt.Errorf("weight decay %g must be ≥ 0", o.WeightDecay))
	}
	return err
}

// gradScale is the factor on g in the velocity update: 1 (PyTorch) or 1−β (EMA).
func (o Momentum) gradScale() float64 {
	if o.EMA {
		return 1 - o.Mu
	}
	return 1
}

// UpdateGraph implements optimizer.Interface: v ← μ·v + c·g; θ ← θ − η·v, with c = 1 or 1−μ.
func (o Momentum) UpdateGraph(scope *model.Scope, _ *graph.Graph, loss *graph.Node) {
	applyUpdates(o, o.LR, scope, loss, func(v *model.Variable, theta, grad, lr *graph.Node) *graph.Node {
		velVar := stateVariable(scope, o.Name(), v, "velocity")
		if o.WeightDecay > 0 {
			grad = graph.Add(grad, graph.MulScalar(theta, o.WeightDecay))
		}
		vel := graph.MulScalar(velVar.NodeValue(theta.Graph()), o.Mu)
		if o.EMA {
			vel = graph.Add(vel, graph.MulScalar(grad, o.gradScale()))
		} else {
			vel = graph.Add(vel, grad)
		}
		velVar.SetNodeValue(vel)
		return graph.Sub(theta, graph.Mul(lr, vel))
	})
}

// Clear implements optimizer.Interface, deleting the velocities.
func (o Momentum) Clear(scope *model.Scope) error { return clearState(scope, o.Name()) }

// NewStepper implements Optimizer.
func (o Momentum) NewStepper(n int) Stepper {
	return &momentumStepper{cfg: o, v: make([]float64, n)}
}

type momentumStepper struct {
	cfg Momentum
	v   []float64
}

// Step implements Stepper: v ← μ·v + c·g; θ ← θ − η·v.
func (s *momentumStepper) Step(theta, grad []float64) {
	c := s.cfg.gradScale()
	for i := range theta {
		s.v[i] = s.cfg.Mu*s.v[i] + c*(grad[i]+s.cfg.WeightDecay*theta[i])
		theta[i] -= s.cfg.LR * s.v[i]
	}
}

// ---------------------------------------------------------------- RMSProp

// RMSProp (Hinton, Coursera lecture 6e) divides each step by a running root-mean-square of
// the gradients. PyTorch convention (torch.optim.RMSprop, not centered, no momentum):
//
//	s ← α·s + (1−α)·g²,   θ ← θ − η·g / (√s + ε),   s₀ = 0.
//
// Note ε is added outside the square root, and there is no bias correction of s.
type RMSProp struct {
	// LR is the learning rate η.
	LR float64
	// Alpha is the smoothing constant α of the squared-gradient average, in [0, 1).
	Alpha float64
	// Eps is ε, added to √s.
	Eps float64
}

// NewRMSProp returns RMSProp with learning rate lr and PyTorch's default α and ε.
func NewRMSProp(lr float64) RMSProp {
	return RMSProp{LR: lr, Alpha: DefaultRMSPropAlpha, Eps: DefaultRMSPropEps}
}

// Name implements Optimizer.
func (o RMSProp) Name() string { return "rmsprop" }

// Validate implements Optimizer.
func (o RMSProp) Validate() error {
	return errors.Join(checkPositive("learning rate", o.LR), checkUnit("alpha", o.Alpha), checkPositive("eps", o.Eps))
}

// UpdateGraph implements optimizer.Interface: s ← α·s + (1−α)·g²; θ ← θ − η·g/(√s+ε).
func (o RMSProp) UpdateGraph(scope *model.Scope, _ *graph.Graph, loss *graph.Node) {
	applyUpdates(o, o.LR, scope, loss, func(v *model.Variable, theta, grad, lr *graph.Node) *graph.Node {
		sqVar := stateVariable(scope, o.Name(), v, "square_avg")
		sq := graph.Add(
			graph.MulScalar(sqVar.NodeValue(theta.Graph()), o.Alpha),
			graph.MulScalar(graph.Square(grad), 1-o.Alpha))
		sqVar.SetNodeValue(sq)
		denom := graph.AddScalar(graph.Sqrt(sq), o.Eps)
		return graph.Sub(theta, graph.Mul(lr, graph.Div(grad, denom)))
	})
}

// Clear implements optimizer.Interface, deleting the squared-gradient averages.
func (o RMSProp) Clear(scope *model.Scope) error { return clearState(scope, o.Name()) }

// NewStepper implements Optimizer.
func (o RMSProp) NewStepper(n int) Stepper {
	return &rmspropStepper{cfg: o, s: make([]float64, n)}
}

type rmspropStepper struct {
	cfg RMSProp
	s   []float64
}

// Step implements Stepper: s ← α·s + (1−α)·g²; θ ← θ − η·g/(√s+ε).
func (st *rmspropStepper) Step(theta, grad []float64) {
	a := st.cfg.Alpha
	for i := range theta {
		st.s[i] = a*st.s[i] + (1-a)*grad[i]*grad[i]
		theta[i] -= st.cfg.LR * grad[i] / (math.Sqrt(st.s[i]) + st.cfg.Eps)
	}
}

// ---------------------------------------------------------------- Adam

// Adam (Kingma & Ba 2015, Algorithm 1), as in torch.optim.Adam (no weight decay, no AMSGrad):
//
//	t ← t + 1
//	m ← β₁·m + (1−β₁)·g              (first moment)
//	v ← β₂·v + (1−β₂)·g²             (second moment)
//	m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)     (bias correction, since m₀ = v₀ = 0)
//	θ ← θ − η·m̂ / (√v̂ + ε)
//
// The graph form evaluates it in PyTorch's order, θ ← θ − (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε),
// with the bias corrections computed in float64.
type Adam struct {
	// LR is the learning rate η (α in the paper).
	LR float64
	// Beta1 is β₁, the decay of the first-moment average, in [0, 1).
	Beta1 float64
	// Beta2 is β₂, the decay of the second-moment average, in [0, 1).
	Beta2 float64
	// Eps is ε, added to √v̂.
	Eps float64
}

// NewAdam returns Adam with learning rate lr and the paper's (and PyTorch's) default β₁, β₂, ε.
func NewAdam(lr float64) Adam {
	return Adam{LR: lr, Beta1: DefaultAdamBeta1, Beta2: DefaultAdamBeta2, Eps: DefaultAdamEps}
}

// Name implements Optimizer.
func (o Adam) Name() string { return "adam" }

// Validate implements Optimizer.
func (o Adam) Validate() error {
	return errors.Join(checkPositive("learning rate", o.LR), checkUnit("beta1", o.Beta1),
		checkUnit("beta2", o.Beta2), checkPositive("eps", o.Eps))
}

// UpdateGraph implements optimizer.Interface (see the Adam doc for the equations).
func (o Adam) UpdateGraph(scope *model.Scope, _ *graph.Graph, loss *graph.Node) {
	// The step counter t is the optimizer's own (so Clear restarts the bias correction), kept
	// in float64 and created lazily on the first variable.
	var invBC1, bc2Sqrt *graph.Node // 1/(1−β₁ᵗ) and √(1−β₂ᵗ), float64.
	applyUpdates(o, o.LR, scope, loss, func(v *model.Variable, theta, grad, lr *graph.Node) *graph.Node {
		gg := theta.Graph()
		if invBC1 == nil {
			counterScope := scope.Store().Scope(path.Join("/", optimizer.Scope, o.Name()))
			t := optimizer.IncrementCounter(counterScope, gg, "step", dtypes.Float64)
			bc1 := graph.OneMinus(graph.Pow(graph.Scalar(gg, dtypes.Float64, o.Beta1), t))
			bc2 := graph.OneMinus(graph.Pow(graph.Scalar(gg, dtypes.Float64, o.Beta2), t))
			invBC1 = graph.Reciprocal(bc1)
			bc2Sqrt = graph.Sqrt(bc2)
		}
		dt := theta.DType()
		mVar := stateVariable(scope, o.Name(), v, "exp_avg")
		vVar := stateVariable(scope, o.Name(), v, "exp_avg_sq")
		m := graph.Add(graph.MulScalar(mVar.NodeValue(gg), o.Beta1), graph.MulScalar(grad, 1-o.Beta1))
		sq := graph.Add(graph.MulScalar(vVar.NodeValue(gg), o.Beta2), graph.MulScalar(graph.Square(grad), 1-o.Beta2))
		mVar.SetNodeValue(m)
		vVar.SetNodeValue(sq)
		denom := graph.AddScalar(graph.Div(graph.Sqrt(sq), graph.ConvertDType(bc2Sqrt, dt)), o.Eps)
		stepSize := graph.ConvertDType(graph.Mul(graph.ConvertDType(lr, dtypes.Float64), invBC1), dt) // η/(1−β₁ᵗ)
		step := graph.Mul(stepSize, graph.Div(m, denom))
		return graph.Sub(theta, step)
	})
}

// Clear implements optimizer.Interface, deleting the moments and the step counter.
func (o Adam) Clear(scope *model.Scope) error { return clearState(scope, o.Name()) }

// NewStepper implements Optimizer.
func (o Adam) NewStepper(n int) Stepper {
	return &adamStepper{cfg: o, m: make([]float64, n), v: make([]float64, n)}
}

type adamStepper struct {
	cfg  Adam
	t    int
	m, v []float64
}

// Step implements Stepper (see Adam for the equations).
func (s *adamStepper) Step(theta, grad []float64) {
	c := s.cfg
	s.t++
	bc1 := 1 - math.Pow(c.Beta1, float64(s.t))
	bc2 := 1 - math.Pow(c.Beta2, float64(s.t))
	for i := range theta {
		s.m[i] = c.Beta1*s.m[i] + (1-c.Beta1)*grad[i]
		s.v[i] = c.Beta2*s.v[i] + (1-c.Beta2)*grad[i]*grad[i]
		mHat := s.m[i] / bc1
		vHat := s.v[i] / bc2
		theta[i] -= c.LR * mHat / (math.Sqrt(vHat) + c.Eps)
	}
}
