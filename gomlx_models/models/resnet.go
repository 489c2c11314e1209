package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// He et al. 2016, "Deep Residual Learning for Image Recognition". A ResNet is a stem, stages of residual blocks
// (the first block of every stage after the first subsamples with stride 2) and global average pooling with a
// fully connected classifier. The family is one table — block type and blocks per stage — and one builder, as
// in torchvision's resnet.py.

// Shortcut is how a block's shortcut matches a change of width or grid (§3.3).
type Shortcut int

const (
	// ShortcutA is the identity with extra channels zero-padded and stride-2 subsampling: no parameters (the
	// paper's CIFAR networks, §4.2).
	ShortcutA Shortcut = iota
	// ShortcutB is a 1×1 projection with BN where the shape changes, the identity elsewhere (Eq. 2).
	ShortcutB
	// ShortcutC is a 1×1 projection with BN on every block.
	ShortcutC
)

// String returns "A", "B" or "C".
func (s Shortcut) String() string { return string(rune('A' + int(s))) }

// Block is a residual block type: its name, its expansion (output width = Expansion × planes; torchvision's
// `expansion`), and how F(x) is built.
type Block struct {
	Name      string
	Expansion int
	// Residual builds F(x) for the given planes and stride (without the shortcut and the final ReLU).
	Residual func(scope *model.Scope, x *graph.Node, planes, stride int) *graph.Node
}

// The two block types of §3.3 / Fig. 5.
var (
	// BasicBlock is two 3×3 convolutions (Fig. 5 left): F(x) = BN(conv3×3(ReLU(BN(conv3×3(x))))).
	BasicBlock = Block{Name: "basic", Expansion: 1, Residual: func(scope *model.Scope, x *graph.Node, planes, stride int) *graph.Node {
		y := layers.ReLU(convBN(scope.In("a"), x, planes, 3, stride))
		return convBN(scope.In("b"), y, planes, 3, 1)
	}}
	// Bottleneck is 1×1 (reduce), 3×3, 1×1 (restore to 4× planes) convolutions (Fig. 5 right), the stride on
	// the 3×3 as in torchvision ("ResNet v1.5").
	Bottleneck = Block{Name: "bottleneck", Expansion: 4, Residual: func(scope *model.Scope, x *graph.Node, planes, stride int) *graph.Node {
		y := layers.ReLU(convBN(scope.In("a"), x, planes, 1, 1))
		y = layers.ReLU(convBN(scope.In("b"), y, planes, 3, stride))
		return convBN(scope.In("c"), y, 4*planes, 1, 1)
	}}
	// BottleneckV1 is the bottleneck as the paper built it: the stride on the first 1×1 convolution ("conv3_1,
	// conv4_1, and conv5_1 with a stride of 2", Table 1). Same parameters as Bottleneck, fewer multiply-adds
	// (Table 1's 3.8, 7.6 and 11.3 ×10⁹ FLOPs).
	BottleneckV1 = Block{Name: "bottleneck (v1)", Expansion: 4, Residual: func(scope *model.Scope, x *graph.Node, planes, stride int) *graph.Node {
		y := layers.ReLU(convBN(scope.In("a"), x, planes, 1, stride))
		y = layers.ReLU(convBN(scope.In("b"), y, planes, 3, 1))
		return convBN(scope.In("c"), y, 4*planes, 1, 1)
	}}
)

// Stem is the first layers of a ResNet.
type Stem int

const (
	// StemCIFAR is one 3×3 convolution with as many filters as the first stage (16 in §4.2), BN and ReLU.
	StemCIFAR Stem = iota
	// StemImageNet is a 7×7/2 convolution with 64 filters, BN, ReLU and a 3×3/2 max-pool (Table 1, conv1).
	StemImageNet
)

// ResNetConfig is one row of the ResNet table.
type ResNetConfig struct {
	Name     string
	Block    Block
	Blocks   []int // blocks per stage.
	Planes   []int // planes (inner width) per stage.
	Stem     Stem
	Shortcut Shortcut
	Classes  int
	// Plain drops every shortcut: the "plain" networks the paper compares against (§4.1, Fig. 4 and 6).
	Plain bool
}

// ImageNet ResNets (Table 1): blocks per stage of conv2_x … conv5_x.
var (
	ResNet18  = ResNetConfig{Name: "ResNet-18", Block: BasicBlock, Blocks: []int{2, 2, 2, 2}}
	ResNet34  = ResNetConfig{Name: "ResNet-34", Block: BasicBlock, Blocks: []int{3, 4, 6, 3}}
	ResNet50  = ResNetConfig{Name: "ResNet-50", Block: Bottleneck, Blocks: []int{3, 4, 6, 3}}
	ResNet101 = ResNetConfig{Name: "ResNet-101", Block: Bottleneck, Blocks: []int{3, 4, 23, 3}}
	ResNet152 = ResNetConfig{Name: "ResNet-152", Block: Bottleneck, Blocks: []int{3, 8, 36, 3}}
)

func init() {
	for _, c := range []*ResNetConfig{&ResNet18, &ResNet34, &ResNet50, &ResNet101, &ResNet152} {
		c.Planes, c.Stem, c.Shortcut, c.Classes = []int{64, 128, 256, 512}, StemImageNet, ShortcutB, 1000
	}
}

// ResNetCIFARDepths are the CIFAR depths 6n+2 the paper trains (Table 6): ResNet-20, 32, 44, 56 and 110.
var ResNetCIFARDepths = []int{20, 32, 44, 56, 110}

