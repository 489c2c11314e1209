package layers

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
)

// TestFrozenBatchNormAndConcat checks FrozenBatchNorm against y = γ(x − μ)/√(σ² + ε) + β computed in float64, and
// ConcatChannels of two convolutions against graph.Concatenate, on both implementations.
func TestFrozenBatchNormAndConcat(t *testing.T) {
	backend, err := cnbackend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(11))
	const n, h, w, c = 2, 5, 4, 3
	x := make([]float32, n*h*w*c)
	for i := range x {
		x[i] = rng.Float32()*4 - 2
	}
	stats := map[string][]float32{
		"beta": {0.5, -1, 0}, "moving_mean": {0.25, -0.5, 1}, "moving_variance": {0.04, 2, 1}, "gamma": {2, 1, -1},
	}
	for _, scale := range []bool{false, true} {
		var outs [2][][]float32
		for ii, impl := range []Impl{Native, Fast} {
			store := model.NewStore()
			store.RootScope().SetParam(ParamImpl, impl)
			for name, v := range stats {
				if name == "gamma" && !scale {
					continue
				}
				if _, err := store.CreateVariable("/bn/"+name, tensors.FromValue(v)); err != nil {
					t.Fatal(err)
				}
			}
			exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
				y := FrozenBatchNorm(scope.In("bn"), x, FrozenBN{Scale: scale})
				a := Conv2D(scope.In("a"), x, Conv{Filters: 2, Kernel: 3, Padding: Same})
				b := Conv2D(scope.In("b"), x, Conv{Filters: 4, KernelH: 1, KernelW: 3, Padding: Same})
				return []*graph.Node{y, ConcatChannels(ReLU(a), ReLU(b)), graph.Concatenate([]*graph.Node{ReLU(a), ReLU(b)}, 3)}
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, n, h, w, c))
			if err != nil {
				t.Fatalf("%s: %v", impl, err)
			}
			for _, r := range res {
				outs[ii] = append(outs[ii], tensors.MustCopyFlatData[float32](r))
			}
		}
		var maxBN, maxCat float64
		for i, v := range x {
			ch := i % c
			g := 1.0
			if scale {
				g = float64(stats["gamma"][ch])
			}
			want := g*(float64(v)-float64(stats["moving_mean"][ch]))/math.Sqrt(float64(stats["moving_variance"][ch])+BNEpsilon) +
				float64(stats["beta"][ch])
			for ii := range outs {
				maxBN = math.Max(maxBN, math.Abs(float64(outs[ii][0][i])-want))
			}
		}
		for ii := range outs {
			for i := range outs[ii][1] {
				maxCat = math.Max(maxCat, math.Abs(float64(outs[ii][1][i]-outs[ii][2][i])))
			}
		}
		if maxBN > 1e-5 || maxCat > 1e-5 || len(outs[1][1]) != n*h*w*6 {
			t.Errorf("scale=%v: FrozenBatchNorm max error %.3g, ConcatChannels max diff %.3g (%d values)", scale, maxBN, maxCat, len(outs[1][1]))
		}
	}
}
