package inception

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Kernel is one convolution's window, KH×KW.
type Kernel struct{ KH, KW int }

func (k Kernel) String() string { return fmt.Sprintf("%d×%d", k.KH, k.KW) }

// Factorization replaces one convolution by a stack with the same receptive field (§3).
type Factorization struct {
	Name string
	// Original is the single convolution; Stack the convolutions that replace it (each Channels → Channels).
	Original Kernel
	Stack    []Kernel
	// Grid and Channels are where it is measured (the module's grid and a width used there).
	Grid, Channels int
	// PaperSaving is the paper's relative saving in multiply-adds (0 where the paper gives none).
	PaperSaving float64
}

// Factorizations are §3.1's 5×5 → two 3×3 (Fig. 1: "28% relative gain"), §3.2's 3×3 → 3×1 + 1×3 ("33% cheaper")
// and 3×3 → two 2×2 ("only 11% saving"), and n×n → 1×n + n×1 at n = 7 on the 17×17 grid (Fig. 6).
var Factorizations = []Factorization{
	{"5×5 → two 3×3 (Fig. 5)", Kernel{5, 5}, []Kernel{{3, 3}, {3, 3}}, 35, 64, 0.28},
	{"3×3 → 3×1 + 1×3 (Fig. 3)", Kernel{3, 3}, []Kernel{{3, 1}, {1, 3}}, 35, 64, 1.0 / 3},
	{"3×3 → two 2×2 (§3.2)", Kernel{3, 3}, []Kernel{{2, 2}, {2, 2}}, 35, 64, 0.11},
	{"7×7 → 1×7 + 7×1 (Fig. 6)", Kernel{7, 7}, []Kernel{{1, 7}, {7, 1}}, 17, 192, 0},
}

// FactorizationResult is one factorization measured with summary.Of on the project's Conv2D layers.
type FactorizationResult struct {
	Factorization
	OriginalMACs, StackMACs     int64
	OriginalParams, StackParams int
	// Saving is 1 − StackMACs/OriginalMACs; Analytic is 1 − Σ kh·kw / (KH·KW).
	Saving, Analytic float64
	// OriginalRF and StackRF are the receptive fields (height × width) measured by gradient.
	OriginalRF, StackRF [2]int
}

// stackModel is a stack of bias-free 'same' convolutions: every layer keeps the grid, so the multiply-adds per
// output position are the ones the paper counts (§3.1: "9+9 / 25").
func stackModel(ks []Kernel, channels int) func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		for i, k := range ks {
			x = layers.Conv2D(scope.In("conv%d", i+1), x, layers.Conv{Filters: channels, KernelH: k.KH, KernelW: k.KW, Padding: layers.Same})
		}
		return x
	}
}

// MeasureFactorizations measures every factorization's multiply-adds and parameters (summary.Of) and its
// receptive field (by gradient).
func MeasureFactorizations(backend compute.Backend, fs []Factorization) ([]FactorizationResult, error) {
	if backend == nil {
		return nil, errors.New("inception: nil backend")
	}
	out := make([]FactorizationResult, len(fs))
	for i, f := range fs {
		in := shapes.Make(dtypes.Float32, 1, f.Grid, f.Grid, f.Channels)
		a, err := summary.Of(backend, nil, stackModel([]Kernel{f.Original}, f.Channels), in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		b, err := summary.Of(backend, nil, stackModel(f.Stack, f.Channels), in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		area := 0
		for _, k := range f.Stack {
			area += k.KH * k.KW
		}
		r := FactorizationResult{Factorization: f, OriginalMACs: a.TotalMACs, StackMACs: b.TotalMACs,
			OriginalParams: a.TotalParams, StackParams: b.TotalParams,
			Saving:   1 - float64(b.TotalMACs)/float64(a.TotalMACs),
			Analytic: 1 - float64(area)/float64(f.Original.KH*f.Original.KW)}
		if r.OriginalRF, err = GradientRF(backend, []Kernel{f.Original}, 15); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if r.StackRF, err = GradientRF(backend, f.Stack, 15); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		out[i] = r
	}
	return out, nil
}

// GradientRF measures the receptive field of a stack of 'valid' convolutions (all-ones kernels, one channel) on an
// n×n input: the bounding box of the input pixels where the gradient of the centre output unit is not zero.
func GradientRF(backend compute.Backend, ks []Kernel, n int) (rf [2]int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("GradientRF: %v", r)
		}
	}()
	input := make([]float32, n*n)
	for i := range input {
		input[i] = 1
	}
	outs, err := graph.CallOnceN(backend, func(x *graph.Node) []*graph.Node {
		y := x
		for _, k := range ks {
			kernel := graph.Ones(x.Graph(), shapes.Make(dtypes.Float32, k.KH, k.KW, 1, 1))
			y = graph.Convolve(y, kernel).NoPadding().Done()
		}
		d := y.Shape().Dimensions
		centre := graph.Slice(y, graph.AxisRange(), graph.AxisRange(d[1]/2, d[1]/2+1), graph.AxisRange(d[2]/2, d[2]/2+1), graph.AxisRange())
		return graph.Gradient(graph.ReduceAllSum(centre), x)
	}, tensors.FromFlatDataAndDimensions(input, 1, n, n, 1))
	if err != nil {
		return rf, err
	}
	g, err := tensors.CopyFlatData[float32](outs[0])
	if err != nil {
		return rf, err
	}
	top, left, bottom, right := n, n, -1, -1
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			if g[r*n+c] != 0 {
				top, left, bottom, right = min(top, r), min(left, c), max(bottom, r), max(right, c)
			}
		}
	}
	if bottom < 0 {
		return rf, errors.New("GradientRF: the gradient is zero everywhere")
	}
	return [2]int{bottom - top + 1, right - left + 1}, nil
}
