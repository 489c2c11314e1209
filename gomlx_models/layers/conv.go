package layers

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Conv configures a 2-D convolution layer (LeCun et al. 1998, §II.A; the "conv" of every later paper).
// Zero values: Stride and Dilation 1, Valid padding, no bias.
type Conv struct {
	// Filters is the number of output channels.
	Filters int
	// Kernel is the (square) kernel size; KernelH/KernelW override it per axis when set.
	Kernel, KernelH, KernelW int
	// Stride of the window (both axes); 0 means 1.
	Stride int
	// Padding is Valid or Same.
	Padding Padding
	// Dilation of the kernel (both axes); 0 means 1. GoMLX does not allow dilation and stride together.
	Dilation int
	// UseBias adds a learned per-filter bias.
	UseBias bool
}

// normalized fills in defaults and checks the configuration.
func (c Conv) normalized() (Conv, error) {
	if c.KernelH == 0 {
		c.KernelH = c.Kernel
	}
	if c.KernelW == 0 {
		c.KernelW = c.Kernel
	}
	if c.Stride == 0 {
		c.Stride = 1
	}
	if c.Dilation == 0 {
		c.Dilation = 1
	}
	switch {
	case c.Filters < 1:
		return c, fmt.Errorf("Conv2D: Filters must be positive, got %d", c.Filters)
	case c.KernelH < 1 || c.KernelW < 1:
		return c, fmt.Errorf("Conv2D: kernel size must be positive, got %dx%d", c.KernelH, c.KernelW)
	case c.Stride < 1 || c.Dilation < 1:
		return c, fmt.Errorf("Conv2D: stride (%d) and dilation (%d) must be positive", c.Stride, c.Dilation)
	case c.Stride > 1 && c.Dilation > 1:
		return c, fmt.Errorf("Conv2D: stride %d and dilation %d cannot be combined", c.Stride, c.Dilation)
	case c.Padding != Valid && c.Padding != Same:
		return c, fmt.Errorf("Conv2D: unknown padding %d", int(c.Padding))
	}
	return c, nil
}

// Conv2D applies a convolution to the NHWC images x, with its HWIO kernel in scope's variable "weights" and,
// if cfg.UseBias, its bias in "biases". Like every GoMLX layer it panics on invalid input while the graph is
// being built (the panic reaches the caller of the graph's Exec or Trainer as an error).
func Conv2D(scope *model.Scope, x *graph.Node, cfg Conv) *graph.Node {
	checkImages("Conv2D", x)
	cfg, err := cfg.normalized()
	if err != nil {
		panic(err)
	}
	g := x.Graph()
	inC := x.Shape().Dimensions[3]
	kernel := scope.VariableWithShape("weights", shapes.Make(x.DType(), cfg.KernelH, cfg.KernelW, inC, cfg.Filters)).
		NodeValue(g)
	var bias *graph.Node
	if cfg.UseBias {
		bias = scope.WithInitializer(initializer.Zero).
			VariableWithShape("biases", shapes.Make(x.DType(), cfg.Filters)).NodeValue(g)
	}
	var y *graph.Node
	if ImplFor(scope, g) == Fast {
		y = fromCNHW(ConvCNHW(toCNHW(x), kernel, bias, cfg))
	} else {
		y = ConvNHWC(x, kernel, bias, cfg)
	}
	return summary.Mark(scope, "Conv2D", y)
}

// ConvNHWC is the Native convolution: graph.Convolve on NHWC x with the HWIO kernel, plus the optional bias.
func ConvNHWC(x, kernel, bias *graph.Node, cfg Conv) *graph.Node {
	cfg, err := cfg.normalized()
	if err != nil {
		panic(err)
	}
	conv := graph.Convolve(x, kernel).StridePerAxis(cfg.Stride, cfg.Stride)
	if cfg.Dilation > 1 {
		conv = conv.DilationPerAxis(cfg.Dilation, cfg.Dilation)
	}
	if cfg.Padding == Same {
		conv = conv.PadSame()
	} else {
		conv = conv.NoPadding()
	}
	y := conv.Done()
	if bias != nil {
		y = graph.Add(y, graph.Reshape(bias, 1, 1, 1, cfg.Filters))
	}
	return y
}

