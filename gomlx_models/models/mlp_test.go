package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TestBNPaperMLP checks the §4.1 network's shapes and parameter counts, and that the probe
// is the named sigmoid's input: with BN (training mode, γ=1, β=0) it is standardized over the
// batch; without BN it equals x·W[:,unit] + b[unit] of the probed layer.
func TestBNPaperMLP(t *testing.T) {
	const batch, features = 60, 784
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
		{"no BN", BNPaperMLP, 99_710},
		// Hidden biases dropped (−300), γ and β per hidden unit (+600).
		{"BN", BNPaperMLP.WithBatchNorm(true), 100_010},
		{"no BN, probe layer 0 unit 7", func() MLPConfig { c := BNPaperMLP; c.ProbeLayer, c.ProbeUnit = 0, 7; return c }(), 99_710},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := model.NewStore()
			outs, err := model.CallOnceN(goBackend(t), store, func(scope *model.Scope, xn *graph.Node) []*graph.Node {
				scope.Store().SetTraining(xn.Graph(), true)
				outs := MLPWithProbe(tc.cfg)(scope, xn)
				probe, logits := outs[0], outs[1]
				logits.AssertDims(batch, 10)
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
	bad := BNPaperMLP.WithBatchNorm(true)
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
	centers := make([][]float32, 10)
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
			c := rng.IntN(10)
			y[i] = []int32{int32(c)}
			x[i] = make([]float32, features)
			for j := range x[i] {
				x[i][j] = centers[c][j] + 0.3*float32(rng.NormFloat64())
			}
		}
		return train.Batch{Inputs: []*tensors.Tensor{tensors.FromValue(x)}, Labels: []*tensors.Tensor{tensors.FromValue(y)}}
	}
	for _, bn := range []bool{false, true} {
		cfg := BNPaperMLP.WithBatchNorm(bn)
		store := model.NewStore()
		trainer := train.NewTrainer(goBackend(t), store, MLP(cfg), loss.SparseCategoricalCrossEntropyLogits,
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

func trainableParams(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable {
			n += v.Shape().Size()
		}
	}
	return n
}

// TestDropoutMLP: with the same weights, keep = 0.8 and keep = 1 give the same logits at inference and
// different ones while training.
func TestDropoutMLP(t *testing.T) {
	b := goBackend(t)
	x := make([][]float32, 4)
	for i := range x {
		x[i] = make([]float32, 12)
		for j := range x[i] {
			x[i][j] = float32(i+j) / 10
		}
	}
	store := model.NewStore()
	logits := func(keep float64, training bool) []float32 {
		out, err := model.CallOnce(b, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.Store().SetTraining(x.Graph(), training)
			return MLP(MLPConfig{Hidden: []int{32, 16}, Activation: activation.TypeRelu, Classes: 3, KeepInput: keep, KeepHidden: keep})(scope, x)
		}, x)
		if err != nil {
			t.Fatal(err)
		}
		if d := out.Shape().Dimensions; len(d) != 2 || d[0] != 4 || d[1] != 3 {
			t.Fatalf("logits shape %v, want [4 3]", d)
		}
		return tensors.MustCopyFlatData[float32](out)
	}
	plain, dropInfer, dropTrain := logits(1, false), logits(0.8, false), logits(0.8, true)
	same, differ := true, false
	for i := range plain {
		same = same && plain[i] == dropInfer[i]
		differ = differ || plain[i] != dropTrain[i]
	}
	if !same || !differ {
		t.Errorf("inference identical: %v (want true); training differs: %v (want true)", same, differ)
	}
}
