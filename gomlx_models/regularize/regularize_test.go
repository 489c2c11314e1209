package regularize

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
)

// testBackend is the project's backend choice ($GOMLX_BACKEND, else the Go backend as backend.Default),
// created once per process.
func testBackend() (compute.Backend, error) { return cnbackend.New("") }

func backend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := testBackend()
	if err != nil {
		t.Fatalf("creating backend: %v", err)
	}
	return b
}

// dropoutSamples applies fn in training (or inference) mode to a vector of n ones and
// returns the output and the gradient of its sum with respect to the input.
func dropoutSamples(t *testing.T, n int, training bool, fn func(scope *model.Scope, x *graph.Node) *graph.Node) (out, grad []float32) {
	t.Helper()
	store := model.NewStore()
	outs, err := model.CallOnceN(backend(t), store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		scope.Store().SetTraining(x.Graph(), training)
		y := fn(scope, x)
		return []*graph.Node{y, graph.Gradient(graph.ReduceAllSum(y), x)[0]}
	}, tensors.FromScalarAndDimensions(float32(1), n))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
}

// TestInvertedDropout: while training, a fraction keepProb of the values survives, each
// scaled to 1/keepProb, so the mean is preserved; at inference it is the identity. The
// gradient is the same mask/keepProb.
func TestInvertedDropout(t *testing.T) {
	const n = 100_000
	for _, keep := range []float64{0.5, DefaultKeepProb, 0.95, 1} {
		out, grad := dropoutSamples(t, n, true, func(scope *model.Scope, x *graph.Node) *graph.Node {
			return InvertedDropout(scope, x, keep)
		})
		kept, sum := 0, 0.0
		for i, v := range out {
			switch {
			case v == 0:
			case math.Abs(float64(v)-1/keep) < 1e-6:
				kept++
			default:
				t.Fatalf("keep=%g: value %g is neither 0 nor 1/keep", keep, v)
			}
			if grad[i] != v { // x = 1, so ∂out/∂x = mask/keep = out.
				t.Fatalf("keep=%g: gradient %g at %d, want %g", keep, grad[i], i, v)
			}
			sum += float64(v)
		}
		// 5σ bounds: the kept count is Binomial(n, keep); each value has variance (1−keep)/keep.
		sigmaFrac := math.Sqrt(keep * (1 - keep) / n)
		if frac := float64(kept) / n; math.Abs(frac-keep) > 5*sigmaFrac+1e-12 {
			t.Errorf("keep=%g: kept fraction %.4f", keep, frac)
		}
		sigmaMean := math.Sqrt((1 - keep) / keep / n)
		if mean := sum / n; math.Abs(mean-1) > 5*sigmaMean+1e-6 {
			t.Errorf("keep=%g: mean %.4f, want 1 ± %.4f (expectation preserved)", keep, mean, 5*sigmaMean)
		}
		t.Logf("keep=%g: kept %.4f, mean %.4f", keep, float64(kept)/n, sum/n)

		inf, _ := dropoutSamples(t, 1000, false, func(scope *model.Scope, x *graph.Node) *graph.Node {
			return InvertedDropout(scope, x, keep)
		})
		for i, v := range inf {
			if v != 1 {
				t.Fatalf("keep=%g: inference changed value %d to %g", keep, i, v)
			}
		}
	}
}

// TestInvertedDropoutMatchesGoMLX: our dropout and GoMLX's layers.Dropout (rate = 1−keep)
// give the same distribution: same two output values, kept fractions within sampling noise.
func TestInvertedDropoutMatchesGoMLX(t *testing.T) {
	const n = 100_000
	keep := DefaultKeepProb
	ours, _ := dropoutSamples(t, n, true, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return InvertedDropout(scope, x, keep)
	})
	theirs, _ := dropoutSamples(t, n, true, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return layers.Dropout(scope, x, graph.Scalar(x.Graph(), x.DType(), 1-keep))
	})
	count := func(v []float32) (kept int, values map[float32]bool) {
		values = map[float32]bool{}
		for _, x := range v {
			values[x] = true
			if x != 0 {
				kept++
			}
		}
		return
	}
	k1, v1 := count(ours)
	k2, v2 := count(theirs)
	if len(v1) != 2 || len(v2) != 2 {
		t.Fatalf("output values: ours %v, GoMLX %v; want {0, 1/keep} for both", v1, v2)
	}
	for v := range v1 {
		if !v2[v] {
			t.Errorf("value %g appears in ours but not in GoMLX's", v)
		}
	}
	// Two-proportion test at 5σ.
	sigma := math.Sqrt(2 * keep * (1 - keep) / n)
	if d := math.Abs(float64(k1-k2)) / n; d > 5*sigma {
		t.Errorf("kept fractions differ by %.4f (ours %d, GoMLX %d of %d), more than 5σ = %.4f", d, k1, k2, n, 5*sigma)
	}
	// Different executions draw different masks.
	again, _ := dropoutSamples(t, n, true, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return InvertedDropout(scope, x, keep)
	})
	same := 0
	for i := range again {
		if again[i] == ours[i] {
			same++
		}
	}
	if same == n {
		t.Error("two runs drew the identical mask")
	}
}

