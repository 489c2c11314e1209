package nin

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Images loads a split of CIFAR-10 when the user has it, else Fashion-MNIST at its own 28×28 (the network pools
// SAME at stride 2: 28 → 14 → 7, 32 → 16 → 8), and the name of the data set it read.
func Images(split data.Split) (*data.Images, string, error) {
	im, name, err := data.CIFAR10OrFashionMNIST(split)
	if err != nil {
		return nil, "", fmt.Errorf("NIN data: %w", err)
	}
	return im, name, nil
}

func images(split data.Split) (*data.Images, error) {
	im, _, err := Images(split)
	return im, err
}

// HeadSettings is the size of the GAP-vs-FC study in one profile.
type HeadSettings struct {
	// WidthDiv divides the widths of models.NINCIFAR10 (1: the paper's network).
	WidthDiv int
	// TrunkDropout keeps §4.1's dropout after the first two mlpconv layers; without it the heads are the only
	// difference in regularization between the three networks.
	TrunkDropout bool
	// LinearMaps leaves the ReLU off the last mlpconv layer (the class maps): at widths ÷ 8 a class map whose ReLU
	// is shut everywhere stops learning, and the GAP network (which has no other way to a class score) stalls.
	LinearMaps bool
	// FCHidden is the hidden width of the fully connected heads.
	FCHidden int
	// TrainN training images (0: all) for Epochs epochs of BatchSize, evaluated Evals times on TestN test images
	// and on the whole training subset; Adam at LR (with WeightDecay), the rate divided by 10 at each epoch of
	// DecayAt.
	TrainN, TestN, BatchSize, Epochs, Evals int
	LR, WeightDecay                         float64
	DecayAt                                 []int
	// Shifts are the test-time translations in pixels: each shifts the first ShiftN test images by that many
	// pixels left, right, up and down (zero fill), and the error increase is averaged over the four.
	Shifts []int
	ShiftN int
	// Seeds are the runs of every head: the same seed gives the three heads the same trunk initialization and
	// batches.
	Seeds []int64
}

// HeadStudy holds the study's sizes per profile. The full profile trains on 2,000 images for 15 epochs with the
// learning rate decayed twice: the FC head's training error falls far below its test error (it over-fits: in a
// trial run, 6% against 14% after 12 epochs), while the GAP network is still learning. The paper profile is §4.2's
// network on all of CIFAR-10 (for a user with the data set and an accelerator).
var HeadStudy = train.ByProfile[HeadSettings]{
	Quick: HeadSettings{WidthDiv: 8, LinearMaps: true, FCHidden: 64, TrainN: 256, TestN: 200, BatchSize: 64, Epochs: 2, Evals: 1,
		LR: 2e-3, DecayAt: []int{1}, Shifts: []int{2, 4}, ShiftN: 100, Seeds: []int64{1}},
	Full: HeadSettings{WidthDiv: 8, LinearMaps: true, FCHidden: 64, TrainN: 2000, TestN: 2000, BatchSize: 64, Epochs: 15, Evals: 3,
		LR: 2e-3, DecayAt: []int{10, 13}, Shifts: []int{2, 4}, ShiftN: 1000, Seeds: []int64{1, 2, 3}},
	Paper: &HeadSettings{WidthDiv: 1, TrunkDropout: true, FCHidden: 1024, BatchSize: 128, Epochs: 100, Evals: 10, LR: 1e-3, WeightDecay: 1e-4,
		DecayAt: []int{60, 80}, Shifts: []int{2, 4}, ShiftN: 10000, Seeds: []int64{1, 2, 3}},
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
// s.WidthDiv): an FC head (hidden layer of s.FCHidden units) without dropout, with dropout, and the GAP head.
func HeadConfigs(s HeadSettings) []models.NINConfig {
	gap := models.NINCIFAR10
	gap.WidthDiv = s.WidthDiv
	gap.Name = HeadGAP
	gap.NoTrunkDropout = !s.TrunkDropout
	gap.LinearMaps = s.LinearMaps
	fcd := gap.WithFCHead(s.FCHidden)
	fcd.Name = HeadFCDropout
	fc := fcd
	fc.Name, fc.NoFCDropout = HeadFC, true
	return []models.NINConfig{fc, fcd, gap}
}

// HeadRun is one head trained with one seed.
type HeadRun struct {
	Seed   int64
	Fitted *train.Fitted
	// TestErr and TrainErr are the final errors in %, Gap = TestErr − TrainErr.
	TestErr, TrainErr, Gap float64
	// ShiftErr[i] is the error increase in points on the first ShiftN test images shifted by Shifts[i] pixels,
	// averaged over the four directions.
	ShiftErr []float64
}

// HeadArm is one head over the seeds.
type HeadArm struct {
	Config models.NINConfig
	// Params is the number of trainable parameters, HeadParams those above the last mlpconv layer.
	Params, HeadParams int
	Runs               []*HeadRun
	// TestErr, TrainErr, Gap and ShiftErr[i] are the runs' values as estimates over the seeds.
	TestErr, TrainErr, Gap reproduce.Estimate
	ShiftErr               []reproduce.Estimate
}

// HeadResults is the study: the arms FC, FC + dropout, GAP, and GAP's advantages seed by seed.
type HeadResults struct {
	Settings HeadSettings
	Data     string
	Arms     []*HeadArm
	// Advantage[i] is the test error of FC head i (FC, FC + dropout) minus GAP's; ShiftAdvantage[i][j] the error
	// increase of FC head i under Shifts[j] minus GAP's. Positive favours GAP.
	Advantage      []reproduce.Estimate
	ShiftAdvantage [][]reproduce.Estimate
	// GapAdvantage[i] is FC head i's train−test gap minus GAP's (points): positive where GAP over-fits less.
	GapAdvantage []reproduce.Estimate
	// FCDropoutGain is FC's test error minus FC + dropout's.
	FCDropoutGain reproduce.Estimate
}

// Classification is the training recipe of cfg under s with one seed; trainN is the size of the training subset
// (for the evaluation schedule).
func (s HeadSettings) Classification(cfg models.NINConfig, seed int64, trainN int) (train.Classification, error) {
	fn, err := models.NIN(cfg)
	if err != nil {
		return train.Classification{}, err
	}
	perEpoch := max(1, trainN/max(1, s.BatchSize))
	c := train.Classification{Name: fmt.Sprintf("nin-%s seed %d", cfg.Name, seed), Model: fn, Dataset: images, TrainN: s.TrainN,
		TestN: s.TestN, EvalTrainN: trainN, BatchSize: s.BatchSize, Epochs: s.Epochs,
		EvalEvery: max(1, s.Epochs*perEpoch/max(1, s.Evals)), LR: s.LR, LogEvery: 10, Seed: seed}
	if s.WeightDecay > 0 {
		c.Optimizer = optimizerFor(s.LR, s.WeightDecay)
	}
	if len(s.DecayAt) > 0 {
		c.Schedule = epochMilestones(s.LR, s.DecayAt, perEpoch).Rate
	}
	return c, nil
}

// epochMilestones divides lr by 10 at each epoch of at, for perEpoch steps per epoch.
func epochMilestones(lr float64, at []int, perEpoch int) optim.Milestones {
	m := optim.Milestones{LR: lr}
	for _, e := range at {
		m.At = append(m.At, e*perEpoch)
	}
	return m
}

// CountParams returns the trainable parameters of cfg on side×side×channels inputs.
func CountParams(backend compute.Backend, cfg models.NINConfig, side, channels int) (int, error) {
	fn, err := models.NIN(cfg)
	if err != nil {
		return 0, err
	}
	t, err := summary.Of(backend, nil, fn, shapes.Make(dtypes.Float32, 1, side, side, channels))
	if err != nil {
		return 0, err
	}
	return t.TrainableParams, nil
}

// headCache keeps the last study run in this process: the head comparison and the shift test are two rows of one
// study, and `convnotes reproduce` runs them one after the other.
var headCache struct {
	sync.Mutex
	key string
	res *HeadResults
}

// TrainHeads trains the three heads of s with every seed (or returns the study this process already ran with the
// same settings and backend), then measures each network's error under the test-time shifts.
func TrainHeads(env *reproduce.Env, s HeadSettings) (*HeadResults, error) {
	key := fmt.Sprintf("%s|%+v", env.Backend.Name(), s)
	headCache.Lock()
	defer headCache.Unlock()
	if headCache.key == key {
		return headCache.res, nil
	}
	res, err := trainHeads(env, s)
	if err != nil {
		return nil, err
	}
	headCache.key, headCache.res = key, res
	return res, nil
}

func trainHeads(env *reproduce.Env, s HeadSettings) (*HeadResults, error) {
	if len(s.Seeds) == 0 || s.Epochs < 1 || s.BatchSize < 1 || s.ShiftN < 1 {
		return nil, fmt.Errorf("nin: head study: invalid settings %+v", s)
	}
	trainIm, name, err := Images(data.Train)
	if err != nil {
		return nil, err
	}
	testIm, _, err := Images(data.Test)
	if err != nil {
		return nil, err
	}
	trainN := trainIm.N
	if s.TrainN > 0 {
		trainN = min(s.TrainN, trainN)
	}
	shifted, err := ShiftedSets(testIm.Subset(s.ShiftN), s.Shifts)
	if err != nil {
		return nil, err
	}
	res := &HeadResults{Settings: s, Data: name}
	var gapParams int
	for _, cfg := range HeadConfigs(s) {
		p, err := CountParams(env.Backend, cfg, trainIm.H, trainIm.C)
		if err != nil {
			return nil, err
		}
		if cfg.Head == models.NINGlobalAvgPool {
			gapParams = p
		}
		res.Arms = append(res.Arms, &HeadArm{Config: cfg, Params: p})
	}
	for _, arm := range res.Arms {
		arm.HeadParams = arm.Params - gapParams
		var tests, trains, gaps []float64
		shiftVals := make([][]float64, len(s.Shifts))
		for _, seed := range s.Seeds {
			c, err := s.Classification(arm.Config, seed, trainN)
			if err != nil {
				return nil, err
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
			r := &HeadRun{Seed: seed, Fitted: f, TestErr: 100 * (1 - test.Accuracy), TrainErr: 100 * (1 - tr.Accuracy)}
			r.Gap = r.TestErr - r.TrainErr
			base, err := errorRate(f.Run, shifted[0][0])
			if err != nil {
				return nil, err
			}
			for i, sets := range shifted[1:] {
				var sum float64
				for _, im := range sets {
					e, err := errorRate(f.Run, im)
					if err != nil {
						return nil, err
					}
					sum += e - base
				}
				r.ShiftErr = append(r.ShiftErr, sum/float64(len(sets)))
				shiftVals[i] = append(shiftVals[i], r.ShiftErr[i])
			}
			arm.Runs = append(arm.Runs, r)
			tests, trains, gaps = append(tests, r.TestErr), append(trains, r.TrainErr), append(gaps, r.Gap)
		}
		if arm.TestErr, err = reproduce.Seeded(s.Seeds, tests); err != nil {
			return nil, err
		}
		if arm.TrainErr, err = reproduce.Seeded(s.Seeds, trains); err != nil {
			return nil, err
		}
		if arm.Gap, err = reproduce.Seeded(s.Seeds, gaps); err != nil {
			return nil, err
		}
		for _, v := range shiftVals {
			e, err := reproduce.Seeded(s.Seeds, v)
			if err != nil {
				return nil, err
			}
			arm.ShiftErr = append(arm.ShiftErr, e)
		}
	}
	gap := res.Arms[2]
	for _, fc := range res.Arms[:2] {
		d, err := reproduce.PairedDifference(fc.TestErr, gap.TestErr)
		if err != nil {
			return nil, err
		}
		res.Advantage = append(res.Advantage, d)
		g, err := reproduce.PairedDifference(fc.Gap, gap.Gap)
		if err != nil {
			return nil, err
		}
		res.GapAdvantage = append(res.GapAdvantage, g)
		var row []reproduce.Estimate
		for j := range s.Shifts {
			d, err := reproduce.PairedDifference(fc.ShiftErr[j], gap.ShiftErr[j])
			if err != nil {
				return nil, err
			}
			row = append(row, d)
		}
		res.ShiftAdvantage = append(res.ShiftAdvantage, row)
	}
	if res.FCDropoutGain, err = reproduce.PairedDifference(res.Arms[0].TestErr, res.Arms[1].TestErr); err != nil {
		return nil, err
	}
	return res, nil
}

// errorRate is run's error in % on im.
func errorRate(run *train.Run, im *data.Images) (float64, error) {
	preds, err := run.PredictClasses(im, false)
	if err != nil {
		return 0, err
	}
	wrong := 0
	for i, p := range preds {
		if p != im.Labels[i] {
			wrong++
		}
	}
	return 100 * float64(wrong) / float64(im.N), nil
}

// Shift returns a copy of im with every image translated by dx pixels to the right and dy down, the uncovered
// pixels set to zero (the background of Fashion-MNIST).
func Shift(im *data.Images, dx, dy int) *data.Images {
	out := &data.Images{Name: fmt.Sprintf("%s/shift(%d,%d)", im.Name, dx, dy), N: im.N, H: im.H, W: im.W, C: im.C,
		Labels: im.Labels, Classes: im.Classes, Pixels: make([]float32, len(im.Pixels))}
	for i := range im.N {
		src, dst := im.Image(i), out.Pixels[i*im.ImageSize():(i+1)*im.ImageSize()]
		for y := range im.H {
			sy := y - dy
			if sy < 0 || sy >= im.H {
				continue
			}
			for x := range im.W {
				sx := x - dx
				if sx < 0 || sx >= im.W {
					continue
				}
				copy(dst[(y*im.W+x)*im.C:(y*im.W+x+1)*im.C], src[(sy*im.W+sx)*im.C:(sy*im.W+sx+1)*im.C])
			}
		}
	}
	return out
}

// ShiftedSets returns [[im], then for each shift the four translated copies (right, left, down, up)].
func ShiftedSets(im *data.Images, shifts []int) ([][]*data.Images, error) {
	out := [][]*data.Images{{im}}
	for _, s := range shifts {
		if s <= 0 || s >= min(im.H, im.W) {
			return nil, fmt.Errorf("nin: shift %d outside (0, %d)", s, min(im.H, im.W))
		}
		out = append(out, []*data.Images{Shift(im, s, 0), Shift(im, -s, 0), Shift(im, 0, s), Shift(im, 0, -s)})
	}
	return out, nil
}

// HeadFigure draws the test and training error of each head over training (the first seed) and each head's error
// increase against the shift, mean over seeds.
func HeadFigure(res *HeadResults) ([]*plots.Figure, error) {
	var series []plots.Series
	for _, a := range res.Arms {
		run := a.Runs[0]
		for _, set := range []string{"test", "train"} {
			s := plots.Series{Name: fmt.Sprintf("%s (%s, seed %d)", a.Config.Name, set, run.Seed), Points: true}
			for _, e := range run.Fitted.Run.History.Evals {
				if e.Set == set {
					s.X, s.Y = append(s.X, e.Epoch), append(s.Y, 100*(1-e.Accuracy))
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
	curves, err := plots.Curves(fmt.Sprintf("NIN trunk with three heads on %s (%d images): error on test and training images", res.Data,
		res.Settings.TrainN), "epoch", "error (%)", series)
	if err != nil {
		return nil, err
	}
	var shift []plots.Series
	for _, a := range res.Arms {
		s := plots.Series{Name: a.Config.Name, Points: true, X: []float64{0}, Y: []float64{0}}
		for j, px := range res.Settings.Shifts {
			s.X, s.Y = append(s.X, float64(px)), append(s.Y, a.ShiftErr[j].Mean)
		}
		shift = append(shift, s)
	}
	shiftFig, err := plots.Curves("test-time translation: error increase (mean over 4 directions and the seeds)", "shift (pixels)",
		"error increase (points)", shift)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{curves, shiftFig}, nil
}

// CategoryMaps returns, for the first n test images, the image and the last mlpconv layer's maps of the GAP
// network cfg trained in r (one per class, §4.6 and Fig. 4) as plot images: the true class's map and the
// predicted class's.
func CategoryMaps(backend compute.Backend, cfg models.NINConfig, r *HeadRun, n int) ([]plots.Image, error) {
	if r == nil || r.Fitted == nil || cfg.Head != models.NINGlobalAvgPool {
		return nil, errors.New("CategoryMaps: need a trained GAP network")
	}
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

// Table is the study as rows for a notebook table: every head's parameters, errors, gap and error increase under
// each shift (mean ± sd over the seeds), then each FC head's difference from GAP with its 95% interval.
func (r *HeadResults) Table() [][]string {
	head := []string{"head", "head parameters", "test error", "training error", "train−test gap"}
	for _, px := range r.Settings.Shifts {
		head = append(head, fmt.Sprintf("error increase at ±%d px", px))
	}
	rows := [][]string{head}
	for _, a := range r.Arms {
		row := []string{a.Config.Name, summary.Thousands(int64(a.HeadParams)), a.TestErr.MeanSD(2, "%"), a.TrainErr.MeanSD(2, "%"),
			a.Gap.MeanSD(2, " points")}
		for _, e := range a.ShiftErr {
			row = append(row, e.MeanSD(2, " points"))
		}
		rows = append(rows, row)
	}
	for i, a := range r.Arms[:2] {
		row := []string{a.Config.Name + " minus GAP (" + r.Advantage[i].SeedList() + ")", "", r.Advantage[i].MeanSD(2, "") + ", " + r.Advantage[i].CI(2), "", ""}
		for _, e := range r.ShiftAdvantage[i] {
			row = append(row, e.MeanSD(2, "")+", "+e.CI(2))
		}
		rows = append(rows, row)
	}
	return rows
}
