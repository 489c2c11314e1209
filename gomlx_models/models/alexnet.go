package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/regularize"
)

// AlexNetConv is one convolutional layer of AlexNet (Krizhevsky, Sutskever & Hinton 2012, §3.5 and Fig. 2),
// followed by a ReLU (§3.1), then optionally local response normalization (§3.3) and max-pooling (§3.4).
type AlexNetConv struct {
	// Filters is the number of kernels; Kernel their side; Stride the step; Pad the zero padding on each side.
	Filters, Kernel, Stride, Pad int
	// Groups splits the layer into towers that see only their own half of the input maps (§3.2): 2 for the
	// paper's conv2, conv4 and conv5, 1 for a single-tower layer.
	Groups int
	// LRN applies local response normalization after the ReLU (§3.5: conv1 and conv2).
	LRN bool
	// Pool applies max-pooling after the layer (§3.5: after the two normalized layers and after conv5).
	Pool bool
	// Out is the output side of the convolution (before pooling) for an input of the config's InputSide:
	// the builder asserts it.
	Out int
}

// AlexNetConfig is a table of AlexNet's layers plus its fully connected head.
type AlexNetConfig struct {
	// Name labels the configuration in summaries and tables.
	Name string
	// InputSide is the input height and width at which the Out sizes of Convs hold.
	InputSide int
	// Convs are the convolutional layers, conv1 first.
	Convs []AlexNetConv
	// Pool is the max-pooling window: §3.4's overlapping z = 3, s = 2.
	Pool layers.Pool
	// LRN is the response normalization's constants (§3.3).
	LRN layers.LRN
	// FC are the widths of the hidden fully connected layers (fc6, fc7); Classes the width of the last (fc8).
	FC      []int
	Classes int
	// Dropout is the probability of zeroing a hidden FC unit while training (§4.2: 0.5, "in the first two
	// fully-connected layers"); 0 disables it.
	Dropout float64
}

// AlexNetPaper is the network of §3.5 and Fig. 2 on two GPUs: conv2, conv4 and conv5 are grouped (2 towers), so
// their kernels are 5×5×48, 3×3×192 and 3×3×192. The paper writes 224×224×3 inputs, but conv1 (11×11, stride
// 4, no padding) gives the stated 55×55×96 only from 227×227: (227 − 11)/4 + 1 = 55, while 224 gives 54.25.
// 60,965,224 parameters (the abstract's "60 million").
var AlexNetPaper = AlexNetConfig{
	Name:      "AlexNet (paper, two towers)",
	InputSide: 227,
	Convs: []AlexNetConv{
		{Filters: 96, Kernel: 11, Stride: 4, Groups: 1, LRN: true, Pool: true, Out: 55},
		{Filters: 256, Kernel: 5, Stride: 1, Pad: 2, Groups: 2, LRN: true, Pool: true, Out: 27},
		{Filters: 384, Kernel: 3, Stride: 1, Pad: 1, Groups: 1, Out: 13},
		{Filters: 384, Kernel: 3, Stride: 1, Pad: 1, Groups: 2, Out: 13},
		{Filters: 256, Kernel: 3, Stride: 1, Pad: 1, Groups: 2, Pool: true, Out: 13},
	},
	Pool:    layers.Pool{Window: 3, Stride: 2},
	LRN:     layers.AlexNetLRN,
	FC:      []int{4096, 4096},
	Classes: 1000,
	Dropout: 0.5,
}

// AlexNetTorchvision is torchvision's single-tower AlexNet, after Krizhevsky 2014 ("One weird trick for
// parallelizing convolutional neural networks"): 64, 192, 384, 256 and 256 kernels, no grouping, no LRN, conv1
// padded by 2 so that 224×224 inputs give 55×55. 61,100,840 parameters.
var AlexNetTorchvision = AlexNetConfig{
	Name:      "AlexNet (torchvision, one tower)",
	InputSide: 224,
	Convs: []AlexNetConv{
		{Filters: 64, Kernel: 11, Stride: 4, Pad: 2, Groups: 1, Pool: true, Out: 55},
		{Filters: 192, Kernel: 5, Stride: 1, Pad: 2, Groups: 1, Pool: true, Out: 27},
		{Filters: 384, Kernel: 3, Stride: 1, Pad: 1, Groups: 1, Out: 13},
		{Filters: 256, Kernel: 3, Stride: 1, Pad: 1, Groups: 1, Out: 13},
		{Filters: 256, Kernel: 3, Stride: 1, Pad: 1, Groups: 1, Pool: true, Out: 13},
	},
	Pool:    layers.Pool{Window: 3, Stride: 2},
	FC:      []int{4096, 4096},
	Classes: 1000,
	Dropout: 0.5,
}

// AlexNetSmall is the paper's two-tower network for 32×32 images (CIFAR-10, or Fashion-MNIST padded to 32):
// conv1 is 5×5 with stride 1 and padding 2 instead of 11×11 with stride 4, everything else as in
// [AlexNetPaper] (LRN, overlapping pooling, groups), ten classes. Use [AlexNetConfig.Scaled] to make it narrower.
var AlexNetSmall = AlexNetConfig{
	Name:      "AlexNet (32×32)",
	InputSide: 32,
	Convs: []AlexNetConv{
		{Filters: 96, Kernel: 5, Stride: 1, Pad: 2, Groups: 1, LRN: true, Pool: true, Out: 32},
		{Filters: 256, Kernel: 5, Stride: 1, Pad: 2, Groups: 2, LRN: true, Pool: true, Out: 15},
		{Filters: 384, Kernel: 3, Stride: 1, Pad: 1, Groups: 1, Out: 7},
		{Filters: 384, Kernel: 3, Stride: 1, Pad: 1, Groups: 2, Out: 7},
		{Filters: 256, Kernel: 3, Stride: 1, Pad: 1, Groups: 2, Pool: true, Out: 7},
	},
	Pool:    layers.Pool{Window: 3, Stride: 2},
	LRN:     layers.AlexNetLRN,
	FC:      []int{4096, 4096},
	Classes: 10,
	Dropout: 0.5,
}

