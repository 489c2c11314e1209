package layers

import (
	"github.com/gomlx/gomlx/core/graph"
)

// customVJP returns forward(inputs) with a hand-written reverse pass: the adjoint v of the output is turned into
// the gradients grads(v)[i] of inputs[i]. Second derivatives are not supported.
//
// The forward pass is the "fused" op of graph.InternalFusedOpCaller; the "decomposed" one, whose reverse pass
// GoMLX uses for the fused node, is a gradient carrier built by gradientCarrier. Its forward value (computed only
// if GoMLX's fusion is switched off with GOMLX_FUSION=false) equals the fused one.
func customVJP(inputs []*graph.Node, forward func(inputs []*graph.Node) *graph.Node,
	grads func(v *graph.Node) []*graph.Node) *graph.Node {
	out, _ := graph.InternalFusedOpCaller(
		func() *graph.Node { return forward(inputs) },
		func() *graph.Node {
			stopped := make([]*graph.Node, len(inputs))
			for i, in := range inputs {
				stopped[i] = graph.StopGradient(in)
			}
			return gradientCarrier(forward(stopped), inputs, grads)
		},
		true)
	return out
}

// gradientCarrier returns y unchanged, but such that the reverse pass sends grads(v)[i] to inputs[i], v being
// the adjoint of y. y must not otherwise depend on the inputs (build it from their StopGradient).
//
// How: y + 0·Σᵢ inputs[i][0,…,0] makes every input reachable from y; a custom gradient on y records v, and custom
// gradients on each input return grads(v)[i], ignoring what flows down the zero path (which thereby becomes dead
// code, removed by the backend). y itself is behind a StopGradient, so GoMLX never differentiates the ops it is
// made of (some, like graph.Pad with negative padding, have no usable gradient). GoMLX's reverse pass visits y before the inputs, as it goes from later nodes
// to earlier ones; grads is called once, at the first input reached.
func gradientCarrier(y *graph.Node, inputs []*graph.Node, grads func(v *graph.Node) []*graph.Node) *graph.Node {
	var adjoint *graph.Node
	var computed []*graph.Node
	gradOf := func(i int) *graph.Node {
		if computed == nil {
			computed = grads(adjoint)
		}
		return computed[i]
	}
	var zero *graph.Node
	for i, in := range inputs {
		carrier := graph.IdentityWithCustomGradient(in, func(_, _ *graph.Node) *graph.Node { return gradOf(i) })
		specs := make([]graph.SliceAxisSpec, carrier.Rank())
		for j := range specs {
			specs[j] = graph.AxisRange(0, 1)
		}
		first := graph.Reshape(graph.Slice(carrier, specs...))
		if zero == nil {
			zero = first
		} else {
			zero = graph.Add(zero, first)
		}
	}
	zero = graph.Mul(zero, graph.ScalarZero(y.Graph(), y.DType()))
	return graph.IdentityWithCustomGradient(graph.Add(graph.StopGradient(y), zero), func(_, v *graph.Node) *graph.Node {
		adjoint = v
		return v
	})
}
