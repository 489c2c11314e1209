package resnet

import (
	"errors"
	"fmt"

	"github.com/convnotes/convnotes/plots"
)

// UnitFigure shows the first four output channels of a checked block: the library's (top) and BasicUnit's
// (bottom).
func UnitFigure(c UnitCheck) (*plots.Figure, error) {
	if c.Run == nil {
		return nil, errors.New("UnitFigure: no block run")
	}
	n := min(4, c.Run.Output.C)
	var imgs []plots.Image
	for _, src := range []struct {
		name string
		im   Image
	}{{"library", c.Run.Output}, {"plain Go", c.Mine}} {
		for ch := range n {
			pix := make([]float32, src.im.H*src.im.W)
			for p := range pix {
				pix[p] = float32(src.im.Pix[p*src.im.C+ch])
			}
			imgs = append(imgs, plots.Image{Pix: pix, H: src.im.H, W: src.im.W, C: 1, Label: fmt.Sprintf("%s ch %d", src.name, ch)})
		}
	}
	return plots.ImageGrid("residual block y = ReLU(F(x) + x), option A at stride 2: library (top) and plain Go (bottom)",
		imgs, n, plots.SizePixels(640, 360))
}

// ImageNetFigure plots Table 1's multiply-adds against depth beside ours.
func ImageNetFigure(rows []ImageNetRow) (*plots.Figure, error) {
	paper := plots.Series{Name: "Table 1", MarkersOnly: true}
	v1 := plots.Series{Name: "ours, paper's bottleneck", Points: true}
	v15 := plots.Series{Name: "ours, torchvision v1.5", Points: true}
	for _, r := range rows {
		d := float64(r.Config.Depth())
		paper.X, paper.Y = append(paper.X, d), append(paper.Y, r.PaperGFLOPs)
		v1.X, v1.Y = append(v1.X, d), append(v1.Y, float64(r.Paper.MACs)/1e9)
		v15.X, v15.Y = append(v15.X, d), append(v15.Y, float64(r.V15.MACs)/1e9)
	}
	return plots.Curves("ImageNet ResNets on 224×224: multiply-adds", "layers", "multiply-adds (×10⁹)",
		[]plots.Series{paper, v1, v15})
}

// BlocksFigure tabulates Fig. 5's two blocks.
func BlocksFigure(bc BlockCosts) (*plots.Figure, error) {
	m := [][]float64{
		{float64(bc.Basic.MACs) / 1e6, float64(bc.Basic.Params) / 1e3},
		{float64(bc.Bottleneck.MACs) / 1e6, float64(bc.Bottleneck.Params) / 1e3},
	}
	return plots.Heatmap("one block on the 56×56 grid (Fig. 5)", m, []string{"basic, 64-d", "bottleneck, 256-d"},
		[]string{"multiply-adds (M)", "parameters (K)"}, true, plots.SizePixels(560, 300))
}

// ShortcutFigure tabulates the parameters each shortcut option adds over option A.
func ShortcutFigure(rows []ShortcutRow) (*plots.Figure, error) {
	var m [][]float64
	var names []string
	for _, r := range rows {
		m = append(m, []float64{0, float64(r.B.Params-r.A.Params) / 1e3, float64(r.C.Params-r.A.Params) / 1e3})
		names = append(names, r.Name)
	}
	return plots.Heatmap("parameters added over option A (thousands)", m, names, []string{"A", "B", "C"}, true,
		plots.SizePixels(560, 300))
}

// ConstructionFigures plot, for each deepened network, the difference deep − shallow of every logit against the
// shallow network's logit: zero everywhere when the construction holds. One figure per network, so that neither
// hides the other.
func ConstructionFigures(built []*Constructed) ([]*plots.Figure, error) {
	if len(built) == 0 {
		return nil, errors.New("ConstructionFigures: nothing built")
	}
	var figs []*plots.Figure
	for _, c := range built {
		n := min(len(c.ShallowLogits), 2000)
		s := plots.Series{Name: fmt.Sprintf("%s − %s, %d logits", c.Deep.Name, c.Shallow.Name, n), MarkersOnly: true}
		for i := range n {
			s.X, s.Y = append(s.X, float64(c.ShallowLogits[i])), append(s.Y, float64(c.DeepLogits[i]-c.ShallowLogits[i]))
		}
		span := max(1.5*c.MaxDiff, 1e-6)
		f, err := plots.Curves(fmt.Sprintf("%s built from a trained %s: max |Δlogit| = %.2g", c.Deep.Name, c.Shallow.Name, c.MaxDiff),
			"shallow network's logit", "deep − shallow logit", []plots.Series{s}, plots.YRange(-span, span))
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// ErrorFigure plots test (and training) error over the steps of each run, averaged over its seeds.
func ErrorFigure(runs []*Trained) (*plots.Figure, error) {
	if len(runs) == 0 {
		return nil, errors.New("ErrorFigure: no runs")
	}
	var names []string
	groups := map[string][]*Trained{}
	for _, r := range runs {
		if _, ok := groups[r.Config.Name]; !ok {
			names = append(names, r.Config.Name)
		}
		groups[r.Config.Name] = append(groups[r.Config.Name], r)
	}
	var series []plots.Series
	for _, n := range names {
		s := plots.Series{Name: fmt.Sprintf("%s (test, mean of %d seeds)", n, len(groups[n])), Points: true}
		s.X, s.Y = meanErrorSeries(groups[n], "test")
		if len(s.X) > 0 {
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		return nil, errors.New("ErrorFigure: no evaluation")
	}
	return plots.Curves(fmt.Sprintf("ResNets and plain networks of depth 6n+2 on %s: test error over training", runs[0].Data), "step", "test error (%)", series)
}

// errorSeries is the error in % of r on the evaluation set over the steps.
func errorSeries(r *Trained, set string) (steps, errs []float64) {
	steps, acc, err := r.Fitted.Run.History.EvalSeries(set, "step", "accuracy")
	if err != nil {
		return nil, nil
	}
	for _, a := range acc {
		errs = append(errs, 100*(1-a))
	}
	return steps, errs
}
