package optim

import (
	"errors"
	"fmt"
	"slices"
)

// StepFunc is a [Stepper] written as a function: a notebook cell can write an update rule as a closure over its
// own state and walk it with [Walk], next to the package's implementation.
type StepFunc func(theta, grad []float64)

// Step calls f.
func (f StepFunc) Step(theta, grad []float64) { f(theta, grad) }

// Walk runs steps updates of stepper on f from start, using grad for the gradients, and returns the visited
// points and their losses. It is [Trajectory] for any Stepper, the package's or one written elsewhere.
func Walk(stepper Stepper, f func([]float64) float64, grad func([]float64) []float64, start []float64,
	steps int) (Path, error) {
	if stepper == nil || f == nil || grad == nil {
		return Path{}, errors.New("optim.Walk: stepper, f and grad must be non-nil")
	}
	if len(start) == 0 || steps < 0 {
		return Path{}, fmt.Errorf("optim.Walk: need a non-empty start and steps >= 0, got %d values and %d steps",
			len(start), steps)
	}
	theta := slices.Clone(start)
	path := Path{Points: make([][]float64, 0, steps+1), Loss: make([]float64, 0, steps+1)}
	path.Points = append(path.Points, slices.Clone(theta))
	path.Loss = append(path.Loss, f(theta))
	for i := range steps {
		g := grad(theta)
		if len(g) != len(theta) {
			return path, fmt.Errorf("optim.Walk: step %d: grad returned %d values for %d parameters", i, len(g), len(theta))
		}
		stepper.Step(theta, g)
		path.Points = append(path.Points, slices.Clone(theta))
		path.Loss = append(path.Loss, f(theta))
	}
	return path, nil
}

// MaxDeviation is the largest |a − b| over every coordinate of every point of two paths of the same length, or
// an error when their lengths differ.
func MaxDeviation(a, b Path) (float64, error) {
	if len(a.Points) != len(b.Points) {
		return 0, fmt.Errorf("optim.MaxDeviation: paths of %d and %d points", len(a.Points), len(b.Points))
	}
	d := 0.0
	for i := range a.Points {
		if len(a.Points[i]) != len(b.Points[i]) {
			return 0, fmt.Errorf("optim.MaxDeviation: point %d has %d and %d coordinates", i, len(a.Points[i]), len(b.Points[i]))
		}
		for j := range a.Points[i] {
			if diff := a.Points[i][j] - b.Points[i][j]; diff > d || -diff > d {
				d = max(diff, -diff)
			}
		}
	}
	return d, nil
}
