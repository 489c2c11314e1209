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

// ConstructionFigure plots every logit of the deepened networks against the shallow network's.
func ConstructionFigure(built []*Constructed) (*plots.Figure, error) {
	var series []plots.Series
	for _, c := range built {
		n := min(len(c.ShallowLogits), 2000)
		s := plots.Series{Name: fmt.Sprintf("%s → %s", c.Shallow.Name, c.Deep.Name), MarkersOnly: true}
		for i := range n {
			s.X, s.Y = append(s.X, float64(c.ShallowLogits[i])), append(s.Y, float64(c.DeepLogits[i]))
		}
		series = append(series, s)
	}
	if len(series) == 0 {
		return nil, errors.New("ConstructionFigure: nothing built")
	}
	return plots.Curves("deeper network by construction: its logits against the shallow network's", "shallow logit",
		"deep logit", series)
}

// ErrorFigure plots test (and training) error over the steps of each run.
func ErrorFigure(runs []*Trained) (*plots.Figure, error) {
	var series []plots.Series
	for _, r := range runs {
		for _, set := range []string{"test", "train"} {
			s := plots.Series{Name: fmt.Sprintf("%s (%s)", r.Config.Name, set), Points: true}
			s.X, s.Y = errorSeries(r, set)
			if len(s.X) > 0 {
				series = append(series, s)
			}
		}
	}
	if len(series) == 0 {
		return nil, errors.New("ErrorFigure: no evaluation")
	}
	return plots.Curves("CIFAR ResNet: error over training", "step", "error (%)", series)
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
