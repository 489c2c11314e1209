package inception

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// ReductionVariant is one way of going from a d×d×k grid to (d/2)×(d/2)×2k (§5, Figs. 9 and 10).
type ReductionVariant struct {
	Name string
	// Parallel marks a block whose layers are side-by-side branches: its narrowest cut is its output.
	Parallel bool
	// Build maps [1, d, d, k] to [1, d', d', 2k].
	Build func(k int) func(scope *model.Scope, x *graph.Node) *graph.Node
}

var pool3s2 = layers.Pool{Window: 3, Stride: 2, Padding: layers.Valid}

// ReductionVariants are Fig. 9's two naive reductions (a 3×3 convolution to 2k filters standing for the expanding
// Inception module) and Fig. 10's parallel block: a stride-2 3×3 convolution to k filters beside a stride-2 max
// pooling, concatenated.
var ReductionVariants = []ReductionVariant{
	{"pool, then expand (Fig. 9 left)", false, func(k int) func(*model.Scope, *graph.Node) *graph.Node {
		return func(scope *model.Scope, x *graph.Node) *graph.Node {
			x = layers.MaxPool2D(scope.In("pool"), x, pool3s2)
			return layers.Conv2D(scope.In("conv"), x, layers.Conv{Filters: 2 * k, Kernel: 3, Padding: layers.Same})
		}
	}},
	{"expand, then pool (Fig. 9 right)", false, func(k int) func(*model.Scope, *graph.Node) *graph.Node {
		return func(scope *model.Scope, x *graph.Node) *graph.Node {
			x = layers.Conv2D(scope.In("conv"), x, layers.Conv{Filters: 2 * k, Kernel: 3, Padding: layers.Same})
			return layers.MaxPool2D(scope.In("pool"), x, pool3s2)
		}
	}},
	{"parallel stride-2 conv ∥ pool (Fig. 10)", true, func(k int) func(*model.Scope, *graph.Node) *graph.Node {
		return func(scope *model.Scope, x *graph.Node) *graph.Node {
			c := layers.Conv2D(scope.In("conv"), x, layers.Conv{Filters: k, Kernel: 3, Stride: 2, Padding: layers.Valid})
			p := layers.MaxPool2D(scope.In("pool"), x, pool3s2)
			return layers.ConcatChannels(c, p)
		}
	}},
}

// ReductionResult is one variant measured on a Grid×Grid×K input.
type ReductionResult struct {
	Name       string
	Grid, K    int
	MACs       int64
	Params     int
	OutputGrid int
	OutputC    int
	// Smallest is the narrowest cut (values per image): for a chain, the smallest layer output on the way; for a
	// parallel block, its output. Pooling first shrinks it to (d/2)²·k — the representational bottleneck of §2,
	// principle 1.
	Smallest int
}

// MeasureReductions measures each variant on a grid×grid×k input with summary.Of; the last row is the network's
// own first reduction (models.ReductionA, "mixed3") on its real input, 35×35×288.
func MeasureReductions(backend compute.Backend, grid, k int) ([]ReductionResult, error) {
	if backend == nil {
		return nil, errors.New("inception: nil backend")
	}
	var out []ReductionResult
	for _, v := range ReductionVariants {
		r, err := measureReduction(backend, v.Name, v.Build(k), grid, k, v.Parallel)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	mixed3 := models.ReductionA("mixed3")
	r, err := measureReduction(backend, "Inception v3's ReductionA (mixed3, 288 → 768)", func(scope *model.Scope, x *graph.Node) *graph.Node {
		return models.InceptionModuleApply(scope, x, mixed3)
	}, 35, 288, true)
	if err != nil {
		return nil, err
	}
	return append(out, r), nil
}

func measureReduction(backend compute.Backend, name string, fn func(*model.Scope, *graph.Node) *graph.Node, grid, k int, parallel bool) (ReductionResult, error) {
	t, err := summary.Of(backend, nil, fn, shapes.Make(dtypes.Float32, 1, grid, grid, k))
	if err != nil {
		return ReductionResult{}, fmt.Errorf("%s: %w", name, err)
	}
	d := t.OutputShape.Dimensions
	smallest := min(grid*grid*k, t.OutputShape.Size())
	if !parallel {
		for _, row := range t.Rows {
			smallest = min(smallest, row.OutputShape.Size())
		}
	}
	return ReductionResult{Name: name, Grid: grid, K: k, MACs: t.TotalMACs, Params: t.TotalParams,
		OutputGrid: d[1], OutputC: d[3], Smallest: smallest}, nil
}
