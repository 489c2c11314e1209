package layers

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// FrozenBN configures [FrozenBatchNorm].
type FrozenBN struct {
	// Scale adds the learned γ; Keras's InceptionV3 builds its BatchNormalization layers with scale=False
	// (γ would be redundant before a ReLU-followed convolution), so it has only β.
	Scale bool
	// Epsilon is the ε added to the variance; 0 means [BNEpsilon] (Keras's 1e-3).
	Epsilon float64
}

// FrozenBatchNorm is batch normalization at inference, with stored statistics (Ioffe & Szegedy 2015, Algorithm 2,
// step 11): y = γ·(x − μ)/√(σ² + ε) + β per channel (last axis of x), as Keras's BatchNormalization computes it
// outside training. It does not update μ and σ² while training (the statistics stay those of the pretrained
// network, as when fine-tuning with frozen BN); β and γ are trainable.
//
// Its variables carry Keras's names, so that converted weights map one to one: "beta", "moving_mean",
// "moving_variance" and, with cfg.Scale, "gamma". The affine map is applied as x·a + b with a = γ/√(σ² + ε) and
// b = β − μ·a, per channel on the Fast (channels-major) path.
func FrozenBatchNorm(scope *model.Scope, x *graph.Node, cfg FrozenBN) *graph.Node {
	if x == nil || x.Rank() < 2 {
		panic(fmt.Errorf("FrozenBatchNorm: need an input with a feature axis"))
	}
	eps := cfg.Epsilon
	if eps == 0 {
		eps = BNEpsilon
	}
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	shape := shapes.Make(x.DType(), c)
	variable := func(name string, init initializer.VariableInitializer, trainable bool) *graph.Node {
		return scope.WithInitializer(init).VariableWithShape(name, shape).SetTrainable(trainable).NodeValue(g)
	}
	beta := variable("beta", initializer.Zero, true)
	mean := variable("moving_mean", initializer.Zero, false)
	variance := variable("moving_variance", initializer.One, false)
	// The moving statistics are constants of the layer: no gradient flows into them (Rsqrt has none in GoMLX,
	// and a reverse pass taken with respect to the input, as image synthesis does, would otherwise reach it).
	a := graph.StopGradient(graph.Rsqrt(graph.AddScalar(variance, eps)))
	mean = graph.StopGradient(mean)
	if cfg.Scale {
		a = graph.Mul(a, variable("gamma", initializer.One, true))
	}
	b := graph.Sub(beta, graph.Mul(mean, a))
	var y *graph.Node
	if x.Rank() == 4 && (hasCNHW(x) || ImplFor(scope, g) == Fast) {
		y = fromCNHW(channelAffine(toCNHW(x), a, b))
	} else {
		dims := make([]int, x.Rank())
		for i := range dims {
			dims[i] = 1
		}
		dims[len(dims)-1] = c
		y = graph.Add(graph.Mul(x, graph.Reshape(a, dims...)), graph.Reshape(b, dims...))
	}
	return summary.Mark(scope, "BatchNorm", y)
}
