package layers

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	gomlxlayers "github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Flatten reshapes x [batch, ...] to [batch, features]. NHWC images flatten in (height, width, channels) order
// on every implementation, so Dense weights are interchangeable between them.
func Flatten(x *graph.Node) *graph.Node {
	if x == nil || x.Rank() < 1 {
		panic(fmt.Errorf("Flatten: need an input with a batch axis"))
	}
	if x.Rank() == 2 {
		return x
	}
	return graph.Reshape(x, x.Shape().Dimensions[0], -1)
}

// Dense is a fully connected layer with bias, y = x·W + b (the "F" layers of LeCun et al. 1998, §II.B): inputs
// of rank > 2 are flattened first. Its variables are GoMLX's ("weights" [in, units], "biases" [units]).
func Dense(scope *model.Scope, x *graph.Node, units int) *graph.Node {
	if units < 1 {
		panic(fmt.Errorf("Dense: units must be positive, got %d", units))
	}
	y := gomlxlayers.DenseWithBias(scope, Flatten(x), units)
	return summary.Mark(scope, "Dense", y)
}

// DenseNoBias is y = x·W without a bias, for a layer whose next step adds its own shift (batch normalization's
// β, Ioffe & Szegedy 2015, §3.2). Its variable is GoMLX's "weights" [in, units].
func DenseNoBias(scope *model.Scope, x *graph.Node, units int) *graph.Node {
	if units < 1 {
		panic(fmt.Errorf("DenseNoBias: units must be positive, got %d", units))
	}
	y := gomlxlayers.Dense(scope, Flatten(x), false, units)
	return summary.Mark(scope, "Dense", y)
}
