// Package vgg is notebook 06: Very Deep Convolutional Networks (Simonyan & Zisserman 2015). The configurations
// A–E live in gomlx_models/models (models.VGGLayers, models.VGG); this package counts their parameters against
// Table 2, measures the receptive field of stacked 3×3 convolutions by gradients (§2.3), shows what a 1×1
// convolution adds (configuration C), checks the dense evaluation of §3.2 (FC layers as convolutions) and the
// multi-scale test, and trains a small VGG on the available data.
package vgg

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/plots"
)

// Section lists notebook 06's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "06", Title: "VGG: very deep networks of 3×3 convolutions",
		Experiments: []reproduce.Experiment{vggParams(), vggReceptiveField(), vggOneByOne(), vggDenseEval(), vggScaleJitter(), vggLRN()}}
}

// ParamCount is one configuration's parameter count against Table 2 and torchvision.
type ParamCount struct {
	Config string
	// Params is the number of trainable parameters measured by summary.Of at 224×224×3, 1,000 classes.
	Params int
	// MACs is the multiply-adds of one 224×224 image.
	MACs int64
	// TableMillions is Table 2's number; Torchvision the exact count of torchvision's model (0: no such model).
	TableMillions, Torchvision int
}

// Table2 holds Table 2's parameter counts (millions) and torchvision's exact counts (vgg11, 13, 16, 19).
var Table2 = []ParamCount{
	{Config: "A", TableMillions: 133, Torchvision: 132_863_336},
	{Config: "A-LRN", TableMillions: 133},
	{Config: "B", TableMillions: 133, Torchvision: 133_047_848},
	{Config: "C", TableMillions: 134},
	{Config: "D", TableMillions: 138, Torchvision: 138_357_544},
	{Config: "E", TableMillions: 144, Torchvision: 143_667_240},
}

// ParamCounts measures the parameters and multiply-adds of every configuration of Table 1 at the paper's scale
// (the graph is built, not run).
func ParamCounts(backend compute.Backend) ([]ParamCount, error) {
	out := make([]ParamCount, len(Table2))
	for i, row := range Table2 {
		cfg, err := models.VGGPaper(row.Config, false)
		if err != nil {
			return nil, err
		}
		fn, err := models.VGG(cfg)
		if err != nil {
			return nil, err
		}
		t, err := summary.Of(backend, nil, fn, shapes.Make(dtypes.Float32, 1, models.VGGInputSide, models.VGGInputSide, 3))
		if err != nil {
			return nil, fmt.Errorf("VGG %s: %w", row.Config, err)
		}
		row.Params, row.MACs = t.TrainableParams, t.TotalMACs
		out[i] = row
	}
	return out, nil
}

// Matches reports whether the count rounds to Table 2's millions and equals torchvision's exactly.
func (p ParamCount) Matches() bool {
	return int(math.Round(float64(p.Params)/1e6)) == p.TableMillions && (p.Torchvision == 0 || p.Params == p.Torchvision)
}

// ParamFigure draws the measured parameters (millions) and GMACs of each configuration.
func ParamFigure(counts []ParamCount) (*plots.Figure, error) {
	var table, ours, gmacs plots.Series
	table.Name, ours.Name, gmacs.Name = "Table 2 (millions)", "measured (millions)", "measured GMACs per image"
	table.Points, ours.Points, gmacs.Points = true, true, true
	for i, c := range counts {
		x := float64(i)
		table.X, table.Y = append(table.X, x), append(table.Y, float64(c.TableMillions))
		ours.X, ours.Y = append(ours.X, x), append(ours.Y, float64(c.Params)/1e6)
		gmacs.X, gmacs.Y = append(gmacs.X, x), append(gmacs.Y, float64(c.MACs)/1e9)
	}
	return plots.Curves("VGG configurations A, A-LRN, B, C, D, E (x = 0…5): parameters and cost", "configuration",
		"millions / GMACs", []plots.Series{table, ours, gmacs}, plots.LogY())
}

