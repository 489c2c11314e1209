package models

import (
	"fmt"
	"math"
	"strings"

	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestAutoencoderParams(t *testing.T) {
	tests := []struct {
		name       string
		c          AutoencoderConfig
		layer0     int
		classifier int
	}{
		// Tied: W 784×1000, b 1000, b′ 784.
		{"SDAE-3 paper", SDAE3Paper, 784*1000 + 1000 + 784, 784*1000 + 1000 + 2*(1000*1000+1000) + 1000*10 + 10},
		{"SDAE-3 small", SDAE3Small, 784*256 + 256 + 784, 784*256 + 256 + 2*(256*256+256) + 256*10 + 10},
		// Untied: also W′ 64×2.
		{"toy", ToyDAE, 2*64 + 64 + 2 + 64*2, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.NumParams(0); got != tc.layer0 {
				t.Errorf("NumParams(0) = %d, want %d", got, tc.layer0)
			}
			if tc.classifier >= 0 {
				if got := tc.c.ClassifierParams(); got != tc.classifier {
					t.Errorf("ClassifierParams() = %d, want %d", got, tc.classifier)
				}
			}
		})
	}
}

// TestAutoencoderGraph builds each layer's DAE and the classifier of a small stack and checks that the
// variables created match NumParams and ClassifierParams, that tied weights create no decoder weights, and
// that the loss equals the cross-entropy formula.
func TestAutoencoderGraph(t *testing.T) {
	b := goBackend(t)
	for _, tied := range []bool{true, false} {
		c := AutoencoderConfig{Input: 6, Hidden: []int{4, 3}, Tied: tied, Classes: 2}
		for k := range c.Hidden {
			store := model.NewStore()
			x := [][]float32{{0, 0.2, 1, 0.5, 0.9, 0.1}, {1, 1, 0, 0, 0.3, 0.7}}
			out, err := model.CallOnce(b, store, c.DAE(k, Corruption{}), x)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Shape().Dimensions; len(got) != 1 || got[0] != 2 {
				t.Errorf("tied=%v layer %d: loss shape %v, want [2]", tied, k, got)
			}
			n := 0
			for v := range store.IterVariables() {
				if strings.HasPrefix(v.Path(), fmt.Sprintf("/layer_%d/", k)) {
					n += v.Shape().Size()
				}
			}
			if n != c.NumParams(k) {
				t.Errorf("tied=%v layer %d: %d parameters in the store, want %d", tied, k, n, c.NumParams(k))
			}
			if tied && store.GetVariable("/layer_0/decoder/weights") != nil {
				t.Errorf("tied weights created decoder weights")
			}
		}
		store := model.NewStore()
		_, err := model.CallOnce(b, store, c.Classifier(), [][]float32{{0, 0.2, 1, 0.5, 0.9, 0.1}})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for v := range store.IterVariables() {
			if strings.HasPrefix(v.Path(), "/layer_") || strings.HasPrefix(v.Path(), "/softmax/") {
				got += v.Shape().Size()
			}
		}
		if got != c.ClassifierParams() {
			t.Errorf("tied=%v: classifier has %d parameters, want %d", tied, got, c.ClassifierParams())
		}
	}
}

func TestReconstructionCrossEntropy(t *testing.T) {
	b := goBackend(t)
	x := []float32{0, 1, 0.3}
	a := []float32{-1, 2, 0.5}
	out, err := model.CallOnce(b, model.NewStore(), func(scope *model.Scope, xs []*graph.Node) *graph.Node {
		return ReconstructionCrossEntropy(graph.ExpandDims(xs[0], 0), graph.ExpandDims(xs[1], 0))
	}, x, a)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out)[0]
	want := 0.0
	for i := range x {
		z := 1 / (1 + math.Exp(-float64(a[i])))
		want -= float64(x[i])*math.Log(z) + (1-float64(x[i]))*math.Log(1-z)
	}
	if d := float64(got) - want; d > 1e-5 || d < -1e-5 {
		t.Errorf("L_H = %.6f, want %.6f", got, want)
	}
}
