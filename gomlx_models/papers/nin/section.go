// Package nin is notebook 07: Network in Network (Lin, Chen & Yan 2014). The mlpconv layer and the CIFAR-10
// network live in gomlx_models/models (models.MLPConv, models.NIN), maxout in gomlx_models/layers; this package
// checks an mlpconv layer against an MLP slid over every patch (§3.1), fits maxout units to a convex function
// (§2), and trains the same NIN trunk with a global-average-pooling head and with fully connected heads (§3.2,
// §4.6), drawing the category maps of the last mlpconv layer (Fig. 4).
package nin

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/plots"
)

// Section lists notebook 07's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "07", Title: "Network in Network: mlpconv, maxout, global average pooling",
		Experiments: []reproduce.Experiment{ninMLPConv(), ninMaxout(), ninMaxoutRegions(), ninGAPvsFC(), ninGAPShift()}}
}

// CheckBlock is the mlpconv layer checked against the patch MLP: a 3×3 convolution of 8 kernels then 1×1
// convolutions of 6 and 4 (a small version of NIN's first layer), on a 7×7×3 image.
var CheckBlock = models.MLPConv{Kernel: 3, Filters: []int{8, 6, 4}}

func optimizerFor(lr, wd float64) optimizer.Interface {
	return optimizer.Adam().LearningRate(lr).WeightDecay(wd).Done()
}

func ninMLPConv() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "nin-mlpconv", Section: "07",
		Paper:      "Lin, Chen & Yan 2014, §3.1, eq. 2",
		Claim:      "an mlpconv layer (a convolution followed by 1×1 convolutions) is an MLP slid over every input patch",
		PaperValue: "equal outputs (eq. 2 = cascaded cross-channel parametric pooling)",
		Measure: "models.MLPConv{3×3-8, 1×1-6, 1×1-4}.Apply on a random 7×7×3 image vs PatchMLP, plain Go over the " +
			"zero-padded 3×3×3 patches with the layer's own weights (same in both profiles)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			run, err := RunMLPConv(env.Backend, CheckBlock, 7, 7, 3, 5)
			if err != nil {
				return nil, err
			}
			mlp := PatchMLP(run.Input, CheckBlock.Kernel, run.Layers)
			diff := MaxAbsDiff(run.Output, mlp)
			fig, err := mapsFigure(run.Output, mlp)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "nin_mlpconv_vs_patch_mlp.png")
			if err != nil {
				return nil, err
			}
			return &reproduce.Result{Ours: fmt.Sprintf("max |mlpconv − patch MLP| = %.2g", diff), Value: diff,
				Judgement: env.Judge(reproduce.Holds(1e-5), reproduce.Exact(diff)),
				Notes: fmt.Sprintf("%d positions × MLP %d-%d-%d-%d; float32 engine vs float64 Go.", run.Input.H*run.Input.W,
					run.Layers[0].In, run.Layers[0].Out, run.Layers[1].Out, run.Layers[2].Out),
				Figures: paths}, nil
		},
	}
}

// mapsFigure shows each output channel of the library's mlpconv over the patch MLP's.
func mapsFigure(lib, mlp Image) (*plots.Figure, error) {
	var imgs []plots.Image
	for _, src := range []struct {
		name string
		im   Image
	}{{"mlpconv", lib}, {"patch MLP", mlp}} {
		for c := range src.im.C {
			pix := make([]float32, src.im.H*src.im.W)
			for p := range pix {
				pix[p] = float32(src.im.Pix[p*src.im.C+c])
			}
			imgs = append(imgs, plots.Image{Pix: pix, H: src.im.H, W: src.im.W, C: 1, Label: fmt.Sprintf("%s ch %d", src.name, c)})
		}
	}
	return plots.ImageGrid("the four output maps: library mlpconv (top) and the patch MLP (bottom)", imgs, lib.C,
		plots.SizePixels(640, 360))
}

// MaxoutPieces are the numbers of pieces fitted; MaxoutGrid and MaxoutSteps the fit's size.
var MaxoutPieces = []int{1, 2, 3, 4, 6, 8}

const (
	MaxoutGrid  = 201
	MaxoutSteps = 400
)

