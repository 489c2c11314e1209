// Package sdae is notebook 11: stacked denoising autoencoders (Vincent, Larochelle, Lajoie, Bengio & Manzagol
// 2010, JMLR). The network lives in gomlx_models/models (AutoencoderConfig, Corrupt); this package holds the
// corruption processes q_D in plain Go with their measured statistics, the 2-D picture of denoising as a pull
// back to the data manifold, greedy layer-wise pre-training and supervised fine-tuning with early stopping on
// the MNIST variations rot and bg-rand (synthesized from MNIST) against SAE pre-training and none (Table 3), and
// the first layer's filters at several noise levels with a locality score (Figs. 6–7); the trained comparisons
// run several seeds.
package sdae

import (
	"fmt"
	"math"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/plots"
)

// Section lists notebook 11's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "11", Title: "Stacked denoising autoencoders",
		Experiments: []reproduce.Experiment{sdaeCorruption(), sdaeToyManifold(), sdaeMNISTTable3(), sdaeFiltersNoise()}}
}

// Corruptions are the three processes of §4.2 at the levels the notebook measures.
var Corruptions = []models.Corruption{{Kind: models.MaskingNoise, Level: 0.25},
	{Kind: models.GaussianNoise, Level: 0.3}, {Kind: models.SaltAndPepper, Level: 0.25}}

// MeasureAllNoise runs MeasureNoise for each of Corruptions on 1,000 examples of 784 components.
func MeasureAllNoise(env *reproduce.Env) ([]NoiseStats, error) {
	var rows []NoiseStats
	for _, c := range Corruptions {
		r, err := MeasureNoise(env.Backend, c, 1000, 784, 1)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// NoiseDeviation is the largest deviation of the rows' statistics from the processes' definitions: the
// fraction changed (ν; for Gaussian noise every component), the halves set to 0 and 1 by salt-and-pepper, the
// mean 0 and standard deviation σ of Gaussian noise.
func NoiseDeviation(rows []NoiseStats) float64 {
	worst := 0.0
	dev := func(got, want float64) { worst = math.Max(worst, math.Abs(got-want)) }
	for _, r := range rows {
		nu := r.Corruption.Level
		switch r.Corruption.Kind {
		case models.MaskingNoise:
			dev(r.Changed, nu)
			dev(r.Zero, nu)
		case models.SaltAndPepper:
			dev(r.Changed, nu)
			dev(r.Zero, nu/2)
			dev(r.One, nu/2)
		case models.GaussianNoise:
			dev(r.Mean, 0)
			dev(r.Std, nu)
		}
	}
	return worst
}

// NoiseFindings are the closing-table rows of the corruption measurements.
func NoiseFindings(rows []NoiseStats) []reproduce.Finding {
	var out []reproduce.Finding
	for i := 0; i+1 < len(rows); i += 2 {
		g, m := rows[i], rows[i+1]
		c := g.Corruption
		switch c.Kind {
		case models.GaussianNoise:
			out = append(out, reproduce.Finding{Item: fmt.Sprintf("Gaussian noise σ = %g: std of x̃ − x", c.Level),
				Paper: fmt.Sprintf("%g", c.Level), Ours: fmt.Sprintf("%.4f Go, %.4f graph", g.Std, m.Std)})
		default:
			out = append(out, reproduce.Finding{Item: fmt.Sprintf("%s ν = %g: fraction corrupted", c.Kind, c.Level),
				Paper: fmt.Sprintf("%g", c.Level), Ours: fmt.Sprintf("%.4f Go (exactly %d per example), %.4f graph", g.Changed,
					g.MinChanged, m.Changed)})
		}
	}
	return out
}

// CorruptionResult is the row of "sdae-corruption": the measured statistics of the three processes must match
// their definitions within 0.01.
func CorruptionResult(env *reproduce.Env, rows []NoiseStats) (*reproduce.Result, error) {
	dev := NoiseDeviation(rows)
	fig, err := CorruptionFigure()
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "corruption_examples")
	if err != nil {
		return nil, err
	}
	var notes []string
	for _, f := range NoiseFindings(rows) {
		notes = append(notes, f.Item+": "+f.Ours)
	}
	return &reproduce.Result{Ours: fmt.Sprintf("largest deviation from the definitions %.4f", dev), Value: dev,
		Judgement: env.Judge(reproduce.Holds(0.01), reproduce.Exact(dev)), Notes: strings.Join(notes, "; ") + ".", Figures: paths}, nil
}

// NoiseTable is MeasureNoise's rows as a table (header first).
func NoiseTable(rows []NoiseStats) [][]string {
	out := [][]string{{"process", "level", "implementation", "changed", "set to 0", "set to 1", "mean(x̃−x)", "std(x̃−x)", "changed per example"}}
	for _, r := range rows {
		out = append(out, []string{r.Corruption.Kind.String(), fmt.Sprint(r.Corruption.Level), r.Impl, fmt.Sprintf("%.4f", r.Changed),
			fmt.Sprintf("%.4f", r.Zero), fmt.Sprintf("%.4f", r.One), fmt.Sprintf("%+.4f", r.Mean), fmt.Sprintf("%.4f", r.Std),
			fmt.Sprintf("%d…%d of %d", r.MinChanged, r.MaxChanged, r.D)})
	}
	return out
}

func sdaeCorruption() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "sdae-corruption", Section: "11",
		Paper:      "Vincent et al. 2010, §4.2 (corruption processes q_D)",
		Claim:      "masking noise zeroes a fraction ν, salt-and-pepper sets a fraction ν to 0 or 1 by a fair coin, Gaussian noise adds N(0, σ²)",
		PaperValue: "fraction ν corrupted; 0/1 halves; mean 0, std σ",
		Measure:    "1,000 examples of 784 components = 0.5, masking ν=0.25, Gaussian σ=0.3, salt-and-pepper ν=0.25; plain Go (seeded) and the graph models.Corrupt used in training; largest deviation from the definitions",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			rows, err := MeasureAllNoise(env)
			if err != nil {
				return nil, err
			}
			return CorruptionResult(env, rows)
		},
	}
}

