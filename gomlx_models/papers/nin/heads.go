package nin

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Side32 loads a split of CIFAR-10 when the user has it, else Fashion-MNIST zero-padded to 32×32, and the name
// of the data set it read.
func Side32(split data.Split) (*data.Images, string, error) {
	im, name, err := data.CIFAR10OrFashionMNIST(split)
	if err != nil {
		return nil, "", fmt.Errorf("NIN data: %w", err)
	}
	padded, err := im.PadTo(32)
	if err != nil {
		return nil, "", fmt.Errorf("NIN data: %w", err)
	}
	return padded, name, nil
}

func side32(split data.Split) (*data.Images, error) {
	im, _, err := Side32(split)
	return im, err
}

// HeadSettings is the size of the GAP-vs-FC study in one profile.
type HeadSettings struct {
	// WidthDiv divides the widths of models.NINCIFAR10 (1: the paper's network).
	WidthDiv int
	// FCHidden is the hidden width of the fully connected heads.
	FCHidden int
	// TrainN, TestN, EvalTrainN, BatchSize, Steps (or Epochs), LR, WeightDecay and EvalEvery are the training recipe,
	// the same for the three heads.
	TrainN, TestN, EvalTrainN, BatchSize, Steps, Epochs, EvalEvery int
	LR, WeightDecay                                                float64
}

// HeadStudy holds the study's sizes per profile. The paper profile is §4.2's network on all of CIFAR-10 (for a
// user with the data set and an accelerator).
var HeadStudy = train.ByProfile[HeadSettings]{
	Quick: HeadSettings{WidthDiv: 8, FCHidden: 64, TrainN: 960, TestN: 300, EvalTrainN: 300, BatchSize: 64, Steps: 20,
		EvalEvery: 10, LR: 2e-3},
	Full: HeadSettings{WidthDiv: 8, FCHidden: 64, TrainN: 9600, TestN: 1000, EvalTrainN: 1000, BatchSize: 64, Steps: 150,
		EvalEvery: 50, LR: 2e-3},
	Paper: &HeadSettings{WidthDiv: 1, FCHidden: 1024, BatchSize: 128, Epochs: 100, EvalEvery: 1000, LR: 1e-3,
		WeightDecay: 1e-4},
}

// Head names, in the order of the paper's Table 2 comparison.
const (
	HeadFC        = "FC"
	HeadFCDropout = "FC + dropout"
	HeadGAP       = "GAP"
)

// PaperHeadError is §4.6's CIFAR-10 test error of each head (Table 2 of the NIN paper), in %.
var PaperHeadError = map[string]float64{HeadFC: 11.59, HeadFCDropout: 10.88, HeadGAP: 10.41}

// HeadConfigs returns the three networks of the comparison on the same trunk (models.NINCIFAR10 with widths ÷
// s.WidthDiv): the GAP head, an FC head (hidden layer of s.FCHidden units) with dropout, and without.
func HeadConfigs(s HeadSettings) []models.NINConfig {
	gap := models.NINCIFAR10
	gap.WidthDiv = s.WidthDiv
	gap.Name = HeadGAP
	fcd := gap.WithFCHead(s.FCHidden)
	fcd.Name = HeadFCDropout
	fc := fcd
	fc.Name, fc.NoFCDropout = HeadFC, true
	return []models.NINConfig{fc, fcd, gap}
}

// HeadRun is one trained head.
type HeadRun struct {
	Config models.NINConfig
	Fitted *train.Fitted
	// Params is the number of trainable parameters, HeadParams those above the last mlpconv layer.
	Params, HeadParams int
	// TestErr and TrainErr are the final errors in %, Gap = TestErr − TrainErr.
	TestErr, TrainErr, Gap float64
	// Data names the data set.
	Data string
}

// Classification is the training recipe of cfg under s.
func (s HeadSettings) Classification(cfg models.NINConfig) (train.Classification, error) {
	fn, err := models.NIN(cfg)
	if err != nil {
		return train.Classification{}, err
	}
	c := train.Classification{Name: "nin-" + cfg.Name, Model: fn, Dataset: side32, TrainN: s.TrainN, TestN: s.TestN,
		EvalTrainN: s.EvalTrainN, BatchSize: s.BatchSize, Steps: s.Steps, Epochs: s.Epochs, EvalEvery: s.EvalEvery, LR: s.LR}
	if s.EvalTrainN == 0 {
		c.EvalTrainN = 10000
	}
	return c, nil
}

// CountParams returns the trainable parameters of cfg on 32×32×channels inputs.
func CountParams(backend compute.Backend, cfg models.NINConfig, channels int) (int, error) {
	fn, err := models.NIN(cfg)
	if err != nil {
		return 0, err
	}
	t, err := summary.Of(backend, nil, fn, shapes.Make(dtypes.Float32, 1, 32, 32, channels))
	if err != nil {
		return 0, err
	}
	return t.TrainableParams, nil
}

