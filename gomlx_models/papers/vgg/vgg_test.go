package vgg

import (
	"math"
	"math/rand/v2"
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

// TestResize: a constant image stays constant, the same size is the identity, and a 2×2 → 4×4 resize with
// half-pixel centres gives the known values (corners kept, 1/4–3/4 blends between).
func TestResize(t *testing.T) {
	src := []float32{0, 1, 2, 3}
	if got := Resize(src, 2, 2, 1, 2, 2); !equalF32(got, src) {
		t.Errorf("same size: %v", got)
	}
	want := []float32{
		0, 0.25, 0.75, 1,
		0.5, 0.75, 1.25, 1.5,
		1.5, 1.75, 2.25, 2.5,
		2, 2.25, 2.75, 3}
	if got := Resize(src, 2, 2, 1, 4, 4); !equalF32(got, want) {
		t.Errorf("2×2 → 4×4: %v, want %v", got, want)
	}
	flat := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	for _, v := range Resize(flat, 1, 2, 3, 5, 7) {
		if math.Abs(float64(v)-0.5) > 1e-6 {
			t.Fatalf("a constant image changed: %v", v)
		}
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			return false
		}
	}
	return true
}

// TestScaleJitter: images keep their size, the same seed gives the same batch, S = side is a flip or the image.
func TestScaleJitter(t *testing.T) {
	const n, side = 3, 8
	px := make([]float32, n*side*side)
	for i := range px {
		px[i] = float32(i % 17)
	}
	run := func(seed uint64, sMin, sMax int) []float32 {
		out := append([]float32(nil), px...)
		if err := ScaleJitter(rand.New(rand.NewPCG(seed, 1)), out, n, side, 1, sMin, sMax); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if a, b := run(1, 8, 12), run(1, 8, 12); !equalF32(a, b) {
		t.Error("the same seed gave different batches")
	}
	same := run(2, 8, 8)
	for i := range n {
		img, orig := same[i*side*side:(i+1)*side*side], px[i*side*side:(i+1)*side*side]
		flipped := make([]float32, len(orig))
		for y := range side {
			for x := range side {
				flipped[y*side+x] = orig[y*side+side-1-x]
			}
		}
		if !equalF32(img, orig) && !equalF32(img, flipped) {
			t.Errorf("image %d at S = side is neither the image nor its reflection", i)
		}
	}
	if err := ScaleJitter(rand.New(rand.NewPCG(1, 1)), px, n, side, 1, 4, 12); err == nil {
		t.Error("Smin below the side was accepted")
	}
	if err := ScaleJitter(rand.New(rand.NewPCG(1, 1)), px[:10], n, side, 1, 8, 12); err == nil {
		t.Error("a short batch was accepted")
	}
}
