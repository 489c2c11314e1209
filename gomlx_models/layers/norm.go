package layers

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/layers/regularizer"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Batch normalization settings: GoMLX's norm.BatchNorm defaults, kept so that the project's batch normalization
// and norm.BatchNorm share their variables and moving averages (checkpoints and inference work with either).
const (
	// BNMomentum is the momentum of the moving averages of the mean and variance.
	BNMomentum = 0.99
	// BNEpsilon is the ε added to the variance (Ioffe & Szegedy 2015, Algorithm 1).
	BNEpsilon = 1e-3
)

// BatchNorm normalizes each channel of x with the batch statistics while training and their moving averages
// otherwise, then scales and shifts it: Ioffe & Szegedy 2015, Algorithm 1, used after every convolution of
// He et al. 2016, §3.4. While training, the gradient flows through the batch mean μ_B and variance σ²_B, by
// the chain rule of the BN paper's §3, as in PyTorch's nn.BatchNorm2d: for each channel, over the m values of
// (N, H, W), with x̂ = (x − μ_B)/σ and σ = √(σ²_B + ε),
//
//	∂ℓ/∂x = (γ/σ)·(∂ℓ/∂y − mean(∂ℓ/∂y) − x̂·mean(∂ℓ/∂y·x̂)),  ∂ℓ/∂γ = Σ ∂ℓ/∂y·x̂,  ∂ℓ/∂β = Σ ∂ℓ/∂y.
//
// GoMLX's norm.BatchNorm (v0.28) stops the gradient at μ_B and σ²_B on the Go backend, which lets a gradient
// step undo the normalization (§2 of the paper); this layer does not.
//
// The variables are norm.BatchNorm's — under "batch_normalization": scale γ, offset β, and the moving averages
// mean, variance and avg_weight, updated with the same debiased momentum [BNMomentum] — and ε is [BNEpsilon],
// so inference (which uses the moving averages) and GoMLX's averages-update phase are norm.BatchNorm itself.
// Any L2 regularization set with regularizer.ParamL2 applies to γ, as in norm.BatchNorm.
//
// On the [Native] path training is [BatchNormAxis] on the channel axis: graph ops, and the gradient above as
// ReduceSums. On the [Fast] path (channels-major) the training step is computed with fewer passes over the data: the
// statistics as products with a row of ones (the variance as E[x²] − E[x]²), the normalization as one
// per-channel x·a + b, and the gradient above written by hand in the same per-channel form.
func BatchNorm(scope *model.Scope, x *graph.Node) *graph.Node {
	g := x.Graph()
	var y *graph.Node
	switch {
	case x.Rank() == 4 && (hasCNHW(x) || ImplFor(scope, g) == Fast):
		xc := toCNHW(x)
		if isBatchNormTraining(scope, g) {
			y = fromCNHW(batchNormTrainingCNHW(scope, xc))
		} else {
			y = fromCNHW(BatchNormAxis(scope, xc, 0))
		}
	default:
		y = BatchNormAxis(scope, x, -1)
	}
	return summary.Mark(scope, "BatchNorm", y)
}

