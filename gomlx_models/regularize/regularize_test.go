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
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

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

func TestPercentiles(t *testing.T) {
	tests := []struct {
		values, ps, want []float64
	}{
		{[]float64{4, 1, 3, 2}, []float64{0, 15, 50, 85, 100}, []float64{1, 1.45, 2.5, 3.55, 4}}, // numpy.percentile
		{[]float64{7}, []float64{15, 85}, []float64{7, 7}},
	}
	for _, tc := range tests {
		got, err := Percentiles(tc.values, tc.ps...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Errorf("Percentiles(%v, %g) = %g, want %g", tc.values, tc.ps[i], got[i], tc.want[i])
			}
		}
	}
	if _, err := Percentiles(nil, 50); err == nil {
		t.Error("no error for empty values")
	}
	if _, err := Percentiles([]float64{1}, 101); err == nil {
		t.Error("no error for percentile 101")
	}
}

// trainableParams counts the values of all trainable variables in store.
func trainableParams(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable {
			n += v.Shape().Size()
		}
	}
	return n
}

// TestBNPaperMLP checks the §4.1 network's shapes and parameter counts, and that the probe
// is the named sigmoid's input: with BN (training mode, γ=1, β=0) it is standardized over the
// batch; without BN it equals x·W[:,unit] + b[unit] of the probed layer.
func TestBNPaperMLP(t *testing.T) {
	const batch, features = BNPaperBatchSize, 784
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([][]float32, batch)
	for i := range x {
		x[i] = make([]float32, features)
		for j := range x[i] {
			x[i][j] = float32(rng.Float64())
		}
	}
	tests := []struct {
		name       string
		cfg        MLPConfig
		wantParams int
	}{
		// 784·100+100 + 2·(100·100+100) + 100·10+10.
		{"no BN", BNPaperConfig(false), 99_710},
		// Hidden biases dropped (−300), γ and β per hidden unit (+600).
		{"BN", BNPaperConfig(true), 100_010},
		{"no BN, probe layer 0 unit 7", func() MLPConfig { c := BNPaperConfig(false); c.ProbeLayer, c.ProbeUnit = 0, 7; return c }(), 99_710},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := model.NewStore()
			outs, err := model.CallOnceN(backend(t), store, func(scope *model.Scope, xn *graph.Node) []*graph.Node {
				scope.Store().SetTraining(xn.Graph(), true)
				logits, probe := BNPaperMLP(scope, xn, tc.cfg)
				logits.AssertDims(batch, BNPaperClasses)
				probe.AssertDims(batch)
				return []*graph.Node{logits, probe}
			}, x)
			if err != nil {
				t.Fatal(err)
			}
			if got := trainableParams(store); got != tc.wantParams {
				t.Errorf("%d trainable parameters, want %d", got, tc.wantParams)
			}
			probe := tensors.MustCopyFlatData[float32](outs[1])
			if tc.cfg.BatchNorm {
				var mean, sq float64
				for _, v := range probe {
					mean += float64(v) / batch
				}
				for _, v := range probe {
					sq += (float64(v) - mean) * (float64(v) - mean) / batch
				}
				if math.Abs(mean) > 1e-4 || math.Abs(sq-1) > 0.05 {
					t.Errorf("BN probe over the batch: mean %g, variance %g; want 0 and ≈1", mean, sq)
				}
				return
			}
			if tc.cfg.ProbeLayer != 0 {
				return
			}
			w := tensors.MustCopyFlatData[float32](store.GetVariable("/hidden_0/dense/weights").MustValue())
			b := tensors.MustCopyFlatData[float32](store.GetVariable("/hidden_0/dense/biases").MustValue())
			width := tc.cfg.Hidden[0]
			for i := range batch {
				want := float64(b[tc.cfg.ProbeUnit])
				for j := range features {
					want += float64(x[i][j]) * float64(w[j*width+tc.cfg.ProbeUnit])
				}
				if math.Abs(float64(probe[i])-want) > 1e-3 {
					t.Fatalf("probe[%d] = %g, want x·W[:,%d]+b = %g", i, probe[i], tc.cfg.ProbeUnit, want)
				}
			}
		})
	}
	bad := BNPaperConfig(true)
	bad.ProbeUnit = 100
	if err := bad.Validate(); err == nil {
		t.Error("probe unit 100 of a 100-wide layer accepted")
	}
}

// TestBNPaperMLPTrains trains both variants briefly with train.Trainer on a synthetic
// 10-class problem: the two-output ModelFn works with GoMLX's losses and the loss falls.
func TestBNPaperMLPTrains(t *testing.T) {
	const batch, features, steps = 60, 20, 60
	rng := rand.New(rand.NewPCG(9, 10))
	centers := make([][]float32, BNPaperClasses)
	for c := range centers {
		centers[c] = make([]float32, features)
		for j := range centers[c] {
			centers[c][j] = float32(rng.NormFloat64())
		}
	}
	makeBatch := func() train.Batch {
		x := make([][]float32, batch)
		y := make([][]int32, batch)
		for i := range x {
			c := rng.IntN(BNPaperClasses)
			y[i] = []int32{int32(c)}
			x[i] = make([]float32, features)
			for j := range x[i] {
				x[i][j] = centers[c][j] + 0.3*float32(rng.NormFloat64())
			}
		}
		return train.Batch{Inputs: []*tensors.Tensor{tensors.FromValue(x)}, Labels: []*tensors.Tensor{tensors.FromValue(y)}}
	}
	for _, bn := range []bool{false, true} {
		cfg := BNPaperConfig(bn)
		store := model.NewStore()
		trainer := train.NewTrainer(backend(t), store, cfg.ModelFn(), loss.SparseCategoricalCrossEntropyLogits,
			optimizer.Adam().LearningRate(0.01).Done(), nil, nil)
		var first, last float64
		for step := range steps {
			m, err := trainer.TrainStep(makeBatch())
			if err != nil {
				t.Fatalf("BN=%v step %d: %v", bn, step, err)
			}
			l := tensors.ToScalar[float32](m[0])
			if step == 0 {
				first = float64(l)
			}
			last = float64(l)
		}
		if !(last < first/3) {
			t.Errorf("BN=%v: loss %g -> %g in %d steps, want a 3× drop", bn, first, last, steps)
		}
		t.Logf("BN=%v: loss %.3f -> %.3f", bn, first, last)
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
