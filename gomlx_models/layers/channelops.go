package layers

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// Per-channel helpers for channels-major tensors viewed as rows [C, M]. On the Go backend a broadcasting binary
// op walks every element through a generic index iterator (7-9 ns each) and ReduceSum about 4 ns per element,
// while Concatenate copies whole rows and a matrix product against a row of ones reduces at memory speed; these
// helpers use the latter.

// broadcastRows returns a [C] repeated along a new last axis: [C, m], built by doubling with Concatenate.
func broadcastRows(a *graph.Node, m int) *graph.Node {
	c := a.Shape().Dimensions[0]
	tile := graph.Reshape(a, c, 1)
	var parts []*graph.Node
	for width := 1; width <= m; width *= 2 {
		if m&width != 0 {
			parts = append(parts, tile)
		}
		if width*2 <= m {
			tile = graph.Concatenate([]*graph.Node{tile, tile}, 1)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return graph.Concatenate(parts, 1)
}

// rowSums returns Σ_m x[c, m] as [C], a matrix product with a row of ones (both contracting on the last axis).
func rowSums(x *graph.Node) *graph.Node {
	c, m := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
	ones := graph.Ones(x.Graph(), shapes.Make(x.DType(), 1, m))
	return graph.Reshape(graph.DotGeneral(x, []int{1}, nil, ones, []int{1}, nil), c)
}

// channelAffine returns x·a + b per channel for channels-major x [C, …] and a, b [C], with the gradients
// dx = v·a, da = Σ v·x and db = Σ v.
func channelAffine(x, a, b *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	c := dims[0]
	m := x.Shape().Size() / c
	return customVJP([]*graph.Node{x, a, b},
		func(in []*graph.Node) *graph.Node {
			rows := graph.Reshape(in[0], c, m)
			y := graph.Add(graph.Mul(rows, broadcastRows(in[1], m)), broadcastRows(in[2], m))
			return graph.Reshape(y, dims...)
		},
		func(v *graph.Node) []*graph.Node {
			vRows := graph.Reshape(v, c, m)
			dx := graph.Reshape(graph.Mul(vRows, broadcastRows(a, m)), dims...)
			da := rowSums(graph.Mul(vRows, graph.Reshape(x, c, m)))
			return []*graph.Node{dx, da, rowSums(vRows)}
		})
}

// channelBias returns x + b per channel for channels-major x [C, …] and b [C], with the gradients dx = v and
// db = Σ v (a broadcasting Add and its ReduceSum gradient are the slow paths of the Go backend).
func channelBias(x, b *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	c := dims[0]
	m := x.Shape().Size() / c
	return customVJP([]*graph.Node{x, b},
		func(in []*graph.Node) *graph.Node {
			y := graph.Add(graph.Reshape(in[0], c, m), broadcastRows(in[1], m))
			return graph.Reshape(y, dims...)
		},
		func(v *graph.Node) []*graph.Node { return []*graph.Node{v, rowSums(graph.Reshape(v, c, m))} })
}

// reluFast is max(x, 0) with the gradient v·sign(y) (two passes instead of the five of graph.Max's gradient);
// at exactly x = 0 the gradient is 0, as in PyTorch (GoMLX's Max gives 1 there).
func reluFast(x *graph.Node) *graph.Node {
	var y *graph.Node
	y = customVJP([]*graph.Node{x},
		func(in []*graph.Node) *graph.Node {
			return graph.Max(in[0], graph.ScalarZero(in[0].Graph(), in[0].DType()))
		},
		func(v *graph.Node) []*graph.Node { return []*graph.Node{graph.Mul(v, graph.Sign(y))} })
	return y
}
