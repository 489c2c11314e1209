package layers

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// bnProblem is one batch normalization test case: NHWC input x, γ and β, and the weights w of the loss
// L = Σ w·f(BN(x)), f the identity or tanh.
type bnProblem struct {
	n, h, w, c        int
	x, gamma, beta, v []float64 // v: the loss weights, the adjoint of BN(x) when f is the identity
}

// newBNProblem draws a problem from seed; each channel's input has its own offset and spread, so that the
// batch statistics matter.
func newBNProblem(seed int64, n, h, w, c int) *bnProblem {
	rng := rand.New(rand.NewSource(seed))
	p := &bnProblem{n: n, h: h, w: w, c: c}
	size := n * h * w * c
	for i := range size {
		ch := i % c
		p.x = append(p.x, 0.5*float64(ch)-0.3+(1+0.5*float64(ch))*(rng.Float64()*2-1))
		p.v = append(p.v, rng.Float64()*2-1)
	}
	for range c {
		p.gamma = append(p.gamma, 0.5+rng.Float64())
		p.beta = append(p.beta, rng.Float64()-0.5)
	}
	return p
}

// bnResult holds the outputs of one evaluation, flattened to float64.
type bnResult struct {
	y, dx, dGamma, dBeta []float64
	loss                 float64
}

// bnRunner evaluates BatchNorm with a given implementation, dtype and mode on one store.
type bnRunner struct {
	t     *testing.T
	store *model.Store
	exec  *model.Exec
	dtype dtypes.DType
}

// newBNRunner compiles L = Σ v·f(BatchNorm(x)) (f = tanh if useTanh) and its gradients with respect to x, γ
// and β, which are fed to the layer as the values of its scale and offset variables.
func newBNRunner(t *testing.T, backend compute.Backend, impl Impl, dtype dtypes.DType, training, useTanh bool) *bnRunner {
	t.Helper()
	return newBNRunnerOn(t, backend, model.NewStore(), impl, dtype, training, useTanh)
}

// newBNRunnerOn is newBNRunner on an existing store (say one whose moving averages were trained).
func newBNRunnerOn(t *testing.T, backend compute.Backend, store *model.Store, impl Impl, dtype dtypes.DType,
	training, useTanh bool) *bnRunner {
	t.Helper()
	store.RootScope().SetParam(ParamImpl, impl)
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		x, gamma, beta, v := in[0], in[1], in[2], in[3]
		scope.Store().SetTraining(x.Graph(), training)
		shape := shapes.Make(dtype, gamma.Shape().Dimensions[0])
		scope.Store().VariableWithShape("/bn/batch_normalization/scale", shape, initializer.One).SetNodeValue(gamma)
		scope.Store().VariableWithShape("/bn/batch_normalization/offset", shape, initializer.Zero).SetNodeValue(beta)
		y := BatchNorm(scope.In("bn"), x)
		act := y
		if useTanh {
			act = graph.Tanh(y)
		}
		loss := graph.ReduceAllSum(graph.Mul(act, v))
		grads := graph.Gradient(loss, x, gamma, beta)
		return append([]*graph.Node{y, loss}, grads...)
	})
	if err != nil {
		t.Fatal(err)
	}
	return &bnRunner{t: t, store: store, exec: exec, dtype: dtype}
}

// tensorOf returns data as a tensor of the runner's dtype.
func (r *bnRunner) tensorOf(data []float64, dims ...int) *tensors.Tensor {
	if r.dtype == dtypes.Float32 {
		f := make([]float32, len(data))
		for i, d := range data {
			f[i] = float32(d)
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	}
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), data...), dims...)
}

// flat64 returns the flat data of a float32 or float64 tensor as float64.
func flat64(t *testing.T, x *tensors.Tensor) []float64 {
	t.Helper()
	if x.DType() == dtypes.Float32 {
		f := tensors.MustCopyFlatData[float32](x)
		out := make([]float64, len(f))
		for i, e := range f {
			out[i] = float64(e)
		}
		return out
	}
	return tensors.MustCopyFlatData[float64](x)
}

// run evaluates the problem, with x replaced by x if non-nil.
func (r *bnRunner) run(p *bnProblem, x []float64) bnResult {
	r.t.Helper()
	if x == nil {
		x = p.x
	}
	out, err := r.exec.Exec(r.tensorOf(x, p.n, p.h, p.w, p.c), r.tensorOf(p.gamma, p.c), r.tensorOf(p.beta, p.c),
		r.tensorOf(p.v, p.n, p.h, p.w, p.c))
	if err != nil {
		r.t.Fatal(err)
	}
	return bnResult{y: flat64(r.t, out[0]), loss: flat64(r.t, out[1])[0], dx: flat64(r.t, out[2]),
		dGamma: flat64(r.t, out[3]), dBeta: flat64(r.t, out[4])}
}

