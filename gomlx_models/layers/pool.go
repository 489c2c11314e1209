package layers

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Pool configures a 2-D pooling window. Zero values: Stride = Window, Valid padding.
type Pool struct {
	// Window is the (square) window size.
	Window int
	// Stride of the window; 0 means Window (non-overlapping pooling).
	Stride int
	// Padding is Valid or Same (max pooling pads with -inf, average pooling averages the real entries only).
	Padding Padding
}

func (p Pool) normalized(layer string) (Pool, error) {
	if p.Stride == 0 {
		p.Stride = p.Window
	}
	if p.Window < 1 || p.Stride < 1 {
		return p, fmt.Errorf("%s: window (%d) and stride (%d) must be positive", layer, p.Window, p.Stride)
	}
	if p.Padding != Valid && p.Padding != Same {
		return p, fmt.Errorf("%s: unknown padding %d", layer, int(p.Padding))
	}
	return p, nil
}

// MaxPool2D takes the maximum over each window of the NHWC images x (e.g. LeCun et al. 1998 use sub-sampling;
// Krizhevsky et al. 2012, §3.4, overlapping 3×3 windows with stride 2).
func MaxPool2D(scope *model.Scope, x *graph.Node, cfg Pool) *graph.Node {
	return summary.Mark(scope, "MaxPool2D", pool2D(scope, "MaxPool2D", x, cfg, true))
}

// AvgPool2D averages each window of the NHWC images x.
func AvgPool2D(scope *model.Scope, x *graph.Node, cfg Pool) *graph.Node {
	return summary.Mark(scope, "AvgPool2D", pool2D(scope, "AvgPool2D", x, cfg, false))
}

func pool2D(scope *model.Scope, layer string, x *graph.Node, cfg Pool, isMax bool) *graph.Node {
	checkImages(layer, x)
	cfg, err := cfg.normalized(layer)
	if err != nil {
		panic(err)
	}
	if ImplFor(scope, x.Graph()) == Fast {
		h, w := x.Shape().Dimensions[1], x.Shape().Dimensions[2]
		if fastPoolable(cfg, h, w) {
			return fromCNHW(PoolCNHW(toCNHW(x), cfg, isMax))
		}
	}
	return PoolNHWC(x, cfg, isMax)
}

// fastPoolable reports whether the window tiles the image: non-overlapping windows that need no padding.
func fastPoolable(cfg Pool, h, w int) bool {
	if cfg.Stride != cfg.Window || cfg.Window > h || cfg.Window > w {
		return false
	}
	// SAME pads (k-1)/2 before: windows only coincide with the unpadded tiling when that is 0 and k divides.
	return cfg.Padding == Valid || (cfg.Window <= 2 && h%cfg.Window == 0 && w%cfg.Window == 0)
}

// PoolNHWC is the Native pooling: graph.MaxPool or graph.MeanPool on NHWC x.
func PoolNHWC(x *graph.Node, cfg Pool, isMax bool) *graph.Node {
	cfg, err := cfg.normalized("pool")
	if err != nil {
		panic(err)
	}
	if !isMax && cfg.Padding == Same && cfg.Stride == 1 {
		return meanPoolSameStride1(x, cfg.Window)
	}
	var b *graph.PoolBuilder
	if isMax {
		b = graph.MaxPool(x)
	} else {
		b = graph.MeanPool(x)
	}
	b = b.Window(cfg.Window).Strides(cfg.Stride)
	if cfg.Padding == Same {
		b = b.PadSame()
	} else {
		b = b.NoPadding()
	}
	return b.Done()
}

// PoolCNHW is the Fast pooling of channels-major x [C, N, H, W] for non-overlapping windows (stride = window):
// crop to whole windows, reshape to [C, N, H/k, k, W/k, k] and reduce the two window axes. This avoids the
// ReduceWindow/SelectAndScatter pair (a scalar loop on the Go backend); the gradient of the max goes to every
// entry equal to the window's maximum, which differs from SelectAndScatter only on exact ties.
func PoolCNHW(x *graph.Node, cfg Pool, isMax bool) *graph.Node {
	cfg, err := cfg.normalized("pool")
	if err != nil {
		panic(err)
	}
	dims := x.Shape().Dimensions
	if !fastPoolable(cfg, dims[2], dims[3]) {
		panic(fmt.Errorf("pool: the Fast pooling needs non-overlapping windows tiling the image, got %+v on %dx%d",
			cfg, dims[2], dims[3]))
	}
	k := cfg.Window
	c, n, ho, wo := dims[0], dims[1], dims[2]/k, dims[3]/k
	if ho*k != dims[2] || wo*k != dims[3] {
		x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(0, ho*k), graph.AxisRange(0, wo*k))
	}
	x = graph.Reshape(x, c, n, ho, k, wo, k)
	if isMax {
		return maxPoolWindows(x)
	}
	return graph.ReduceMean(x, 3, 5)
}

