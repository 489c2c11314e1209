package regularize

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
)

// bnLoss builds L = Σ w ⊙ σ(BN(x)) in training mode with the given batch normalization, and returns L and
// ∂L/∂x.
func bnLoss(bn func(scope *model.Scope, x *graph.Node) *graph.Node) func(scope *model.Scope, x *graph.Node) []*graph.Node {
	w := [][]float64{{0.3, -1}, {2, 0.5}, {-0.7, 1.1}, {0.2, 0.9}}
	return func(scope *model.Scope, x *graph.Node) []*graph.Node {
		scope.Store().SetTraining(x.Graph(), true)
		l := graph.ReduceAllSum(graph.Mul(graph.Sigmoid(bn(scope, x)), graph.Const(x.Graph(), w)))
		return []*graph.Node{l, graph.Gradient(l, x)[0]}
	}
}

// maxGradError compares the graph gradient of fn at x with central finite differences.
func maxGradError(t *testing.T, fn func(scope *model.Scope, x *graph.Node) []*graph.Node, x [][]float64) float64 {
	t.Helper()
	outs, err := model.CallOnceN(backend(t), model.NewStore(), fn, x)
	if err != nil {
		t.Fatal(err)
	}
	grad := outs[1].Value().([][]float64)
	loss := func(x [][]float64) float64 {
		o, err := model.CallOnceN(backend(t), model.NewStore(), fn, x)
		if err != nil {
			t.Fatal(err)
		}
		return o[0].Value().(float64)
	}
	worst := 0.0
	const h = 1e-6
	for i := range x {
		for j := range x[i] {
			orig := x[i][j]
			x[i][j] = orig + h
			lp := loss(x)
			x[i][j] = orig - h
			lm := loss(x)
			x[i][j] = orig
			worst = math.Max(worst, math.Abs((lp-lm)/(2*h)-grad[i][j]))
		}
	}
	return worst
}

// TestBatchNormGradient: our BatchNorm's gradient with respect to its input matches finite differences
// (it flows through μ_B and σ²_B, as in §3 of the paper); GoMLX's norm.BatchNorm, which stops it there, does not.
func TestBatchNormGradient(t *testing.T) {
	x := [][]float64{{1, 2}, {2, -1}, {3, 0.5}, {6, 4}}
	tests := []struct {
		name      string
		bn        func(scope *model.Scope, x *graph.Node) *graph.Node
		wantMatch bool
	}{
		{"ours", func(scope *model.Scope, x *graph.Node) *graph.Node { return BatchNorm(scope, x, -1) }, true},
		{"GoMLX norm.BatchNorm", func(scope *model.Scope, x *graph.Node) *graph.Node {
			return norm.BatchNorm(scope, x, -1).UseBackendInference(false).Done()
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errMax := maxGradError(t, bnLoss(tc.bn), x)
			if match := errMax < 1e-6; match != tc.wantMatch {
				t.Errorf("largest gradient error vs finite differences %.3g: match = %v, want %v", errMax, match, tc.wantMatch)
			}
		})
	}
}

// TestBatchNormMatchesGoMLXForward: the forward pass and the moving averages of our BatchNorm equal
// norm.BatchNorm's, in training mode over several batches and then in inference mode.
func TestBatchNormMatchesGoMLXForward(t *testing.T) {
	batches := [][][]float64{
		{{1, 2, 0}, {2, -1, 1}, {3, 0.5, 2}, {6, 4, -3}},
		{{0, 1, 1}, {4, -2, 0}, {1, 1.5, 2}, {2, 3, 5}},
		{{-1, 0, 2}, {5, 2, 2}, {0.5, 0.5, 1}, {3, -4, 0}},
	}
	type impl func(scope *model.Scope, x *graph.Node) *graph.Node
	ours := impl(func(scope *model.Scope, x *graph.Node) *graph.Node { return BatchNorm(scope, x, -1) })
	theirs := impl(func(scope *model.Scope, x *graph.Node) *graph.Node {
		return norm.BatchNorm(scope, x, -1).Momentum(BNMomentum).Epsilon(BNEpsilon).UseBackendInference(false).Done()
	})
	run := func(fn impl) (outs [][][]float64) {
		store := model.NewStore()
		for _, training := range []bool{true, true, true, false} {
			exec, err := model.NewExec(backend(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
				scope.Store().SetTraining(x.Graph(), training)
				return fn(scope.In("bn"), x)
			})
			if err != nil {
				t.Fatal(err)
			}
			b := batches[len(outs)%len(batches)]
			o, err := exec.Exec(b)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, o[0].Value().([][]float64))
			exec.Finalize()
		}
		return outs
	}
	a, b := run(ours), run(theirs)
	for k := range a {
		for i := range a[k] {
			for j := range a[k][i] {
				if math.Abs(a[k][i][j]-b[k][i][j]) > 1e-9 {
					t.Fatalf("call %d, [%d][%d]: ours %g, GoMLX %g", k, i, j, a[k][i][j], b[k][i][j])
				}
			}
		}
	}
}