func ninMaxout() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "nin-maxout", Section: "07",
		Paper:      "Lin, Chen & Yan 2014, §2 (maxout as a piecewise-linear approximator); Goodfellow et al. 2013, §3",
		Claim:      "a maxout unit max_k(w_kᵀx + b_k) approximates a convex function, better with more pieces k",
		PaperValue: "error falls as k grows (convex functions only)",
		Measure: "one layers.Maxout unit per k ∈ {1,2,3,4,6,8} fitted to x² on 201 points of [−1, 1], full-batch Adam " +
			"0.05, 400 steps, seeded (same in both profiles)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			fits, err := FitMaxout(env.Backend, MaxoutPieces, MaxoutGrid, MaxoutSteps)
			if err != nil {
				return nil, err
			}
			curves, errs, err := MaxoutFigures(fits)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{curves, errs}, "nin_maxout_fits.png", "nin_maxout_error.png")
			if err != nil {
				return nil, err
			}
			falls, rises := 0, 0
			for i := 1; i < len(fits); i++ {
				switch {
				case fits[i].RMSE < fits[i-1].RMSE*0.98:
					falls++
				case fits[i].RMSE > fits[i-1].RMSE*1.02:
					rises++
				}
			}
			first, last := fits[0], fits[len(fits)-1]
			// The claim: the error falls with k — no rise of more than 2% from one k to the next, and a fall to
			// under a fifth of the best line's.
			j := reproduce.AllOf(
				env.Judge(reproduce.Equals(0, 0).In(" rises of the RMSE"), reproduce.Exact(float64(rises))),
				env.Judge(reproduce.Below(0.2).In(" of the k=1 RMSE"), reproduce.Exact(last.RMSE/first.RMSE)))
			return &reproduce.Result{Ours: fmt.Sprintf("RMSE %.3f at k=%d → %.4f at k=%d", first.RMSE, first.Pieces,
				last.RMSE, last.Pieces), Value: last.RMSE, Judgement: j,
				Notes: fmt.Sprintf("the error fell by more than 2%% at %d of %d increases of k and never rose by more; "+
					"where it stalls, Adam has merged pieces (a local optimum).", falls, len(fits)-1),
				Figures: paths}, nil
		},
	}
}

// headMeasure says how the head study runs, for both of its rows.
func headMeasure() string {
	q, f := HeadStudy.Quick, HeadStudy.Full
	trunk := "no dropout in the trunk"
	if f.TrunkDropout {
		trunk = "dropout 0.5 after the first two mlpconv layers"
	}
	return fmt.Sprintf("the same NIN trunk (models.NINCIFAR10, widths ÷ %d, %s) with an FC-%d-10 head without dropout, with dropout, and GAP; the first %d Fashion-MNIST images at 28×28 (CIFAR-10 if present), Adam %g, batch %d, %d epochs, η ÷ 10 at epochs %v; test error on %d images, training error on the training subset; error increase on %d test images shifted by %v px in 4 directions; %s, paired by seed (quick: %d images, %d epochs, 1 seed); paper profile: full width, all data, 100 epochs",
		f.WidthDiv, trunk, f.FCHidden, f.TrainN, f.LR, f.BatchSize, f.Epochs, f.DecayAt, f.TestN, f.ShiftN, f.Shifts, reproduce.Estimate{Seeds: f.Seeds}.SeedList(), q.TrainN, q.Epochs)
}

// headMinutes is the measured full-profile time of the head study (both rows share one run).
const headMinutes = 29

// headRow runs the head study of env's profile (or reuses this process's run of it), saves the figures figs
// draws under names and builds the row with row.
func headRow(env *reproduce.Env, row func(*reproduce.Env, *HeadResults) *reproduce.Result,
	figs func(*HeadResults) ([]*plots.Figure, error), names ...string) (*reproduce.Result, error) {
	res, err := TrainHeads(env, HeadStudy.For(env.Profile))
	if err != nil {
		return nil, err
	}
	fs, err := figs(res)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, fs, names...)
	if err != nil {
		return nil, err
	}
	r := row(env, res)
	r.Figures = paths
	return r, nil
}

func ninGAPvsFC() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "nin-gap-vs-fc", Section: "07",
		Paper:      "Lin, Chen & Yan 2014, §3.2, §4.6 (Table 2 of the NIN paper) and Fig. 4",
		Claim:      "global average pooling regularizes: no parameters, lower test error than an FC head with or without dropout",
		PaperValue: "CIFAR-10 test error: GAP 10.41%, FC + dropout 10.88%, FC 11.59%",
		Measure:    headMeasure(),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			return headRow(env, HeadResult, func(res *HeadResults) ([]*plots.Figure, error) {
				figs, err := HeadFigure(res)
				if err != nil {
					return nil, err
				}
				gap := res.Arms[2]
				imgs, err := CategoryMaps(env.Backend, gap.Config, gap.Runs[0], 4)
				if err != nil {
					return nil, err
				}
				maps, err := plots.ImageGrid("GAP network: test image, its class's map and the predicted class's map (last mlpconv)",
					imgs, 6, plots.PerImageScale(), plots.SizePixels(900, 360))
				return []*plots.Figure{figs[0], maps}, err
			}, "nin_heads.png", "nin_category_maps.png")
		},
		Long: true, FullMinutes: headMinutes,
	}
}

