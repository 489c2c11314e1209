package styletransfer

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Settings are one profile's image side and L-BFGS iterations per synthesis.
type Settings struct {
	Side, Iters int
}

// Sizes holds the studies' settings: the quick profile renders 80×80 images (Inception's smallest input is
// 75×75) for a few iterations, the full profile 96×96 images for 30 iterations (one loss-and-gradient
// evaluation of the five style layers and the content layer took 0.75 s at 96 px, 1.2 s at 128 px and 2.2 s at
// 160 px on 2 cores). The paper renders 512-pixel images (Figs. 2–3) with a number of L-BFGS iterations it does
// not state.
var Sizes = train.ByProfile[Settings]{Quick: Settings{Side: 80, Iters: 4}, Full: Settings{Side: 96, Iters: 30}}

// Photos of the studies: a photograph and a painting from the Debian sample images (`make data`).
const (
	ContentPhoto = "chelsea.png"
	StylePhoto   = "starry_night.jpg"
)

// Ratios are the α/β values of the paper's Fig. 3 (rows 10⁻², 10⁻³, 10⁻⁴, 10⁻⁵ in the 2016 CVPR version).
var Ratios = []float64{1e-2, 1e-3, 1e-4, 1e-5}

// Labeled is a synthesis with a caption.
type Labeled struct {
	Label string
	Run   *Run
}

// ContentReconstructions reconstructs the content image from each layer alone, starting from white noise (Fig. 1,
// bottom row: "reconstructions from lower layers are almost perfect; in higher layers detailed pixel
// information is lost while the high-level content is preserved").
func ContentReconstructions(backend compute.Backend, b *Backbone, content Image, layers []string, iters int) ([]Labeled, error) {
	var out []Labeled
	for _, l := range layers {
		s, err := NewSynthesis(backend, b, Problem{Content: &content, ContentLayer: l, Alpha: 1, Side: content.H})
		if err != nil {
			return nil, err
		}
		r, err := s.Optimize(InitNoise, iters, 1)
		if err != nil {
			return nil, fmt.Errorf("content reconstruction from %s: %w", l, err)
		}
		out = append(out, Labeled{l, r})
	}
	return out, nil
}

// StyleReconstructions reconstructs the style image's texture from the growing sets of style layers, starting
// from white noise (Fig. 1, top row: larger sets match the style at larger scales).
func StyleReconstructions(backend compute.Backend, b *Backbone, style Image, layers []string, side, iters int) ([]Labeled, error) {
	var out []Labeled
	for _, set := range prefixes(layers) {
		s, err := NewSynthesis(backend, b, Problem{Style: &style, StyleLayers: set, Beta: 1, Side: side})
		if err != nil {
			return nil, err
		}
		r, err := s.Optimize(InitNoise, iters, 1)
		if err != nil {
			return nil, fmt.Errorf("style reconstruction from %v: %w", set, err)
		}
		out = append(out, Labeled{"up to " + set[len(set)-1], r})
	}
	return out, nil
}

// Sweep renders the content image in the style of the style image for each α/β of ratios (α = 1, β = 1/ratio),
// starting from init (Fig. 3).
func Sweep(backend compute.Backend, b *Backbone, content, style Image, ratios []float64, init Init, iters int) ([]Labeled, error) {
	var out []Labeled
	for _, r := range ratios {
		s, err := NewSynthesis(backend, b, Problem{Content: &content, ContentLayer: b.ContentLayer, Style: &style,
			StyleLayers: b.StyleLayers, Alpha: 1, Beta: 1 / r, Side: content.H})
		if err != nil {
			return nil, err
		}
		run, err := s.Optimize(init, iters, 1)
		if err != nil {
			return nil, fmt.Errorf("α/β = %g: %w", r, err)
		}
		out = append(out, Labeled{fmt.Sprintf("α/β = %g", r), run})
	}
	return out, nil
}

// Grid shows the images of runs (and, first, the extra images given) in one row per cols images.
func Grid(title string, cols int, extra []Labeled, runs []Labeled) (*plots.Figure, error) {
	var imgs []plots.Image
	for _, l := range append(append([]Labeled{}, extra...), runs...) {
		imgs = append(imgs, plots.Image{Pix: l.Run.Image.Pixels, H: l.Run.Image.H, W: l.Run.Image.W, C: 3, Label: l.Label})
	}
	return plots.ImageGrid(title, imgs, cols)
}

// AsLabeled wraps a plain image (the content or style photograph) for [Grid].
func AsLabeled(label string, img Image) Labeled { return Labeled{label, &Run{Image: img}} }

// LossCurves plots each run's total loss, relative to its start, against the L-BFGS iteration (log scale).
func LossCurves(title string, runs []Labeled) (*plots.Figure, error) {
	var series []plots.Series
	for _, l := range runs {
		y := make([]float64, len(l.Run.History))
		for i, h := range l.Run.History {
			y[i] = h.Total / l.Run.History[0].Total
		}
		series = append(series, plots.Series{Name: l.Label, Y: y})
	}
	return plots.Curves(title, "L-BFGS iteration", "L_total / L_total(start)", series, plots.LogY())
}

// TradeOff reports how the content and style losses of the sweep's results move as α/β decreases: the number of
// steps where the content loss rises and where the style loss falls, out of len(runs)−1 each.
func TradeOff(runs []Labeled) (contentUp, styleDown int) {
	for i := 1; i < len(runs); i++ {
		a, b := runs[i-1].Run.Final(), runs[i].Run.Final()
		if b.Content > a.Content {
			contentUp++
		}
		if b.Style < a.Style {
			styleDown++
		}
	}
	return contentUp, styleDown
}

// Decrease is the final total loss over the starting one.
func (r *Run) Decrease() float64 { return r.Final().Total / r.History[0].Total }

// meanSecondsPerEval averages the runs' time per loss-and-gradient evaluation, weighted by evaluations.
func meanSecondsPerEval(runs []Labeled) float64 {
	var s float64
	var n int
	for _, l := range runs {
		s += l.Run.SecondsPerEval * float64(l.Run.Evals)
		n += l.Run.Evals
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
