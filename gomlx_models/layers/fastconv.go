package layers

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// This file holds the convolution of the Fast implementation: channels-major activations (CNHW) and an im2col
// matrix built only from Concatenate and Reshape, the two data-movement ops of the Go backend that copy whole
// rows with memmove (its Slice, Pad, Transpose and Gather copy element by element, at 3-10 ns each).
//
// The trick ("flat shifts"): pad x to [C, N, Hp, Wp] and flatten each channel into a row a[c, ·] of length L.
// The tap (i, j) of the kernel reads a[c, q + d·(i·Wp + j)] for output position q = n·Hp·Wp + h·Wp + w, a plain
// shift of the row. k shifted copies of a row come from one Concatenate of k copies and k·δ trailing zeros,
// reshaped to [k, L+δ]: row t of that reshape starts at t·(L+δ) = t·L + t·δ, i.e. at copy t shifted by t·δ.
// Doing it for the columns (δ = d) and then the rows (δ = d·Wp) of the kernel gives the im2col matrix
// X[(c, j, i), q] in two Concatenates, and the convolution is one DotGeneral W[o, (c, j, i)] · X → [O, positions].
// Positions that straddle a row or image border are garbage; they are computed (a (Hp·Wp)/(Ho·Wo) overhead in
// the product) and dropped by the one Slice that crops the output. With channels first, both gradients are
// again plain matrix products of the layouts the backend's SIMD matmul takes without transposing:
// dW = X · dYᵀ (both contracting on their last axis) and dX = the same convolution of dY with the flipped kernel.

// flatConv is the geometry of one stride-1 convolution in the flat-shift formulation.
type flatConv struct {
	C, N, H, W   int // input [C, N, H, W]
	O            int // output channels
	KH, KW, D    int // kernel size and dilation
	PT, PB       int // padding top, bottom
	PL, PR       int // padding left, right
	Hp, Wp       int // padded size
	Ho, Wo       int // output size
	NExt         int // images in the flat layout (N plus slack so the shifted reads stay in range)
	L0           int // length of each flattened input row
	Shift1       int // column shift δ (0 for KW == 1)
	Shift2       int // row shift δ (0 for KH == 1)
	OutPositions int // columns of the im2col matrix: NExt·Hp·Wp
}

func newFlatConv(xDims []int, o, kh, kw, d, pt, pb, pl, pr int) (flatConv, error) {
	fc := flatConv{C: xDims[0], N: xDims[1], H: xDims[2], W: xDims[3], O: o, KH: kh, KW: kw, D: d,
		PT: pt, PB: pb, PL: pl, PR: pr}
	if kh < 1 || kw < 1 || d < 1 || pt < 0 || pb < 0 || pl < 0 || pr < 0 {
		return fc, fmt.Errorf("conv: invalid kernel %dx%d, dilation %d or padding (%d,%d,%d,%d)", kh, kw, d, pt, pb, pl, pr)
	}
	fc.Hp, fc.Wp = fc.H+pt+pb, fc.W+pl+pr
	fc.Ho, fc.Wo = fc.Hp-d*(kh-1), fc.Wp-d*(kw-1)
	if fc.Ho < 1 || fc.Wo < 1 {
		return fc, fmt.Errorf("conv: kernel %dx%d (dilation %d) larger than the padded input %dx%d", kh, kw, d, fc.Hp, fc.Wp)
	}
	if kw > 1 {
		fc.Shift1 = d
	}
	if kh > 1 {
		fc.Shift2 = d * fc.Wp
	}
	img := fc.Hp * fc.Wp
	growth := fc.Shift1 + fc.Shift2
	fc.NExt = fc.N + (growth+img-1)/img
	fc.OutPositions = fc.NExt * img
	fc.L0 = fc.OutPositions - growth
	return fc, nil
}

// K is the contracting size of the im2col matrix.
func (fc flatConv) K() int { return fc.C * fc.KH * fc.KW }

// padCNHW pads the spatial axes of x [C, N, H, W] with zeros: top/bottom rows and left/right columns.
func padCNHW(x *graph.Node, pt, pb, pl, pr int) *graph.Node {
	return ZeroPad(ZeroPad(x, 3, pl, pr), 2, pt, pb)
}

// padOrCrop adds (positive) or removes (negative) entries at the ends of each axis of x, filling with zeros:
// ends[a] = {before, after} for axis a. It is graph.Pad, which the Go backend runs as a zero fill and one block
// copy per innermost row (its Slice copies element by element), and has no gradient there: it is for the
// inside of the hand-written forward and reverse passes only.
func padOrCrop(x *graph.Node, ends ...[2]int) *graph.Node {
	axes := make([]compute.PadAxis, len(ends))
	changed := false
	for a, e := range ends {
		axes[a] = compute.PadAxis{Start: e[0], End: e[1]}
		changed = changed || e != [2]int{}
	}
	if !changed {
		return x
	}
	return graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), axes...)
}

