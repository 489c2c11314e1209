package sdae

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// LocalityWindow is the side of the window of [Locality]: 7×7 pixels, about the width of a pen stroke's
// neighbourhood on a 28×28 digit.
const LocalityWindow = 7

// Locality is the fraction of a filter's energy Σ w² (h×w weights, row-major) inside its best window of
// side×side pixels: 1 for a filter that lives in one such window, about side²/(h·w) (49/784 ≈ 0.06, a little
// more for the best of the windows) for weights spread evenly over the image. 0 for an all-zero filter.
func Locality(f []float32, h, w, side int) float64 {
	if side > h || side > w || len(f) != h*w {
		return math.NaN()
	}
	// Summed-area table of w².
	sat := make([]float64, (h+1)*(w+1))
	for y := range h {
		for x := range w {
			v := float64(f[y*w+x])
			sat[(y+1)*(w+1)+x+1] = v*v + sat[y*(w+1)+x+1] + sat[(y+1)*(w+1)+x] - sat[y*(w+1)+x]
		}
	}
	total := sat[h*(w+1)+w]
	if total == 0 {
		return 0
	}
	best := 0.0
	for y := 0; y+side <= h; y++ {
		for x := 0; x+side <= w; x++ {
			s := sat[(y+side)*(w+1)+x+side] - sat[y*(w+1)+x+side] - sat[(y+side)*(w+1)+x] + sat[y*(w+1)+x]
			best = math.Max(best, s)
		}
	}
	return best / total
}

// FiltersConfig sizes the filter study: the first layer alone (Hidden has one width), trained as a denoising
// autoencoder on the first N MNIST training images at every masking level of Noises, for every seed.
type FiltersConfig struct {
	Net      models.AutoencoderConfig
	N        int
	Noises   []float64
	Schedule Schedule
	Seeds    []int64
}

// FiltersStudyConfig is the filter study per profile: one 256-unit tied sigmoid layer on 5,000 MNIST images for
// 25 epochs at ν = 0, 0.25, 0.5, three seeds.
var FiltersStudyConfig = train.ByProfile[FiltersConfig]{
	Quick: FiltersConfig{Net: models.AutoencoderConfig{Input: 784, Hidden: []int{64}, Tied: true, Classes: 10}, N: 1000,
		Noises: []float64{0, 0.5}, Schedule: Schedule{Epochs: 2, BatchSize: 20, LR: 1e-3}, Seeds: []int64{1}},
	Full: FiltersConfig{Net: models.AutoencoderConfig{Input: 784, Hidden: []int{256}, Tied: true, Classes: 10}, N: 5000,
		Noises: []float64{0, 0.25, 0.5}, Schedule: Schedule{Epochs: 25, BatchSize: 50, LR: 1e-3}, Seeds: []int64{1, 2, 3}},
}

// FilterRun is one trained first layer.
type FilterRun struct {
	Noise float64
	Seed  int64
	Stack *Stack
	// Locality holds every filter's [Locality]; Mean is their mean.
	Locality []float64
	Mean     float64
	// Denoise is the mean squared error of the layer's reconstruction of 500 test digits with 25% of their
	// pixels masked, against the clean digits.
	Denoise float64
}

// FiltersResult is the filter study: the runs seed by seed, each in the order of the noise levels, and the
// locality of random Gaussian filters (the level of unstructured weights).
type FiltersResult struct {
	Config   FiltersConfig
	Runs     []FilterRun
	Baseline float64
}

// FiltersStudy trains the first layer of cfg.Net as a denoising autoencoder with masking noise at each level of
// cfg.Noises on the first cfg.N MNIST training images, for every seed, and measures the locality of its
// filters and how well it denoises test digits.
func FiltersStudy(backend compute.Backend, cfg FiltersConfig, progress io.Writer) (*FiltersResult, error) {
	if len(cfg.Net.Hidden) != 1 || len(cfg.Noises) < 2 || len(cfg.Seeds) == 0 || cfg.N < 1 {
		return nil, fmt.Errorf("filter study: want one layer, two noise levels or more, seeds and images, got %+v", cfg)
	}
	trainIm, err := data.MNIST(data.Train)
	if err != nil {
		return nil, fmt.Errorf("filter study: %w", err)
	}
	testIm, err := data.MNIST(data.Test)
	if err != nil {
		return nil, fmt.Errorf("filter study: %w", err)
	}
	trainIm = trainIm.Subset(cfg.N)
	res := &FiltersResult{Config: cfg, Baseline: randomLocality(cfg.Net.Hidden[0], 28, 28)}
	for _, seed := range cfg.Seeds {
		for _, nu := range cfg.Noises {
			st, err := Pretrain(backend, cfg.Net, models.Corruption{Kind: models.MaskingNoise, Level: nu}, trainIm, cfg.Schedule,
				seed, progress)
			if err != nil {
				return nil, fmt.Errorf("filter study, ν = %g, seed %d: %w", nu, seed, err)
			}
			f, err := Filters(st.Store, cfg.Net.Hidden[0], 28, 28)
			if err != nil {
				return nil, err
			}
			r := FilterRun{Noise: nu, Seed: seed, Stack: st}
			for _, w := range f {
				r.Locality = append(r.Locality, Locality(w, 28, 28, LocalityWindow))
			}
			r.Mean = meanOf(r.Locality)
			if r.Denoise, err = DenoiseError(backend, cfg.Net, st.Store, testIm, 0.25, 500); err != nil {
				return nil, err
			}
			res.Runs = append(res.Runs, r)
		}
	}
	return res, nil
}

