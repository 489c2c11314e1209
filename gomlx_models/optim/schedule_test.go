package optim

import (
	"math"
	"testing"
)

func TestStepDecay(t *testing.T) {
	s := InceptionV3Schedule
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		epoch, want float64
	}{
		{0, 0.045}, {1.99, 0.045}, {2, 0.045 * 0.94}, {3.5, 0.045 * 0.94}, {4, 0.045 * 0.94 * 0.94},
		{100, 0.045 * math.Pow(0.94, 50)}, {-1, 0.045},
	} {
		if got := s.At(tc.epoch); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("At(%v) = %v, want %v", tc.epoch, got, tc.want)
		}
	}
	for _, bad := range []StepDecay{{0, 2, 0.94}, {0.1, 0, 0.94}, {0.1, 2, 0}, {0.1, 2, 1.5}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestClipByGlobalNorm(t *testing.T) {
	for _, tc := range []struct {
		name     string
		grads    [][]float64
		max      float64
		wantNorm float64
		want     [][]float64
	}{
		{"under", [][]float64{{0.6}, {0.8}}, 2, 1, [][]float64{{0.6}, {0.8}}},
		{"over", [][]float64{{3, 0}, {4}}, 2, 5, [][]float64{{1.2, 0}, {1.6}}},
		{"at", [][]float64{{2}}, 2, 2, [][]float64{{2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			norm, err := ClipByGlobalNorm(tc.grads, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(norm-tc.wantNorm) > 1e-12 {
				t.Errorf("norm %v, want %v", norm, tc.wantNorm)
			}
			for i := range tc.want {
				for j := range tc.want[i] {
					if math.Abs(tc.grads[i][j]-tc.want[i][j]) > 1e-12 {
						t.Errorf("grads %v, want %v", tc.grads, tc.want)
					}
				}
			}
		})
	}
	if _, err := ClipByGlobalNorm([][]float64{{1}}, 0); err == nil {
		t.Error("threshold 0: no error")
	}
	if _, err := ClipByGlobalNorm([][]float64{{math.NaN()}}, 2); err == nil {
		t.Error("NaN gradient: no error")
	}
}

func TestMilestones(t *testing.T) {
	m := Milestones{LR: 0.1, At: []int{30, 45}}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 0.1}, {29, 0.1}, {30, 0.01}, {44, 0.01}, {45, 0.001}, {1000, 0.001}} {
		if got := m.Rate(tc.step); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("step %d: %g, want %g", tc.step, got, tc.want)
		}
	}
	if got := (Milestones{LR: 0.5}).Rate(99); got != 0.5 {
		t.Errorf("no milestones: %g", got)
	}
}
