package layers

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Krizhevsky, Sutskever & Hinton 2012, §3.3, local response normalization:
//
//	b^i_{x,y} = a^i_{x,y} / (k + α Σ_{j=max(0, i−n/2)}^{min(N−1, i+n/2)} (a^j_{x,y})²)^β
//
// "The constants k, n, α, and β are hyper-parameters whose values are determined using a validation set; we used
// k = 2, n = 5, α = 10⁻⁴, and β = 0.75."
const (
	// LRNK is k of §3.3.
	LRNK = 2.0
	// LRNSize is n of §3.3, the number of adjacent kernel maps summed over.
	LRNSize = 5
	// LRNAlpha is α of §3.3.
	LRNAlpha = 1e-4
	// LRNBeta is β of §3.3.
	LRNBeta = 0.75
)

// LRN configures a local response normalization across channels.
type LRN struct {
	// K, Alpha and Beta are k, α and β of §3.3; Size is n.
	K, Alpha, Beta float64
	Size           int
}

// AlexNetLRN is the normalization of AlexNet, §3.3: k=2, n=5, α=1e-4, β=0.75.
var AlexNetLRN = LRN{K: LRNK, Alpha: LRNAlpha, Beta: LRNBeta, Size: LRNSize}

// PyTorchAlpha is the alpha to give torch.nn.LocalResponseNorm(size=n, alpha, beta, k) for the same layer:
// PyTorch divides α by n (its denominator is (k + α/n·Σ a²)^β), so the paper's α = 1e-4 is PyTorch's 5e-4.
func (c LRN) PyTorchAlpha() float64 { return c.Alpha * float64(c.Size) }

// window returns how many channels before and after channel i the sum covers: n/2 and (n−1)/2, which is the
// paper's i−n/2 … i+n/2 for odd n (and PyTorch's padding for even n).
func (c LRN) window() (before, after int) { return c.Size / 2, (c.Size - 1) / 2 }

func (c LRN) validate() error {
	if c.Size < 1 || !(c.K > 0) || c.Alpha < 0 || c.Beta < 0 {
		return fmt.Errorf("LocalResponseNorm: need n ≥ 1, k > 0, α ≥ 0, β ≥ 0; got %+v", c)
	}
	return nil
}

// LocalResponseNorm normalizes each activity of the NHWC images x by the activities of the cfg.Size adjacent
// channels at the same position (AlexNet §3.3, applied after the ReLU of conv1 and conv2): b = a / (k + α Σ a²)^β.
// Channels beyond the edges count as zero. It has no variables; its gradient is GoMLX's automatic
// differentiation of the graph ops. On the output of a [Fast] layer it works on the channels-major original.
func LocalResponseNorm(scope *model.Scope, x *graph.Node, cfg LRN) *graph.Node {
	checkImages("LocalResponseNorm", x)
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	var y *graph.Node
	if hasCNHW(x) {
		y = fromCNHW(LocalResponseNormAxis(toCNHW(x), 0, cfg))
	} else {
		y = LocalResponseNormAxis(x, 3, cfg)
	}
	return summary.Mark(scope, "LocalResponseNorm", y)
}

// LocalResponseNormAxis is [LocalResponseNorm] across the given channel axis of x, of any rank: the squares are
// zero-padded along the axis and the n shifted slices summed.
func LocalResponseNormAxis(x *graph.Node, axis int, cfg LRN) *graph.Node {
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	axis = graph.MustAdjustAxis(axis, x)
	channels := x.Shape().Dimensions[axis]
	before, after := cfg.window()
	sq := ZeroPad(graph.Square(x), axis, before, after)
	specs := make([]graph.SliceAxisSpec, x.Rank())
	var sum *graph.Node
	for j := range cfg.Size {
		for i := range specs {
			specs[i] = graph.AxisRange()
		}
		specs[axis] = graph.AxisRange(j, j+channels)
		s := graph.Slice(sq, specs...)
		if sum == nil {
			sum = s
		} else {
			sum = graph.Add(sum, s)
		}
	}
	denom := graph.AddScalar(graph.MulScalar(sum, cfg.Alpha), cfg.K)
	return graph.Div(x, graph.Pow(denom, graph.Scalar(x.Graph(), x.DType(), cfg.Beta)))
}