// randomLocality is the mean locality of n filters of independent Gaussian weights (seeded): what a layer
// whose filters have no spatial structure scores.
func randomLocality(n, h, w int) float64 {
	rng := NewRand(99)
	var s float64
	for range n {
		f := make([]float32, h*w)
		for i := range f {
			f[i] = float32(rng.NormFloat64())
		}
		s += Locality(f, h, w, LocalityWindow)
	}
	return s / float64(n)
}

func meanOf(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// at returns the run at noise level nu with seed.
func (r *FiltersResult) at(nu float64, seed int64) (FilterRun, error) {
	for _, x := range r.Runs {
		if x.Noise == nu && x.Seed == seed {
			return x, nil
		}
	}
	return FilterRun{}, fmt.Errorf("filter study: no run at ν = %g, seed %d", nu, seed)
}

// estimate is f over the seeds at noise level nu.
func (r *FiltersResult) estimate(nu float64, f func(FilterRun) float64) (reproduce.Estimate, error) {
	vals := make([]float64, len(r.Config.Seeds))
	for i, seed := range r.Config.Seeds {
		x, err := r.at(nu, seed)
		if err != nil {
			return reproduce.Estimate{}, err
		}
		vals[i] = f(x)
	}
	return reproduce.Seeded(r.Config.Seeds, vals)
}

// Result is the row of "sdae-filters-noise": the mean locality of the first layer's filters must rise with
// every step of the noise level (with noise the filters become local strokes), each step judged on its
// per-seed difference (see OrderJudgement).
func (r *FiltersResult) Result(env *reproduce.Env) (*reproduce.Result, error) {
	noises := r.Config.Noises
	lo, hi := noises[0], noises[len(noises)-1]
	loc := func(x FilterRun) float64 { return x.Mean }
	var parts, den []string
	var byNoise []reproduce.Estimate
	for _, nu := range noises {
		e, err1 := r.estimate(nu, loc)
		d, err2 := r.estimate(nu, func(x FilterRun) float64 { return x.Denoise })
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		byNoise = append(byNoise, e)
		parts = append(parts, fmt.Sprintf("ν = %g: %s", nu, e.MeanSD(3, "")))
		den = append(den, fmt.Sprintf("ν = %g: %s", nu, d.MeanSD(4, "")))
	}
	diff, err := reproduce.PairedDifference(byNoise[len(byNoise)-1], byNoise[0])
	if err != nil {
		return nil, err
	}
	j, steps, err := OrderJudgement(env, noises, byNoise)
	if err != nil {
		return nil, err
	}
	// Over the filters of the first seed, for the record: the interval of the difference of the mean localities.
	a, err1 := r.at(hi, r.Config.Seeds[0])
	b, err2 := r.at(lo, r.Config.Seeds[0])
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	overFilters := reproduce.Difference(filterEstimate(a.Locality), filterEstimate(b.Locality))
	figs, err := r.Figures()
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, figs, r.FigureNames()...)
	if err != nil {
		return nil, err
	}
	notes := fmt.Sprintf("locality = fraction of a filter's energy Σw² in its best %d×%d window (random Gaussian filters: %.3f); over the %d filters of seed %d alone the difference is %+.3f (%s); denoising MSE on 25%%-masked test digits: %s.",
		LocalityWindow, LocalityWindow, r.Baseline, len(a.Locality), r.Config.Seeds[0], overFilters.Mean, overFilters.CI(3), strings.Join(den, ", "))
	if env.Quick {
		notes += " Quick profile: 64 units, 1,000 images, 2 epochs, one seed (indicative)."
	}
	ours := fmt.Sprintf("mean locality of the first-layer filters %s; %s", strings.Join(parts, ", "), strings.Join(steps, ", "))
	if len(noises) > 2 {
		ours += fmt.Sprintf("; ν = %g − ν = %g: %+.3f (%s)", hi, lo, diff.Mean, diff.CI(3))
	}
	return &reproduce.Result{Ours: ours + "; " + diff.SeedList(), Value: diff.Mean, Judgement: j, Notes: notes, Figures: paths}, nil
}