func vggParams() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "vgg-params", Section: "06",
		Paper:      "Simonyan & Zisserman 2015, Table 1 and Table 2; torchvision vgg11/13/16/19",
		Claim:      "configurations A–E have 133, 133, 133, 134, 138, 144 million parameters",
		PaperValue: "133/133/133/134/138/144 M; torchvision 132,863,336 / 133,047,848 / 138,357,544 / 143,667,240",
		Measure:    "summary.Of on models.VGG(VGGPaper(name)) at 224×224×3, 1,000 classes (graph built, not run; same in both profiles)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			counts, err := ParamCounts(env.Backend)
			if err != nil {
				return nil, err
			}
			fig, err := ParamFigure(counts)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "vgg_params.png")
			if err != nil {
				return nil, err
			}
			ok := 0
			var parts []string
			for _, c := range counts {
				if c.Matches() {
					ok++
				}
				parts = append(parts, fmt.Sprintf("%s %s", c.Config, summary.Thousands(int64(c.Params))))
			}
			return &reproduce.Result{Ours: strings.Join(parts, "; "), Value: float64(ok),
				Judgement: env.Judge(reproduce.Equals(0, 0).In(" configurations off Table 2"), reproduce.Exact(float64(len(counts)-ok))),
				Notes: fmt.Sprintf("%d of %d configurations match Table 2 (rounded) and torchvision (exact); "+
					"D costs %.1f GMACs per 224×224 image.", ok, len(counts), float64(counts[4].MACs)/1e9),
				Figures: paths}, nil
		},
	}
}

// FieldFigure draws ∂y/∂x of the centre unit for each measured stack.
func FieldFigure(fields []Field) (*plots.Figure, error) {
	imgs := make([]plots.Image, len(fields))
	for i, f := range fields {
		n := len(f.Gradient)
		pix := make([]float32, 0, n*n)
		for _, row := range f.Gradient {
			for _, v := range row {
				pix = append(pix, float32(v))
			}
		}
		imgs[i] = plots.Image{Pix: pix, H: n, W: n, C: 1, Label: fmt.Sprintf("%s: %d×%d", f.Stack.Name, f.Measured, f.Measured)}
	}
	return plots.ImageGrid("∂(centre unit)/∂(input) for each stack: the bright square is the receptive field", imgs,
		len(imgs), plots.PerImageScale(), plots.SizePixels(190*len(imgs), 280))
}

// FieldSide is the input side and FieldChannels the channel count of the receptive-field measurements.
const (
	FieldSide     = 11
	FieldChannels = 64
)

func vggReceptiveField() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "vgg-receptive-field", Section: "06",
		Paper:      "Simonyan & Zisserman 2015, §2.3",
		Claim:      "two stacked 3×3 layers see 5×5, three see 7×7, with 27C² instead of 49C² weights",
		PaperValue: "5×5 and 7×7 fields; 27C² vs 49C² (81% more for one 7×7)",
		Measure: "gradient of the centre output unit w.r.t. an 11×11 input (all-ones kernels, SAME padding, ReLU) " +
			"for 1–3 3×3 layers, one 5×5 and one 7×7; weights by summary.Of with C = 64, no biases",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			fields, err := MeasureFields(env.Backend, Stacks[:5], FieldSide, FieldChannels)
			if err != nil {
				return nil, err
			}
			fig, err := FieldFigure(fields)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "vgg_receptive_fields.png")
			if err != nil {
				return nil, err
			}
			two, three, seven := fields[1], fields[3], fields[4]
			c2 := float64(FieldChannels * FieldChannels)
			j := reproduce.AllOf(
				env.Judge(reproduce.Equals(5, 0).In(" px field of two 3×3"), reproduce.Exact(float64(two.Measured))),
				env.Judge(reproduce.Equals(7, 0).In(" px field of three 3×3"), reproduce.Exact(float64(three.Measured))),
				env.Judge(reproduce.Equals(27, 0).In("C² weights of three 3×3"), reproduce.Exact(float64(three.Weights)/c2)),
				env.Judge(reproduce.Equals(49, 0).In("C² weights of one 7×7"), reproduce.Exact(float64(seven.Weights)/c2)))
			return &reproduce.Result{Ours: fmt.Sprintf("%d×%d and %d×%d; %.0fC² vs %.0fC²", two.Measured, two.Measured,
				three.Measured, three.Measured, float64(three.Weights)/c2, float64(seven.Weights)/c2),
				Value: float64(seven.Weights) / float64(three.Weights), Judgement: j,
				Notes: fmt.Sprintf("one 7×7 layer has %.0f%% more weights than three 3×3 layers and 1 ReLU instead of 3.",
					100*(float64(seven.Weights)/float64(three.Weights)-1)),
				Figures: paths}, nil
		},
	}
}

