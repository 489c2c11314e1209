package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/regularize"
)

// MLPConv is one mlpconv layer of Network in Network (Lin, Chen & Yan 2014, §3.1, eq. 2): a Kernel×Kernel
// convolution followed by 1×1 convolutions — an MLP slid over every Kernel×Kernel patch — each with a ReLU.
// Filters[0] is the width of the spatial convolution, Filters[1:] those of the 1×1 layers ("cccp" layers).
type MLPConv struct {
	Kernel  int
	Filters []int
	// LinearOut leaves out the ReLU after the last layer (class maps that may be negative).
	LinearOut bool
}

// NINHead selects the classifier on top of the last mlpconv layer.
type NINHead int

const (
	// NINGlobalAvgPool is §3.2's global average pooling: the last mlpconv layer has one feature map per class
	// and each map is averaged into that class's score; no parameters.
	NINGlobalAvgPool NINHead = iota
	// NINFullyConnected flattens the last mlpconv layer's maps into fully connected layers (the "conventional"
	// head NIN is compared against in §4.6), with dropout on the hidden ones.
	NINFullyConnected
)

// NINConfig is one Network in Network: the mlpconv layers and the head.
type NINConfig struct {
	// Name labels the configuration.
	Name string
	// Blocks are the mlpconv layers. The last block's last width is the number of classes.
	Blocks []MLPConv
	// Pool follows every block but the last (§4.1: "followed by a spatial max pooling layer which downsamples
	// the input image by a factor of two").
	Pool layers.Pool
	// Dropout is applied to the outputs of all but the last mlpconv layers while training (§4.1), and to the
	// hidden FC layers of the NINFullyConnected head; 0 disables it.
	Dropout float64
	// Head is NINGlobalAvgPool or NINFullyConnected; FCHidden the hidden widths of the latter (none: one
	// linear layer from the flattened maps to the classes).
	Head     NINHead
	FCHidden []int
	// WidthDiv divides every width but the last block's last (the classes); 0 or 1 keeps them.
	WidthDiv int
	// NoFCDropout keeps dropout off the hidden FC layers of the NINFullyConnected head (§4.6's "fully connected"
	// baseline without dropout) while the mlpconv layers keep Dropout.
	NoFCDropout bool
	// NoTrunkDropout keeps dropout off the mlpconv layers' outputs (the head then holds the only dropout).
	NoTrunkDropout bool
	// LinearMaps leaves out the ReLU after the last mlpconv layer, so a class map can go negative: with a narrow
	// trunk a ReLU'd class map that is negative everywhere passes no gradient and its class never recovers.
	LinearMaps bool
	// Maps returns the last mlpconv layer's feature maps [batch, h, w, classes] instead of the head's logits: with
	// the GAP head they are §4.6's category confidence maps (Fig. 4).
	Maps bool
}

// NINCIFAR10 is NIN for CIFAR-10 (§4.2) with the layer widths of the authors' released configuration: mlpconv
// 5×5-192, 1×1-160, 1×1-96; 5×5-192, 1×1-192, 1×1-192; 3×3-192, 1×1-192, 1×1-10; 3×3 stride-2 max-pooling
// (SAME: 32 → 16 → 8), dropout 0.5, global average pooling. 966,986 parameters.
var NINCIFAR10 = NINConfig{
	Name: "NIN (CIFAR-10)",
	Blocks: []MLPConv{
		{Kernel: 5, Filters: []int{192, 160, 96}},
		{Kernel: 5, Filters: []int{192, 192, 192}},
		{Kernel: 3, Filters: []int{192, 192, 10}},
	},
	Pool:    layers.Pool{Window: 3, Stride: 2, Padding: layers.Same},
	Dropout: 0.5,
	Head:    NINGlobalAvgPool,
}

// WithFCHead returns a copy of c whose head is fully connected, with the given hidden widths.
func (c NINConfig) WithFCHead(hidden ...int) NINConfig {
	out := c
	out.Name = c.Name + ", FC head"
	out.Head = NINFullyConnected
	out.FCHidden = append([]int(nil), hidden...)
	return out
}

// Classes returns the number of classes, the last block's last width.
func (c NINConfig) Classes() int {
	if len(c.Blocks) == 0 || len(c.Blocks[len(c.Blocks)-1].Filters) == 0 {
		return 0
	}
	f := c.Blocks[len(c.Blocks)-1].Filters
	return f[len(f)-1]
}

