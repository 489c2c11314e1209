// Package regularize holds the layers behind notebook 02: inverted dropout written from scratch,
// batch normalization with the gradient through the batch statistics (Ioffe & Szegedy 2015, §3),
// and a numerical demonstration of batch normalization's training vs inference modes.
package regularize

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// DefaultKeepProb is the keep probability of the notes' inverted-dropout example.
const DefaultKeepProb = 0.8

// InvertedDropout is dropout as in the notes, written from scratch: while training, each
// value is kept with probability keepProb and the kept ones are scaled up so the expectation
// is unchanged,
//
//	mask = (U < keepProb),  U ~ Uniform[0, 1) elementwise,
//	out  = x ⊙ mask / keepProb,            E[out] = x,
//
// and at inference it is the identity (no rescaling needed there, which is the point of
// the "inverted" variant). Training vs inference is GoMLX's graph parameter "training",
// set by train.Trainer (true in train steps, false in evaluation); layers.IsDropoutActive
// reads the same flag. The random numbers come from the store's RNG state, so each
// execution draws a new mask.
//
// keepProb must be in (0, 1]; keepProb == 1 is the identity. It is a graph-building
// function and panics (GoMLX style) otherwise.
func InvertedDropout(scope *model.Scope, x *graph.Node, keepProb float64) *graph.Node {
	if !(keepProb > 0 && keepProb <= 1) {
		exceptions.Panicf("regularize.InvertedDropout: keepProb must be in (0, 1], got %g", keepProb)
	}
	if !x.DType().IsFloat() {
		exceptions.Panicf("regularize.InvertedDropout: x must be float, got %s", x.DType())
	}
	g := x.Graph()
	if keepProb == 1 || !layers.IsDropoutActive(scope, g) {
		return x
	}
	u := scope.RandomUniform(g, shapes.Make(x.DType(), x.Shape().Dimensions...))
	mask := graph.ConvertDType(graph.LessThan(u, graph.Scalar(g, x.DType(), keepProb)), x.DType())
	return graph.DivScalar(graph.Mul(x, mask), keepProb)
}
