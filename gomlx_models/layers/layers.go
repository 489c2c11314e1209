// Package layers holds the convolutional building blocks every convnotes model is made of — Conv2D,
// MaxPool2D, AvgPool2D, GlobalAvgPool, Dense, BatchNorm, ReLU and Add — named as the papers name them.
//
// All of them take and return NHWC images ([batch, height, width, channels]) and convolution kernels are HWIO
// ([height, width, input channels, output channels]), GoMLX's own conventions, so a model written with them
// runs unchanged on every backend and its weights are interchangeable between implementations.
//
// Each spatial layer has two implementations, picked per graph by [ImplFor]:
//
//   - [Native]: GoMLX's graph.Convolve, graph.MaxPool and norm.BatchNorm — what XLA compiles best.
//   - [Fast]: formulations built for the embedded pure-Go backend, whose built-in convolution is a scalar loop.
//     Activations are kept "channels-major" (CNHW: [channels, batch, height, width]) so that a convolution
//     becomes one matrix product over an im2col matrix assembled from whole-row copies (see fastconv.go), with
//     hand-written gradients; non-overlapping pooling becomes a reshape and a reduction.
//
// [Auto] (the default) takes [Fast] on the "go" backend and [Native] elsewhere. The choice can be forced with the
// scope parameter [ParamImpl], which the benchmark and the equivalence tests use to compare both on one backend.
//
// The Fast layers return NHWC nodes like the Native ones, and remember, per graph, the CNHW node each came from:
// when the next project layer receives such a node it works on the CNHW original directly, and the NHWC transpose
// — not used by anything else — is removed by the backend's dead-code elimination. Any other op applied in
// between (say activation.Relu instead of [ReLU]) is still correct; it only costs a transpose on each side.
package layers

import (
	"github.com/convnotes/convnotes/gomlx_models/summary"

	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Impl selects the implementation of the spatial layers.
type Impl int

const (
	// Auto picks [Fast] on the embedded "go" backend and [Native] on any other (XLA).
	Auto Impl = iota
	// Native uses GoMLX's stock ops (graph.Convolve, graph.MaxPool, norm.BatchNorm) on NHWC tensors.
	Native
	// Fast uses the channels-major formulations written for the embedded Go backend.
	Fast
)

// String returns the name of the implementation, as accepted by [ParseImpl].
func (i Impl) String() string {
	switch i {
	case Auto:
		return "auto"
	case Native:
		return "native"
	case Fast:
		return "fast"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// ParseImpl parses "auto", "native" (alias "stock") or "fast" (alias "project").
func ParseImpl(s string) (Impl, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "native", "stock":
		return Native, nil
	case "fast", "project":
		return Fast, nil
	}
	return Auto, fmt.Errorf("layers: unknown implementation %q (want auto, native or fast)", s)
}

// ParamImpl is the scope parameter (an [Impl] or its name) that forces the implementation of the layers built
// under that scope, e.g. scope.SetParam(layers.ParamImpl, layers.Native).
const ParamImpl = "convnotes_layers_impl"

// ImplFor resolves the implementation to use for the layers built in scope on graph g: the scope's [ParamImpl]
// if set to [Native] or [Fast], otherwise [Native] while summary.Of collects the graph (so summaries count the
// paper's multiply-adds), [Fast] on the "go" backend and [Native] elsewhere. Like the layers, it
// panics (while the graph is built) on a [ParamImpl] of the wrong type or an unknown name.
func ImplFor(scope *model.Scope, g *graph.Graph) Impl {
	impl := Auto
	if scope != nil {
		if v, found := scope.GetParam(ParamImpl); found {
			switch p := v.(type) {
			case Impl:
				impl = p
			case string:
				parsed, err := ParseImpl(p)
				if err != nil {
					panic(err)
				}
				impl = parsed
			default:
				panic(fmt.Errorf("layers: scope parameter %q must be a layers.Impl or a string, got %T", ParamImpl, v))
			}
		}
	}
	if impl != Auto {
		return impl
	}
	if summary.Collecting(g) {
		return Native
	}
	if isGoBackend(g) {
		return Fast
	}
	return Native
}

// isGoBackend reports whether g runs on the embedded pure-Go backend (compute v0.1.3 names it "Go Backend").
func isGoBackend(g *graph.Graph) bool {
	if g == nil || g.Backend() == nil {
		return false
	}
	name := strings.ToLower(g.Backend().Name())
	return name == "go" || strings.HasPrefix(name, "go backend")
}

// Padding is the spatial padding of a convolution or pooling window.
type Padding int

const (
	// Valid uses no padding: the output shrinks by (kernel-1)·dilation.
	Valid Padding = iota
	// Same pads with zeros so that, with stride 1, the output has the input's spatial size; GoMLX's convention:
	// (k-1)/2 before and k/2 after, k the dilated kernel size.
	Same
)

// String returns "VALID" or "SAME".
func (p Padding) String() string {
	if p == Same {
		return "SAME"
	}
	return "VALID"
}

// pads returns the (before, after) padding of one spatial axis for a window of effective size k.
func (p Padding) pads(k int) (before, after int) {
	if p == Same {
		return (k - 1) / 2, k / 2
	}
	return 0, 0
}

// --- NHWC ↔ CNHW bookkeeping -----------------------------------------------------------------------------------

// layoutStateKey keys the per-graph map from NHWC nodes returned by the Fast layers to their CNHW originals.
type layoutStateKey struct{}

// layoutState is attached to each graph that uses Fast layers.
type layoutState struct {
	cnhw map[*graph.Node]*graph.Node
}

func stateOf(g *graph.Graph) *layoutState {
	if s, ok := g.State(layoutStateKey{}).(*layoutState); ok {
		return s
	}
	s := &layoutState{cnhw: make(map[*graph.Node]*graph.Node)}
	g.AttachState(layoutStateKey{}, s)
	return s
}

// toCNHW returns x ([N, H, W, C]) as [C, N, H, W]: the remembered original if x came from a Fast layer,
// a free reshape when C == 1, and a transpose otherwise.
func toCNHW(x *graph.Node) *graph.Node {
	if src, ok := stateOf(x.Graph()).cnhw[x]; ok {
		return src
	}
	dims := x.Shape().Dimensions
	if dims[3] == 1 {
		return graph.Reshape(x, 1, dims[0], dims[1], dims[2])
	}
	return graph.TransposeAllAxes(x, 3, 0, 1, 2)
}

// fromCNHW returns the NHWC view of y ([C, N, H, W]) and remembers y as its original.
func fromCNHW(y *graph.Node) *graph.Node {
	dims := y.Shape().Dimensions
	var out *graph.Node
	if dims[0] == 1 {
		out = graph.Reshape(y, dims[1], dims[2], dims[3], 1)
	} else {
		out = graph.TransposeAllAxes(y, 1, 2, 3, 0)
	}
	stateOf(y.Graph()).cnhw[out] = y
	return out
}

// hasCNHW reports whether x is the NHWC view of a Fast layer's output.
func hasCNHW(x *graph.Node) bool {
	_, ok := stateOf(x.Graph()).cnhw[x]
	return ok
}

// checkImages panics (caught at the layer's boundary) unless x is a rank-4 NHWC batch of images.
func checkImages(layer string, x *graph.Node) {
	if x == nil {
		panic(fmt.Errorf("%s: nil input", layer))
	}
	if x.Rank() != 4 {
		panic(fmt.Errorf("%s: want NHWC input of rank 4, got shape %s", layer, x.Shape()))
	}
}