// BatchNormAxis is batch normalization over every axis of x but featureAxis (negative counts from the end),
// built from graph ops: while training, Algorithm 1 of Ioffe & Szegedy 2015 with the batch mean and biased
// variance, and the gradient through both statistics (§3) in its closed form (see [BatchNorm]); otherwise, and
// in GoMLX's averages-update phase, norm.BatchNorm with the moving averages. Variables, momentum and ε are
// those of [BatchNorm].
//
// The closed form is also the accurate one in float32: autodiff of the same graph ops, which sums terms that
// cancel (Σ(x − μ_B) = 0), gives weight gradients of ResNet-20 off by up to 3% on the Go backend, against
// about 5e-6 for the closed form (both measured against float64).
func BatchNormAxis(scope *model.Scope, x *graph.Node, featureAxis int) *graph.Node {
	g := x.Graph()
	if !isBatchNormTraining(scope, g) {
		return norm.BatchNorm(scope, x, featureAxis).Momentum(BNMomentum).Epsilon(BNEpsilon).
			UseBackendInference(!isGoBackend(g)).Done()
	}
	axis := graph.MustAdjustAxis(featureAxis, x)
	features := x.Shape().Dimensions[axis]
	vars := newBNVariables(scope, x.DType(), features)
	var reduce []int
	for i := range x.Rank() {
		if i != axis {
			reduce = append(reduce, i)
		}
	}
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[axis] = features
	gamma, beta := vars.scale.NodeValue(g), vars.offset.NodeValue(g)

	// Alg. 1: μ_B, σ²_B (1/m), x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β. The batch statistics are computed
	// without gradient: the reverse pass below is the chain rule of §3 through them, in closed form.
	xs := graph.StopGradient(x)
	mean := graph.ReduceAndKeep(xs, graph.ReduceMean, reduce...)
	centered := graph.Sub(xs, mean)
	variance := graph.ReduceAndKeep(graph.Square(centered), graph.ReduceMean, reduce...)
	invStd := graph.Reciprocal(graph.Sqrt(graph.AddScalar(variance, BNEpsilon)))
	xHat := graph.Mul(centered, invStd)
	vars.update(g, graph.Reshape(mean, features), graph.Reshape(variance, features))

	m := float64(x.Shape().Size() / features)
	y := customVJP([]*graph.Node{x, gamma, beta},
		func(in []*graph.Node) *graph.Node {
			return graph.Add(graph.Mul(xHat, graph.Reshape(in[1], dims...)), graph.Reshape(in[2], dims...))
		},
		func(v *graph.Node) []*graph.Node {
			// dβ = Σ v, dγ = Σ v·x̂, dx = (γ/σ)·(v − mean(v) − x̂·mean(v·x̂)).
			sumV := graph.ReduceAndKeep(v, graph.ReduceSum, reduce...)
			sumVXHat := graph.ReduceAndKeep(graph.Mul(v, xHat), graph.ReduceSum, reduce...)
			a := graph.Mul(graph.Reshape(graph.StopGradient(gamma), dims...), invStd)
			inner := graph.Sub(graph.Sub(v, graph.MulScalar(sumV, 1/m)), graph.Mul(xHat, graph.MulScalar(sumVXHat, 1/m)))
			return []*graph.Node{graph.Mul(inner, a), graph.Reshape(sumVXHat, features), graph.Reshape(sumV, features)}
		})
	return y
}

// isBatchNormTraining reports whether batch normalization uses the batch statistics with their gradient:
// training, outside GoMLX's averages-update phase (train.BatchNormalizationUpdatePhase).
func isBatchNormTraining(scope *model.Scope, g *graph.Graph) bool {
	return scope.IsTraining(g) && model.GetGraphParamOr(scope, g, train.BatchNormalizationUpdatePhase, -1) < 0
}

// bnVariables are norm.BatchNorm's variables, in scope "batch_normalization".
type bnVariables struct {
	scope                                 *model.Scope
	scale, offset, mean, variance, weight *model.Variable
}

// newBNVariables creates or reuses the variables of a batch normalization of the given number of features,
// applies L2 regularization to γ if regularizer.ParamL2 is set, and, as norm.BatchNorm does, tells the trainer
// that the model has moving averages to update.
func newBNVariables(scope *model.Scope, dtype dtypes.DType, features int) bnVariables {
	scope.Store().Scope(model.RootScopePath).SetParam(norm.AveragesUpdatesTriggerParam, true)
	s := scope.In(norm.BatchNormalizationScopeName)
	shape := shapes.Make(dtype, features)
	v := bnVariables{
		scope:    s,
		scale:    s.WithInitializer(initializer.One).VariableWithShape("scale", shape).SetTrainable(true),
		offset:   s.WithInitializer(initializer.Zero).VariableWithShape("offset", shape).SetTrainable(true),
		mean:     s.WithInitializer(initializer.Zero).VariableWithShape("mean", shape).SetTrainable(false),
		variance: s.WithInitializer(initializer.One).VariableWithShape("variance", shape).SetTrainable(false),
		weight:   s.WithInitializer(initializer.Zero).VariableWithShape("avg_weight", shape).SetTrainable(false),
	}
	return v
}

