package deconv

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// TransposedConv is the 2-D transposed convolution of x, shaped [batch, H, W, inChannels]
// (NHWC), with kernel shaped [kh, kw, outChannels, inChannels]: the HWIO kernel of the
// convolution (outChannels → inChannels, same stride and padding) whose transpose it is,
// the TensorFlow conv2d_transpose layout. The output is [batch, H', W', outChannels] with
// H' = (H−1)·stride − 2·pad + kh (and likewise W').
//
// It computes Cᵀ·y as "dilate, then full-pad and convolve with the 180°-rotated kernel":
//
//  1. insert stride−1 zeros between input pixels, by concatenating zeros on a new axis and
//     reshaping (no graph.Pad);
//  2. rotate the kernel by 180° by concatenating its slices in reverse order (no
//     graph.Reverse) and swap its in/out channel axes;
//  3. convolve with stride 1 and padding k−1−pad on each side (cropping instead when
//     pad > k−1); even kernels get a zero row/column first, see below.
//
// Every op used (Concatenate, Reshape, Slice, Transpose, Convolve with padding) has a
// gradient on the Go backend, so the layer trains; graph.Pad and graph.Reverse, which have
// none there, are avoided.
//
// It is a graph-building function and panics (GoMLX style) on invalid shapes or arguments.
func TransposedConv(x, kernel *graph.Node, stride, pad int) *graph.Node {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		exceptions.Panicf("deconv.TransposedConv: x must be [batch, H, W, C] and kernel [kh, kw, outC, inC], got %s and %s",
			x.Shape(), kernel.Shape())
	}
	if x.DType() != kernel.DType() {
		exceptions.Panicf("deconv.TransposedConv: x (%s) and kernel (%s) dtypes differ", x.DType(), kernel.DType())
	}
	if stride < 1 || pad < 0 {
		exceptions.Panicf("deconv.TransposedConv: need stride >= 1 and pad >= 0, got stride=%d pad=%d", stride, pad)
	}
	inC := x.Shape().Dim(3)
	kh, kw := kernel.Shape().Dim(0), kernel.Shape().Dim(1)
	if kernel.Shape().Dim(3) != inC {
		exceptions.Panicf("deconv.TransposedConv: kernel %s has %d input channels (last axis), x %s has %d",
			kernel.Shape(), kernel.Shape().Dim(3), x.Shape(), inC)
	}
	for axis, k := range []int{kh, kw} {
		if _, err := TransposedOutputSize(x.Shape().Dim(1+axis), k, stride, pad); err != nil {
			exceptions.Panicf("deconv.TransposedConv: %v", err)
		}
	}

	// (1) Zero-insertion: [B, H, W, C] → [B, (H−1)s+1, (W−1)s+1, C].
	z := dilate(dilate(x, 1, stride), 2, stride)

	// (2) Rotated kernel, as the HWIO kernel of a convolution inC → outC.
	k := graph.Transpose(flip(flip(kernel, 0), 1), 2, 3)

	// (3) Stride-1 convolution with padding k−1−pad on both sides. GoMLX (v0.28.14, pinned)
	// computes the input gradient of a convolution with an even-sized kernel one pixel off (its
	// reverse padding assumes an odd kernel), so an even kernel is first given a trailing zero
	// row/column, making it odd without changing the result, and one more trailing padding
	// row/column (which the zero weights read) keeps the output size. Negative paddings become
	// crops.
	padsH := [2]int{kh - 1 - pad, kh - 1 - pad}
	padsW := [2]int{kw - 1 - pad, kw - 1 - pad}
	if kh%2 == 0 {
		k = layers.ZeroPad(k, 0, 0, 1)
		padsH[1]++
	}
	if kw%2 == 0 {
		k = layers.ZeroPad(k, 1, 0, 1)
		padsW[1]++
	}
	y := graph.Convolve(z, k).PaddingPerDim([][2]int{
		{max(padsH[0], 0), max(padsH[1], 0)},
		{max(padsW[0], 0), max(padsW[1], 0)},
	}).Done()
	y = crop(y, 1, max(-padsH[0], 0), max(-padsH[1], 0))
	y = crop(y, 2, max(-padsW[0], 0), max(-padsW[1], 0))
	return y
}

