// Package styletransfer is notebook 10: Gatys, Ecker & Bethge, "A Neural Algorithm of Artistic Style" (2015) /
// "Image Style Transfer Using Convolutional Neural Networks" (CVPR 2016). An image is synthesised by optimising its
// pixels so that its features in a pretrained network match a photograph's (content, eq. 1) and the Gram matrices
// of its features match a painting's (style, eqs. 3–5), weighted by α and β (eq. 7). The network is section 08's
// pretrained Inception v3 (nsfwjs weights) with the layers chosen by the paper's VGG-19 logic, or VGG-19 with
// weights the user brings; the optimiser is L-BFGS, as in the paper.
package styletransfer

import (
	"fmt"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/plots"
)

// Section lists notebook 10's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "10", Title: "A Neural Algorithm of Artistic Style (Gatys et al.)",
		Experiments: []reproduce.Experiment{styleLossDecrease(), styleTradeOff()}}
}

// setup loads the backbone and the two photographs at side×side.
func setup(env *reproduce.Env, side int) (*Backbone, Image, Image, error) {
	b, err := Inception(env.Backend, true)
	if err != nil {
		return nil, Image{}, Image{}, err
	}
	content, err := LoadImage(ContentPhoto, side)
	if err != nil {
		return nil, Image{}, Image{}, err
	}
	style, err := LoadImage(StylePhoto, side)
	if err != nil {
		return nil, Image{}, Image{}, err
	}
	return b, content, style, nil
}

// ShowRatio is the α/β of the large synthesis.
const ShowRatio = 1e-3

// styleLossDecrease is the experiment "style-loss-decrease": the image, optimised from white noise, minimises
// eq. 7.
func styleLossDecrease() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "style-loss-decrease", Section: "10",
		Paper: "Gatys, Ecker & Bethge 2016, §2 (eq. 7) and Fig. 3",
		Claim: "starting from white noise, gradient-based optimisation of the pixels (L-BFGS) minimises " +
			"α L_content + β L_style, giving an image with the photograph's content and the painting's style",
		PaperValue: "the loss is minimised (no number printed); 512-px images",
		Measure: fmt.Sprintf("chelsea.png styled by starry_night.jpg, α/β = 1e-3, Inception v3 (nsfwjs) with average "+
			"pooling, content mixed1, style stem/conv1, stem/conv4, mixed0, mixed3, mixed8; L-BFGS from uniform noise "+
			"(seed 1) at %d px, to convergence: up to %d iterations, stopped when L_total fell by less than %.1f%% over %d "+
			"iterations; judged on L_total(end)/L_total(start) < 0.1 (quick: %d px × %d iterations)", Sizes.Full.ShowSide,
			Sizes.Full.Stop.MaxIter, 100*Sizes.Full.Stop.Tol, Sizes.Full.Stop.Window, Sizes.Quick.ShowSide, Sizes.Quick.Stop.MaxIter),
		Long: true, FullMinutes: 5,
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			st := Sizes.For(env.Profile)
			b, content, style, err := setup(env, st.ShowSide)
			if err != nil {
				return nil, err
			}
			runs, err := Sweep(env.Backend, b, content, style, []float64{ShowRatio}, InitNoise, st.Stop, st.Seeds[:1])
			if err != nil {
				return nil, err
			}
			return LossDecreaseResult(env, b, content, style, runs[0])
		},
	}
}

// LossDecreaseResult is the row of "style-loss-decrease": the synthesis l from white noise must end below a
// tenth of its starting loss (a deterministic run from a seeded start: an exact value).
func LossDecreaseResult(env *reproduce.Env, b *Backbone, content, style Image, l Labeled) (*reproduce.Result, error) {
	r := l.Run
	large, err := Large(fmt.Sprintf("from white noise, α/β = %g, %d×%d px, %d L-BFGS iterations", ShowRatio,
		r.Image.H, r.Image.W, len(r.History)-1), l)
	if err != nil {
		return nil, err
	}
	grid, err := Grid(fmt.Sprintf("photograph, painting and the synthesis (α/β = %g)", ShowRatio), 3,
		[]Labeled{AsLabeled("content", content), AsLabeled("style", style)}, []Labeled{l})
	if err != nil {
		return nil, err
	}
	curve, err := LossCurves("L-BFGS from white noise", []Labeled{l})
	if err != nil {
		return nil, err
	}
	figs, err := reproduce.SaveFigures(env, []*plots.Figure{large, grid, curve}, "style_from_noise_large.png",
		"style_from_noise.png", "style_from_noise_loss.png")
	if err != nil {
		return nil, err
	}
	j := env.Judge(reproduce.Below(0.1).In("× the starting loss"), reproduce.Exact(r.Decrease()))
	conv := fmt.Sprintf("not flat after %d iterations", len(r.History)-1)
	if r.Flat {
		conv = fmt.Sprintf("flat after %d iterations", len(r.History)-1)
	}
	return &reproduce.Result{Ours: fmt.Sprintf("L_total %.3g → %.3g (×%.2g), %s; %d evaluations, %.2f s each",
		r.History[0].Total, r.Final().Total, r.Decrease(), conv, r.Evals, r.SecondsPerEval),
		Value: r.Decrease(), Judgement: j, Figures: figs,
		Notes: fmt.Sprintf("%d×%d px, %s; %.1f%% of the optimised pixel values lie outside [0, 1] (clipped for display).",
			r.Image.H, r.Image.W, b.Name, 100*r.Outside)}, nil
}

