package models

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/summary"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
)

func goBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := cnbackend.New("go")
	if err != nil {
		t.Fatalf("creating Go backend: %v", err)
	}
	return b
}

// uniform is a float64 tensor of U(-1, 1) values: the model tests run in float64 so that the two
// implementations' different summation orders stay at rounding level (~1e-12) instead of flipping ReLUs.
func uniform(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float64, n)
	for i := range data {
		data[i] = rng.Float64()*2 - 1
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

func flat(t *tensors.Tensor) []float64 {
	var out []float64
	t.ConstFlatData(func(f any) {
		switch v := f.(type) {
		case []float64:
			out = append(out, v...)
		case []float32:
			for _, x := range v {
				out = append(out, float64(x))
			}
		}
	})
	return out
}

// runModel returns the logits and the gradients of Σ logits·r w.r.t. every trainable variable, in training
// mode, with the layers' implementation forced to impl. Variables are shared through store.
func runModel(t *testing.T, backend compute.Backend, store *model.Store, impl layers.Impl,
	fn func(*model.Scope, *graph.Node) *graph.Node, x, r *tensors.Tensor) []*tensors.Tensor {
	t.Helper()
	store.RootScope().SetParam(layers.ParamImpl, impl)
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		store.SetTraining(in[0].Graph(), true)
		logits := fn(scope, in[0])
		loss := graph.ReduceAllSum(graph.Mul(logits, in[1]))
		return append([]*graph.Node{logits}, scope.BuildTrainableVariablesGradientsGraph(loss)...)
	})
	if err != nil {
		t.Fatalf("%s: NewExec: %v", impl, err)
	}
	out, err := exec.Exec(x, r)
	if err != nil {
		t.Fatalf("%s: Exec: %v", impl, err)
	}
	return out
}

// TestModelsFastMatchesNative builds each model with the Fast and the Native layers on the same weights and
// checks that logits and all weight gradients agree, and that the logits have the right shape.
func TestModelsFastMatchesNative(t *testing.T) {
	resnet20, err := ResNetCIFAR(20)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		fn    func(*model.Scope, *graph.Node) *graph.Node
		input []int
	}{
		{"SmallCNN", SmallCNN.Model(), []int{2, 28, 28, 1}},
		{"ResNet-20", resnet20, []int{8, 32, 32, 3}},
	}
	// Whole networks in float64: sums in different orders through up to 20 layers and BN agree to ~1e-12. The
	// batch is 8, not 2: with two examples BN maps every feature to ±1 and its gradient divides by a near-zero
	// spread, which amplifies rounding differences.
	const tol = 1e-7
	backend := goBackend(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(i + 7)))
			x := uniform(rng, tc.input...)
			r := uniform(rng, tc.input[0], 10)
			store := model.NewStore()
			native := runModel(t, backend, store, layers.Native, tc.fn, x, r)
			fast := runModel(t, backend, store, layers.Fast, tc.fn, x, r)
			if got := native[0].Shape().Dimensions; len(got) != 2 || got[0] != tc.input[0] || got[1] != 10 {
				t.Fatalf("logits shape %v, want [%d 10]", got, tc.input[0])
			}
			if len(native) != len(fast) || len(native) < 3 {
				t.Fatalf("got %d Native and %d Fast outputs", len(native), len(fast))
			}
			for j := range native {
				a, b := flat(fast[j]), flat(native[j])
				var maxDiff, maxRef float64
				for k := range b {
					maxDiff = math.Max(maxDiff, math.Abs(float64(a[k]-b[k])))
					maxRef = math.Max(maxRef, math.Abs(float64(b[k])))
				}
				if maxDiff > tol*math.Max(maxRef, 1e-6) || math.IsNaN(maxDiff) {
					t.Errorf("output %d (shape %s): max diff %.3g, max |ref| %.3g", j, native[j].Shape(), maxDiff, maxRef)
				}
			}
		})
	}
}

// TestResNetTable checks the ResNet table against torchvision's exact parameter counts (ImageNet, 1000 classes)
// and the paper's depths, and that option A shortcuts add no parameters while B adds the projections.
func TestResNetTable(t *testing.T) {
	b := goBackend(t)
	r20a, _ := CIFARResNet(20, ShortcutA)
	r20b, _ := CIFARResNet(20, ShortcutB)
	plain20 := r20a
	plain20.Plain = true
	tests := []struct {
		cfg    ResNetConfig
		size   int
		params int
		depth  int
	}{
		{ResNet18, 224, 11_689_512, 18},
		{ResNet34, 224, 21_797_672, 34},
		{ResNet50, 224, 25_557_032, 50},
		{ResNet101, 224, 44_549_160, 101},
		{ResNet152, 224, 60_192_808, 152},
		// He et al. 2016, Table 6: "0.27M" parameters for ResNet-20 (option A): 269,722 trainable.
		{r20a, 32, 269_722, 20},
		// Two projections (16→32, 32→64) with BN's γ and β: 16·32+2·32 + 32·64+2·64.
		{r20b, 32, 269_722 + 576 + 2176, 20},
		{plain20, 32, 269_722, 20},
	}
	for _, tc := range tests {
		t.Run(tc.cfg.Name+"/"+tc.cfg.Shortcut.String(), func(t *testing.T) {
			if d := tc.cfg.Depth(); d != tc.depth {
				t.Errorf("depth %d, want %d", d, tc.depth)
			}
			tab, err := summary.Of(b, nil, ResNet(tc.cfg), shapes.Make(dtypes.Float32, 1, tc.size, tc.size, 3))
			if err != nil {
				t.Fatal(err)
			}
			// torchvision's count is of parameters(): BN's running mean and variance are buffers, not counted.
			if tab.TrainableParams != tc.params {
				t.Errorf("%d trainable parameters, want %d", tab.TrainableParams, tc.params)
			}
		})
	}
}

// TestResNetCIFARDepths accepts the paper's 6n+2 depths and rejects the others.
func TestResNetCIFARDepths(t *testing.T) {
	for _, tc := range []struct {
		depth int
		ok    bool
	}{{20, true}, {32, true}, {44, true}, {56, true}, {110, true}, {8, true}, {2, false}, {21, false}, {0, false}, {-4, false}} {
		fn, err := ResNetCIFAR(tc.depth)
		if (err == nil) != tc.ok || (fn != nil) != tc.ok {
			t.Errorf("ResNetCIFAR(%d): err=%v, want ok=%v", tc.depth, err, tc.ok)
		}
	}
}