// ZeroPad adds before and after zero slices at the two ends of x along axis with graph.Concatenate (block
// copies, and differentiable: graph.Pad has no gradient on the Go backend).
func ZeroPad(x *graph.Node, axis, before, after int) *graph.Node {
	if before <= 0 && after <= 0 {
		return x
	}
	zeros := func(n int) *graph.Node {
		shape := x.Shape().Clone()
		shape.Dimensions[axis] = n
		return graph.Zeros(x.Graph(), shape)
	}
	parts := make([]*graph.Node, 0, 3)
	if before > 0 {
		parts = append(parts, zeros(before))
	}
	parts = append(parts, x)
	if after > 0 {
		parts = append(parts, zeros(after))
	}
	return graph.Concatenate(parts, axis)
}

// shiftStack turns rows [R, L] into [R·k, L+δ] with out[r·k+t, q] = in[r, q+t·δ] wherever q+t·δ < L: k copies
// of each row, concatenated with k·δ zeros and reshaped (see the file comment).
func shiftStack(in *graph.Node, k, delta int) *graph.Node {
	if k == 1 {
		return in
	}
	r, l := in.Shape().Dimensions[0], in.Shape().Dimensions[1]
	parts := make([]*graph.Node, 0, k+1)
	for range k {
		parts = append(parts, in)
	}
	parts = append(parts, graph.Zeros(in.Graph(), shapes.Make(in.DType(), r, k*delta)))
	return graph.Reshape(graph.Concatenate(parts, 1), r*k, l+delta)
}

// flatRows returns x [C, N, H, W] padded and flattened to the rows [C, L0] that the flat shifts read.
func (fc flatConv) flatRows(x *graph.Node) *graph.Node {
	a := padOrCrop(x, [2]int{}, [2]int{}, [2]int{fc.PT, fc.PB}, [2]int{fc.PL, fc.PR})
	a = graph.Reshape(a, fc.C, fc.N*fc.Hp*fc.Wp)
	return padOrCrop(a, [2]int{}, [2]int{0, fc.L0 - fc.N*fc.Hp*fc.Wp})
}

// columnShifts returns the column shifts of x [C, N, H, W]: [C·KW, L0 + Shift1], rows ordered (c, j).
func (fc flatConv) columnShifts(x *graph.Node) *graph.Node {
	return shiftStack(fc.flatRows(x), fc.KW, fc.Shift1)
}

// columns returns the im2col matrix [C·KW·KH, OutPositions] of x [C, N, H, W], rows ordered (c, j, i).
func (fc flatConv) columns(x *graph.Node) *graph.Node {
	return shiftStack(fc.columnShifts(x), fc.KH, fc.Shift2)
}

// columnsRowsFirst is the im2col matrix with its rows ordered (c, i, j): the same shifts, rows first. The
// kernel gradient builds it in the reverse pass: as an expression of its own the backend does not merge it
// with the forward pass's column shifts, which are then freed after the forward product instead of being kept
// for the whole step.
func (fc flatConv) columnsRowsFirst(x *graph.Node) *graph.Node {
	// The rows are padded width first, then height and tail: the same values as flatRows, by another expression,
	// so that the forward pass's padded rows are not kept for this reverse-pass use either.
	a := padOrCrop(x, [2]int{}, [2]int{}, [2]int{}, [2]int{fc.PL, fc.PR})
	a = graph.Reshape(a, fc.C, fc.N, fc.H*fc.Wp)
	a = padOrCrop(a, [2]int{}, [2]int{}, [2]int{fc.PT * fc.Wp, fc.PB * fc.Wp})
	a = padOrCrop(graph.Reshape(a, fc.C, fc.N*fc.Hp*fc.Wp), [2]int{}, [2]int{0, fc.L0 - fc.N*fc.Hp*fc.Wp})
	return shiftStack(shiftStack(a, fc.KH, fc.Shift2), fc.KW, fc.Shift1)
}

// kernelMatrix turns an HWIO kernel [KH, KW, C, O] into [O, C·KW·KH] with columns ordered (c, j, i).
func kernelMatrix(w *graph.Node) *graph.Node {
	d := w.Shape().Dimensions
	return graph.Reshape(graph.TransposeAllAxes(w, 3, 2, 1, 0), d[3], d[0]*d[1]*d[2])
}

// crop takes the valid outputs [O, N, Ho, Wo] out of the flat result [O, OutPositions].
func (fc flatConv) crop(y *graph.Node) *graph.Node {
	y = graph.Reshape(y, fc.O, fc.NExt, fc.Hp, fc.Wp)
	return padOrCrop(y, [2]int{}, [2]int{0, fc.N - fc.NExt}, [2]int{0, fc.Ho - fc.Hp}, [2]int{0, fc.Wo - fc.Wp})
}

