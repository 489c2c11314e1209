package alexnet

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/plots"
)

// LRNReference is §3.3's formula written as loops over NHWC activations a (n images of h×w×c):
//
//	b^i = a^i / (k + α Σ_{j=max(0, i−n/2)}^{min(N−1, i+n/2)} (a^j)²)^β
func LRNReference(a []float32, n, h, w, c int, cfg layers.LRN) []float32 {
	b := make([]float32, len(a))
	for p := range n * h * w {
		px := a[p*c : (p+1)*c]
		for i := range c {
			var sum float64
			for j := max(0, i-cfg.Size/2); j <= min(c-1, i+(cfg.Size-1)/2); j++ {
				sum += float64(px[j]) * float64(px[j])
			}
			b[p*c+i] = float32(float64(px[i]) / math.Pow(cfg.K+cfg.Alpha*sum, cfg.Beta))
		}
	}
	return b
}

// LRNCheck compares layers.LocalResponseNorm with [LRNReference].
type LRNCheck struct {
	Shape [4]int
	// MaxAbsDiff is the largest |layer − formula|; MaxRelChange the largest |b − a|/|a| (how much the layer
	// changes its input at these activation sizes).
	MaxAbsDiff, MaxRelChange float64
	// PyTorchAlpha is the α torch.nn.LocalResponseNorm needs for the same layer.
	PyTorchAlpha float64
}

// CheckLRN runs the project's layer on ReLU-like activations (|N(0, scale²)|, seeded) of shape [2, 5, 5, 16]
// and compares it with the formula.
func CheckLRN(backend compute.Backend, cfg layers.LRN, scale float64) (*LRNCheck, error) {
	const n, h, w, c = 2, 5, 5, 16
	rng := rand.New(rand.NewPCG(5, 5))
	a := make([]float32, n*h*w*c)
	for i := range a {
		a[i] = float32(math.Abs(rng.NormFloat64()) * scale)
	}
	out, err := model.CallOnce(backend, model.NewStore(), func(scope *model.Scope, x *graph.Node) *graph.Node {
		return layers.LocalResponseNorm(scope.In("lrn"), x, cfg)
	}, tensors.FromFlatDataAndDimensions(a, n, h, w, c))
	if err != nil {
		return nil, fmt.Errorf("alexnet: LRN layer: %w", err)
	}
	defer out.MustFinalizeAll()
	got, err := tensors.CopyFlatData[float32](out)
	if err != nil {
		return nil, fmt.Errorf("alexnet: LRN layer: %w", err)
	}
	want := LRNReference(a, n, h, w, c, cfg)
	chk := &LRNCheck{Shape: [4]int{n, h, w, c}, PyTorchAlpha: cfg.PyTorchAlpha()}
	for i := range got {
		chk.MaxAbsDiff = math.Max(chk.MaxAbsDiff, math.Abs(float64(got[i]-want[i])))
		if a[i] != 0 {
			chk.MaxRelChange = math.Max(chk.MaxRelChange, math.Abs(float64(want[i]-a[i]))/float64(a[i]))
		}
	}
	return chk, nil
}

// LRNFigure draws b against a for one channel whose four neighbours in the window are silent (0) or as active
// as it (a): with k = 2 the normalization is b ≈ a/2^0.75 for small activities and bends down once α·Σa² is
// comparable to k.
func LRNFigure(cfg layers.LRN) (*plots.Figure, error) {
	var xs, alone, crowd, ident []float64
	for i := 0; i <= 100; i++ {
		a := 4 * float64(i) // 0 … 400
		xs = append(xs, a)
		alone = append(alone, a/math.Pow(cfg.K+cfg.Alpha*a*a, cfg.Beta))
		crowd = append(crowd, a/math.Pow(cfg.K+cfg.Alpha*float64(cfg.Size)*a*a, cfg.Beta))
		ident = append(ident, a/math.Pow(cfg.K, cfg.Beta))
	}
	return plots.Curves("LRN (k=2, n=5, α=1e-4, β=0.75): output b of one channel", "activity a", "b",
		[]plots.Series{
			{Name: "a / k^β (no competition)", X: xs, Y: ident},
			{Name: "neighbours silent", X: xs, Y: alone},
			{Name: "4 neighbours equally active", X: xs, Y: crowd},
		})
}
