package layers

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// ReLU is max(x, 0) (Nair & Hinton 2010; Krizhevsky et al. 2012, §3.1). On the output of a Fast layer it is
// applied to the channels-major original, so the layout is kept.
func ReLU(x *graph.Node) *graph.Node {
	if x != nil && x.Rank() == 4 && hasCNHW(x) {
		return fromCNHW(reluFast(toCNHW(x)))
	}
	return graph.Max(x, graph.ScalarZero(x.Graph(), x.DType()))
}

// Tanh is the hyperbolic tangent, the saturating non-linearity AlexNet's §3.1 compares ReLUs with. Like [ReLU]
// it keeps the channels-major layout of a Fast layer's output.
func Tanh(x *graph.Node) *graph.Node {
	if x != nil && x.Rank() == 4 && hasCNHW(x) {
		return fromCNHW(graph.Tanh(toCNHW(x)))
	}
	return graph.Tanh(x)
}

// Add is the element-wise sum a + b of two same-shaped tensors, e.g. a residual connection (He et al. 2016,
// eq. 1: y = F(x) + x). When both come from Fast layers it adds the channels-major originals.
func Add(a, b *graph.Node) *graph.Node {
	if !a.Shape().Equal(b.Shape()) {
		panic(fmt.Errorf("layers.Add: shapes differ: %s vs %s", a.Shape(), b.Shape()))
	}
	if a.Rank() == 4 && hasCNHW(a) && hasCNHW(b) {
		return fromCNHW(graph.Add(toCNHW(a), toCNHW(b)))
	}
	return graph.Add(a, b)
}