// dilate inserts stride−1 zeros between consecutive entries of x along axis, giving length
// (n−1)·stride+1: x is given a new unit axis after axis, zeros are concatenated on it, the
// two axes are merged by a reshape and the trailing zeros are sliced off.
func dilate(x *graph.Node, axis, stride int) *graph.Node {
	n := x.Shape().Dim(axis)
	if stride == 1 || n == 1 {
		return x
	}
	expanded := graph.InsertAxes(x, axis+1)
	zerosShape := expanded.Shape().Clone()
	zerosShape.Dimensions[axis+1] = stride - 1
	stacked := graph.Concatenate([]*graph.Node{expanded, graph.Zeros(x.Graph(), zerosShape)}, axis+1)
	dims := x.Shape().Clone().Dimensions
	dims[axis] = n * stride
	merged := graph.Reshape(stacked, dims...)
	return graph.SliceAxis(merged, axis, graph.AxisRange(0, (n-1)*stride+1))
}

// crop removes before and after entries from the two ends of x along axis.
func crop(x *graph.Node, axis, before, after int) *graph.Node {
	if before == 0 && after == 0 {
		return x
	}
	return graph.SliceAxis(x, axis, graph.AxisRange(before, x.Shape().Dim(axis)-after))
}

// flip reverses x along axis by concatenating its unit slices in reverse order (a
// differentiable replacement for graph.Reverse, whose gradient the Go backend lacks).
func flip(x *graph.Node, axis int) *graph.Node {
	n := x.Shape().Dim(axis)
	if n == 1 {
		return x
	}
	parts := make([]*graph.Node, n)
	for i := range n {
		parts[i] = graph.SliceAxis(x, axis, graph.AxisElem(n-1-i))
	}
	return graph.Concatenate(parts, axis)
}

// Config configures the ConvTranspose2D layer.
type Config struct {
	// Filters is the number of output channels.
	Filters int
	// KernelSize is the (square) kernel size f.
	KernelSize int
	// Stride is the up-sampling factor s (1 if 0).
	Stride int
	// Padding p crops p pixels from each border of the full output.
	Padding int
	// UseBias adds a learned bias per output channel.
	UseBias bool
}

// ConvTranspose2D is the project's transposed-convolution ("deconvolution") layer: it
// creates (or reuses) the variables "weights" [f, f, Filters, inChannels] and, with UseBias,
// "biases" [Filters] in scope (initialised by the scope's initializer and zeros), and
// returns TransposedConv(x, weights, stride, padding) (+ biases). x is NHWC; the output is
// [batch, (H−1)s−2p+f, (W−1)s−2p+f, Filters].
//
// It is a graph-building function and panics (GoMLX style) on invalid configurations.
func ConvTranspose2D(scope *model.Scope, x *graph.Node, cfg Config) *graph.Node {
	stride := cfg.Stride
	if stride == 0 {
		stride = 1
	}
	if cfg.Filters < 1 || cfg.KernelSize < 1 {
		exceptions.Panicf("deconv.ConvTranspose2D: need Filters and KernelSize >= 1, got %+v", cfg)
	}
	if x.Rank() != 4 {
		exceptions.Panicf("deconv.ConvTranspose2D: x must be NHWC, got %s", x.Shape())
	}
	g := x.Graph()
	wShape := shapes.Make(x.DType(), cfg.KernelSize, cfg.KernelSize, cfg.Filters, x.Shape().Dim(3))
	weights := scope.VariableWithShape("weights", wShape).NodeValue(g)
	y := TransposedConv(x, weights, stride, cfg.Padding)
	if cfg.UseBias {
		bias := scope.WithInitializer(initializer.Zero).
			VariableWithShape("biases", shapes.Make(x.DType(), cfg.Filters)).NodeValue(g)
		y = graph.Add(y, graph.Reshape(bias, 1, 1, 1, cfg.Filters))
	}
	return y
}
