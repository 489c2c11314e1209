package optim

import (
	"math"
	"strings"
	"testing"
)

// TestWalkMatchesTrajectory: a hand-written momentum closure walked by Walk follows Momentum's own stepper to
// rounding, and a deliberately wrong one is caught by MaxDeviation.
func TestWalkMatchesTrajectory(t *testing.T) {
	f := Quadratic(1, 10)
	start := []float64{-4.5, 1.5}
	const lr, mu, steps = 0.04, 0.8, 50
	ref, err := Trajectory(NewMomentum(lr, mu), f.F, f.Grad, start, steps)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		scale  float64 // 1: the paper's rule; anything else: a wrong rule.
		within bool
	}{{"heavy ball", 1, true}, {"wrong velocity scale", 0.9, false}} {
		t.Run(tc.name, func(t *testing.T) {
			v := make([]float64, 2)
			mine := StepFunc(func(theta, g []float64) {
				for i := range theta {
					v[i] = tc.scale*mu*v[i] + g[i]
					theta[i] -= lr * v[i]
				}
			})
			path, err := Walk(mine, f.F, f.Grad, start, steps)
			if err != nil {
				t.Fatal(err)
			}
			d, err := MaxDeviation(path, ref)
			if err != nil {
				t.Fatal(err)
			}
			if (d <= 1e-12) != tc.within || math.IsNaN(d) {
				t.Errorf("max deviation %g, want within 1e-12: %v", d, tc.within)
			}
		})
	}
	if _, err := Walk(nil, f.F, f.Grad, start, 1); err == nil {
		t.Error("nil stepper accepted")
	}
	bad := StepFunc(func(theta, g []float64) {})
	if _, err := Walk(bad, f.F, func([]float64) []float64 { return []float64{1} }, start, 1); err == nil ||
		!strings.Contains(err.Error(), "grad returned 1 values") {
		t.Errorf("a short gradient: %v", err)
	}
	if _, err := MaxDeviation(ref, Path{}); err == nil {
		t.Error("paths of different lengths compared")
	}
}
