package data_test

import (
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

	"github.com/convnotes/convnotes/gomlx_models/data"
)

// TestBatchesTrainWithGoMLX checks that Batches plugs into GoMLX's trainer as is: [B,H,W,C] float32
// inputs and [B,1] int32 labels train a linear classifier whose loss falls on an easy toy task.
func TestBatchesTrainWithGoMLX(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	backend, err := compute.New()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	// Three classes; class k lights up pixel k of a 2×2 image.
	const n = 48
	im := &data.Images{Name: "toy3", N: n, H: 2, W: 2, C: 1, Classes: []string{"a", "b", "c"},
		Pixels: make([]float32, n*4), Labels: make([]int32, n)}
	for i := range n {
		k := i % 3
		im.Labels[i] = int32(k)
		im.Pixels[i*4+k] = 1
	}
	ds := data.NewBatches(im, data.BatchConfig{BatchSize: 8, Shuffle: true, Seed: 1, DropLast: true})
	store := model.NewStore()
	modelFn := func(scope *model.Scope, x *graph.Node) *graph.Node {
		x = graph.Reshape(x, x.Shape().Dimensions[0], -1)
		return layers.DenseWithBias(scope.In("linear"), x, 3)
	}
	trainer := train.NewTrainer(backend, store, modelFn, loss.SparseCategoricalCrossEntropyLogits,
		optimizer.Adam().LearningRate(0.1).Done(), nil, nil)

	evalLoss := func() float32 {
		t.Helper()
		m, err := trainer.Eval(ds)
		if err != nil {
			t.Fatalf("Eval: %v", err)
		}
		return tensors.MustCopyFlatData[float32](m[0])[0]
	}
	before := evalLoss()
	if _, err := train.NewLoop(trainer).RunEpochs(ds, 5); err != nil {
		t.Fatalf("RunEpochs: %v", err)
	}
	after := evalLoss()
	t.Logf("eval loss before %.4f, after 5 epochs %.4f", before, after)
	if !(after < before/2) {
		t.Errorf("loss %.4f → %.4f, want at least halved", before, after)
	}
}
