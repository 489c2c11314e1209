package inception

import (
	"fmt"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/plots"
)

// ModuleMACs sums the summary's multiply-adds by module (the first element of each layer's scope path), in
// network order.
func ModuleMACs(s *Size) (names []string, macs []float64) {
	byName := make(map[string]float64)
	for _, r := range s.Table.Rows {
		byName[strings.SplitN(strings.TrimPrefix(r.Layer, "/"), "/", 2)[0]] += float64(r.MACs)
	}
	for _, m := range models.InceptionV3Modules {
		names = append(names, m.Name)
		macs = append(macs, byName[m.Name])
	}
	return names, macs
}

// SizeFigure plots the multiply-adds of each module (stem, mixed0 … mixed10) in millions.
func SizeFigure(s *Size) (*plots.Figure, error) {
	names, macs := ModuleMACs(s)
	x := make([]float64, len(macs))
	y := make([]float64, len(macs))
	for i := range macs {
		x[i], y[i] = float64(i), macs[i]/1e6
	}
	return plots.Curves(fmt.Sprintf("Inception v3: multiply-adds per module (0 = %s … %d = %s), total %.2f×10⁹", names[0], len(names)-1, names[len(names)-1], float64(s.MACs)/1e9),
		"module", "million multiply-adds", []plots.Series{{Name: "per module", X: x, Y: y, Points: true}})
}

// FactorizationFigure plots the measured relative cost of each factorized stack against the paper's.
func FactorizationFigure(rs []FactorizationResult) (*plots.Figure, error) {
	var x, ours, px, paper []float64
	for i, r := range rs {
		x = append(x, float64(i))
		ours = append(ours, 1-r.Saving)
		if r.PaperSaving > 0 {
			px = append(px, float64(i))
			paper = append(paper, 1-r.PaperSaving)
		}
	}
	return plots.Curves("factorized stack's cost / original's (0: 5×5→3×3+3×3, 1: 3×3→3×1+1×3, 2: 3×3→2×2+2×2, 3: 7×7→1×7+7×1)",
		"factorization", "relative multiply-adds", []plots.Series{{Name: "measured (summary)", X: x, Y: ours, Points: true},
			{Name: "paper", X: px, Y: paper, Points: true}})
}

// ReductionFigure plots each grid-reduction variant's multiply-adds and narrowest cut.
func ReductionFigure(rs []ReductionResult) (*plots.Figure, error) {
	var x, macs, cut []float64
	for i, r := range rs[:3] {
		x = append(x, float64(i))
		macs = append(macs, float64(r.MACs)/1e6)
		cut = append(cut, float64(r.Smallest)/1e3)
	}
	return plots.Curves("grid reduction 35×35×320 → 17×17×640 (0: pool first, 1: expand first, 2: parallel)", "variant",
		"millions of multiply-adds / thousands of values", []plots.Series{{Name: "multiply-adds (M)", X: x, Y: macs, Points: true},
			{Name: "narrowest cut (k values)", X: x, Y: cut, Points: true}})
}

// ReliabilityFigure is the reliability diagram of each run: accuracy against confidence per bin (the diagonal is
// perfect calibration).
func ReliabilityFigure(cs []Confidence) (*plots.Figure, error) {
	series := []plots.Series{{Name: "perfect calibration", X: []float64{0, 1}, Y: []float64{0, 1}}}
	for _, c := range cs {
		series = append(series, plots.Series{Name: fmt.Sprintf("ε = %g, seed %d (ECE %.3f)", c.Epsilon, c.Seed, c.ECE), X: c.BinConfidence, Y: c.BinAccuracy, Points: true})
	}
	return plots.Curves("reliability diagram on the test images", "confidence (mean per bin)", "accuracy", series)
}
