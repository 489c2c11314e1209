package optim

import (
	"errors"
	"fmt"
	"math"
)

// StepDecay is a staircase learning-rate schedule: η(e) = LR0 · Factor^⌊e/Every⌋ at (fractional) epoch e.
// Szegedy et al. 2016 (§8) train Inception v3 with LR0 = 0.045 decayed every two epochs by 0.94.
type StepDecay struct {
	// LR0 is the initial learning rate.
	LR0 float64
	// Every is the decay interval in epochs.
	Every float64
	// Factor multiplies the learning rate at every interval.
	Factor float64
}

// InceptionV3Schedule is the paper's schedule: 0.045 decayed by 0.94 every two epochs (§8).
var InceptionV3Schedule = StepDecay{LR0: 0.045, Every: 2, Factor: 0.94}

// Validate reports a non-positive LR0 or Every, or a Factor outside (0, 1].
func (s StepDecay) Validate() error {
	if !(s.LR0 > 0) || !(s.Every > 0) || !(s.Factor > 0 && s.Factor <= 1) {
		return fmt.Errorf("StepDecay: want LR0 > 0, Every > 0 and 0 < Factor ≤ 1, got %+v", s)
	}
	return nil
}

// At returns the learning rate at epoch e (e ≥ 0; negative epochs get LR0).
func (s StepDecay) At(epoch float64) float64 {
	if epoch <= 0 {
		return s.LR0
	}
	return s.LR0 * math.Pow(s.Factor, math.Floor(epoch/s.Every))
}

// ClipByGlobalNorm rescales the gradients in place so that their joint Euclidean norm √(Σ g²) is at most
// maxNorm (the paper's "gradient clipping with threshold 2.0", §8, as TensorFlow's clip_by_global_norm does it:
// g ← g · maxNorm / max(norm, maxNorm)). It returns the norm before clipping.
func ClipByGlobalNorm(grads [][]float64, maxNorm float64) (norm float64, err error) {
	if !(maxNorm > 0) {
		return 0, fmt.Errorf("ClipByGlobalNorm: threshold must be positive, got %v", maxNorm)
	}
	var sum float64
	for _, g := range grads {
		for _, v := range g {
			sum += v * v
		}
	}
	norm = math.Sqrt(sum)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, errors.New("ClipByGlobalNorm: gradient norm is not finite")
	}
	if norm <= maxNorm {
		return norm, nil
	}
	scale := maxNorm / norm
	for _, g := range grads {
		for i := range g {
			g[i] *= scale
		}
	}
	return norm, nil
}

// Milestones is a step-wise schedule that divides the learning rate by 10 at each milestone: the rate after step
// s is LR / 10^(number of milestones ≤ s). Milestones count steps (or epochs: the caller's unit); He et al. 2016
// (§4.2) divide by 10 at 32k and 48k iterations.
type Milestones struct {
	LR float64
	At []int
}

// Rate returns the learning rate after step.
func (m Milestones) Rate(step int) float64 {
	lr := m.LR
	for _, at := range m.At {
		if step >= at {
			lr /= 10
		}
	}
	return lr
}
