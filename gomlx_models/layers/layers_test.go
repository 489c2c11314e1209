package layers

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestParseImpl(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Impl
		wantErr bool
	}{
		{"", Auto, false}, {"auto", Auto, false}, {"Native", Native, false}, {"stock", Native, false},
		{" fast ", Fast, false}, {"project", Fast, false}, {"xla", Auto, true},
	} {
		got, err := ParseImpl(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseImpl(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
		if !tc.wantErr {
			if back, err := ParseImpl(got.String()); err != nil || back != got {
				t.Errorf("ParseImpl(%v.String()) = %v, %v", got, back, err)
			}
		}
	}
}

// TestImplFor checks that Auto resolves to Fast on the Go backend and that the scope parameter overrides it.
func TestImplFor(t *testing.T) {
	backend := testBackend(t)
	for _, tc := range []struct {
		param any
		want  Impl
	}{{nil, Fast}, {Auto, Fast}, {Native, Native}, {"native", Native}, {Fast, Fast}} {
		store := model.NewStore()
		if tc.param != nil {
			store.RootScope().SetParam(ParamImpl, tc.param)
		}
		var got Impl
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			got = ImplFor(scope, x.Graph())
			return x
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.Exec(tensors.FromValue([]float32{1})); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("param %v: ImplFor = %v, want %v", tc.param, got, tc.want)
		}
	}
}

// TestPoolFastMatchesNative compares the reshape-and-reduce pooling with graph.MaxPool/MeanPool, forward and
// gradient, on inputs without ties.
func TestPoolFastMatchesNative(t *testing.T) {
	backend := testBackend(t)
	for i, tc := range []struct {
		name       string
		n, h, w, c int
		cfg        Pool
		isMax      bool
	}{
		{"max 2x2 even", 2, 8, 6, 3, Pool{Window: 2}, true},
		{"max 2x2 odd (floor)", 2, 13, 11, 4, Pool{Window: 2}, true},
		{"max 3x3 stride 3", 1, 9, 10, 2, Pool{Window: 3, Stride: 3}, true},
		{"max 2x2 same even", 1, 6, 4, 2, Pool{Window: 2, Padding: Same}, true},
		{"avg 2x2", 2, 8, 8, 3, Pool{Window: 2}, false},
		{"avg 4x4 odd", 1, 9, 13, 2, Pool{Window: 4}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(100 + i)))
			// A permutation of distinct values: no ties in any window.
			perm := rng.Perm(tc.n * tc.h * tc.w * tc.c)
			data := make([]float32, len(perm))
			for j, p := range perm {
				data[j] = float32(p)/float32(len(perm)) - 0.5
			}
			x := tensors.FromFlatDataAndDimensions(data, tc.n, tc.h, tc.w, tc.c)
			run := func(fast bool) []*tensors.Tensor {
				exec, err := graph.NewExec(backend, func(x *graph.Node) []*graph.Node {
					var y *graph.Node
					if fast {
						y = fromCNHW(PoolCNHW(toCNHW(x), tc.cfg, tc.isMax))
					} else {
						y = PoolNHWC(x, tc.cfg, tc.isMax)
					}
					r := graph.Sin(graph.IotaFull(x.Graph(), y.Shape()))
					return []*graph.Node{y, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x)[0]}
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Exec(x)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			want, got := run(false), run(true)
			for j, name := range []string{"y", "dx"} {
				if e := relErr(t, got[j], want[j]); e > 1e-5 || math.IsNaN(e) {
					t.Errorf("%s: relative error %.3g", name, e)
				}
			}
		})
	}
}

// TestFastChainKeepsLayout checks that chained Fast layers hand each other the CNHW original: the output of
// ReLU(Conv2D(…)) maps back to a CNHW node, and a plain graph op in between is still correct.
func TestFastChainKeepsLayout(t *testing.T) {
	backend := testBackend(t)
	store := model.NewStore()
	store.RootScope().SetParam(ParamImpl, Fast)
	rng := rand.New(rand.NewSource(5))
	x := randTensor(rng, 2, 6, 6, 3)
	var chained bool
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		y := ReLU(Conv2D(scope.In("c1"), x, Conv{Filters: 4, Kernel: 3, Padding: Same}))
		chained = hasCNHW(y)
		viaGraph := graph.Max(y, graph.ScalarZero(y.Graph(), y.DType())) // a non-project op: not chained
		return []*graph.Node{y, viaGraph, graph.ConvertDType(graph.Const(x.Graph(), hasCNHW(viaGraph)), y.DType())}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatal(err)
	}
	if !chained {
		t.Error("ReLU of a Fast Conv2D output lost its CNHW original")
	}
	if e := relErr(t, out[1], out[0]); e != 0 {
		t.Errorf("graph op on a Fast output differs: %g", e)
	}
	if v := out[2].Value().(float32); v != 0 {
		t.Error("a plain graph op's output was registered as having a CNHW original")
	}
}