// update folds the batch statistics (without gradient) into the moving averages exactly as norm.BatchNorm's
// updateMeanAndVariance does, with the debiased momentum min(BNMomentum, 1 − 1/t) at the t-th update, and
// applies the L2 regularization of γ, if any.
func (v bnVariables) update(g *graph.Graph, batchMean, batchVariance *graph.Node) {
	dtype := batchMean.DType()
	t := graph.OnePlus(v.weight.NodeValue(g))
	v.weight.SetNodeValue(t)
	d := graph.Min(graph.Scalar(g, dtype, BNMomentum), graph.OneMinus(graph.Reciprocal(t)))
	v.mean.SetNodeValue(graph.Add(graph.Mul(d, v.mean.NodeValue(g)), graph.Mul(graph.OneMinus(d), batchMean)))
	v.variance.SetNodeValue(graph.Add(graph.Mul(d, v.variance.NodeValue(g)),
		graph.Mul(graph.OneMinus(d), batchVariance)))
	if l2 := model.GetParamOr(v.scope, regularizer.ParamL2, 0.0); l2 > 0 {
		regularizer.L2(l2)(g, v.scale)
	}
}

// batchNormTrainingCNHW is the training step of [BatchNorm] for channels-major x [C, N, H, W], viewed as rows
// [C, m] with m = N·H·W. Forward: y = x·a + b per channel, a = γ/σ, b = β − μ_B·a. Reverse, for the adjoint v
// (Ioffe & Szegedy 2015, §3, the chain rule through x̂, σ²_B and μ_B, rearranged per channel):
//
//	dβ = Σ v,  dγ = Σ v·x̂ = (Σ v·x − μ_B·Σ v)/σ,
//	dx = a·(v − Σv/m − x̂·dγ/m) = a·(v + x·r + s),  r = −dγ/(σ·m),  s = −Σv/m − r·μ_B,
//
// so the gradient costs two row sums (products with a row of ones) and per-channel multiply-adds.
func batchNormTrainingCNHW(scope *model.Scope, x *graph.Node) *graph.Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	c := dims[0]
	m := x.Shape().Size() / c
	vars := newBNVariables(scope, x.DType(), c)
	gamma, beta := vars.scale.NodeValue(g), vars.offset.NodeValue(g)

	// Batch statistics, without gradient: the hand-written reverse pass below accounts for them.
	xRows := graph.Reshape(graph.StopGradient(x), c, m)
	inv := 1 / float64(m)
	mean := graph.MulScalar(rowSums(xRows), inv)
	variance := graph.Sub(graph.MulScalar(rowSums(graph.Mul(xRows, xRows)), inv), graph.Square(mean))
	variance = graph.Max(variance, graph.ScalarZero(g, x.DType()))
	vars.update(g, mean, variance)

	invStd := graph.Reciprocal(graph.Sqrt(graph.AddScalar(variance, BNEpsilon)))
	a := graph.Mul(graph.StopGradient(gamma), invStd)
	aRows := broadcastRows(a, m)
	return customVJP([]*graph.Node{x, gamma, beta},
		func(in []*graph.Node) *graph.Node {
			b := graph.Sub(in[2], graph.Mul(mean, a))
			y := graph.Add(graph.Mul(graph.Reshape(in[0], c, m), aRows), broadcastRows(b, m))
			return graph.Reshape(y, dims...)
		},
		func(v *graph.Node) []*graph.Node {
			vRows := graph.Reshape(v, c, m)
			sumV := rowSums(vRows)
			dGamma := graph.Mul(graph.Sub(rowSums(graph.Mul(vRows, xRows)), graph.Mul(mean, sumV)), invStd)
			r := graph.MulScalar(graph.Mul(dGamma, invStd), -inv)
			s := graph.Sub(graph.MulScalar(sumV, -inv), graph.Mul(r, mean))
			inner := graph.Add(graph.Add(vRows, graph.Mul(xRows, broadcastRows(r, m))), broadcastRows(s, m))
			// a is broadcast again here, from σ⁻¹·γ (a different expression, so the backend does not merge it
			// with the forward's aRows, which would then stay alive from the forward pass to this one).
			aAgain := broadcastRows(graph.Mul(invStd, graph.StopGradient(gamma)), m)
			dx := graph.Reshape(graph.Mul(inner, aAgain), dims...)
			return []*graph.Node{dx, dGamma, sumV}
		})
}
