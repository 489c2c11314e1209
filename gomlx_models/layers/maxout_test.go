package layers

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestMaxout(t *testing.T) {
	backend := goBackendForTest(t)
	for i, tc := range []struct{ batch, in, units, pieces int }{{3, 4, 2, 3}, {2, 5, 4, 1}, {1, 2, 1, 5}} {
		rng := rand.New(rand.NewSource(int64(80 + i)))
		x := make([]float32, tc.batch*tc.in)
		for j := range x {
			x[j] = float32(2*rng.Float64() - 1)
		}
		var piecesNode *graph.Node
		exec, err := model.NewExec(backend, model.NewStore(), func(scope *model.Scope, x *graph.Node) []*graph.Node {
			y := Maxout(scope.In("maxout"), x, tc.units, tc.pieces)
			// The affine pieces are the Dense sub-layer's output: rebuild it from the same variables.
			piecesNode = Dense(scope.Shared("maxout").In("pieces"), x, tc.units*tc.pieces)
			return []*graph.Node{y, piecesNode}
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, tc.batch, tc.in))
		if err != nil {
			t.Fatal(err)
		}
		y, z := flatValues(t, out[0]), flatValues(t, out[1])
		if len(y) != tc.batch*tc.units {
			t.Fatalf("%+v: %d outputs", tc, len(y))
		}
		for b := range tc.batch {
			for u := range tc.units {
				want := math.Inf(-1)
				for p := range tc.pieces {
					want = math.Max(want, z[(b*tc.units+u)*tc.pieces+p])
				}
				if y[b*tc.units+u] != want {
					t.Errorf("%+v: h[%d][%d] = %v, want max of its pieces %v", tc, b, u, y[b*tc.units+u], want)
				}
			}
		}
	}
}

func TestMaxoutChannels(t *testing.T) {
	backend := goBackendForTest(t)
	const n, h, w, c, pieces = 2, 3, 2, 6, 3
	rng := rand.New(rand.NewSource(91))
	perm := rng.Perm(n * h * w * c) // distinct values: one argmax per group
	x := make([]float64, len(perm))
	for i, p := range perm {
		x[i] = float64(p) - 30
	}
	exec, err := graph.NewExec(backend, func(x *graph.Node) []*graph.Node {
		y := MaxoutChannels(nil, x, pieces)
		yFast := MaxoutChannels(nil, fromCNHW(toCNHW(x)), pieces)
		return []*graph.Node{y, yFast, graph.Gradient(graph.ReduceAllSum(y), x)[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, n, h, w, c))
	if err != nil {
		t.Fatal(err)
	}
	y, yFast, dx := flatValues(t, out[0]), flatValues(t, out[1]), flatValues(t, out[2])
	for p := range n * h * w {
		for u := range c / pieces {
			best, arg := math.Inf(-1), 0
			for j := range pieces {
				if v := x[p*c+u*pieces+j]; v > best {
					best, arg = v, j
				}
			}
			if y[p*c/pieces+u] != best || yFast[p*c/pieces+u] != best {
				t.Errorf("position %d unit %d: %v / %v, want %v", p, u, y[p*c/pieces+u], yFast[p*c/pieces+u], best)
			}
			for j := range pieces {
				want := 0.0
				if j == arg {
					want = 1
				}
				if dx[p*c+u*pieces+j] != want {
					t.Errorf("position %d unit %d piece %d: gradient %v, want %v", p, u, j, dx[p*c+u*pieces+j], want)
				}
			}
		}
	}
}