// Scaled returns a copy of c with every convolution's kernels and every hidden FC width divided by div (at
// least 1 each, and a multiple of the layer's groups), for networks small enough to train on a CPU.
func (c AlexNetConfig) Scaled(div int) AlexNetConfig {
	if div <= 1 {
		return c
	}
	out := c
	out.Name = fmt.Sprintf("%s, width/%d", c.Name, div)
	out.Convs = make([]AlexNetConv, len(c.Convs))
	for i, l := range c.Convs {
		g := max(1, l.Groups)
		l.Filters = max(g, l.Filters/div/g*g)
		out.Convs[i] = l
	}
	out.FC = make([]int, len(c.FC))
	for i, w := range c.FC {
		out.FC[i] = max(1, w/div)
	}
	return out
}

// WithPool returns a copy of c with another pooling window (e.g. §3.4's non-overlapping z = s = 2 baseline),
// the Out sizes recomputed for InputSide.
func (c AlexNetConfig) WithPool(p layers.Pool) AlexNetConfig {
	out := c
	stride := p.Stride
	if stride == 0 {
		stride = p.Window
	}
	out.Name = fmt.Sprintf("%s, pool %d/%d", c.Name, p.Window, stride)
	out.Pool = p
	out.Convs = append([]AlexNetConv(nil), c.Convs...)
	side := c.InputSide
	for i, l := range out.Convs {
		side = (side+2*l.Pad-l.Kernel)/l.Stride + 1
		out.Convs[i].Out = side
		if l.Pool {
			side = pooledSide(side, p)
		}
	}
	return out
}

// Validate reports an error for an unusable configuration.
func (c AlexNetConfig) Validate() error {
	if len(c.Convs) == 0 || c.Classes < 1 {
		return fmt.Errorf("AlexNet %q: need at least one convolution and one class", c.Name)
	}
	for i, l := range c.Convs {
		g := max(1, l.Groups)
		if l.Filters < 1 || l.Kernel < 1 || l.Stride < 1 || l.Pad < 0 || l.Filters%g != 0 {
			return fmt.Errorf("AlexNet %q: conv%d %+v is invalid", c.Name, i+1, l)
		}
		if l.LRN && c.LRN.Size < 1 {
			return fmt.Errorf("AlexNet %q: conv%d asks for LRN but the config has no LRN constants", c.Name, i+1)
		}
	}
	if c.Pool.Window < 1 {
		return fmt.Errorf("AlexNet %q: pooling window %d", c.Name, c.Pool.Window)
	}
	for _, w := range c.FC {
		if w < 1 {
			return fmt.Errorf("AlexNet %q: FC width %d", c.Name, w)
		}
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("AlexNet %q: dropout %g outside [0, 1)", c.Name, c.Dropout)
	}
	return nil
}

// AlexNet returns the model function of c: x [batch, H, W, C] → logits [batch, Classes]. Layer scopes are
// conv1…conv5 (each with lrn and pool sub-scopes) and fc6, fc7, fc8; when H = W = c.InputSide the output side
// of every convolution is asserted against the table.
func AlexNet(c AlexNetConfig) (func(scope *model.Scope, x *graph.Node) *graph.Node, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		if x.Rank() != 4 {
			panic(fmt.Errorf("AlexNet: want [batch, height, width, channels] images, got %s", x.Shape()))
		}
		dims := x.Shape().Dimensions
		batch, atSide := dims[0], dims[1] == c.InputSide && dims[2] == c.InputSide
		for i, l := range c.Convs {
			s := scope.In("conv%d", i+1)
			x = paddedConv(s, x, layers.Conv{Filters: l.Filters, Kernel: l.Kernel, Stride: l.Stride, UseBias: true},
				l.Pad, max(1, l.Groups))
			if atSide {
				x.AssertDims(batch, l.Out, l.Out, l.Filters)
			}
			x = layers.ReLU(x)
			if l.LRN {
				x = layers.LocalResponseNorm(s.In("lrn"), x, c.LRN)
			}
			if l.Pool {
				x = layers.MaxPool2D(s.In("pool"), x, c.Pool)
			}
		}
		for i, w := range c.FC {
			s := scope.In("fc%d", len(c.Convs)+1+i)
			x = layers.ReLU(layers.Dense(s, x, w))
			if c.Dropout > 0 {
				x = regularize.InvertedDropout(s.In("dropout"), x, 1-c.Dropout)
			}
		}
		return layers.Dense(scope.In("fc%d", len(c.Convs)+1+len(c.FC)), x, c.Classes)
	}, nil
}

// paddedConv is a convolution with pad zeros on each side: SAME padding when that is what it amounts to (stride
// 1, pad = (k−1)/2), otherwise explicit zero-padding of the input followed by a VALID convolution, so that
// strided layers get exactly the padding the paper or torchvision specify. groups > 1 uses GroupedConv2D.
func paddedConv(scope *model.Scope, x *graph.Node, cfg layers.Conv, pad, groups int) *graph.Node {
	switch {
	case pad > 0 && cfg.Stride <= 1 && 2*pad == cfg.Kernel-1:
		cfg.Padding = layers.Same
	case pad > 0:
		x = layers.ZeroPad(layers.ZeroPad(x, 1, pad, pad), 2, pad, pad)
	}
	if groups > 1 {
		return layers.GroupedConv2D(scope, x, cfg, groups)
	}
	return layers.Conv2D(scope, x, cfg)
}