// uncrop is crop's adjoint: it embeds v [O, N, Ho, Wo] in the flat layout [O, OutPositions], zeros elsewhere.
func (fc flatConv) uncrop(v *graph.Node) *graph.Node {
	v = padOrCrop(v, [2]int{}, [2]int{0, fc.NExt - fc.N}, [2]int{0, fc.Hp - fc.Ho}, [2]int{0, fc.Wp - fc.Wo})
	return graph.Reshape(v, fc.O, fc.OutPositions)
}

// forward computes the convolution of x [C, N, H, W] with the HWIO kernel w: [O, N, Ho, Wo]. No gradient.
//
// The kernel rows are applied after the product rather than stacked into it: with X3 = the column shifts only
// ([C·KW, L1], rows (c, j)), Z = W[(o, i), (c, j)] · X3 holds each kernel row's partial sums, and
// y[o, q] = Σᵢ Z[(o, i), q + i·δ], δ the row shift. The shifts of Z's rows are the flat-shift trick again (KH·δ
// zeros appended to each output channel's KH rows, reshaped to rows of length L1 + δ), and the sum over i is a
// reduction of contiguous blocks. This writes and packs a third of the im2col matrix for the price of a
// KH-row output.
func (fc flatConv) forward(x, w *graph.Node) *graph.Node {
	if fc.KH == 1 {
		return fc.crop(graph.DotGeneral(kernelMatrix(w), []int{1}, nil, fc.columns(x), []int{0}, nil))
	}
	x3 := fc.columnShifts(x)
	l1 := x3.Shape().Dimensions[1]
	wm := graph.Reshape(graph.TransposeAllAxes(w, 3, 0, 2, 1), fc.O*fc.KH, fc.C*fc.KW) // [(o, i), (c, j)]
	z := graph.DotGeneral(wm, []int{1}, nil, x3, []int{0}, nil)                        // [(o, i), L1]
	z = ZeroPad(graph.Reshape(z, fc.O, fc.KH*l1), 1, 0, fc.KH*fc.Shift2)
	z = graph.Reshape(z, fc.O, fc.KH, l1+fc.Shift2)
	return fc.crop(graph.ReduceSum(z, 1))
}

// gradKernel is dL/dw (HWIO) given v = dL/dy [O, N, Ho, Wo]: one product X · dYᵀ, both contracting on the
// positions. The im2col matrix is the left operand, which the backend's matmul packs with its vectorized
// packer; the right operand of a product contracting on its last axis is packed element by element, so it is
// dY, 9× smaller than X for a 3×3 kernel.
func (fc flatConv) gradKernel(x, v *graph.Node) *graph.Node {
	dwm := graph.DotGeneral(fc.columnsRowsFirst(x), []int{1}, nil, fc.uncrop(v), []int{1}, nil) // [(c, i, j), O]
	dwm = graph.Reshape(dwm, fc.C, fc.KH, fc.KW, fc.O)
	return graph.TransposeAllAxes(dwm, 1, 2, 0, 3)
}

// gradInput is dL/dx [C, N, H, W] given v = dL/dy: the convolution of v with the kernel flipped in space and
// with input/output channels swapped, padded by d·(k-1) minus the forward padding on each side.
func (fc flatConv) gradInput(w, v *graph.Node) *graph.Node {
	back, err := newFlatConv(v.Shape().Dimensions, fc.C, fc.KH, fc.KW, fc.D,
		fc.D*(fc.KH-1)-fc.PT, fc.D*(fc.KH-1)-fc.PB, fc.D*(fc.KW-1)-fc.PL, fc.D*(fc.KW-1)-fc.PR)
	if err != nil {
		panic(fmt.Errorf("conv gradient: %w", err))
	}
	flipped := w
	switch {
	case fc.KH > 1 && fc.KW > 1:
		flipped = graph.Reverse(w, 0, 1)
	case fc.KH > 1:
		flipped = graph.Reverse(w, 0)
	case fc.KW > 1:
		flipped = graph.Reverse(w, 1)
	}
	flipped = graph.TransposeAllAxes(flipped, 0, 1, 3, 2)
	return back.forward(v, flipped)
}

// conv2DStride1CNHW is the stride-1 convolution of x [C, N, H, W] with the HWIO kernel w, with the gradients
// above attached (see customVJP). Second derivatives are not supported.
func conv2DStride1CNHW(x, w *graph.Node, d, pt, pb, pl, pr int) *graph.Node {
	fc, err := newFlatConv(x.Shape().Dimensions, w.Shape().Dimensions[3], w.Shape().Dimensions[0],
		w.Shape().Dimensions[1], d, pt, pb, pl, pr)
	if err != nil {
		panic(err)
	}
	if w.Shape().Dimensions[2] != fc.C {
		panic(fmt.Errorf("conv: kernel %s has %d input channels, input has %d", w.Shape(), w.Shape().Dimensions[2], fc.C))
	}
	return customVJP([]*graph.Node{x, w},
		func(in []*graph.Node) *graph.Node { return fc.forward(in[0], in[1]) },
		func(v *graph.Node) []*graph.Node { return []*graph.Node{fc.gradInput(w, v), fc.gradKernel(x, v)} })
}