func vggOneByOne() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "vgg-1x1", Section: "06",
		Paper:      "Simonyan & Zisserman 2015, §2.3 (configuration C) and Table 3",
		Claim:      "a 1×1 convolution adds a non-linearity without changing the receptive field; C (with 1×1) is worse than D (3×3)",
		PaperValue: "same field with one more ReLU; top-1 error C 28.1% vs D 27.0% (Table 3, S=256)",
		Measure: "gradient field and ReLU count of 3×3,3×3 vs 3×3,3×3,1×1 vs three 3×3; parameters of C and D at " +
			"224×224 by summary.Of (ImageNet training of C and D is out of reach here)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			fields, err := MeasureFields(env.Backend, []Stack{Stacks[6], Stacks[5], Stacks[3]}, FieldSide, FieldChannels)
			if err != nil {
				return nil, err
			}
			fig, err := FieldFigure(fields)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "vgg_1x1_fields.png")
			if err != nil {
				return nil, err
			}
			counts, err := ParamCounts(env.Backend)
			if err != nil {
				return nil, err
			}
			pair, withOne := fields[0], fields[1]
			j := reproduce.AllOf(
				env.Judge(reproduce.Equals(float64(pair.Measured), 0).In(" px field with the 1×1 layer"), reproduce.Exact(float64(withOne.Measured))),
				env.Judge(reproduce.Equals(float64(pair.ReLUs+1), 0).In(" ReLUs with the 1×1 layer"), reproduce.Exact(float64(withOne.ReLUs))))
			return &reproduce.Result{Ours: fmt.Sprintf("field %d×%d → %d×%d, ReLUs %d → %d", pair.Measured, pair.Measured,
				withOne.Measured, withOne.Measured, pair.ReLUs, withOne.ReLUs), Value: float64(withOne.Measured), Judgement: j,
				Notes: fmt.Sprintf("the 1×1 layer costs C² = %s weights at C=64; a third 3×3 would see %d×%d. "+
					"C has %s parameters, D %s.", summary.Thousands(int64(withOne.Weights-pair.Weights)),
					fields[2].Measured, fields[2].Measured, summary.Thousands(int64(counts[3].Params)),
					summary.Thousands(int64(counts[4].Params))),
				Figures: paths}, nil
		},
	}
}

// DenseScales are the test scales of the dense-evaluation demonstration: Q ∈ {S−32, S, S+32} for S = 256 (§4.2).
var DenseScales = []int{224, 256, 288}

// DenseFigure draws the posterior over the classes at each scale and averaged.
func DenseFigure(r *DenseResult) (*plots.Figure, error) {
	var series []plots.Series
	for _, s := range r.Scales {
		xs := make([]float64, len(s.Posterior))
		for i := range xs {
			xs[i] = float64(i)
		}
		series = append(series, plots.Series{Name: fmt.Sprintf("Q=%d (%d×%d map)", s.Q, s.MapH, s.MapW), X: xs, Y: s.Posterior})
	}
	xs := make([]float64, len(r.Average))
	for i := range xs {
		xs[i] = float64(i)
	}
	series = append(series, plots.Series{Name: "average over Q", X: xs, Y: r.Average})
	return plots.Curves(fmt.Sprintf("dense evaluation of %s (untrained): class posteriors at each scale", r.Config.Name),
		"class", "posterior", series)
}