func ninGAPShift() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "nin-gap-shift", Section: "07",
		Paper:      "Lin, Chen & Yan 2014, §3.2",
		Claim:      "global average pooling sums out the spatial information, so it is more robust to spatial translations of the input than FC layers",
		PaperValue: "more robust to translations (no number given)",
		Measure:    headMeasure() + "; the same trained networks as nin-gap-vs-fc",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			return headRow(env, ShiftResult, func(res *HeadResults) ([]*plots.Figure, error) {
				figs, err := HeadFigure(res)
				if err != nil {
					return nil, err
				}
				return figs[1:], nil
			}, "nin_shift.png")
		},
		Long: true, FullMinutes: headMinutes,
	}
}

// HeadResult is the row of the head comparison: GAP's test error against each FC head's, seed by seed.
func HeadResult(env *reproduce.Env, res *HeadResults) *reproduce.Result {
	var js []reproduce.Judgement
	for i := range res.Advantage {
		js = append(js, env.Judge(reproduce.Above(0).In(" points (FC head − GAP)"), res.Advantage[i]))
	}
	var arms []string
	for _, a := range res.Arms {
		arms = append(arms, fmt.Sprintf("%s %s (train %s)", a.Config.Name, a.TestErr.MeanSD(2, "%"), a.TrainErr.MeanSD(2, "%")))
	}
	ours := fmt.Sprintf("test error %s; FC − GAP %s (%s), FC + dropout − GAP %s (%s); train−test gap FC − GAP %s (%s), FC + dropout − GAP %s (%s); %s",
		strings.Join(arms, ", "), res.Advantage[0].MeanSD(2, " points"), res.Advantage[0].CI(2), res.Advantage[1].MeanSD(2, " points"),
		res.Advantage[1].CI(2), res.GapAdvantage[0].MeanSD(2, ""), res.GapAdvantage[0].CI(2), res.GapAdvantage[1].MeanSD(2, ""),
		res.GapAdvantage[1].CI(2), res.Advantage[0].SeedList())
	notes := fmt.Sprintf("data: %s; head parameters: ", res.Data)
	for i, a := range res.Arms {
		if i > 0 {
			notes += ", "
		}
		notes += fmt.Sprintf("%s %s (train−test gap %s)", a.Config.Name, summary.Thousands(int64(a.HeadParams)), a.Gap.MeanSD(1, " points"))
	}
	notes += fmt.Sprintf(". FC − FC + dropout: %s (%s).", res.FCDropoutGain.MeanSD(2, " points"), res.FCDropoutGain.CI(2))
	if res.Data != data.DatasetCIFAR10 {
		notes += " CIFAR-10 is absent: Fashion-MNIST stands in."
	}
	if env.Quick {
		notes += " Quick profile: one seed and two epochs, so the verdict is indicative only."
	}
	return &reproduce.Result{Ours: ours, Value: res.Arms[2].TestErr.Mean, Judgement: reproduce.AllOf(js...), Notes: notes}
}

// ShiftResult is the row of the translation test: each FC head's error increase under the largest shift minus
// GAP's, seed by seed.
func ShiftResult(env *reproduce.Env, res *HeadResults) *reproduce.Result {
	s := res.Settings
	last := len(s.Shifts) - 1
	var js []reproduce.Judgement
	for i := range res.ShiftAdvantage {
		js = append(js, env.Judge(reproduce.Above(0).In(" points (FC head − GAP)"), res.ShiftAdvantage[i][last]))
	}
	var parts []string
	for j, px := range s.Shifts {
		var arms []string
		for _, a := range res.Arms {
			arms = append(arms, fmt.Sprintf("%s %s", a.Config.Name, a.ShiftErr[j].MeanSD(2, "")))
		}
		parts = append(parts, fmt.Sprintf("±%d px: %s points", px, strings.Join(arms, ", ")))
	}
	ours := fmt.Sprintf("error increase %s; at ±%d px FC − GAP %s (%s), FC + dropout − GAP %s (%s); %s", strings.Join(parts, "; "),
		s.Shifts[last], res.ShiftAdvantage[0][last].MeanSD(2, " points"), res.ShiftAdvantage[0][last].CI(2),
		res.ShiftAdvantage[1][last].MeanSD(2, " points"), res.ShiftAdvantage[1][last].CI(2), res.ShiftAdvantage[0][last].SeedList())
	notes := fmt.Sprintf("data: %s; the first %d test images shifted right, left, down and up with zero fill; the networks are those of nin-gap-vs-fc.",
		res.Data, s.ShiftN)
	if env.Quick {
		notes += " Quick profile: one seed and two epochs, so the verdict is indicative only."
	}
	return &reproduce.Result{Ours: ours, Value: res.ShiftAdvantage[1][last].Mean, Judgement: reproduce.AllOf(js...), Notes: notes}
}