// variable returns the value of the BatchNorm variable name ("mean", "variance", …).
func (r *bnRunner) variable(name string) []float64 {
	r.t.Helper()
	v := r.store.GetVariable("/bn/batch_normalization/" + name)
	if v == nil {
		r.t.Fatalf("no variable %q", name)
	}
	return flat64(r.t, v.MustValue())
}

// reference computes, in plain Go, the per-channel batch statistics of p.x and the gradient of Σ v·BN(x)
// (Ioffe & Szegedy 2015, §3): dx = (γ/σ)(v − mean(v) − x̂·mean(v·x̂)), together with the gradient that
// stopping it at μ_B and σ²_B gives, (γ/σ)·v.
func (p *bnProblem) reference() (mean, variance, dx, dxStopped []float64) {
	m := float64(p.n * p.h * p.w)
	mean, variance = make([]float64, p.c), make([]float64, p.c)
	for i, x := range p.x {
		mean[i%p.c] += x / m
	}
	for i, x := range p.x {
		d := x - mean[i%p.c]
		variance[i%p.c] += d * d / m
	}
	meanV, meanVXHat := make([]float64, p.c), make([]float64, p.c)
	xHat := make([]float64, len(p.x))
	for i, x := range p.x {
		ch := i % p.c
		xHat[i] = (x - mean[ch]) / math.Sqrt(variance[ch]+BNEpsilon)
		meanV[ch] += p.v[i] / m
		meanVXHat[ch] += p.v[i] * xHat[i] / m
	}
	dx, dxStopped = make([]float64, len(p.x)), make([]float64, len(p.x))
	for i := range p.x {
		ch := i % p.c
		a := p.gamma[ch] / math.Sqrt(variance[ch]+BNEpsilon)
		dx[i] = a * (p.v[i] - meanV[ch] - xHat[i]*meanVXHat[ch])
		dxStopped[i] = a * p.v[i]
	}
	return mean, variance, dx, dxStopped
}

// maxAbsDiff is max_i |a_i − b_i|.
func maxAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

var bnImpls = []Impl{Native, Fast}

// TestBatchNormGradientThroughStatistics checks the x-gradient of Σ v·BN(x) against the paper's (§3), computed
// here in plain Go, on both paths. The stop-gradient version (GoMLX's norm.BatchNorm on the Go backend, and this
// layer before) gives (γ/σ)·v instead, which the test shows to be far from it: it fails on that behaviour.
func TestBatchNormGradientThroughStatistics(t *testing.T) {
	backend := testBackend(t)
	for _, tc := range []struct {
		name       string
		n, h, w, c int
	}{{"2x3x3x2", 2, 3, 3, 2}, {"4x2x5x3", 4, 2, 5, 3}, {"1x4x4x1", 1, 4, 4, 1}} {
		p := newBNProblem(int64(tc.n*100+tc.c), tc.n, tc.h, tc.w, tc.c)
		_, _, want, stopped := p.reference()
		if d := maxAbsDiff(want, stopped); d < 0.05 {
			t.Fatalf("%s: test problem does not separate the full gradient from the stopped one (%.3g)", tc.name, d)
		}
		for _, impl := range bnImpls {
			t.Run(tc.name+"/"+impl.String(), func(t *testing.T) {
				got := newBNRunner(t, backend, impl, dtypes.Float64, true, false).run(p, nil)
				if d := maxAbsDiff(got.dx, want); d > 1e-9 {
					t.Errorf("dx differs from Ioffe & Szegedy §3 by %.3g (from the stop-gradient one by %.3g)",
						d, maxAbsDiff(got.dx, stopped))
				}
				// Σ_i ∂L/∂x_i = 0 per channel: shifting a channel does not change BN(x).
				for ch := range p.c {
					sum := 0.0
					for i := ch; i < len(got.dx); i += p.c {
						sum += got.dx[i]
					}
					if math.Abs(sum) > 1e-9 {
						t.Errorf("channel %d: Σ dx = %.3g, want 0", ch, sum)
					}
				}
			})
		}
	}
}