// maxPoolWindows is the maximum over axes 3 and 5 of x [C, N, Ho, k, Wo, k], the windows of a non-overlapping
// max pooling. The forward pass reduces the rows of each window first (contiguous blocks, a tight loop on the
// Go backend, which walks a reduction over two separate axes with a per-element index iterator), then the now
// trailing columns. The reverse pass sends the adjoint v to every entry equal to its window's maximum:
// dx = [x = ŷ]·v̂, with ŷ and v̂ the y and v repeated over the windows by upsampleWindows. Being same-shaped
// element-wise ops, they run on the backend's vectorized loops; the autodiff of ReduceMax broadcasts inside its
// arithmetic, which the Go backend does through a per-element index iterator.
func maxPoolWindows(x *graph.Node) *graph.Node {
	var y *graph.Node
	y = customVJP([]*graph.Node{x},
		func(in []*graph.Node) *graph.Node { return graph.ReduceMax(graph.ReduceMax(in[0], 3), 4) },
		func(v *graph.Node) []*graph.Node {
			hit := graph.Equal(x, upsampleWindows(y, x.Shape().Dimensions))
			return []*graph.Node{graph.Where(hit, upsampleWindows(v, x.Shape().Dimensions), graph.ZerosLike(x))}
		})
	return y
}

// upsampleWindows repeats t [C, N, Ho, Wo] over k×k windows, returning dims = [C, N, Ho, k, Wo, k]. The
// repetition along the width is a product with the 0/1 matrix E[w, w'] = [w'/k = w] (exact for finite values:
// each output sums one term), the one along the height a Concatenate of whole rows: both are block operations
// on the Go backend, whose broadcasting ops go element by element.
func upsampleWindows(t *graph.Node, dims []int) *graph.Node {
	c, n, ho, k, wo := dims[0], dims[1], dims[2], dims[3], dims[4]
	g := t.Graph()
	expand := shapes.Make(dtypes.Int32, wo, wo*k)
	e := graph.ConvertDType(graph.Equal(graph.Iota(g, expand, 0), graph.DivScalar(graph.Iota(g, expand, 1), k)), t.DType())
	rows := graph.DotGeneral(graph.Reshape(t, c*n*ho, wo), []int{1}, nil, e, []int{0}, nil) // [C·N·Ho, Wo·k]
	rows = graph.Reshape(rows, c*n*ho, 1, wo*k)
	parts := make([]*graph.Node, k)
	for i := range parts {
		parts[i] = rows
	}
	return graph.Reshape(graph.Concatenate(parts, 1), dims...)
}

// GlobalAvgPool averages each channel over the whole image (Lin et al. 2014, "Network in Network", §3.2;
// He et al. 2016, §4.2): NHWC x → [batch, channels].
func GlobalAvgPool(scope *model.Scope, x *graph.Node) *graph.Node {
	checkImages("GlobalAvgPool", x)
	var y *graph.Node
	if hasCNHW(x) {
		y = graph.TransposeAllAxes(graph.ReduceMean(toCNHW(x), 2, 3), 1, 0)
	} else {
		y = graph.ReduceMean(x, 1, 2)
	}
	return summary.Mark(scope, "GlobalAvgPool", y)
}

// meanPoolSameStride1 is a stride-1 SAME average pooling (the real entries of each k×k window averaged, as
// graph.MeanPool with PadSame) written as a sum of k² shifted slices of the zero-padded x divided by the number
// of real entries: its gradient is that of slices and concatenations, where the Go backend's reverse pass of a padded MeanPool
// fails (Inception's pooling branches, differentiated with respect to the image in section 10).
func meanPoolSameStride1(x *graph.Node, k int) *graph.Node {
	dims := x.Shape().Dimensions
	h, w := dims[1], dims[2]
	before := (k - 1) / 2
	after := k - 1 - before
	// Zero padding by concatenation (graph.Pad has no reverse pass in GoMLX).
	padAxis := func(y *graph.Node, axis int) *graph.Node {
		d := y.Shape().Clone().Dimensions
		parts := []*graph.Node{}
		if before > 0 {
			d[axis] = before
			parts = append(parts, graph.Zeros(y.Graph(), shapes.Make(y.DType(), d...)))
		}
		parts = append(parts, y)
		if after > 0 {
			d[axis] = after
			parts = append(parts, graph.Zeros(y.Graph(), shapes.Make(y.DType(), d...)))
		}
		return graph.Concatenate(parts, axis)
	}
	padded := padAxis(padAxis(x, 1), 2)
	var sum *graph.Node
	for di := range k {
		for dj := range k {
			s := graph.Slice(padded, graph.AxisRange(), graph.AxisRange(di, di+h), graph.AxisRange(dj, dj+w), graph.AxisRange())
			if sum == nil {
				sum = s
			} else {
				sum = graph.Add(sum, s)
			}
		}
	}
	// count[i][j]: how many window entries fall inside the image.
	count := make([]float32, h*w)
	for i := range h {
		for j := range w {
			rows := min(h, i+after+1) - max(0, i-before)
			cols := min(w, j+after+1) - max(0, j-before)
			count[i*w+j] = 1 / float32(rows*cols)
		}
	}
	inv := graph.ConvertDType(graph.Reshape(graph.Const(x.Graph(), count), 1, h, w, 1), x.DType())
	return graph.Mul(sum, inv)
}