func TestInvertedDropoutRejectsBadKeep(t *testing.T) {
	for _, keep := range []float64{0, -0.5, 1.5, math.NaN()} {
		_, err := model.CallOnce(backend(t), model.NewStore(), func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.Store().SetTraining(x.Graph(), true)
			return InvertedDropout(scope, x, keep)
		}, []float32{1, 2})
		if err == nil {
			t.Errorf("keep=%g accepted", keep)
		}
	}
}

// TestCompareBNModes: training mode normalizes with the batch's own statistics (so each
// feature comes out with mean 0), inference mode with the moving averages — which follow
// GoMLX's debiased EMA of the training batches' statistics.
func TestCompareBNModes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	batch := func(m int, mean, std float64) [][]float64 {
		rows := make([][]float64, m)
		for i := range rows {
			rows[i] = []float64{mean + std*rng.NormFloat64(), -mean + 2*std*rng.NormFloat64(), 3}
		}
		return rows
	}
	tests := []struct {
		name     string
		train    [][][]float64
		momentum float64
	}{
		{"one batch", [][][]float64{batch(32, 1, 1)}, 0.9},
		{"drifting batches", [][][]float64{batch(32, 0, 1), batch(32, 1, 2), batch(32, 2, 0.5), batch(32, 3, 1)}, 0.5},
		{"momentum 0.99", [][][]float64{batch(16, 5, 1), batch(16, 5, 1), batch(16, 5, 1)}, 0.99},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := batch(8, 10, 1) // far from the training distribution
			res, err := CompareBNModes(backend(t), tc.train, probe, tc.momentum)
			if err != nil {
				t.Fatal(err)
			}
			// Expected moving averages: debiased EMA, d = min(momentum, 1 − 1/t).
			var wantMean, wantVar []float64
			for i, b := range tc.train {
				m, v := columnStats(b)
				if i == 0 {
					wantMean, wantVar = m, v
					continue
				}
				d := math.Min(tc.momentum, 1-1/float64(i+1))
				for j := range m {
					wantMean[j] = d*wantMean[j] + (1-d)*m[j]
					wantVar[j] = d*wantVar[j] + (1-d)*v[j]
				}
			}
			for j := range wantMean {
				if math.Abs(res.MovingMean[j]-wantMean[j]) > 1e-9 || math.Abs(res.MovingVar[j]-wantVar[j]) > 1e-9 {
					t.Errorf("feature %d: moving mean/var %g/%g, want %g/%g", j, res.MovingMean[j], res.MovingVar[j], wantMean[j], wantVar[j])
				}
			}
			closeRows := func(what string, got, want [][]float64) {
				for i := range want {
					for j := range want[i] {
						if math.Abs(got[i][j]-want[i][j]) > 1e-9 {
							t.Fatalf("%s[%d][%d] = %g, want %g", what, i, j, got[i][j], want[i][j])
						}
					}
				}
			}
			closeRows("TrainOut", res.TrainOut, Normalize(probe, res.BatchMean, res.BatchVar, res.Epsilon))
			closeRows("InferOut", res.InferOut, Normalize(probe, res.MovingMean, res.MovingVar, res.Epsilon))
			trainMean, _ := columnStats(res.TrainOut)
			inferMean, _ := columnStats(res.InferOut)
			if math.Abs(trainMean[0]) > 1e-9 || math.Abs(inferMean[0]) < 1 {
				t.Errorf("feature 0 mean after BN: training %g (want 0), inference %g (want far from 0)", trainMean[0], inferMean[0])
			}
		})
	}
	if _, err := CompareBNModes(backend(t), [][][]float64{{{1, 2}}}, [][]float64{{1, 2}, {3, 4}}, 0.9); err == nil {
		t.Error("a one-row batch was accepted")
	}
}
