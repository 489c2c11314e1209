package deconvolution

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/deconv"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/gomlx/compute"
)

// TestWorkedDeconvExample is notebook 04's worked example (Shibuya's): 4×4 input, 3×3 kernel, s=1, p=0 → C is 4×16, y is 2×2
// ([[122 148] [126 134]]), and x' = Cᵀy is 4×4, equal three ways.
func TestWorkedDeconvExample(t *testing.T) {
	e, err := TransposedConvExample(testBackend(t), deconv.ExampleInput, deconv.ExampleKernel, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.C) != 4 || len(e.C[0]) != 16 || len(e.CT) != 16 || len(e.CT[0]) != 4 {
		t.Fatalf("C is %d×%d, Cᵀ %d×%d; want 4×16 and 16×4", len(e.C), len(e.C[0]), len(e.CT), len(e.CT[0]))
	}
	if want := [][]float64{{122, 148}, {126, 134}}; reproduce.MaxAbsDiff(e.YEngine, want) > 1e-9 {
		t.Errorf("y = %v, want %v", e.YEngine, want)
	}
	// Row 0 of C: the kernel rows at positions 0–2, 4–6, 8–10; zeros elsewhere (sparse, shared).
	wantRow0 := []float64{1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0, 0}
	if !slices.Equal(e.C[0], wantRow0) {
		t.Errorf("C[0] = %v, want %v", e.C[0], wantRow0)
	}
	// x'[0][0] = k[0][0]·y[0][0] = 122; x'[3][3] = k[2][2]·y[1][1] = 134.
	if e.XEngine[0][0] != 122 || e.XEngine[3][3] != 134 {
		t.Errorf("x' corners %g, %g; want 122, 134", e.XEngine[0][0], e.XEngine[3][3])
	}
	if e.MaxDiff() > IdentityTolerance || math.IsNaN(e.AutodiffDiff) {
		t.Errorf("differences: conv %g, transpose %g, full pad %g, autodiff %g", e.ConvDiff, e.TransposeDiff,
			e.FullPadDiff, e.AutodiffDiff)
	}
	if !strings.Contains(e.String(), "Cᵀ") {
		t.Error("String() does not show Cᵀ")
	}
	if _, _, err := e.Heatmaps(); err != nil {
		t.Error(err)
	}
}

func TestStrideTwoExample(t *testing.T) {
	e, err := TransposedConvExample(testBackend(t), StrideTwoInput, deconv.ExampleKernel, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.C) != 4 || len(e.C[0]) != 25 || len(e.XEngine) != 5 || len(e.Dilated) != 3 {
		t.Errorf("sizes: C %d×%d, x' %d, dilated %d", len(e.C), len(e.C[0]), len(e.XEngine), len(e.Dilated))
	}
	if e.Dilated[1][1] != 0 || e.Dilated[0][1] != 0 || e.Dilated[2][2] != e.YEngine[1][1] {
		t.Errorf("dilated y = %v", e.Dilated)
	}
	if e.MaxDiff() > IdentityTolerance {
		t.Errorf("max difference %g", e.MaxDiff())
	}
}

func TestIdentitySweep(t *testing.T) {
	cases, err := IdentitySweep(testBackend(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !(c.MaxDiff <= IdentityTolerance) {
			t.Errorf("n=%d f=%d s=%d p=%d: max difference %g", c.N, c.F, c.S, c.P, c.MaxDiff)
		}
	}
}

func TestTransposedConvExampleErrors(t *testing.T) {
	b := testBackend(t)
	for _, tc := range []struct {
		name   string
		x, k   [][]float64
		s, pad int
	}{
		{"does not tile", deconv.ExampleInput, deconv.ExampleKernel, 2, 0}, // (4−3) % 2 ≠ 0
		{"kernel too big", [][]float64{{1}}, deconv.ExampleKernel, 1, 0},
		{"ragged", [][]float64{{1, 2}, {3}}, deconv.ExampleKernel, 1, 0},
		{"pad too large", deconv.ExampleInput, deconv.ExampleKernel, 1, 3},
		{"zero stride", deconv.ExampleInput, deconv.ExampleKernel, 0, 0},
	} {
		if _, err := TransposedConvExample(b, tc.x, tc.k, tc.s, tc.pad); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestDilate(t *testing.T) {
	for _, tc := range []struct {
		in   [][]float64
		s    int
		want [][]float64
	}{
		{[][]float64{{1, 2}, {3, 4}}, 1, [][]float64{{1, 2}, {3, 4}}},
		{[][]float64{{1, 2}, {3, 4}}, 2, [][]float64{{1, 0, 2}, {0, 0, 0}, {3, 0, 4}}},
		{[][]float64{{5}}, 3, [][]float64{{5}}},
		{[][]float64{{1, 2}}, 3, [][]float64{{1, 0, 0, 2}}},
	} {
		if got := Dilate(tc.in, tc.s); reproduce.MaxAbsDiff(got, tc.want) != 0 {
			t.Errorf("Dilate(%v, %d) = %v, want %v", tc.in, tc.s, got, tc.want)
		}
	}
}

func TestCheckerboards(t *testing.T) {
	cases, err := Checkerboards(testBackend(t), 6, 2, 3, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		size     int
		interior []float64
		ratio    float64
	}{
		{13, []float64{1, 2, 4}, 4}, // k=3: uneven
		{14, []float64{4}, 1},       // k=4: every pixel gets 2×2 windows
		{12, []float64{1}, 1},       // k=2: windows tile without overlap
	} {
		c := cases[i]
		if len(c.Image) != want.size || !slices.Equal(c.Interior, want.interior) || c.Ratio != want.ratio {
			t.Errorf("k=%d: size %d interior %v ratio %g; want %d %v %g", c.Kernel, len(c.Image), c.Interior, c.Ratio,
				want.size, want.interior, want.ratio)
		}
		if _, err := c.Figure(); err != nil {
			t.Error(err)
		}
	}
}

func TestFitTransposedKernel(t *testing.T) {
	fit, err := FitTransposedKernel(testBackend(t), 300)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := fit.Loss[0], fit.Loss[len(fit.Loss)-1]; !(last < first*1e-4) {
		t.Errorf("loss %g → %g, want a 10⁴ drop", first, last)
	}
	if fit.MaxError > 1e-2 {
		t.Errorf("learned kernel %v, want %v (max error %g)", fit.Learned, fit.Target, fit.MaxError)
	}
	if _, err := fit.Figure(); err != nil {
		t.Error(err)
	}
	if _, err := FitTransposedKernel(testBackend(t), 0); err == nil {
		t.Error("0 steps accepted")
	}
}

func testBackend(t *testing.T) compute.Backend { return reprotest.Backend(t) }

// TestQuickProfile runs notebook 04's reproductions in the quick profile, as CI does.
func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
