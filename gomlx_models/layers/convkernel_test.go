package layers

import (
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestConvWithKernel checks that a convolution with a given kernel node equals Conv2D holding the same kernel in
// its variable, on both implementations, and that the kernel node receives the gradient.
func TestConvWithKernel(t *testing.T) {
	backend := goBackendForTest(t)
	rng := rand.New(rand.NewSource(17))
	rnd := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(2*rng.Float64() - 1)
		}
		return out
	}
	for _, cfg := range []Conv{{Padding: Same}, {Stride: 2}, {}} {
		for _, impl := range []Impl{Native, Fast} {
			x := tensors.FromFlatDataAndDimensions(rnd(2*7*7*3), 2, 7, 7, 3)
			k := tensors.FromFlatDataAndDimensions(rnd(3*3*3*4), 3, 3, 3, 4)
			bias := tensors.FromFlatDataAndDimensions(rnd(4), 4)
			store := model.NewStore()
			store.RootScope().SetParam(ParamImpl, impl)
			exec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
				x, k, b := in[0], in[1], in[2]
				ref := cfg
				ref.Filters, ref.Kernel, ref.UseBias = 4, 3, true
				scope.Store().VariableWithShape("/ref/weights", k.Shape(), nil).SetNodeValue(k)
				scope.Store().VariableWithShape("/ref/biases", b.Shape(), nil).SetNodeValue(b)
				want := Conv2D(scope.In("ref"), x, ref)
				got := ConvWithKernel(scope.In("given"), x, k, b, cfg)
				loss := graph.ReduceAllSum(graph.Mul(got, graph.Sin(graph.IotaFull(x.Graph(), got.Shape()))))
				return []*graph.Node{got, want, graph.Gradient(loss, k)[0]}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Exec(x, k, bias)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxRelDiff(t, flatValues(t, out[0]), flatValues(t, out[1])); e > 1e-6 {
				t.Errorf("%+v %v: differs from Conv2D by %.3g", cfg, impl, e)
			}
			var g float64
			for _, v := range flatValues(t, out[2]) {
				g += v * v
			}
			if g == 0 {
				t.Errorf("%+v %v: no gradient reaches the kernel node", cfg, impl)
			}
		}
	}
}