// TrainHeads trains the three heads of s with the same data, seed and recipe.
func TrainHeads(env *reproduce.Env, s HeadSettings) ([]HeadRun, error) {
	trainIm, name, err := Side32(data.Train)
	if err != nil {
		return nil, err
	}
	var runs []HeadRun
	var gapParams int
	cfgs := HeadConfigs(s)
	for _, cfg := range cfgs {
		p, err := CountParams(env.Backend, cfg, trainIm.C)
		if err != nil {
			return nil, err
		}
		if cfg.Head == models.NINGlobalAvgPool {
			gapParams = p
		}
		runs = append(runs, HeadRun{Config: cfg, Params: p, Data: name})
	}
	for i := range runs {
		runs[i].HeadParams = runs[i].Params - gapParams
		c, err := s.Classification(runs[i].Config)
		if err != nil {
			return nil, err
		}
		if s.WeightDecay > 0 {
			c.Optimizer = optimizerFor(c.LR, s.WeightDecay)
		}
		f, err := c.Fit(env.Backend, env.Progress)
		if err != nil {
			return nil, err
		}
		test, ok1 := f.Run.History.LastEval("test")
		tr, ok2 := f.Run.History.LastEval("train")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: no final evaluation", c.Name)
		}
		runs[i].Fitted = f
		runs[i].TestErr, runs[i].TrainErr = 100*(1-test.Accuracy), 100*(1-tr.Accuracy)
		runs[i].Gap = runs[i].TestErr - runs[i].TrainErr
	}
	return runs, nil
}

// HeadFigure draws the test error of each head over training.
func HeadFigure(runs []HeadRun) (*plots.Figure, error) {
	var series []plots.Series
	for _, r := range runs {
		for _, set := range []string{"test", "train"} {
			s := plots.Series{Name: r.Config.Name + " (" + set + ")", Points: true}
			for _, e := range r.Fitted.Run.History.Evals {
				if e.Set == set {
					s.X, s.Y = append(s.X, float64(e.Step)), append(s.Y, 100*(1-e.Accuracy))
				}
			}
			if len(s.X) > 0 {
				series = append(series, s)
			}
		}
	}
	if len(series) == 0 {
		return nil, errors.New("HeadFigure: no evaluation")
	}
	return plots.Curves("NIN trunk with three heads: error on test and training images", "step", "error (%)", series)
}

// CategoryMaps returns, for the first n test images, the image and the last mlpconv layer's maps of the GAP
// network (one per class, §4.6 and Fig. 4) as plot images: the true class's map and the predicted class's.
func CategoryMaps(backend compute.Backend, r HeadRun, n int) ([]plots.Image, error) {
	if r.Fitted == nil || r.Config.Head != models.NINGlobalAvgPool {
		return nil, errors.New("CategoryMaps: need a trained GAP network")
	}
	cfg := r.Config
	cfg.Maps = true
	fn, err := models.NIN(cfg)
	if err != nil {
		return nil, err
	}
	test := r.Fitted.Test.Subset(min(n, r.Fitted.Test.N))
	e, err := model.NewExec(backend, r.Fitted.Run.Store, fn)
	if err != nil {
		return nil, fmt.Errorf("CategoryMaps: %w", err)
	}
	defer e.Finalize()
	outs, err := e.Exec(tensors.FromFlatDataAndDimensions(test.Pixels, test.N, test.H, test.W, test.C))
	if err != nil {
		return nil, fmt.Errorf("CategoryMaps: %w", err)
	}
	d := outs[0].Shape().Dimensions
	vals, err := tensors.CopyFlatData[float32](outs[0])
	outs[0].MustFinalizeAll()
	if err != nil {
		return nil, fmt.Errorf("CategoryMaps: %w", err)
	}
	h, w, k := d[1], d[2], d[3]
	classMap := func(i, class int) []float32 {
		m := make([]float32, h*w)
		for p := range h * w {
			m[p] = vals[(i*h*w+p)*k+class]
		}
		return m
	}
	var imgs []plots.Image
	for i := range test.N {
		scores := make([]float64, k)
		for p := range h * w {
			for c := range k {
				scores[c] += float64(vals[(i*h*w+p)*k+c])
			}
		}
		pred := 0
		for c := range scores {
			if scores[c] > scores[pred] {
				pred = c
			}
		}
		label := int(test.Labels[i])
		imgs = append(imgs,
			plots.Image{Pix: test.Image(i), H: test.H, W: test.W, C: test.C, Label: className(test, label)},
			plots.Image{Pix: classMap(i, label), H: h, W: w, C: 1, Label: "map: " + className(test, label)},
			plots.Image{Pix: classMap(i, pred), H: h, W: w, C: 1, Label: "pred: " + className(test, pred)})
	}
	return imgs, nil
}

func className(im *data.Images, c int) string {
	if c >= 0 && c < len(im.Classes) {
		return im.Classes[c]
	}
	return fmt.Sprint(c)
}
