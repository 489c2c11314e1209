package models

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// TestInceptionV3Counts checks the parameter counts against Keras's model.summary() of InceptionV3:
// 23,851,784 with the 1000-class top, of which 23,817,352 trainable (conv kernels, BN β, dense) and 34,432
// non-trainable (BN moving mean and variance: 2 × 17,216 channels; no γ since scale=False). With nsfwjs's
// 256-128-5 head instead: 21,802,784 backbone + 558,085 = 22,360,869, the value count of nsfwjs's manifest.
// Multiply-adds: the abstract's "computational cost of 5 billion multiply-adds per inference" (Keras's layout,
// counted by summary.Of: 5.71 billion).
func TestInceptionV3Counts(t *testing.T) {
	b := goBackend(t)
	input := shapes.Make(dtypes.Float32, 1, InceptionV3Size, InceptionV3Size, 3)
	for _, tc := range []struct {
		name              string
		cfg               InceptionV3Config
		params, trainable int
	}{
		{"ImageNet top", InceptionV3ImageNet, 23851784, 23817352},
		{"nsfwjs head", InceptionV3NSFWJS, 22360869, 22360869 - 34432},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn, err := InceptionV3(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			table, err := summary.Of(b, nil, fn, input)
			if err != nil {
				t.Fatal(err)
			}
			if table.TotalParams != tc.params || table.TrainableParams != tc.trainable {
				t.Errorf("params %d (trainable %d), want %d (%d)", table.TotalParams, table.TrainableParams, tc.params, tc.trainable)
			}
			if table.TotalMACs < 5e9 || table.TotalMACs > 6e9 {
				t.Errorf("%d multiply-adds, want about 5 billion", table.TotalMACs)
			}
			t.Logf("%s: %d params, %d MACs", tc.name, table.TotalParams, table.TotalMACs)
		})
	}
}

// TestInceptionV3Units: 94 conv2d_bn units, Keras's count, in Keras's creation order (spot checks against the
// nsfwjs topology: conv2d_8 is mixed0's 5×5, conv2d_79/80 mixed9's 1×3 and 3×1 split, conv2d_94 mixed10's pool 1×1).
func TestInceptionV3Units(t *testing.T) {
	units := InceptionV3Units()
	if len(units) != 94 {
		t.Fatalf("%d units, want 94", len(units))
	}
	for _, tc := range []struct {
		index  int
		scope  string
		kh, kw int
	}{
		{1, "stem/conv1", 3, 3}, {8, "mixed0/branch5x5/conv2", 5, 5}, {12, "mixed0/branch_pool/conv1", 1, 1},
		{79, "mixed9/branch3x3/conv2", 1, 3}, {80, "mixed9/branch3x3/conv3", 3, 1}, {94, "mixed10/branch_pool/conv1", 1, 1},
	} {
		u := units[tc.index-1]
		if u.Index != tc.index || u.Scope != tc.scope || u.Conv.KH != tc.kh || u.Conv.KW != tc.kw {
			t.Errorf("unit %d: %+v, want %s %dx%d", tc.index, u, tc.scope, tc.kh, tc.kw)
		}
	}
}

// TestInceptionV3FastMatchesNative runs the whole network with random weights on a 75×75 image (the smallest
// input Keras accepts) with the Fast and the Native layers (seeded, so the same weights every run); the logits
// agree to 1e-4 of the largest.
func TestInceptionV3FastMatchesNative(t *testing.T) {
	backend := goBackend(t)
	fn, err := InceptionV3(InceptionV3NSFWJS)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	x := uniform(rng, 1, 75, 75, 3)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(5); err != nil {
		t.Fatal(err)
	}
	var outs [2][]float64
	for i, impl := range []layers.Impl{layers.Native, layers.Fast} {
		store.RootScope().SetParam(layers.ParamImpl, impl)
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			return []*graph.Node{fn(scope, in[0])}
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		out, err := exec.Exec(x)
		if err != nil {
			t.Fatalf("%s: %v", impl, err)
		}
		t.Logf("%s: %v", impl, time.Since(start))
		outs[i] = flat(out[0])
	}
	var maxDiff, maxRef float64
	for k := range outs[0] {
		maxDiff = math.Max(maxDiff, math.Abs(float64(outs[0][k]-outs[1][k])))
		maxRef = math.Max(maxRef, math.Abs(float64(outs[0][k])))
	}
	t.Logf("Fast vs Native: max diff %.3g, max |logit| %.3g", maxDiff, maxRef)
	if len(outs[0]) != 5 || maxRef == 0 || maxDiff > 1e-4*maxRef || math.IsNaN(maxDiff) {
		t.Errorf("%d logits, Fast vs Native max diff %.3g (max |logit| %.3g)", len(outs[0]), maxDiff, maxRef)
	}
}
