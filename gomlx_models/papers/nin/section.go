// Package nin is notebook 07: Network in Network (Lin, Chen & Yan 2014). The mlpconv layer and the CIFAR-10
// network live in gomlx_models/models (models.MLPConv, models.NIN), maxout in gomlx_models/layers; this package
// checks an mlpconv layer against an MLP slid over every patch (§3.1), fits maxout units to a convex function
// (§2), and trains the same NIN trunk with a global-average-pooling head and with fully connected heads (§3.2,
// §4.6), drawing the category maps of the last mlpconv layer (Fig. 4).
package nin

import (
	"fmt"
	"math"

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
		Experiments: []reproduce.Experiment{ninMLPConv(), ninMaxout(), ninGAPvsFC()}}
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

func ninGAPvsFC() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "nin-gap-vs-fc", Section: "07",
		Paper:      "Lin, Chen & Yan 2014, §3.2, §4.6 (Table 2 of the NIN paper) and Fig. 4",
		Claim:      "global average pooling regularizes: no parameters, lower test error than an FC head with or without dropout",
		PaperValue: "CIFAR-10 test error: GAP 10.41%, FC + dropout 10.88%, FC 11.59%",
		Measure: "the same NIN trunk (models.NINCIFAR10, widths ÷ 8) with GAP, FC-64-10 with dropout and without, on CIFAR-10 " +
			"or Fashion-MNIST padded to 32×32; Adam 2e-3, batch 64, 150 steps on 9,600 images, tested on 1,000 " +
			"(quick: 20 steps on 960, tested on 300); paper profile: full width, all data, 100 epochs",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			runs, err := TrainHeads(env, HeadStudy.For(env.Profile))
			if err != nil {
				return nil, err
			}
			fig, err := HeadFigure(runs)
			if err != nil {
				return nil, err
			}
			gap := runs[len(runs)-1]
			imgs, err := CategoryMaps(env.Backend, gap, 4)
			if err != nil {
				return nil, err
			}
			maps, err := plots.ImageGrid("GAP network: test image, its class's map and the predicted class's map (last mlpconv)",
				imgs, 6, plots.PerImageScale(), plots.SizePixels(900, 360))
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig, maps}, "nin_heads.png", "nin_category_maps.png")
			if err != nil {
				return nil, err
			}
			res := HeadResult(env, runs)
			res.Figures = paths
			return res, nil
		},
	}
}

// HeadResult is the table row of the head comparison: GAP's test error against the best FC head's.
func HeadResult(env *reproduce.Env, runs []HeadRun) *reproduce.Result {
	gap := runs[len(runs)-1]
	// One run per head: GAP's test error below the best FC head's has no interval between seeds.
	fc := math.Inf(1)
	for _, r := range runs[:len(runs)-1] {
		fc = math.Min(fc, r.TestErr)
	}
	j := env.Judge(reproduce.Above(0).In(" points"), reproduce.Single(fc-gap.TestErr))
	ours := ""
	for i, r := range runs {
		if i > 0 {
			ours += ", "
		}
		ours += fmt.Sprintf("%s %.2f%%", r.Config.Name, r.TestErr)
	}
	notes := fmt.Sprintf("data: %s; head parameters: ", gap.Data)
	for i, r := range runs {
		if i > 0 {
			notes += ", "
		}
		notes += fmt.Sprintf("%s %s (gap %.1f points)", r.Config.Name, summary.Thousands(int64(r.HeadParams)), r.Gap)
	}
	notes += "."
	if gap.Data != data.DatasetCIFAR10 {
		notes += " CIFAR-10 is absent: Fashion-MNIST padded to 32×32 stands in."
	}
	if env.Quick {
		notes += " Quick profile: too short to rank the heads."
	}
	return &reproduce.Result{Ours: ours + " test error", Value: gap.TestErr, Judgement: j, Notes: notes}
}