// ToyResultRow is the row of "sdae-toy-manifold": over the 300 corrupted test points, reconstruction must bring
// them closer to the circle — the mean change of distance, with its interval over the points, below 0.
func ToyResultRow(env *reproduce.Env, r *ToyResult) (*reproduce.Result, error) {
	fig, err := ToyFigure(r)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "toy_manifold")
	if err != nil {
		return nil, err
	}
	j := env.Judge(reproduce.Below(0).In(" (distance to the circle, reconstruction − x̃)"), r.Diff)
	return &reproduce.Result{Ours: fmt.Sprintf("mean distance to the circle %.4f → %.4f; change %.4f, %s, over %d points",
		r.Before, r.After, r.Diff.Mean, r.Diff.CI(4), len(r.Noisy)), Value: r.After / r.Before, Judgement: j, Figures: paths,
		Notes: fmt.Sprintf("clean points reconstruct to %.4f from the circle; one trained DAE (the interval is over the test points, not over trainings); %.0fs of training.",
			r.CleanAfter, r.Seconds)}, nil
}

func sdaeToyManifold() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "sdae-toy-manifold", Section: "11",
		Paper:      "Vincent et al. 2010, §3.3 and Fig. 2 (manifold learning perspective)",
		Claim:      "a denoising autoencoder learns to map corrupted points x̃ back towards the manifold of the data",
		PaperValue: "reconstructions g(f(x̃)) closer to the manifold than x̃",
		Measure:    "2-64-2 sigmoid DAE (untied), points on a circle of radius 0.3, Gaussian corruption σ=0.08, Adam lr 1e-2, batch 50, 20,000 steps; distance to the circle of 300 fresh corrupted points before and after reconstruction, mean change with its interval over the points (quick: 3,000 steps)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := ToyStudy(env.Backend, ToyStudyConfig.For(env.Profile), env.Progress)
			if err != nil {
				return nil, err
			}
			return ToyResultRow(env, r)
		},
	}
}