// TestBatchNormGradientFiniteDifferences compares the gradients of L = Σ v·tanh(BN(x)) with respect to x, γ
// and β with central finite differences in float64, on both paths.
func TestBatchNormGradientFiniteDifferences(t *testing.T) {
	backend := testBackend(t)
	for _, tc := range []struct {
		name       string
		n, h, w, c int
	}{{"3x2x2x2", 3, 2, 2, 2}, {"2x1x3x3", 2, 1, 3, 3}} {
		for _, impl := range bnImpls {
			t.Run(tc.name+"/"+impl.String(), func(t *testing.T) {
				p := newBNProblem(int64(tc.n*10+tc.c), tc.n, tc.h, tc.w, tc.c)
				r := newBNRunner(t, backend, impl, dtypes.Float64, true, true)
				got := r.run(p, nil)
				const h = 1e-6
				diff := func(values []float64, i int) float64 {
					orig := values[i]
					values[i] = orig + h
					lp := r.run(p, nil).loss
					values[i] = orig - h
					lm := r.run(p, nil).loss
					values[i] = orig
					return (lp - lm) / (2 * h)
				}
				for _, param := range []struct {
					name   string
					values []float64
					grad   []float64
				}{{"x", p.x, got.dx}, {"γ", p.gamma, got.dGamma}, {"β", p.beta, got.dBeta}} {
					for i := range param.values {
						if fd := diff(param.values, i); math.Abs(fd-param.grad[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
							t.Errorf("∂L/∂%s[%d] = %.9g, finite differences %.9g", param.name, i, param.grad[i], fd)
							break // one report per parameter
						}
					}
				}
			})
		}
	}
}

// TestBatchNormFastMatchesNative compares the two paths in float32 on ResNet-like shapes: the output, the
// gradients with respect to x, γ and β, and the moving averages after each of three training steps.
func TestBatchNormFastMatchesNative(t *testing.T) {
	backend := testBackend(t)
	for _, tc := range []struct {
		name       string
		n, h, w, c int
	}{{"4x6x5x3", 4, 6, 5, 3}, {"8x4x4x16", 8, 4, 4, 16}, {"2x7x3x1", 2, 7, 3, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			native := newBNRunner(t, backend, Native, dtypes.Float32, true, true)
			fast := newBNRunner(t, backend, Fast, dtypes.Float32, true, true)
			for step := range 3 {
				p := newBNProblem(int64(step+7*tc.c), tc.n, tc.h, tc.w, tc.c)
				want, got := native.run(p, nil), fast.run(p, nil)
				for _, out := range []struct {
					name      string
					got, want []float64
				}{
					{"y", got.y, want.y}, {"dx", got.dx, want.dx}, {"dγ", got.dGamma, want.dGamma},
					{"dβ", got.dBeta, want.dBeta},
					{"moving mean", fast.variable("mean"), native.variable("mean")},
					{"moving variance", fast.variable("variance"), native.variable("variance")},
				} {
					ref := 0.0
					for _, w := range out.want {
						ref = math.Max(ref, math.Abs(w))
					}
					if d := maxAbsDiff(out.got, out.want); d > 1e-4*math.Max(1, ref) || math.IsNaN(d) {
						t.Errorf("step %d, %s: Fast differs from Native by %.3g (max |Native| %.3g)", step, out.name, d, ref)
					}
				}
			}
		})
	}
}

// TestBatchNormMovingAveragesAndInference trains three steps on both paths and checks the moving averages
// against norm.BatchNorm's debiased update computed here — t-th step: a ← d·a + (1−d)·batch, d = min(0.99, 1 − 1/t)
// — and that inference then normalizes with them: y = γ·(x − mean)/√(variance + ε) + β.
func TestBatchNormMovingAveragesAndInference(t *testing.T) {
	backend := testBackend(t)
	const n, h, w, c = 3, 4, 2, 2
	for _, impl := range bnImpls {
		t.Run(impl.String(), func(t *testing.T) {
			train := newBNRunner(t, backend, impl, dtypes.Float64, true, false)
			wantMean, wantVar := []float64{0, 0}, []float64{1, 1}
			var p *bnProblem
			for step := 1; step <= 3; step++ {
				p = newBNProblem(int64(50+step), n, h, w, c)
				train.run(p, nil)
				mean, variance, _, _ := p.reference()
				d := math.Min(BNMomentum, 1-1/float64(step))
				for ch := range c {
					wantMean[ch] = d*wantMean[ch] + (1-d)*mean[ch]
					wantVar[ch] = d*wantVar[ch] + (1-d)*variance[ch]
				}
			}
			gotMean, gotVar := train.variable("mean"), train.variable("variance")
			if d := math.Max(maxAbsDiff(gotMean, wantMean), maxAbsDiff(gotVar, wantVar)); d > 1e-9 {
				t.Fatalf("moving averages %v, %v; want %v, %v", gotMean, gotVar, wantMean, wantVar)
			}

			// Inference on the trained store: training off, the moving averages are used and left unchanged.
			infer := newBNRunnerOn(t, backend, train.store, impl, dtypes.Float64, false, false)
			got := infer.run(p, nil)
			if d := maxAbsDiff(infer.variable("mean"), gotMean); d != 0 {
				t.Errorf("inference changed the moving mean by %g", d)
			}
			for i, x := range p.x {
				ch := i % c
				want := p.gamma[ch]*(x-gotMean[ch])/math.Sqrt(gotVar[ch]+BNEpsilon) + p.beta[ch]
				if math.Abs(got.y[i]-want) > 1e-9 {
					t.Fatalf("inference y[%d] = %g, want %g (moving averages)", i, got.y[i], want)
				}
			}
		})
	}
}