// styleTradeOff is the experiment "style-tradeoff": along α/β = 1e-2 … 1e-5 the result matches the style more and
// the content less.
func styleTradeOff() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "style-tradeoff", Section: "10",
		Paper: "Gatys, Ecker & Bethge 2016, §3.2 and Fig. 3 (α/β from 1e-2 to 1e-5)",
		Claim: "the ratio α/β trades content against style: a smaller ratio gives an image that matches the " +
			"painting's style more closely and the photograph's content less",
		PaperValue: "content loss rises and style loss falls as α/β decreases (shown as images)",
		Measure: fmt.Sprintf("chelsea.png × starry_night.jpg at α/β = 1e-2, 1e-3, 1e-4, 1e-5 (α = 1), L-BFGS from white "+
			"noise (starts 1 and 2) at %d px to convergence (up to %d iterations, stopped when L_total fell by less than "+
			"%.1f%% over %d); final content and style losses of the converged images; judged on the steps between "+
			"consecutive ratios against the trade-off (exact counts of deterministic runs), inconclusive unless every run "+
			"went flat (quick %d px × %d iterations, one start)", Sizes.Full.Side, Sizes.Full.Stop.MaxIter, 100*Sizes.Full.Stop.Tol, Sizes.Full.Stop.Window,
			Sizes.Quick.Side, Sizes.Quick.Stop.MaxIter),
		Long: true, FullMinutes: 17,
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			st := Sizes.For(env.Profile)
			b, content, style, err := setup(env, st.Side)
			if err != nil {
				return nil, err
			}
			runs, err := Sweep(env.Backend, b, content, style, Ratios, InitNoise, st.Stop, st.Seeds)
			if err != nil {
				return nil, err
			}
			return TradeOffResult(env, b, content, style, runs)
		},
	}
}

// TradeOffResult is the row of "style-tradeoff": over the sweep's runs (Ratios for each start), the steps
// between consecutive ratios where the content loss does not rise or the style loss does not fall must be none.
func TradeOffResult(env *reproduce.Env, b *Backbone, content, style Image, runs []Labeled) (*reproduce.Result, error) {
	if len(runs) == 0 || len(runs)%len(Ratios) != 0 {
		return nil, fmt.Errorf("style trade-off: %d runs for %d ratios", len(runs), len(Ratios))
	}
	grid, err := Grid("α/β sweep from white noise (one row per start)", len(Ratios), nil, runs)
	if err != nil {
		return nil, err
	}
	curve, err := LossCurves("L-BFGS from white noise", runs)
	if err != nil {
		return nil, err
	}
	figs, err := reproduce.SaveFigures(env, []*plots.Figure{grid, curve}, "style_sweep.png", "style_sweep_loss.png")
	if err != nil {
		return nil, err
	}
	up, down, n := TradeOff(runs, len(Ratios))
	conv := Converged(runs)
	j := env.Judge(reproduce.Equals(0, 0).In(" steps against the trade-off"), reproduce.Exact(float64(2*n-up-down))).
		Provided(conv == len(runs), fmt.Sprintf("%d of %d runs stopped at the iteration cap before their loss went flat", len(runs)-conv, len(runs)))
	var parts []string
	for _, l := range runs {
		f := l.Run.Final()
		parts = append(parts, fmt.Sprintf("%s: %.3g/%.3g", l.Label, f.Content, f.Style))
	}
	return &reproduce.Result{
		Ours: fmt.Sprintf("content loss rises in %d/%d steps, style loss falls in %d/%d (%d white-noise starts); %d of %d runs converged (flat loss)",
			up, n, down, n, len(runs)/len(Ratios), conv, len(runs)),
		Value: float64(up + down), Judgement: j, Figures: figs,
		Notes: fmt.Sprintf("final content/style losses: %s; %d×%d px, %s, %.2f s per evaluation.", strings.Join(parts, "; "),
			content.H, content.W, b.Name, meanSecondsPerEval(runs))}, nil
}
