package styletransfer

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Settings are one profile's image sides, stopping rules and white-noise starts.
type Settings struct {
	// Side is the side of the α/β sweep's and the reconstructions' images; ShowSide the side of the large
	// synthesis shown on its own (α/β = 1e-3).
	Side, ShowSide int
	// Stop ends the sweep's and the large synthesis' optimisations; Recon the reconstructions' (Fig. 1).
	Stop, Recon Stop
	// Seeds are the white-noise starts of the sweep: every α/β is synthesised from each.
	Seeds []uint64
}

// Sizes holds the studies' settings. The quick profile renders 80×80 images (Inception's smallest input is
// 75×75) for a few iterations. The full profile runs every synthesis to convergence: up to 500 L-BFGS
// iterations, stopped once the total loss fell by less than 0.5% over the last 20 iterations (a flat curve); the
// sweep at 96×96 px from two white-noise starts, the large synthesis at 128×128 px, the reconstructions at
// 96 px up to 150 iterations. One loss-and-gradient evaluation of the five style layers and the content layer
// took 0.19–0.22 s at 96 px on 2 quiet cores (0.75 s while other jobs ran), about 1.8 times as long at 128 px.
// The paper renders 512-pixel images (Figs. 2–3) with a number of L-BFGS iterations it does not state.
var Sizes = train.ByProfile[Settings]{
	Quick: Settings{Side: 80, ShowSide: 80, Stop: Stop{MaxIter: 4}, Recon: Stop{MaxIter: 4}, Seeds: []uint64{1}},
	Full: Settings{Side: 96, ShowSide: 128, Stop: Stop{MaxIter: 500, Window: 20, Tol: 0.005},
		Recon: Stop{MaxIter: 150, Window: 20, Tol: 0.005}, Seeds: []uint64{1, 2}},
}

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
func ContentReconstructions(backend compute.Backend, b *Backbone, content Image, layers []string, stop Stop) ([]Labeled, error) {
	var out []Labeled
	for _, l := range layers {
		s, err := NewSynthesis(backend, b, Problem{Content: &content, ContentLayer: l, Alpha: 1, Side: content.H})
		if err != nil {
			return nil, err
		}
		r, err := s.Optimize(InitNoise, stop, 1)
		if err != nil {
			return nil, fmt.Errorf("content reconstruction from %s: %w", l, err)
		}
		out = append(out, Labeled{l, r})
	}
	return out, nil
}

// StyleReconstructions reconstructs the style image's texture from the growing sets of style layers, starting
// from white noise (Fig. 1, top row: larger sets match the style at larger scales).
func StyleReconstructions(backend compute.Backend, b *Backbone, style Image, layers []string, side int, stop Stop) ([]Labeled, error) {
	var out []Labeled
	for _, set := range prefixes(layers) {
		s, err := NewSynthesis(backend, b, Problem{Style: &style, StyleLayers: set, Beta: 1, Side: side})
		if err != nil {
			return nil, err
		}
		r, err := s.Optimize(InitNoise, stop, 1)
		if err != nil {
			return nil, fmt.Errorf("style reconstruction from %v: %w", set, err)
		}
		out = append(out, Labeled{"up to " + set[len(set)-1], r})
	}
	return out, nil
}

// Sweep renders the content image in the style of the style image for each α/β of ratios (α = 1, β = 1/ratio),
// starting from init — from white noise, once per seed (Fig. 3) — and stopping by stop. The runs come seed by
// seed, each in the order of ratios.
func Sweep(backend compute.Backend, b *Backbone, content, style Image, ratios []float64, init Init, stop Stop, seeds []uint64) ([]Labeled, error) {
	if len(seeds) == 0 {
		return nil, fmt.Errorf("styletransfer: a sweep needs at least one seed")
	}
	var out []Labeled
	for _, seed := range seeds {
		for _, r := range ratios {
			s, err := NewSynthesis(backend, b, Problem{Content: &content, ContentLayer: b.ContentLayer, Style: &style,
				StyleLayers: b.StyleLayers, Alpha: 1, Beta: 1 / r, Side: content.H})
			if err != nil {
				return nil, err
			}
			run, err := s.Optimize(init, stop, seed)
			if err != nil {
				return nil, fmt.Errorf("α/β = %g: %w", r, err)
			}
			label := fmt.Sprintf("α/β = %g", r)
			if len(seeds) > 1 {
				label += fmt.Sprintf(", start %d", seed)
			}
			out = append(out, Labeled{label, run})
		}
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

// TradeOff reports how the content and style losses of a sweep's results move as α/β decreases: the number of
// steps between consecutive ratios of one start where the content loss rises and where the style loss falls,
// out of steps each. The runs are [Sweep]'s, nRatios per start.
func TradeOff(runs []Labeled, nRatios int) (contentUp, styleDown, steps int) {
	for i := 1; i < len(runs); i++ {
		if nRatios < 2 || i%nRatios == 0 {
			continue // the first ratio of the next start
		}
		a, b := runs[i-1].Run.Final(), runs[i].Run.Final()
		steps++
		if b.Content > a.Content {
			contentUp++
		}
		if b.Style < a.Style {
			styleDown++
		}
	}
	return contentUp, styleDown, steps
}

// Converged counts the runs whose loss curve went flat before their last iteration.
func Converged(runs []Labeled) int {
	n := 0
	for _, l := range runs {
		if l.Run.Flat {
			n++
		}
	}
	return n
}

// SweepTable is the table a notebook shows: each synthesis' final content and style losses, its iterations,
// whether its loss curve went flat and the fraction of its pixels outside [0, 1].
func SweepTable(runs []Labeled) [][]string {
	rows := [][]string{{"synthesis", "content loss", "style loss", "L_total / start", "iterations", "flat", "pixels outside [0, 1]"}}
	for _, l := range runs {
		f := l.Run.Final()
		rows = append(rows, []string{l.Label, fmt.Sprintf("%.4g", f.Content), fmt.Sprintf("%.4g", f.Style),
			fmt.Sprintf("%.2g", l.Run.Decrease()), fmt.Sprint(len(l.Run.History) - 1), fmt.Sprint(l.Run.Flat),
			fmt.Sprintf("%.1f%%", 100*l.Run.Outside)})
	}
	return rows
}

// Large shows one synthesis on its own, large (640 px wide), beside nothing: its texture at full size.
func Large(title string, l Labeled) (*plots.Figure, error) {
	img := plots.Image{Pix: l.Run.Image.Pixels, H: l.Run.Image.H, W: l.Run.Image.W, C: 3}
	return plots.ImageGrid(title, []plots.Image{img}, 1, plots.SizePixels(640, 680))
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
