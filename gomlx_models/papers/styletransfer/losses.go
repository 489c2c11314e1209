package styletransfer

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

// The losses of Gatys, Ecker & Bethge (2016, §2, eqs. 1–7), twice: in plain Go on a feature matrix (the notebook's
// worked examples and the tests' reference), and as graph functions on a layer's activations [1, H, W, N], whose
// gradients GoMLX's autodiff takes with respect to the image.
//
// A layer with N_l filters and M_l = H·W positions gives the feature matrix F^l ∈ R^{N_l×M_l}; F^l_ij is filter
// i at position j. With the activations stored NHWC, F^l_ij = act[j·N_l + i].

// Features is one layer's feature matrix F (N filters × M positions), stored as NHWC activations are: position
// j's N values are contiguous, so F_ij = Data[j*N+i].
type Features struct {
	N, M int
	Data []float64
}

// At returns F_ij.
func (f Features) At(i, j int) float64 { return f.Data[j*f.N+i] }

func (f Features) check(name string) error {
	if f.N < 1 || f.M < 1 || len(f.Data) != f.N*f.M {
		return fmt.Errorf("%s: %d values for N=%d filters × M=%d positions", name, len(f.Data), f.N, f.M)
	}
	return nil
}

// ContentLoss is eq. 1: L_content = ½ Σ_ij (F_ij − P_ij)², F the generated image's features, P the content
// image's.
func ContentLoss(f, p Features) (float64, error) {
	if err := f.check("F"); err != nil {
		return 0, err
	}
	if f.N != p.N || f.M != p.M || len(p.Data) != len(f.Data) {
		return 0, fmt.Errorf("content loss: F is %d×%d, P is %d×%d", f.N, f.M, p.N, p.M)
	}
	var s float64
	for k := range f.Data {
		d := f.Data[k] - p.Data[k]
		s += d * d
	}
	return s / 2, nil
}

// Gram is eq. 3: G_ij = Σ_k F_ik F_jk, the N×N inner products of the filter responses over positions
// (row-major).
func Gram(f Features) ([]float64, error) {
	if err := f.check("F"); err != nil {
		return nil, err
	}
	g := make([]float64, f.N*f.N)
	for k := range f.M {
		row := f.Data[k*f.N : (k+1)*f.N]
		for i, a := range row {
			for j, b := range row {
				g[i*f.N+j] += a * b
			}
		}
	}
	return g, nil
}

// LayerStyleLoss is eq. 4: E_l = 1/(4 N² M²) Σ_ij (G_ij − A_ij)², G the generated image's Gram matrix and A the
// style image's, both N×N; m is M_l, the number of positions of the layer.
func LayerStyleLoss(g, a []float64, n, m int) (float64, error) {
	if n < 1 || m < 1 || len(g) != n*n || len(a) != n*n {
		return 0, fmt.Errorf("style loss: Gram matrices of %d and %d values, want N²=%d (M=%d)", len(g), len(a), n*n, m)
	}
	var s float64
	for k := range g {
		d := g[k] - a[k]
		s += d * d
	}
	nm := float64(n) * float64(m)
	return s / (4 * nm * nm), nil
}

// TotalLoss is eq. 7: L_total = α L_content + β Σ_l w_l E_l (eq. 5).
func TotalLoss(alpha, beta, content float64, weights, layerStyle []float64) (total, style float64, err error) {
	if len(weights) != len(layerStyle) {
		return 0, 0, fmt.Errorf("total loss: %d weights for %d style layers", len(weights), len(layerStyle))
	}
	for l, w := range weights {
		style += w * layerStyle[l]
	}
	return alpha*content + beta*style, style, nil
}

// featureMatrix reshapes one image's activations [1, H, W, N] to F^T, [M, N].
func featureMatrix(act *graph.Node) *graph.Node {
	d := act.Shape().Dimensions
	if act.Rank() != 4 || d[0] != 1 {
		panic(fmt.Errorf("styletransfer: want activations [1, H, W, N], got %s", act.Shape()))
	}
	return graph.Reshape(act, d[1]*d[2], d[3])
}

// ContentLossGraph is eq. 1 on activations: ½ Σ (act − target)², act and target [1, H, W, N].
func ContentLossGraph(act, target *graph.Node) *graph.Node {
	return graph.MulScalar(graph.ReduceAllSum(graph.Square(graph.Sub(act, target))), 0.5)
}

// GramGraph is eq. 3 on activations [1, H, W, N]: G = F Fᵀ, [N, N].
func GramGraph(act *graph.Node) *graph.Node {
	ft := featureMatrix(act)
	return graph.Einsum("mi,mj->ij", ft, ft)
}

// LayerStyleLossGraph is eq. 4: the activations' Gram matrix against the style image's A ([N, N]), divided by
// 4 N² M².
func LayerStyleLossGraph(act, a *graph.Node) *graph.Node {
	d := act.Shape().Dimensions
	nm := float64(d[3]) * float64(d[1]*d[2])
	return graph.MulScalar(graph.ReduceAllSum(graph.Square(graph.Sub(GramGraph(act), a))), 1/(4*nm*nm))
}
