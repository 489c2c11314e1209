package layers

import (
	"math/rand"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// blockDiagonal expands a grouped HWIO kernel [kh, kw, c/groups, f] to the dense [kh, kw, c, f] kernel that is
// zero between groups.
func blockDiagonal(k []float32, kh, kw, cg, f, groups int) []float32 {
	c, fg := cg*groups, f/groups
	out := make([]float32, kh*kw*c*f)
	for s := range kh * kw {
		for i := range cg {
			for o := range f {
				g := o / fg
				out[(s*c+g*cg+i)*f+o] = k[(s*cg+i)*f+o]
			}
		}
	}
	return out
}

// TestGroupedConv2D checks GroupedConv2D against a dense convolution with the block-diagonal kernel, forward and
// gradient with respect to the input, on both implementations.
func TestGroupedConv2D(t *testing.T) {
	backend := goBackendForTest(t)
	tests := []struct {
		name    string
		n, h, c int
		cfg     Conv
		groups  int
	}{
		{"AlexNet conv2 shape, 2 towers", 2, 9, 4, Conv{Filters: 6, Kernel: 5, Padding: Same, UseBias: true}, 2},
		{"stride 2, 3 groups", 1, 11, 6, Conv{Filters: 3, Kernel: 3, Stride: 2}, 3},
		{"1 group is a conv", 1, 6, 3, Conv{Filters: 4, Kernel: 3, Padding: Same, UseBias: true}, 1},
	}
	for i, tc := range tests {
		for _, impl := range []Impl{Native, Fast} {
			t.Run(tc.name+"/"+impl.String(), func(t *testing.T) {
				rng := rand.New(rand.NewSource(int64(60 + i)))
				k := tc.cfg.Kernel
				cg := tc.c / tc.groups
				rnd := func(n int) []float32 {
					out := make([]float32, n)
					for j := range out {
						out[j] = float32(2*rng.Float64() - 1)
					}
					return out
				}
				x := rnd(tc.n * tc.h * tc.h * tc.c)
				kernel := rnd(k * k * cg * tc.cfg.Filters)
				bias := rnd(tc.cfg.Filters)
				dense := blockDiagonal(kernel, k, k, cg, tc.cfg.Filters, tc.groups)
				store := model.NewStore()
				store.RootScope().SetParam(ParamImpl, impl)
				exec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
					x, kern, b, dk := in[0], in[1], in[2], in[3]
					scope.Store().VariableWithShape("/g/weights", kern.Shape(), initializer.Zero).SetNodeValue(kern)
					if tc.cfg.UseBias {
						scope.Store().VariableWithShape("/g/biases", shapes.Make(dtypes.Float32, tc.cfg.Filters), initializer.Zero).SetNodeValue(b)
					}
					y := GroupedConv2D(scope.In("g"), x, tc.cfg, tc.groups)
					var bb *graph.Node
					if tc.cfg.UseBias {
						bb = b
					}
					ref := ConvNHWC(x, dk, bb, tc.cfg)
					r := graph.Sin(graph.IotaFull(x.Graph(), y.Shape()))
					return []*graph.Node{y, ref,
						graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x)[0],
						graph.Gradient(graph.ReduceAllSum(graph.Mul(ref, r)), x)[0]}
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, tc.n, tc.h, tc.h, tc.c),
					tensors.FromFlatDataAndDimensions(kernel, k, k, cg, tc.cfg.Filters),
					tensors.FromFlatDataAndDimensions(bias, tc.cfg.Filters),
					tensors.FromFlatDataAndDimensions(dense, k, k, tc.c, tc.cfg.Filters))
				if err != nil {
					t.Fatal(err)
				}
				if !out[0].Shape().Equal(out[1].Shape()) {
					t.Fatalf("shape %s, want %s", out[0].Shape(), out[1].Shape())
				}
				for j, name := range []string{"y", "dx"} {
					if e := maxRelDiff(t, flatValues(t, out[2*j]), flatValues(t, out[2*j+1])); e > 1e-5 {
						t.Errorf("%s: relative error %.3g against the block-diagonal convolution", name, e)
					}
				}
			})
		}
	}
}

func TestGroupedConv2DRejects(t *testing.T) {
	backend := goBackendForTest(t)
	for _, tc := range []struct {
		c, filters, groups int
	}{{3, 4, 2}, {4, 3, 2}, {4, 4, 0}} {
		exec, err := model.NewExec(backend, model.NewStore(), func(scope *model.Scope, x *graph.Node) *graph.Node {
			return GroupedConv2D(scope, x, Conv{Filters: tc.filters, Kernel: 1}, tc.groups)
		})
		if err == nil {
			_, err = exec.Exec(tensors.FromShape(shapes.Make(dtypes.Float32, 1, 2, 2, tc.c)))
		}
		if err == nil {
			t.Errorf("%d channels, %d filters, %d groups: no error", tc.c, tc.filters, tc.groups)
		}
	}
}