// OrderJudgement judges the ordering of the mean localities byNoise (one estimate per level of noises, in
// increasing order, paired by seed): each step's difference must be above 0, and the row takes the weakest
// step's verdict. steps says each difference with its interval.
func OrderJudgement(env *reproduce.Env, noises []float64, byNoise []reproduce.Estimate) (reproduce.Judgement, []string, error) {
	if len(noises) < 2 || len(byNoise) != len(noises) || !slices.IsSorted(noises) {
		return reproduce.Judgement{}, nil, fmt.Errorf("filter study: need two or more increasing noise levels, one estimate each, got %v and %d", noises, len(byNoise))
	}
	what := func(i int) string { return fmt.Sprintf("ν = %g − ν = %g", noises[i], noises[i-1]) }
	js, diffs, err := env.JudgeSteps(byNoise, func(i int) reproduce.Claim {
		return reproduce.Above(0).In(" (mean locality, " + what(i) + ")")
	})
	if err != nil {
		return reproduce.Judgement{}, nil, err
	}
	var steps []string
	for k, d := range diffs {
		steps = append(steps, fmt.Sprintf("%s: %+.3f (%s)", what(k+1), d.Mean, d.CI(3)))
	}
	return reproduce.AllOf(js...), steps, nil
}

// filterEstimate is the mean of values (one per filter) with its standard error over the filters.
func filterEstimate(v []float64) reproduce.Estimate {
	m := meanOf(v)
	ss := 0.0
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return reproduce.MeanSE(m, math.Sqrt(ss/float64(len(v)-1)/float64(len(v))))
}

// FigureNames names Figures' files.
func (r *FiltersResult) FigureNames() []string {
	var names []string
	for _, nu := range r.Config.Noises {
		names = append(names, fmt.Sprintf("filters_noise_%02.0f", 100*nu))
	}
	return append(names, "filters_locality")
}

// Figures draws the first 36 filters of the first seed's layer at every noise level (each filter scaled on
// its own) and every filter's locality, sorted, at every level and seed, beside random filters' level.
func (r *FiltersResult) Figures() ([]*plots.Figure, error) {
	var figs []*plots.Figure
	seed := r.Config.Seeds[0]
	for _, nu := range r.Config.Noises {
		x, err := r.at(nu, seed)
		if err != nil {
			return nil, err
		}
		f, err := Filters(x.Stack.Store, 36, 28, 28)
		if err != nil {
			return nil, err
		}
		imgs := make([]plots.Image, len(f))
		for i := range f {
			imgs[i] = plots.Image{Pix: f[i], H: 28, W: 28, C: 1, Label: fmt.Sprintf("%.2f", x.Locality[i])}
		}
		fig, err := plots.ImageGrid(fmt.Sprintf("first-layer filters, masking noise %.0f%% (seed %d; locality under each)", 100*nu, seed),
			imgs, 6, plots.PerImageScale())
		if err != nil {
			return nil, err
		}
		figs = append(figs, fig)
	}
	var series []plots.Series
	for _, x := range r.Runs {
		v := slices.Clone(x.Locality)
		slices.Sort(v)
		series = append(series, plots.Series{Name: fmt.Sprintf("ν = %g, seed %d", x.Noise, x.Seed), Y: v})
	}
	n := len(r.Runs[0].Locality)
	series = append(series, plots.Series{Name: "random Gaussian filters (mean)", X: []float64{0, float64(n - 1)},
		Y: []float64{r.Baseline, r.Baseline}})
	curve, err := plots.Curves(fmt.Sprintf("locality of every first-layer filter (energy in its best %d×%d window), sorted",
		LocalityWindow, LocalityWindow), "filter (sorted)", "locality", series, plots.LegendLeft())
	if err != nil {
		return nil, err
	}
	return append(figs, curve), nil
}

// FiltersTable is the table a notebook shows: per noise level and seed, the filters' mean and median locality
// and the denoising error.
func FiltersTable(r *FiltersResult) [][]string {
	rows := [][]string{{"ν", "seed", "mean locality", "median locality", "denoising MSE (25% masked)", "pre-train s"}}
	for _, x := range r.Runs {
		rows = append(rows, []string{fmt.Sprint(x.Noise), fmt.Sprint(x.Seed), fmt.Sprintf("%.3f", x.Mean),
			fmt.Sprintf("%.3f", plots.Percentiles(x.Locality, 50)[0]), fmt.Sprintf("%.4f", x.Denoise), fmt.Sprintf("%.0f", x.Stack.Seconds)})
	}
	return append(rows, []string{"random", "—", fmt.Sprintf("%.3f", r.Baseline), "—", "—", "—"})
}