func ninMaxoutRegions() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "nin-maxout-regions", Section: "07",
		Paper:      "Lin, Chen & Yan 2014, §2 (maxout separates concepts that lie within convex sets)",
		Claim:      "a maxout unit separates a concept that lies in a convex set, which a linear or ReLU unit cannot; a concept in no convex set needs a more general approximator, the MLP of mlpconv",
		PaperValue: "convex concepts: maxout separates them; other concepts: not (no number given)",
		Measure: fmt.Sprintf("points of [−1, 1]² inside a disk (convex) or a ring (not convex) as class 1; a linear unit, a ReLU unit, a maxout unit (k=%d) and a 16-unit ReLU MLP, each read out by a linear layer, %d full-batch Adam steps on %d points; accuracy on %d fresh points (binomial intervals; same in every profile)",
			MaxoutPiecesRegion, Regions.Steps, Regions.TrainN, Regions.TestN),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			fits, err := FitRegions(env.Backend, Regions, RegionPairs)
			if err != nil {
				return nil, err
			}
			fig, err := RegionsFigure(fits, 3)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "nin_maxout_regions.png")
			if err != nil {
				return nil, err
			}
			r, err := RegionsResult(env, fits)
			if err != nil {
				return nil, err
			}
			r.Figures = paths
			return r, nil
		},
	}
}

// RegionAccuracyBar is the accuracy (%) that counts as separating a concept: above it on the fresh points' 95%
// interval, the separator separates; below it, it does not.
const RegionAccuracyBar = 95.0

// RegionsResult judges the maxout claims on the fits of RegionPairs: on the disk the maxout unit separates and
// the linear and ReLU units do not; on the ring the maxout unit does not and the MLP does.
func RegionsResult(env *reproduce.Env, fits []RegionFit) (*reproduce.Result, error) {
	if len(fits) != len(RegionPairs) {
		return nil, fmt.Errorf("nin: %d region fits, want %d", len(fits), len(RegionPairs))
	}
	separates := map[RegionPair]bool{{0, sepMaxout}: true, {0, sepLinear}: false, {0, sepReLU}: false,
		{1, sepMaxout}: false, {1, sepMLP}: true}
	var js []reproduce.Judgement
	parts := map[int][]string{}
	var maxout float64
	for i, pair := range RegionPairs {
		f := fits[i]
		parts[pair.Concept] = append(parts[pair.Concept], fmt.Sprintf("%s %.1f%%", f.Separator.Name, 100*f.Accuracy()))
		if pair == (RegionPair{0, sepMaxout}) {
			maxout = 100 * f.Accuracy()
		}
		want, judged := separates[pair]
		if !judged {
			continue
		}
		e, err := reproduce.Proportion(f.Correct, f.Tested)
		if err != nil {
			return nil, err
		}
		claim := reproduce.Below(RegionAccuracyBar)
		if want {
			claim = reproduce.Above(RegionAccuracyBar)
		}
		js = append(js, env.Judge(claim.In("% ("+f.Concept.Name+", "+f.Separator.Name+")"), reproduce.Scale(e, 100)))
	}
	var ours []string
	for ci, c := range Concepts {
		ours = append(ours, c.Name+": "+strings.Join(parts[ci], ", "))
	}
	return &reproduce.Result{Ours: "accuracy on fresh points — " + strings.Join(ours, "; "), Value: maxout,
		Judgement: reproduce.AllOf(js...),
		Notes: fmt.Sprintf("a separator separates a concept when its accuracy's 95%% interval lies above %.0f%%, and fails to when it lies below. The class-1 region of a unit read out linearly is where its output is above (or below) a threshold: a half-plane for the linear and ReLU units, a convex polygon (or its complement) for the maxout unit.",
			RegionAccuracyBar)}, nil
}
