package vgg

import (
	"math"
	"testing"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
)

func testBackend(t *testing.T) compute.Backend { return reprotest.Backend(t) }

func TestParamCounts(t *testing.T) {
	counts, err := ParamCounts(testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"A": 132_863_336, "A-LRN": 132_863_336, "B": 133_047_848, "C": 133_638_952,
		"D": 138_357_544, "E": 143_667_240}
	for _, c := range counts {
		if c.Params != want[c.Config] || !c.Matches() {
			t.Errorf("%s: %d parameters (Table 2: %d M, torchvision %d), want %d", c.Config, c.Params, c.TableMillions,
				c.Torchvision, want[c.Config])
		}
	}
	if _, err := ParamFigure(counts); err != nil {
		t.Error(err)
	}
}

func TestMeasureFields(t *testing.T) {
	b := testBackend(t)
	tests := []struct {
		stack          Stack
		field, weights int // weights in units of C²
	}{
		{Stacks[0], 3, 9},
		{Stacks[1], 5, 18},
		{Stacks[2], 5, 25},
		{Stacks[3], 7, 27},
		{Stacks[4], 7, 49},
		{Stacks[5], 5, 19},
	}
	for _, tc := range tests {
		f, err := MeasureField(b, tc.stack, 11, 8)
		if err != nil {
			t.Fatal(err)
		}
		if f.Measured != tc.field || f.Weights != tc.weights*64 {
			t.Errorf("%s: field %d, weights %d; want %d and %d", tc.stack.Name, f.Measured, f.Weights, tc.field, tc.weights*64)
		}
		// The centre pixel is reached by the most paths.
		if c := f.Gradient[5][5]; c < f.Gradient[5][5-tc.field/2] || c == 0 {
			t.Errorf("%s: centre gradient %v, edge %v", tc.stack.Name, c, f.Gradient[5][5-tc.field/2])
		}
	}
	if _, err := MeasureField(b, Stack{Name: "empty"}, 11, 8); err == nil {
		t.Error("empty stack: no error")
	}
	if _, err := MeasureField(b, Stacks[0], 10, 8); err == nil {
		t.Error("even side: no error")
	}
}

func TestDenseEvaluation(t *testing.T) {
	b := testBackend(t)
	cfg := models.VGGConfig{Name: "A/16", Layers: models.VGGLayers["A"], WidthDiv: 16, FC: []int{16, 16}, Classes: 7,
		FCInputSide: 2}
	r, err := DenseEvaluation(b, cfg, []int{64, 96, 128}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxAbs == 0 || r.MaxAbsDiff > 1e-5*r.MaxAbs {
		t.Errorf("FC vs dense at 64: max diff %g of max %g", r.MaxAbsDiff, r.MaxAbs)
	}
	for i, side := range []int{1, 2, 3} {
		if s := r.Scales[i]; s.MapH != side || s.MapW != side || len(s.Posterior) != 7 {
			t.Errorf("Q=%d: %d×%d map of %d classes, want %d×%d of 7", s.Q, s.MapH, s.MapW, len(s.Posterior), side, side)
		}
	}
	var sum float64
	for _, p := range r.Average {
		sum += p
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("averaged posterior sums to %g", sum)
	}
	if _, err := DenseEvaluation(b, cfg, []int{32}, 3); err == nil {
		t.Error("Q below the training size: no error")
	}
	if _, err := DenseEvaluation(b, cfg, nil, 3); err == nil {
		t.Error("no scales: no error")
	}
}

func TestSoftmaxArgmax(t *testing.T) {
	p := softmax([]float64{1, 3, 2})
	if argmax(p) != 1 || math.Abs(p[0]+p[1]+p[2]-1) > 1e-12 || !(p[1] > p[2] && p[2] > p[0]) {
		t.Errorf("softmax %v", p)
	}
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
