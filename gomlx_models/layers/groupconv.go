package layers

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// GroupedConv2D is a convolution whose input and output channels are split into groups that do not see each
// other: output group g is the convolution of input group g only. With groups = 2 it is AlexNet's two-tower
// layer (Krizhevsky et al. 2012, §3.2 and Fig. 2: "the kernels of layer 3 take input from all kernel maps in
// layer 2", while those of layers 2, 4 and 5 "take input only from those kernel maps … which reside on the same
// GPU"), so conv2's kernels are 5×5×48 although conv1 has 96 maps.
//
// The kernel is one variable "weights" of shape [KH, KW, C/groups, Filters], output channels g·F/groups …
// (g+1)·F/groups − 1 belonging to group g (PyTorch's grouped-conv layout, HWIO), and "biases" [Filters] if
// cfg.UseBias. The layer slices the input into groups, convolves each with the existing [Conv2D] implementations
// ([ConvNHWC] or [ConvCNHW], chosen as Conv2D chooses) and concatenates the results; groups = 1 is Conv2D.
func GroupedConv2D(scope *model.Scope, x *graph.Node, cfg Conv, groups int) *graph.Node {
	checkImages("GroupedConv2D", x)
	norm, err := cfg.normalized()
	if err != nil {
		panic(err)
	}
	inC := x.Shape().Dimensions[3]
	if groups < 1 || inC%groups != 0 || norm.Filters%groups != 0 {
		panic(fmt.Errorf("GroupedConv2D: %d input channels and %d filters must both divide into %d groups",
			inC, norm.Filters, groups))
	}
	g := x.Graph()
	kernel := scope.VariableWithShape("weights",
		shapes.Make(x.DType(), norm.KernelH, norm.KernelW, inC/groups, norm.Filters)).NodeValue(g)
	var bias *graph.Node
	if cfg.UseBias {
		bias = scope.WithInitializer(initializer.Zero).
			VariableWithShape("biases", shapes.Make(x.DType(), norm.Filters)).NodeValue(g)
	}
	fast := ImplFor(scope, g) == Fast
	in := x
	chAxis := 3
	if fast {
		in, chAxis = toCNHW(x), 0
	}
	cg, fg := inC/groups, norm.Filters/groups
	groupCfg := cfg
	groupCfg.Filters = fg
	outs := make([]*graph.Node, groups)
	for i := range groups {
		xi := groupSlice(in, chAxis, i*cg, (i+1)*cg)
		ki := groupSlice(kernel, 3, i*fg, (i+1)*fg)
		var bi *graph.Node
		if bias != nil {
			bi = groupSlice(bias, 0, i*fg, (i+1)*fg)
		}
		if fast {
			outs[i] = ConvCNHW(xi, ki, bi, groupCfg)
		} else {
			outs[i] = ConvNHWC(xi, ki, bi, groupCfg)
		}
	}
	y := outs[0]
	if groups > 1 {
		y = graph.Concatenate(outs, chAxis)
	}
	if fast {
		y = fromCNHW(y)
	}
	return summary.Mark(scope, "GroupedConv2D", y)
}

// groupSlice returns x[..., from:to, ...] along axis.
func groupSlice(x *graph.Node, axis, from, to int) *graph.Node {
	if from == 0 && to == x.Shape().Dimensions[axis] {
		return x
	}
	specs := make([]graph.SliceAxisSpec, x.Rank())
	for i := range specs {
		specs[i] = graph.AxisRange()
	}
	specs[axis] = graph.AxisRange(from, to)
	return graph.Slice(x, specs...)
}