func sdaeMNISTTable3() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "sdae-mnist-table3", Section: "11",
		Paper: "Vincent et al. 2010, §7, Table 3 (MNIST variations rot and bg-rand of Larochelle et al. 2007)",
		Claim: "denoising pre-training (SDAE-3) gives a lower test error than ordinary autoencoder pre-training (SAE-3) and than no pre-training",
		PaperValue: fmt.Sprintf("rot: SDAE-3 %.2f%%, SAE-3 %.2f%%; bg-rand: SDAE-3 %.2f%%, SAE-3 %.2f%% (1000-unit layers)", PaperTable3[VariantRot].SDAE3,
			PaperTable3[VariantRot].SAE3, PaperTable3[VariantBgRand].SDAE3, PaperTable3[VariantBgRand].SAE3),
		Measure: "rot and bg-rand synthesized from MNIST with fixed seeds (10,000 training and 2,000 validation images from its training split, " +
			"its 10,000 test images); 784-256-256-256 sigmoid network, tied weights; greedy pre-training 15 epochs per layer with masking " +
			"at Table 3's ν (rot 0.25, bg-rand 0.4: SDAE) or 0 (SAE), Adam lr 1e-3, batch 50; fine-tuning (and the same network from random " +
			"weights) with Adam, early stopped on the validation error (patience 4, at most 30 epochs), test error at the best validation " +
			"epoch; seeds 1–5; " +
			"judged on the per-seed differences SDAE − SAE and SDAE − none on both variants (quick: 64-unit layers, 1,000 images, seed 1)",
		Long: true, FullMinutes: 20,
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := Table3Study(env.Backend, Table3StudyConfig.For(env.Profile), env.Progress)
			if err != nil {
				return nil, err
			}
			return r.Result(env)
		},
	}
}

func sdaeFiltersNoise() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "sdae-filters-noise", Section: "11",
		Paper:      "Vincent et al. 2010, §6, Figs. 6–7 (filters)",
		Claim:      "with masking noise the first-layer filters turn from blobs into local stroke and edge detectors",
		PaperValue: "filter grids at 0%, 25%, 50% masking noise (no number printed)",
		Measure: "the first layer alone (784-256, tied, sigmoid) trained as a DAE on 5,000 MNIST images for 25 epochs at masking " +
			"ν = 0, 0.25, 0.5, seeds 1, 2, 3 (Adam lr 1e-3, batch 50); locality of each filter = fraction of its energy Σw² in its " +
			"best 7×7 window, averaged over the 256 filters; judged on each step (ν = 0.25 − 0 and 0.5 − 0.25), per-seed differences all above 0; filter grids shown " +
			"(quick: 64 units, 1,000 images, 2 epochs, ν = 0 and 0.5, seed 1)",
		Long: true, FullMinutes: 9,
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := FiltersStudy(env.Backend, FiltersStudyConfig.For(env.Profile), env.Progress)
			if err != nil {
				return nil, err
			}
			return r.Result(env)
		},
	}
}

// CorruptionFigure shows the first four MNIST test digits clean and under each of Corruptions (seeded).
func CorruptionFigure() (*plots.Figure, error) {
	im, err := data.MNIST(data.Test)
	if err != nil {
		return nil, fmt.Errorf("corruption figure: %w", err)
	}
	rng := NewRand(21)
	var imgs []plots.Image
	for i := range 4 {
		x := im.Image(i)
		imgs = append(imgs, plots.Image{Pix: x, H: 28, W: 28, C: 1, Label: "clean"})
		for _, c := range Corruptions {
			xt, err := CorruptGo(rng, x, c)
			if err != nil {
				return nil, err
			}
			imgs = append(imgs, plots.Image{Pix: xt, H: 28, W: 28, C: 1, Label: fmt.Sprintf("%s %g", c.Kind, c.Level)})
		}
	}
	return plots.ImageGrid("q_D: clean, masking, Gaussian, salt-and-pepper", imgs, 1+len(Corruptions))
}
