package vgg

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Stack is a stack of stride-1 convolutions with SAME padding, each followed by a ReLU, as in VGG's stages.
type Stack struct {
	Name    string
	Kernels []int // kernel side of each layer, e.g. {3, 3, 3}
}

// Stacks are the comparisons of §2.3: one to three 3×3 layers against the single 5×5 and 7×7 layers they
// replace, and configuration C's 3×3, 3×3, 1×1 against D's three 3×3.
var Stacks = []Stack{
	{"one 3×3", []int{3}},
	{"two 3×3", []int{3, 3}},
	{"one 5×5", []int{5}},
	{"three 3×3 (D)", []int{3, 3, 3}},
	{"one 7×7", []int{7}},
	{"3×3, 3×3, 1×1 (C)", []int{3, 3, 1}},
	{"3×3, 3×3", []int{3, 3}},
}

// FieldFormula is the receptive field of a stride-1 stack: 1 + Σ (k − 1).
func (s Stack) FieldFormula() int {
	r := 1
	for _, k := range s.Kernels {
		r += k - 1
	}
	return r
}

// WeightsPerC2 is the formula Σ k² for the weights of the stack with C channels in and out, in units of C².
func (s Stack) WeightsPerC2() int {
	w := 0
	for _, k := range s.Kernels {
		w += k * k
	}
	return w
}

// Field is what was measured about a stack.
type Field struct {
	Stack Stack
	// Measured is the side of the bounding box of the input pixels where ∂y/∂x ≠ 0 for the centre output unit y.
	Measured int
	// Gradient is ∂y/∂x over the n×n input (all-ones kernels and input: it counts the paths from each pixel).
	Gradient [][]float64
	// ReLUs is the number of non-linearities between the input and y.
	ReLUs int
	// Weights is the number of weights of the stack with Channels channels (measured by summary.Of, no biases).
	Weights  int
	Channels int
}

// MeasureField computes, on backend, the gradient of the centre output unit of s with respect to an n×n input,
// and the number of weights of the same stack with channels input and output channels.
func MeasureField(backend compute.Backend, s Stack, n, channels int) (f Field, err error) {
	if backend == nil {
		return Field{}, errors.New("MeasureField: nil backend")
	}
	if len(s.Kernels) == 0 || n < 1 || n%2 == 0 || channels < 1 {
		return Field{}, fmt.Errorf("MeasureField %q: need kernels, an odd n and channels ≥ 1 (n=%d, C=%d)", s.Name, n, channels)
	}
	defer func() {
		if r := recover(); r != nil {
			f, err = Field{}, fmt.Errorf("MeasureField %q: %v", s.Name, r)
		}
	}()
	mask := make([]float32, n*n)
	mask[(n/2)*n+n/2] = 1
	grad, err := graph.CallOnce(backend, func(x, centre *graph.Node) *graph.Node {
		y := x
		for _, k := range s.Kernels {
			ones := graph.OnesLike(graph.Zeros(x.Graph(), shapes.Make(dtypes.Float32, k, k, 1, 1)))
			y = layers.ReLU(layers.ConvNHWC(y, ones, nil, layers.Conv{Filters: 1, Kernel: k, Padding: layers.Same}))
		}
		unit := graph.ReduceAllSum(graph.Mul(y, centre))
		return graph.Gradient(unit, x)[0]
	}, tensors.FromFlatDataAndDimensions(ones(n*n), 1, n, n, 1), tensors.FromFlatDataAndDimensions(mask, 1, n, n, 1))
	if err != nil {
		return Field{}, fmt.Errorf("MeasureField %q: %w", s.Name, err)
	}
	vals, err := tensors.CopyFlatData[float32](grad)
	grad.MustFinalizeAll()
	if err != nil {
		return Field{}, fmt.Errorf("MeasureField %q: %w", s.Name, err)
	}
	f = Field{Stack: s, ReLUs: len(s.Kernels), Channels: channels, Gradient: make([][]float64, n)}
	top, bottom := n, -1
	for r := range n {
		f.Gradient[r] = make([]float64, n)
		for c := range n {
			v := float64(vals[r*n+c])
			f.Gradient[r][c] = math.Round(v)
			if v != 0 {
				top, bottom = min(top, r), max(bottom, r)
			}
		}
	}
	if bottom >= 0 {
		f.Measured = bottom - top + 1
	}
	table, err := summary.Of(backend, nil, func(scope *model.Scope, x *graph.Node) *graph.Node {
		for i, k := range s.Kernels {
			x = layers.ReLU(layers.Conv2D(scope.In("conv%d", i+1), x, layers.Conv{Filters: channels, Kernel: k,
				Padding: layers.Same}))
		}
		return x
	}, shapes.Make(dtypes.Float32, 1, n, n, channels))
	if err != nil {
		return Field{}, fmt.Errorf("MeasureField %q: %w", s.Name, err)
	}
	f.Weights = table.TrainableParams
	return f, nil
}

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// MeasureFields measures every stack of stacks on an n×n input with channels channels; it returns an error when
// a measured field differs from the formula 1 + Σ(k−1) or the weights from Σ k² C².
func MeasureFields(backend compute.Backend, stacks []Stack, n, channels int) ([]Field, error) {
	out := make([]Field, 0, len(stacks))
	for _, s := range stacks {
		f, err := MeasureField(backend, s, n, channels)
		if err != nil {
			return nil, err
		}
		if f.Measured != s.FieldFormula() {
			return nil, fmt.Errorf("%s: measured field %d×%d, the formula says %d×%d", s.Name, f.Measured, f.Measured,
				s.FieldFormula(), s.FieldFormula())
		}
		if f.Weights != s.WeightsPerC2()*channels*channels {
			return nil, fmt.Errorf("%s: %d weights, the formula says %d·C² = %d", s.Name, f.Weights, s.WeightsPerC2(),
				s.WeightsPerC2()*channels*channels)
		}
		out = append(out, f)
	}
	return out, nil
}
