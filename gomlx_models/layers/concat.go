package layers

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// ConcatChannels concatenates NHWC images along the channel axis: the "filter concatenation" that joins the
// branches of an Inception module (Szegedy et al. 2015, §4, Fig. 2; 2016, Figs. 5–7). When every input comes from
// a Fast layer, the channels-major originals are concatenated on their leading axis, so no transpose is made.
func ConcatChannels(xs ...*graph.Node) *graph.Node {
	if len(xs) == 0 {
		panic(fmt.Errorf("ConcatChannels: no inputs"))
	}
	for _, x := range xs {
		checkImages("ConcatChannels", x)
	}
	if len(xs) == 1 {
		return xs[0]
	}
	allFast := true
	for _, x := range xs {
		allFast = allFast && hasCNHW(x)
	}
	if allFast {
		cnhw := make([]*graph.Node, len(xs))
		for i, x := range xs {
			cnhw[i] = toCNHW(x)
		}
		return fromCNHW(graph.Concatenate(cnhw, 0))
	}
	return graph.Concatenate(xs, 3)
}