func vggDenseEval() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "vgg-dense-eval", Section: "06",
		Paper:      "Simonyan & Zisserman 2015, §3.2 (dense evaluation) and §4.2 (multi-scale test)",
		Claim:      "the FC layers as 7×7 and 1×1 convolutions give the FC net's scores at 224 and a class-score map at larger Q",
		PaperValue: "same outputs at 224; spatially averaged score map; Q ∈ {S−32, S, S+32}",
		Measure: "VGG-A/8 with FC 512-512-1000 (seeded, untrained): FC net vs fully convolutional net with the same " +
			"variables at 224×224, then one image resized to Q = 224, 256, 288 (S = 256), posteriors averaged",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := DenseEvaluation(env.Backend, DenseDemo, DenseScales, 7)
			if err != nil {
				return nil, err
			}
			fig, err := DenseFigure(r)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "vgg_dense_eval.png")
			if err != nil {
				return nil, err
			}
			rel := r.MaxAbsDiff / math.Max(r.MaxAbs, 1e-12)
			j := env.Judge(reproduce.Holds(1e-4).In(" relative"), reproduce.Exact(rel))
			var maps []string
			for _, s := range r.Scales {
				maps = append(maps, fmt.Sprintf("Q=%d: %d×%d", s.Q, s.MapH, s.MapW))
			}
			return &reproduce.Result{Ours: fmt.Sprintf("max |FC − dense| = %.2g (%.1g relative); maps %s", r.MaxAbsDiff,
				rel, strings.Join(maps, ", ")), Value: rel, Judgement: j,
				Notes:   "untrained weights: the row checks the mechanism; trained networks are tested at several scales in vgg-scale-jitter.",
				Figures: paths}, nil
		},
	}
}

// jitterMeasure says how the scale-jitter study runs, for both of its rows.
func jitterMeasure() string {
	q, f := JitterStudy.Quick, JitterStudy.Full
	return fmt.Sprintf("configurations %v with widths ÷ %d and FC %d-%d-10 (dropout 0.5) on 32×32 inputs (Fashion-MNIST padded, or CIFAR-10); the first %d images, each rescaled to S ∈ [%d, %d] then randomly cropped to 32 and flipped (§3.1); Adam %g, batch %d, %d epochs, η ÷ 10 at epochs %v; %d test images evaluated densely (FC layers as convolutions) at each Q ∈ %v (the paper's single scale: Q = %d) and with the posteriors averaged; LRN compared at Q = %d; %s, paired by seed (quick: %d images, %d epoch, 1 seed)",
		f.Configs, f.WidthDiv, f.FC, f.FC, f.TrainN, f.SMin, f.SMax, f.LR, f.BatchSize, f.Epochs, f.DecayAt, f.TestN, f.Qs, f.Single, f.Qs[0],
		reproduce.Estimate{Seeds: f.Seeds}.SeedList(), q.TrainN, q.Epochs)
}

// jitterMinutes is the measured full-profile time of the study (both rows share one run).
const jitterMinutes = 20

// jitterRow runs the study of env's profile (or reuses this process's run of it), saves its first len(names)
// figures under names and builds the row with row.
func jitterRow(env *reproduce.Env, row func(*JitterResult, *reproduce.Env) (*reproduce.Result, error), names ...string) (*reproduce.Result, error) {
	r, err := Jitter(env, JitterStudy.For(env.Profile))
	if err != nil {
		return nil, err
	}
	figs, err := r.JitterFigures()
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, figs[:len(names)], names...)
	if err != nil {
		return nil, err
	}
	res, err := row(r, env)
	if err != nil {
		return nil, err
	}
	res.Figures = paths
	return res, nil
}

func vggScaleJitter() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "vgg-scale-jitter", Section: "06",
		Paper:      "Simonyan & Zisserman 2015, §3.1, §4.2 and Table 4",
		Claim:      "a network trained with scale jitter is more accurate tested at several scales (posteriors averaged) than at one (judged against each single scale)",
		PaperValue: "S ∈ [256, 512], Q ∈ {256, 384, 512} against Q = 384: lower error (Table 3 → Table 4, configuration D: 25.6% → 24.8% top-1)",
		Measure:    jitterMeasure(),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			return jitterRow(env, (*JitterResult).JitterResultRow, "vgg_scale_jitter.png", "vgg_jitter_loss.png", "vgg_jitter_accuracy.png")
		},
		Long: true, FullMinutes: jitterMinutes,
	}
}

func vggLRN() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "vgg-lrn", Section: "06",
		Paper:      "Simonyan & Zisserman 2015, §4.1 and Table 3",
		Claim:      "local response normalization does not improve configuration A (A-LRN vs A)",
		PaperValue: "top-1 error A 29.6%, A-LRN 29.7% (Table 3, S = 256)",
		Measure:    jitterMeasure() + "; the same networks as vgg-scale-jitter",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			return jitterRow(env, (*JitterResult).LRNResultRow, "vgg_lrn_scales.png")
		},
		Long: true, FullMinutes: jitterMinutes,
	}
}
