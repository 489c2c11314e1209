package layers

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// ConvWithKernel is [Conv2D] with a kernel (HWIO) and optional bias given as nodes instead of variables of its
// own: for layers that reuse other weights, such as VGG's dense evaluation (Simonyan & Zisserman 2015, §3.2),
// where the first fully connected layer's weights, reshaped to 7×7×512×4096, become a convolution. cfg.Filters
// and the kernel size are taken from the kernel's shape; the implementation is chosen as Conv2D chooses it.
func ConvWithKernel(scope *model.Scope, x, kernel, bias *graph.Node, cfg Conv) *graph.Node {
	checkImages("ConvWithKernel", x)
	dims := kernel.Shape().Dimensions
	cfg.KernelH, cfg.KernelW, cfg.Kernel, cfg.Filters = dims[0], dims[1], 0, dims[3]
	var y *graph.Node
	if ImplFor(scope, x.Graph()) == Fast {
		y = fromCNHW(ConvCNHW(toCNHW(x), kernel, bias, cfg))
	} else {
		y = ConvNHWC(x, kernel, bias, cfg)
	}
	return summary.Mark(scope, "Conv2D", y)
}