// CIFARResNet is the CIFAR-10 network of §4.2 of depth 6n+2: a 3×3 convolution with 16 filters, three stages of
// n basic blocks with {16, 32, 64} filters on {32, 16, 8} grids, global average pooling and a 10-way layer.
func CIFARResNet(depth int, shortcut Shortcut) (ResNetConfig, error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return ResNetConfig{}, fmt.Errorf("CIFARResNet: depth must be 6n+2 with n ≥ 1 (e.g. %v), got %d", ResNetCIFARDepths, depth)
	}
	n := (depth - 2) / 6
	return ResNetConfig{Name: fmt.Sprintf("ResNet-%d", depth), Block: BasicBlock, Blocks: []int{n, n, n},
		Planes: []int{16, 32, 64}, Stem: StemCIFAR, Shortcut: shortcut, Classes: 10}, nil
}

// ResNetCIFAR returns the model function of the CIFAR ResNet of the given depth with "option B" projection
// shortcuts, as scripts/torch_bench.py defines it (the benchmark's ResNet-20).
func ResNetCIFAR(depth int) (func(scope *model.Scope, x *graph.Node) *graph.Node, error) {
	c, err := CIFARResNet(depth, ShortcutB)
	if err != nil {
		return nil, err
	}
	return ResNet(c), nil
}

// Depth is the number of weighted layers: the stem, every convolution of every block and the classifier.
func (c ResNetConfig) Depth() int {
	perBlock := 2
	if c.Block.Expansion == 4 {
		perBlock = 3
	}
	n := 0
	for _, b := range c.Blocks {
		n += b
	}
	return 1 + perBlock*n + 1
}

// ResNet returns the model function of c: NHWC images → logits [batch, Classes]. Shapes are asserted after
// every stage for the paper's input sizes (32×32 for CIFAR, 224×224 for ImageNet).
func ResNet(c ResNetConfig) func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		if x.Rank() != 4 {
			panic(fmt.Errorf("%s: want [batch, height, width, channels] images, got %s", c.Name, x.Shape()))
		}
		if len(c.Planes) != len(c.Blocks) || c.Block.Residual == nil || c.Classes < 1 {
			panic(fmt.Errorf("%s: need a block type, planes for each of the %d stages and classes", c.Name, len(c.Blocks)))
		}
		batch, size := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
		paperSize := (size == 32 && c.Stem == StemCIFAR || size == 224 && c.Stem == StemImageNet) && x.Shape().Dimensions[3] == 3
		if c.Stem == StemImageNet {
			stem := scope.In("stem")
			x = layers.ReLU(convBN(stem, x, 64, 7, 2))
			x = layers.MaxPool2D(stem.In("pool"), x, layers.Pool{Window: 3, Stride: 2, Padding: layers.Same})
			size = 56
		} else {
			x = layers.ReLU(convBN(scope.In("stem"), x, c.Planes[0], 3, 1))
		}
		for si, blocks := range c.Blocks {
			stageScope := scope.In("stage%d", si+1)
			for bi := range blocks {
				stride := 1
				if si > 0 && bi == 0 {
					stride = 2
				}
				x = c.Unit(stageScope.In("block%d", bi+1), x, c.Planes[si], stride)
			}
			if si > 0 {
				size /= 2
			}
			if paperSize {
				x.AssertDims(batch, size, size, c.Planes[si]*c.Block.Expansion)
			}
		}
		x = layers.GlobalAvgPool(scope.In("pool"), x)
		return layers.Dense(scope.In("logits"), x, c.Classes)
	}
}

// Unit is one block of c with its shortcut: y = ReLU(F(x) + x) (Eq. 1), y = ReLU(F(x) + W_s·x) where a
// projection is used (Eq. 2), or y = ReLU(F(x)) for a plain network. Its output has planes × Expansion channels
// on a grid subsampled by stride.
func (c ResNetConfig) Unit(scope *model.Scope, x *graph.Node, planes, stride int) *graph.Node {
	out := planes * c.Block.Expansion
	y := c.Block.Residual(scope, x, planes, stride)
	if c.Plain {
		return layers.ReLU(y)
	}
	in := x.Shape().Dimensions[3]
	shortcut := x
	switch {
	case c.Shortcut == ShortcutC || (c.Shortcut == ShortcutB && (stride != 1 || in != out)):
		shortcut = convBN(scope.In("projection"), x, out, 1, stride)
	case c.Shortcut == ShortcutA && (stride != 1 || in != out):
		shortcut = zeroPadShortcut(x, out, stride)
	}
	return layers.ReLU(layers.Add(y, shortcut))
}

// zeroPadShortcut is option A: subsample by stride and append out−in zero channels (§3.3: "extra zero entries
// padded for increasing dimensions"; no parameters).
func zeroPadShortcut(x *graph.Node, out, stride int) *graph.Node {
	if stride > 1 {
		x = graph.Slice(x, graph.AxisRange(), graph.AxisRange().Stride(stride), graph.AxisRange().Stride(stride), graph.AxisRange())
	}
	in := x.Shape().Dimensions[3]
	if out > in {
		x = layers.ZeroPad(x, 3, 0, out-in)
	}
	return x
}

// convBN is a convolution without bias followed by BN (§3.4: "BN right after each convolution").
func convBN(scope *model.Scope, x *graph.Node, filters, kernel, stride int) *graph.Node {
	x = layers.Conv2D(scope, x, layers.Conv{Filters: filters, Kernel: kernel, Stride: stride, Padding: layers.Same})
	return layers.BatchNorm(scope, x)
}
