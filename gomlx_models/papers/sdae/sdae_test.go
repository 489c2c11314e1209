package sdae

import (
	"math"
	"testing"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
)

func testBackend(t *testing.T) compute.Backend { return reprotest.Backend(t) }

func TestCorruptionStatistics(t *testing.T) {
	b := testBackend(t)
	tests := []struct {
		c          models.Corruption
		changed    float64 // expected fraction of changed components
		zero, one  float64
		mean, std  float64
		exactCount int // components changed in every example by the plain-Go process (-1: not fixed)
	}{
		{models.Corruption{Kind: models.MaskingNoise, Level: 0.25}, 0.25, 0.25, 0, -0.125, math.NaN(), 196},
		{models.Corruption{Kind: models.MaskingNoise, Level: 0.5}, 0.5, 0.5, 0, -0.25, math.NaN(), 392},
		{models.Corruption{Kind: models.SaltAndPepper, Level: 0.3}, 0.3, 0.15, 0.15, 0, math.NaN(), 235},
		{models.Corruption{Kind: models.GaussianNoise, Level: 0.2}, 1, 0, 0, 0, 0.2, -1},
		{models.Corruption{Kind: models.NoCorruption}, 0, 0, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.c.Kind.String(), func(t *testing.T) {
			rows, err := MeasureNoise(b, tc.c, 1000, 784, 9)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				near := func(what string, got, want, tol float64) {
					t.Helper()
					if !math.IsNaN(want) && math.Abs(got-want) > tol {
						t.Errorf("%s %s: %s = %.4f, want %.4f ± %g", r.Impl, tc.c.Kind, what, got, want, tol)
					}
				}
				near("changed", r.Changed, tc.changed, 0.005)
				near("zero", r.Zero, tc.zero, 0.005)
				near("one", r.One, tc.one, 0.005)
				near("mean", r.Mean, tc.mean, 0.005)
				near("std", r.Std, tc.std, 0.005)
			}
			if tc.exactCount >= 0 && (rows[0].MinChanged != tc.exactCount || rows[0].MaxChanged != tc.exactCount) {
				t.Errorf("plain Go changes %d…%d components per example, want exactly %d", rows[0].MinChanged,
					rows[0].MaxChanged, tc.exactCount)
			}
		})
	}
}

func TestCorruptionIsSeeded(t *testing.T) {
	x := make([]float32, 100)
	for i := range x {
		x[i] = 0.7
	}
	a, b := Mask(NewRand(4), x, 0.3), Mask(NewRand(4), x, 0.3)
	c := Mask(NewRand(5), x, 0.3)
	same := func(p, q []float32) bool {
		for i := range p {
			if p[i] != q[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) || same(a, c) {
		t.Errorf("Mask: same seed must give the same corruption and another seed another")
	}
	if x[0] != 0.7 {
		t.Errorf("Mask modified its input")
	}
}

func TestBadCorruption(t *testing.T) {
	for _, c := range []models.Corruption{{Kind: models.MaskingNoise, Level: 1.5}, {Kind: models.GaussianNoise, Level: -1},
		{Kind: models.CorruptionKind(9), Level: 0.1}} {
		if _, err := CorruptGo(NewRand(1), []float32{0.5}, c); err == nil {
			t.Errorf("CorruptGo(%v): no error", c)
		}
		if _, err := MeasureNoise(testBackend(t), c, 10, 10, 1); err == nil {
			t.Errorf("MeasureNoise(%v): no error", c)
		}
	}
}

// TestTable3Judgement: one run per network gives no interval, so even a clear ordering is inconclusive.
func TestTable3Judgement(t *testing.T) {
	if got := Table3Judgement(&reproduce.Env{}, 1.2, 1.4, 1.6).Verdict; got != reproduce.Inconclusive {
		t.Errorf("Table3Judgement(1.2, 1.4, 1.6) = %s, want inconclusive", got)
	}
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
