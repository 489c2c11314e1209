package regularize

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train"
)

// Batch normalization settings: GoMLX's norm.BatchNorm defaults, kept so that BatchNorm and norm.BatchNorm
// share their variables and moving averages.
const (
	// BNMomentum is the momentum of the moving averages of the mean and variance.
	BNMomentum = 0.99
	// BNEpsilon is the ε added to the variance.
	BNEpsilon = 1e-3
)

// BatchNorm is batch normalization as the paper trains it (Ioffe & Szegedy 2015, Alg. 1 and the chain rule
// of §3): while training, x is normalized with the mini-batch mean and (biased) variance over every axis but
// featureAxis, and the gradient flows through both statistics — ∂ℓ/∂x_i collects the terms through μ_B and
// σ²_B, so the normalization cannot be undone by the gradient step (§2 explains why ignoring them makes the
// model blow up). GoMLX's norm.BatchNorm (v0.28) applies StopGradient to the batch statistics instead.
//
// Outside training (and in GoMLX's averages-update phase) it is norm.BatchNorm, with which it shares its
// variables under "batch_normalization" (scale γ, offset β, and the moving averages mean, variance,
// avg_weight, updated with the same debiased momentum BNMomentum): inference uses the moving averages.
func BatchNorm(scope *model.Scope, x *graph.Node, featureAxis int) *graph.Node {
	g := x.Graph()
	if !scope.IsTraining(g) || model.GetGraphParamOr(scope, g, train.BatchNormalizationUpdatePhase, -1) >= 0 {
		return norm.BatchNorm(scope, x, featureAxis).Momentum(BNMomentum).Epsilon(BNEpsilon).
			UseBackendInference(false).Done()
	}
	scope.Store().Scope(model.RootScopePath).SetParam(norm.AveragesUpdatesTriggerParam, true)
	s := scope.In("batch_normalization")
	axis := graph.MustAdjustAxis(featureAxis, x)
	dtype := x.DType()
	features := x.Shape().Dimensions[axis]
	varShape := shapes.Make(dtype, features)
	scale := s.WithInitializer(initializer.One).VariableWithShape("scale", varShape).SetTrainable(true)
	offset := s.WithInitializer(initializer.Zero).VariableWithShape("offset", varShape).SetTrainable(true)
	meanAvg := s.WithInitializer(initializer.Zero).VariableWithShape("mean", varShape).SetTrainable(false)
	varAvg := s.WithInitializer(initializer.One).VariableWithShape("variance", varShape).SetTrainable(false)
	weight := s.WithInitializer(initializer.Zero).VariableWithShape("avg_weight", varShape).SetTrainable(false)

	var reduce []int
	for i := range x.Rank() {
		if i != axis {
			reduce = append(reduce, i)
		}
	}
	// Alg. 1: μ_B, σ²_B (1/m), x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β — all differentiable.
	mean := graph.ReduceAndKeep(x, graph.ReduceMean, reduce...)
	centered := graph.Sub(x, mean)
	variance := graph.ReduceAndKeep(graph.Square(centered), graph.ReduceMean, reduce...)
	xHat := graph.Div(centered, graph.Sqrt(graph.AddScalar(variance, BNEpsilon)))
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[axis] = features
	y := graph.Add(graph.Mul(xHat, graph.Reshape(scale.NodeValue(g), dims...)), graph.Reshape(offset.NodeValue(g), dims...))

	// Moving averages for inference, as norm.BatchNorm updates them: momentum min(BNMomentum, 1 − 1/t).
	batchMean := graph.StopGradient(graph.Reshape(mean, features))
	batchVar := graph.StopGradient(graph.Reshape(variance, features))
	t := graph.OnePlus(weight.NodeValue(g))
	weight.SetNodeValue(t)
	d := graph.Min(graph.Scalar(g, dtype, BNMomentum), graph.OneMinus(graph.Reciprocal(t)))
	meanAvg.SetNodeValue(graph.Add(graph.Mul(d, meanAvg.NodeValue(g)), graph.Mul(graph.OneMinus(d), batchMean)))
	varAvg.SetNodeValue(graph.Add(graph.Mul(d, varAvg.NodeValue(g)), graph.Mul(graph.OneMinus(d), batchVar)))
	return y
}
