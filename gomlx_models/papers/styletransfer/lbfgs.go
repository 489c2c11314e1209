package styletransfer

import (
	"errors"
	"fmt"
	"math"
)

// Gatys et al. (2016, §2, and the methods of the 2015 preprint) optimise the image with L-BFGS: the loss is a
// smooth, deterministic function of the pixels (no mini-batches), which is the setting where a quasi-Newton method
// needs far fewer evaluations than a first-order one, and each evaluation (a forward and a backward pass through
// the network) is the whole cost. We implement limited-memory BFGS (Nocedal & Wright 2006, Algorithm 7.4, the
// two-loop recursion) with a backtracking line search on the Armijo condition.

// Objective returns f(x) and writes ∇f(x) into grad (len(grad) == len(x)).
type Objective func(x, grad []float64) (float64, error)

// LBFGS configures the optimiser.
type LBFGS struct {
	// History is m, the number of (s, y) pairs kept (default 10).
	History int
	// MaxIter is the number of iterations (each one line search, ≥ 1 evaluation).
	MaxIter int
	// MaxEvals bounds the number of objective evaluations (0: 3·MaxIter).
	MaxEvals int
	// Tol stops when ‖∇f‖∞ ≤ Tol (default 0: never).
	Tol float64
	// OnIter, if not nil, is called after each iteration with its number (from 1), f and the evaluations so
	// far.
	OnIter func(iter int, f float64, evals int)
	// Stop, if not nil, is called after each iteration (after OnIter) with its number and f; returning true
	// ends the run there (a loss curve that has gone flat, say).
	Stop func(iter int, f float64) bool
}

// ErrLineSearch is returned when the line search finds no decrease along a descent direction.
var ErrLineSearch = errors.New("line search found no decrease")

// Minimize runs L-BFGS from x (which it updates in place) and returns the final f and the number of objective
// evaluations.
func (o LBFGS) Minimize(f Objective, x []float64) (fx float64, evals int, err error) {
	m := o.History
	if m <= 0 {
		m = 10
	}
	if o.MaxIter < 1 {
		return 0, 0, fmt.Errorf("L-BFGS: MaxIter must be positive, got %d", o.MaxIter)
	}
	maxEvals := o.MaxEvals
	if maxEvals <= 0 {
		maxEvals = 3 * o.MaxIter
	}
	n := len(x)
	g := make([]float64, n)
	fx, err = f(x, g)
	evals = 1
	if err != nil {
		return 0, evals, err
	}
	if !finiteF(fx) {
		return fx, evals, fmt.Errorf("L-BFGS: f(x₀) = %g", fx)
	}
	var ss, ys [][]float64
	var rhos []float64
	d := make([]float64, n)
	alpha := make([]float64, m)
	xNew, gNew := make([]float64, n), make([]float64, n)
	for iter := 1; iter <= o.MaxIter; iter++ {
		if normInf(g) <= o.Tol {
			break
		}
		// Two-loop recursion: d = −H g with H₀ = (sᵀy / yᵀy) I.
		copy(d, g)
		for i := len(ss) - 1; i >= 0; i-- {
			alpha[i] = rhos[i] * dot(ss[i], d)
			axpy(-alpha[i], ys[i], d)
		}
		gamma := 1.0
		if k := len(ss) - 1; k >= 0 {
			gamma = dot(ss[k], ys[k]) / dot(ys[k], ys[k])
		}
		for i := range d {
			d[i] *= gamma
		}
		for i := range ss {
			b := rhos[i] * dot(ys[i], d)
			axpy(alpha[i]-b, ss[i], d)
		}
		for i := range d {
			d[i] = -d[i]
		}
		slope := dot(g, d)
		if !(slope < 0) { // not a descent direction: restart from steepest descent.
			ss, ys, rhos = nil, nil, nil
			for i := range d {
				d[i] = -g[i]
			}
			slope = dot(g, d)
		}
		// The first step has no curvature information: scale it to a unit move.
		step := 1.0
		if len(ss) == 0 {
			step = 1 / math.Max(normInf(g), 1e-300)
		}
		const c1 = 1e-4
		accepted := false
		var fNew float64
		for evals < maxEvals {
			for i := range x {
				xNew[i] = x[i] + step*d[i]
			}
			fNew, err = f(xNew, gNew)
			evals++
			if err != nil {
				return fx, evals, err
			}
			if finiteF(fNew) && fNew <= fx+c1*step*slope {
				accepted = true
				break
			}
			step /= 4
		}
		if !accepted {
			if evals >= maxEvals {
				break
			}
			return fx, evals, fmt.Errorf("L-BFGS iteration %d: %w", iter, ErrLineSearch)
		}
		s, y := make([]float64, n), make([]float64, n)
		for i := range x {
			s[i] = xNew[i] - x[i]
			y[i] = gNew[i] - g[i]
		}
		if sy := dot(s, y); sy > 1e-12*math.Sqrt(dot(s, s)*dot(y, y)) { // keep H positive definite.
			if len(ss) == m {
				ss, ys, rhos = ss[1:], ys[1:], rhos[1:]
			}
			ss, ys, rhos = append(ss, s), append(ys, y), append(rhos, 1/sy)
		}
		copy(x, xNew)
		copy(g, gNew)
		fx = fNew
		if o.OnIter != nil {
			o.OnIter(iter, fx, evals)
		}
		if evals >= maxEvals || o.Stop != nil && o.Stop(iter, fx) {
			break
		}
	}
	return fx, evals, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func normInf(a []float64) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

func finiteF(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
