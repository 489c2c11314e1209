package layers

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Maxout is a maxout layer (Goodfellow, Warde-Farley, Mirza, Courville & Bengio 2013, eq. 1), the piecewise-linear
// unit Lin et al. 2014 (§2) compare mlpconv with: h_i(x) = max_{j<pieces} (x·W_{·ij} + b_{ij}), i < units. x is
// [batch, features] (higher ranks are flattened); the affine pieces are one Dense layer of units·pieces outputs,
// unit i's pieces being outputs i·pieces … i·pieces+pieces−1. Returns [batch, units]. With pieces = 1 it is a
// Dense layer; with enough pieces each unit approximates any convex function of x (Goodfellow et al., §3).
func Maxout(scope *model.Scope, x *graph.Node, units, pieces int) *graph.Node {
	if units < 1 || pieces < 1 {
		panic(fmt.Errorf("Maxout: units (%d) and pieces (%d) must be positive", units, pieces))
	}
	z := Dense(scope.In("pieces"), x, units*pieces)
	y := graph.ReduceMax(graph.Reshape(z, z.Shape().Dimensions[0], units, pieces), 2)
	return summary.Mark(scope, "Maxout", y)
}

// MaxoutChannels is the convolutional maxout of Goodfellow et al. 2013 (§2: "max pooling across channels"): the
// channels of the NHWC images x are taken in consecutive groups of pieces and each group replaced by its
// maximum, so C channels become C/pieces. Put it after a convolution of units·pieces filters.
func MaxoutChannels(scope *model.Scope, x *graph.Node, pieces int) *graph.Node {
	checkImages("MaxoutChannels", x)
	dims := x.Shape().Dimensions
	if pieces < 1 || dims[3]%pieces != 0 {
		panic(fmt.Errorf("MaxoutChannels: %d channels do not split into groups of %d", dims[3], pieces))
	}
	var y *graph.Node
	if hasCNHW(x) {
		xc := toCNHW(x)
		y = fromCNHW(graph.ReduceMax(graph.Reshape(xc, dims[3]/pieces, pieces, dims[0], dims[1], dims[2]), 1))
	} else {
		y = graph.ReduceMax(graph.Reshape(x, dims[0], dims[1], dims[2], dims[3]/pieces, pieces), 4)
	}
	return summary.Mark(scope, "MaxoutChannels", y)
}
