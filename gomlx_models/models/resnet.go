package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// He et al. 2016, "Deep Residual Learning for Image Recognition", §4.2 (CIFAR-10): the first layer is a 3×3
// convolution with 16 filters; then three stages of 2n 3×3 layers on feature maps of 32×32, 16×16 and 8×8 with
// 16, 32 and 64 filters, the first layer of stages 2 and 3 subsampling with stride 2; then global average pooling
// and a 10-way fully connected layer: 6n+2 weighted layers in all. BN follows every convolution (§3.4).
const (
	// ResNetCIFARClasses is the number of CIFAR-10 classes.
	ResNetCIFARClasses = 10
	// resNetCIFARStem is the width of the first 3×3 convolution (§4.2).
	resNetCIFARStem = 16
)

// ResNetCIFARStage is one stage of the CIFAR ResNet: its width and the output grid size for 32×32 inputs.
type ResNetCIFARStage struct {
	Filters int
	Grid    int
}

// ResNetCIFARStages is the paper's table of the three stages (§4.2: "the numbers of filters are {16, 32, 64}",
// "feature maps of sizes {32, 16, 8}").
var ResNetCIFARStages = []ResNetCIFARStage{{16, 32}, {32, 16}, {64, 8}}

// ResNetCIFARDepths are the depths 6n+2 the paper trains (Table 6): ResNet-20, 32, 44, 56 and 110.
var ResNetCIFARDepths = []int{20, 32, 44, 56, 110}

// ResNetCIFAR returns the model function of the CIFAR ResNet of the given depth (6n+2): x [batch, 32, 32, 3] →
// logits [batch, 10]. Shortcuts that change shape are "option B" 1×1 projections with BN (§3.3), as in
// scripts/torch_bench.py (the paper's CIFAR runs use option A, zero-padding identity shortcuts).
func ResNetCIFAR(depth int) (func(scope *model.Scope, x *graph.Node) *graph.Node, error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return nil, fmt.Errorf("ResNetCIFAR: depth must be 6n+2 with n ≥ 1 (e.g. %v), got %d", ResNetCIFARDepths, depth)
	}
	n := (depth - 2) / 6
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		return resNetCIFAR(scope, x, n)
	}, nil
}

// convBN is a 3×3 (or 1×1) convolution without bias followed by BN (§3.4: "BN right after each convolution").
func convBN(scope *model.Scope, x *graph.Node, filters, kernel, stride int) *graph.Node {
	x = layers.Conv2D(scope, x, layers.Conv{Filters: filters, Kernel: kernel, Stride: stride, Padding: layers.Same})
	return layers.BatchNorm(scope, x)
}

// BasicBlock is the two-layer residual block of §3.3/Fig. 2: y = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x)),
// the shortcut a 1×1 projection with BN when the stride or width changes (option B) and the identity otherwise.
func BasicBlock(scope *model.Scope, x *graph.Node, filters, stride int) *graph.Node {
	y := layers.ReLU(convBN(scope.In("a"), x, filters, 3, stride))
	y = convBN(scope.In("b"), y, filters, 3, 1)
	shortcut := x
	if stride != 1 || x.Shape().Dimensions[3] != filters {
		shortcut = convBN(scope.In("projection"), x, filters, 1, stride)
	}
	return layers.ReLU(layers.Add(y, shortcut))
}

func resNetCIFAR(scope *model.Scope, x *graph.Node, n int) *graph.Node {
	if x.Rank() != 4 || x.Shape().Dimensions[3] != 3 {
		panic(fmt.Errorf("ResNetCIFAR: want [batch, height, width, 3] images, got %s", x.Shape()))
	}
	batch := x.Shape().Dimensions[0]
	is32 := x.Shape().Dimensions[1] == 32 && x.Shape().Dimensions[2] == 32
	x = layers.ReLU(convBN(scope.In("stem"), x, resNetCIFARStem, 3, 1))
	for si, stage := range ResNetCIFARStages {
		stageScope := scope.In("stage%d", si+1)
		for bi := range n {
			stride := 1
			if si > 0 && bi == 0 {
				stride = 2
			}
			x = BasicBlock(stageScope.In("block%d", bi+1), x, stage.Filters, stride)
		}
		if is32 {
			x.AssertDims(batch, stage.Grid, stage.Grid, stage.Filters)
		}
	}
	x = layers.GlobalAvgPool(scope.In("pool"), x)
	return layers.Dense(scope.In("logits"), x, ResNetCIFARClasses)
}