// Validate reports an error for an unusable configuration.
func (c NINConfig) Validate() error {
	if c.Classes() < 1 {
		return fmt.Errorf("NIN %q: need at least one block ending in the number of classes", c.Name)
	}
	for i, b := range c.Blocks {
		if b.Kernel < 1 || len(b.Filters) == 0 {
			return fmt.Errorf("NIN %q: mlpconv%d %+v is invalid", c.Name, i+1, b)
		}
		for _, f := range b.Filters {
			if f < 1 {
				return fmt.Errorf("NIN %q: mlpconv%d has width %d", c.Name, i+1, f)
			}
		}
	}
	if c.Head != NINGlobalAvgPool && c.Head != NINFullyConnected {
		return fmt.Errorf("NIN %q: unknown head %d", c.Name, int(c.Head))
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("NIN %q: dropout %g outside [0, 1)", c.Name, c.Dropout)
	}
	return nil
}

// NIN returns the model function of c: x [batch, H, W, C] → logits [batch, classes]. Scopes are mlpconv<b>/conv
// (the spatial convolution), mlpconv<b>/cccp<i> (the 1×1 ones), mlpconv<b>/pool, then gap or fc<i>. The side
// after each pool is asserted (⌈H/2⌉ for SAME pooling of stride 2: 32 → 16 → 8).
func NIN(c NINConfig) (func(scope *model.Scope, x *graph.Node) *graph.Node, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	div := max(1, c.WidthDiv)
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		if x.Rank() != 4 {
			panic(fmt.Errorf("NIN: want [batch, height, width, channels] images, got %s", x.Shape()))
		}
		batch, h, w := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
		for bi, b := range c.Blocks {
			last := bi == len(c.Blocks)-1
			s := scope.In("mlpconv%d", bi+1)
			widths := make([]int, len(b.Filters))
			for li, f := range b.Filters {
				if !(last && li == len(b.Filters)-1) {
					f = max(1, f/div)
				}
				widths[li] = f
			}
			x = MLPConv{Kernel: b.Kernel, Filters: widths, LinearOut: last && c.LinearMaps}.Apply(s, x)
			x.AssertDims(batch, h, w, x.Shape().Dimensions[3])
			if last {
				if c.Maps {
					return x
				}
				break
			}
			x = layers.MaxPool2D(s.In("pool"), x, c.Pool)
			h, w = pooledSide(h, c.Pool), pooledSide(w, c.Pool)
			x.AssertDims(batch, h, w, x.Shape().Dimensions[3])
			if c.Dropout > 0 && !c.NoTrunkDropout {
				x = regularize.InvertedDropout(s.In("dropout"), x, 1-c.Dropout)
			}
		}
		if c.Head == NINGlobalAvgPool {
			return layers.GlobalAvgPool(scope.In("gap"), x)
		}
		for i, width := range c.FCHidden {
			s := scope.In("fc%d", i+1)
			x = layers.ReLU(layers.Dense(s, x, width))
			if c.Dropout > 0 && !c.NoFCDropout {
				x = regularize.InvertedDropout(s.In("dropout"), x, 1-c.Dropout)
			}
		}
		return layers.Dense(scope.In("fc%d", len(c.FCHidden)+1), x, c.Classes())
	}, nil
}

// Apply builds the mlpconv layer on the NHWC images x under scope: a Kernel×Kernel convolution (scope "conv")
// then a 1×1 convolution per further width (scopes "cccp1", "cccp2", …), all with SAME padding, biases and a
// ReLU (§3.1, eq. 2; the last without it when LinearOut). It returns [batch, H, W, Filters[last]].
func (b MLPConv) Apply(scope *model.Scope, x *graph.Node) *graph.Node {
	if b.Kernel < 1 || len(b.Filters) == 0 {
		panic(fmt.Errorf("MLPConv: invalid layer %+v", b))
	}
	for li, f := range b.Filters {
		name, k := "conv", b.Kernel
		if li > 0 {
			name, k = fmt.Sprintf("cccp%d", li), 1
		}
		x = layers.Conv2D(scope.In("%s", name), x, layers.Conv{Filters: f, Kernel: k, Padding: layers.Same, UseBias: true})
		if !(b.LinearOut && li == len(b.Filters)-1) {
			x = layers.ReLU(x)
		}
	}
	return x
}

// pooledSide is the output side of pooling n positions: ⌈n/stride⌉ with SAME padding, ⌊(n−window)/stride⌋+1
// without.
func pooledSide(n int, p layers.Pool) int {
	stride := p.Stride
	if stride == 0 {
		stride = p.Window
	}
	if p.Padding == layers.Same {
		return (n + stride - 1) / stride
	}
	return (n-p.Window)/stride + 1
}