// ConvCNHW is the Fast convolution of channels-major x [C, N, H, W] with the HWIO kernel, plus the optional
// bias: the flat-shift im2col product of fastconv.go. A stride s > 1 is turned into a stride-1 convolution by
// the polyphase (space-to-depth) identity: the phases x[:, :, a::s, b::s] for the a, b < min(s, k) that any
// kernel tap reads are stacked as channels and convolved with the kernel regrouped to ⌈k/s⌉×⌈k/s⌉ taps.
func ConvCNHW(x, kernel, bias *graph.Node, cfg Conv) *graph.Node {
	cfg, err := cfg.normalized()
	if err != nil {
		panic(err)
	}
	kh, kw := kernel.Shape().Dimensions[0], kernel.Shape().Dimensions[1]
	d := cfg.Dilation
	pt, pb := cfg.Padding.pads(d*(kh-1) + 1)
	pl, pr := cfg.Padding.pads(d*(kw-1) + 1)
	s := cfg.Stride
	var y *graph.Node
	if s == 1 {
		y = conv2DStride1CNHW(x, kernel, d, pt, pb, pl, pr)
	} else {
		y = stridedConvCNHW(x, kernel, s, pt, pb, pl, pr)
	}
	if bias != nil {
		y = channelBias(y, bias)
	}
	return y
}

// stridedConvCNHW is the polyphase form of a stride-s convolution (no dilation) of x [C, N, H, W].
func stridedConvCNHW(x, kernel *graph.Node, s, pt, pb, pl, pr int) *graph.Node {
	dims := x.Shape().Dimensions
	c, h, w := dims[0], dims[2], dims[3]
	kd := kernel.Shape().Dimensions
	kh, kw, o := kd[0], kd[1], kd[3]
	hp, wp := h+pt+pb, w+pl+pr
	ho, wo := (hp-kh)/s+1, (wp-kw)/s+1
	if hp < kh || wp < kw {
		panic(fmt.Errorf("conv: kernel %dx%d larger than the padded input %dx%d", kh, kw, hp, wp))
	}
	// Taps per phase, phases used, and the padded size rounded up to whole phases.
	th, tw := (kh+s-1)/s, (kw+s-1)/s
	ph, pw := min(s, kh), min(s, kw)
	hq, wq := ho+th-1, wo+tw-1 // phase image size needed for a VALID stride-1 conv with th×tw taps
	// Bring the padded input to exactly hq·s × wq·s rows and columns: extra zero rows/columns at the end, or
	// (when hq·s < hp, possible by at most s-1) dropping trailing ones that no output reads.
	extraB, extraR := hq*s-hp, wq*s-wp
	xp := x
	if extraB >= 0 && extraR >= 0 {
		xp = padCNHW(x, pt, pb+extraB, pl, pr+extraR)
	} else {
		xp = padCNHW(x, pt, pb+max(extraB, 0), pl, pr+max(extraR, 0))
		xp = graph.Slice(xp, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(0, hq*s), graph.AxisRange(0, wq*s))
	}
	// Phases stacked as channels, ordered (a, b, c).
	phases := make([]*graph.Node, 0, ph*pw)
	for a := range ph {
		for b := range pw {
			phases = append(phases, graph.Slice(xp, graph.AxisRange(), graph.AxisRange(),
				graph.AxisRange(a, hq*s).Stride(s), graph.AxisRange(b, wq*s).Stride(s)))
		}
	}
	xq := phases[0]
	if len(phases) > 1 {
		xq = graph.Concatenate(phases, 0)
	}
	// Kernel regrouped: kq[i', j', (a, b, c), o] = kernel[i'·s+a, j'·s+b, c, o], zero past the kernel's end.
	kq := ZeroPad(ZeroPad(kernel, 0, 0, th*s-kh), 1, 0, tw*s-kw)
	kq = graph.Reshape(kq, th, s, tw, s, c, o)
	if ph < s || pw < s {
		kq = graph.Slice(kq, graph.AxisRange(), graph.AxisRange(0, ph), graph.AxisRange(), graph.AxisRange(0, pw))
	}
	kq = graph.Reshape(graph.TransposeAllAxes(kq, 0, 2, 1, 3, 4, 5), th, tw, ph*pw*c, o)
	return conv2DStride1CNHW(xq, kq, 1, 0, 0, 0, 0)
}
