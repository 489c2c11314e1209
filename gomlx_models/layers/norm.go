package layers

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/layers/regularizer"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// GoMLX's norm.BatchNorm defaults, which the Fast training path reproduces.
const (
	bnMomentum = 0.99
	bnEpsilon  = 1e-3
)

// BatchNorm normalizes each channel of x with the batch statistics while training and their moving averages
// otherwise, then scales and shifts it (Ioffe & Szegedy 2015, Algorithm 1; used after every convolution of
// He et al. 2016, §3.4). It is GoMLX's norm.BatchNorm — variables under "batch_normalization" (scale, offset,
// mean, variance, avg_weight), momentum 0.99, ε = 1e-3, and, like GoMLX's, no gradient through the batch mean
// and variance — on the channel axis of whichever layout the images are in, with the backend's fused op switched
// off on the Go backend, which lacks it. On the Fast path the training step is computed here with fewer passes
// over the data: the statistics as products with a row of ones (the variance as E[x²] − E[x]²), the
// normalization as one per-channel x·a + b with a hand-written gradient.
func BatchNorm(scope *model.Scope, x *graph.Node) *graph.Node {
	g := x.Graph()
	useBackend := !isGoBackend(g)
	var y *graph.Node
	switch {
	case x.Rank() == 4 && (hasCNHW(x) || ImplFor(scope, g) == Fast):
		xc := toCNHW(x)
		if scope.IsTraining(g) && model.GetGraphParamOr(scope, g, train.BatchNormalizationUpdatePhase, -1) < 0 {
			y = fromCNHW(batchNormTrainingCNHW(scope, xc))
		} else {
			y = fromCNHW(norm.BatchNorm(scope, xc, 0).UseBackendInference(useBackend).Done())
		}
	default:
		y = norm.BatchNorm(scope, x, -1).UseBackendInference(useBackend).Done()
	}
	return summary.Mark(scope, "BatchNorm", y)
}

// batchNormTrainingCNHW is the training branch of norm.BatchNorm (default settings) for channels-major x.
func batchNormTrainingCNHW(scope *model.Scope, x *graph.Node) *graph.Node {
	g := x.Graph()
	dtype := x.DType()
	scope.Store().Scope(model.RootScopePath).SetParam(norm.AveragesUpdatesTriggerParam, true)
	s := scope.In("batch_normalization")
	c := x.Shape().Dimensions[0]
	m := x.Shape().Size() / c
	varShape := shapes.Make(dtype, c)
	scaleVar := s.WithInitializer(initializer.One).VariableWithShape("scale", varShape).SetTrainable(true)
	offsetVar := s.WithInitializer(initializer.Zero).VariableWithShape("offset", varShape).SetTrainable(true)
	meanVar := s.WithInitializer(initializer.Zero).VariableWithShape("mean", varShape).SetTrainable(false)
	varianceVar := s.WithInitializer(initializer.One).VariableWithShape("variance", varShape).SetTrainable(false)
	weightVar := s.WithInitializer(initializer.Zero).VariableWithShape("avg_weight", varShape).SetTrainable(false)

	rows := graph.Reshape(x, c, m)
	inv := 1 / float64(m)
	mean := graph.MulScalar(rowSums(rows), inv)
	variance := graph.Sub(graph.MulScalar(rowSums(graph.Mul(rows, rows)), inv), graph.Square(mean))
	variance = graph.Max(variance, graph.ScalarZero(g, dtype))
	mean, variance = graph.StopGradient(mean), graph.StopGradient(variance)

	// Moving averages, exactly as norm.BatchNorm's updateMeanAndVariance: a debiased momentum.
	momentum := graph.Scalar(g, dtype, bnMomentum)
	weight := graph.OnePlus(weightVar.NodeValue(g))
	weightVar.SetNodeValue(weight)
	debiased := graph.Min(momentum, graph.OneMinus(graph.Reciprocal(weight)))
	meanVar.SetNodeValue(graph.Add(graph.Mul(debiased, meanVar.NodeValue(g)), graph.Mul(graph.OneMinus(debiased), mean)))
	varianceVar.SetNodeValue(graph.Add(graph.Mul(debiased, varianceVar.NodeValue(g)),
		graph.Mul(graph.OneMinus(debiased), variance)))

	// y = (x - mean)/sqrt(var + ε)·scale + offset = x·a + b.
	a := graph.Div(scaleVar.NodeValue(g), graph.Sqrt(graph.AddScalar(variance, bnEpsilon)))
	b := graph.Sub(offsetVar.NodeValue(g), graph.Mul(mean, a))
	if l2 := model.GetParamOr(s, regularizer.ParamL2, 0.0); l2 > 0 {
		regularizer.L2(l2)(g, scaleVar)
	}
	return channelAffine(x, a, b)
}
