package models

import (
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/data"
)

// TestSmallModelsLearn trains each small model on 32 noisy images whose class k is a bright band of rows
// 3k…3k+2: the gradients of every layer (grouped convolutions, LRN, overlapping and SAME pooling, dropout, GAP)
// must let it halve its loss within a few dozen steps.
func TestSmallModelsLearn(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	nin := NINCIFAR10
	nin.WidthDiv, nin.Dropout = 8, 0
	vgg := VGGSmall(32)
	vgg.WidthDiv, vgg.BatchNorm = 16, true
	tests := []struct {
		name   string
		fn     sec05ModelFn
		epochs int
		lr     float64
	}{
		{"AlexNetSmall/8", mustFor(t)(AlexNet(AlexNetSmall.Scaled(8))), 15, 3e-3},
		{"VGG A/16 BN", mustFor(t)(VGG(vgg)), 40, 3e-3},
		{"NIN/8 without dropout", mustFor(t)(NIN(nin)), 45, 3e-3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(20 + i)))
			const n = 32
			im := &data.Images{Name: "random", N: n, H: 32, W: 32, C: 3, Classes: data.CIFAR10Classes,
				Pixels: make([]float32, n*32*32*3), Labels: make([]int32, n)}
			for j := range im.Pixels {
				im.Pixels[j] = 0.3 * float32(rng.Float64())
			}
			for j := range im.Labels {
				k := j % 10
				im.Labels[j] = int32(k)
				for y := 3 * k; y < 3*k+3; y++ {
					for x := range 32 * 3 {
						im.Pixels[(j*32+y)*32*3+x] += 0.7
					}
				}
			}
			ds := data.NewBatches(im, data.BatchConfig{BatchSize: 16, Shuffle: true, Seed: int64(i), DropLast: true})
			store := model.NewStore()
			store.SetParam(model.ParamInitialSeed, int64(30+i))
			trainer := train.NewTrainer(b, store, tc.fn, loss.SparseCategoricalCrossEntropyLogits,
				optimizer.Adam().LearningRate(tc.lr).Done(), nil, nil)
			evalLoss := func() float32 {
				t.Helper()
				m, err := trainer.Eval(ds)
				if err != nil {
					t.Fatalf("Eval: %v", err)
				}
				return tensors.MustCopyFlatData[float32](m[0])[0]
			}
			before := evalLoss()
			if _, err := train.NewLoop(trainer).RunEpochs(ds, tc.epochs); err != nil {
				t.Fatalf("RunEpochs: %v", err)
			}
			after := evalLoss()
			t.Logf("eval loss %.4f → %.4f after %d epochs", before, after, tc.epochs)
			if !(after < before/2) {
				t.Errorf("loss %.4f → %.4f, want at least halved", before, after)
			}
		})
	}
}
