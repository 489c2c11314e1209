package optim

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/graph"
)

// Objective is a differentiable test function of a parameter vector, in three equivalent
// forms: F and Grad in pure Go (float64) for trajectories and contour plots, and Graph for
// running our GoMLX optimizers on it (see GraphTrajectory).
type Objective struct {
	// Name describes the function, e.g. "quadratic(1,10)".
	Name string
	// Dim is the length of the parameter vector.
	Dim int
	// F is the function value at p.
	F func(p []float64) float64
	// Grad is ∇F at p (a new slice).
	Grad func(p []float64) []float64
	// Graph builds F on a rank-1 node p of Dim values (any float dtype) and returns a scalar.
	Graph func(p *graph.Node) *graph.Node
	// Minimum is the known minimiser, or nil if not known in closed form.
	Minimum []float64
}

// Quadratic is the axis-aligned ill-conditioned bowl f(x, y) = ½(a·x² + b·y²), with Hessian
// diag(a, b) and condition number b/a; e.g. Quadratic(1, 10) is the notes' f = ½(x² + 10y²).
// Plain gradient descent on it converges only for η < 2/max(a, b) and zig-zags along the
// steep axis as η approaches that bound.
func Quadratic(a, b float64) Objective {
	return RotatedQuadratic(a, b, 0)
}

// RotatedQuadratic is Quadratic(a, b) rotated by angle radians: f(p) = ½ (Rp)ᵀ diag(a, b) (Rp),
// with R the rotation by −angle, so the valley's axes are no longer aligned with the
// coordinates (which is what defeats per-coordinate methods such as RMSProp and Adam).
func RotatedQuadratic(a, b, angle float64) Objective {
	c, s := math.Cos(angle), math.Sin(angle)
	// u, v: coordinates along the principal axes.
	rot := func(x, y float64) (u, v float64) { return c*x + s*y, -s*x + c*y }
	name := fmt.Sprintf("quadratic(%g,%g)", a, b)
	if angle != 0 {
		name = fmt.Sprintf("quadratic(%g,%g,rot=%.3g)", a, b, angle)
	}
	return Objective{
		Name: name,
		Dim:  2,
		F: func(p []float64) float64 {
			u, v := rot(p[0], p[1])
			return 0.5 * (a*u*u + b*v*v)
		},
		Grad: func(p []float64) []float64 {
			u, v := rot(p[0], p[1])
			du, dv := a*u, b*v
			// ∂f/∂x = du·∂u/∂x + dv·∂v/∂x, etc.
			return []float64{du*c - dv*s, du*s + dv*c}
		},
		Graph: func(p *graph.Node) *graph.Node {
			x := graph.Slice(p, graph.AxisElem(0))
			y := graph.Slice(p, graph.AxisElem(1))
			u := graph.Add(graph.MulScalar(x, c), graph.MulScalar(y, s))
			v := graph.Sub(graph.MulScalar(y, c), graph.MulScalar(x, s))
			sum := graph.Add(graph.MulScalar(graph.Square(u), a), graph.MulScalar(graph.Square(v), b))
			return graph.Reshape(graph.MulScalar(sum, 0.5))
		},
		Minimum: []float64{0, 0},
	}
}

// Rosenbrock is the banana-shaped valley f(x, y) = (a − x)² + b·(y − x²)², minimum at
// (a, a²); Rosenbrock(1, 100) is the classic one.
func Rosenbrock(a, b float64) Objective {
	return Objective{
		Name: fmt.Sprintf("rosenbrock(%g,%g)", a, b),
		Dim:  2,
		F: func(p []float64) float64 {
			x, y := p[0], p[1]
			return (a-x)*(a-x) + b*(y-x*x)*(y-x*x)
		},
		Grad: func(p []float64) []float64 {
			x, y := p[0], p[1]
			r := y - x*x
			return []float64{-2*(a-x) - 4*b*x*r, 2 * b * r}
		},
		Graph: func(p *graph.Node) *graph.Node {
			x := graph.Slice(p, graph.AxisElem(0))
			y := graph.Slice(p, graph.AxisElem(1))
			t1 := graph.Square(graph.AddScalar(graph.Neg(x), a))
			t2 := graph.MulScalar(graph.Square(graph.Sub(y, graph.Square(x))), b)
			return graph.Reshape(graph.Add(t1, t2))
		},
		Minimum: []float64{a, a * a},
	}
}

// LinearRegression is the mean squared error of a linear model on fixed data,
// f(p) = (1/n)·Σᵢ (xᵢ·w + c − yᵢ)², with p = [w₁ … w_d, c]. It returns an error if x is
// empty, ragged, or does not match y.
func LinearRegression(x [][]float64, y []float64) (Objective, error) {
	n := len(x)
	if n == 0 || len(y) != n {
		return Objective{}, fmt.Errorf("optim.LinearRegression: need as many rows in x as values in y (>0), got %d and %d", n, len(y))
	}
	d := len(x[0])
	flat := make([]float64, 0, n*d)
	for i, row := range x {
		if len(row) != d || d == 0 {
			return Objective{}, fmt.Errorf("optim.LinearRegression: row %d of x has %d values, want %d (>0)", i, len(row), d)
		}
		flat = append(flat, row...)
	}
	residuals := func(p []float64) []float64 {
		r := make([]float64, n)
		for i := range n {
			s := p[d]
			for j := range d {
				s += x[i][j] * p[j]
			}
			r[i] = s - y[i]
		}
		return r
	}
	return Objective{
		Name: fmt.Sprintf("linreg(n=%d,d=%d)", n, d),
		Dim:  d + 1,
		F: func(p []float64) float64 {
			var s float64
			for _, r := range residuals(p) {
				s += r * r
			}
			return s / float64(n)
		},
		Grad: func(p []float64) []float64 {
			g := make([]float64, d+1)
			for i, r := range residuals(p) {
				for j := range d {
					g[j] += 2 * r * x[i][j] / float64(n)
				}
				g[d] += 2 * r / float64(n)
			}
			return g
		},
		Graph: func(p *graph.Node) *graph.Node {
			g := p.Graph()
			xs := graph.ConvertDType(graph.Const(g, flat), p.DType())
			xs = graph.Reshape(xs, n, d)
			ys := graph.ConvertDType(graph.Const(g, y), p.DType())
			w := graph.Slice(p, graph.AxisRange(0, d))
			c := graph.Slice(p, graph.AxisElem(d))
			pred := graph.Add(graph.DotProduct(xs, w), c)
			return graph.ReduceAllMean(graph.Square(graph.Sub(pred, ys)))
		},
	}, nil
}
