package resnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/convnotes/convnotes/gomlx_models/augment"
	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Data loads a split of CIFAR-10 when the user has it (CONVNOTES_DATA), else Fashion-MNIST at its own 28×28×1,
// and the name of the data set it read. The CIFAR ResNets have no fixed input size: 28×28 inputs give 28, 14
// and 7 grids instead of 32, 16 and 8.
func Data(split data.Split) (*data.Images, string, error) {
	im, name, err := data.CIFAR10OrFashionMNIST(split)
	if err != nil {
		return nil, "", fmt.Errorf("ResNet data: %w", err)
	}
	return im, name, nil
}

// MeanSubtracted is a split of Data with the training split's per-pixel mean subtracted from every image, as
// §4.2 prepares CIFAR-10 ("the per-pixel mean subtracted"); the 4-pixel padding of the augmentation then pads
// with the mean image's value 0. The loaded images are copied, not changed.
func MeanSubtracted(split data.Split) (*data.Images, error) {
	trainIm, _, err := Data(data.Train)
	if err != nil {
		return nil, err
	}
	im := trainIm
	if split != data.Train {
		if im, _, err = Data(split); err != nil {
			return nil, err
		}
	}
	mean := PixelMean(trainIm)
	if len(mean) != im.ImageSize() {
		return nil, fmt.Errorf("ResNet data: %s images are %d×%d×%d, the training images %d×%d×%d", split, im.H, im.W,
			im.C, trainIm.H, trainIm.W, trainIm.C)
	}
	out := *im
	out.Pixels = make([]float32, len(im.Pixels))
	size := im.ImageSize()
	for i, v := range im.Pixels {
		out.Pixels[i] = v - mean[i%size]
	}
	return &out, nil
}

// PixelMean is the mean image of im: one value per pixel and channel.
func PixelMean(im *data.Images) []float32 {
	size := im.ImageSize()
	sum := make([]float64, size)
	for i, v := range im.Pixels {
		sum[i%size] += float64(v)
	}
	mean := make([]float32, size)
	for i, s := range sum {
		mean[i] = float32(s / float64(max(im.N, 1)))
	}
	return mean
}

// Recipe is the CIFAR-10 training recipe of §4.2 with its sizes: per-pixel mean subtracted, SGD with momentum
// and weight decay, the learning rate divided by 10 at each milestone, 4-pixel padding + random crops +
// horizontal flips.
type Recipe struct {
	// Width is the first stage's width (16 in the paper; the stages have Width, 2·Width, 4·Width).
	Width int
	// TrainN and TestN are the images used (0: all); EvalTrainN the training images the training error is
	// measured on (in inference mode, without augmentation).
	TrainN, TestN, EvalTrainN   int
	BatchSize, Steps, EvalEvery int
	LR, Momentum, WeightDecay   float64
	// Milestones are the steps at which the learning rate is divided by 10 (the paper: 32k and 48k of 64k).
	Milestones []int
	// Warmup steps at WarmupLR come first for networks at least WarmupDepth deep (§4.2: ResNet-110 starts at
	// 0.01 "until the training error is below 80% (about 400 iterations)"; a fixed count stands in for the
	// error test).
	Warmup, WarmupDepth int
	WarmupLR            float64
	// Pad is the augmentation's padding (0: no augmentation).
	Pad int
}

// LRAt is the learning rate of the step with 0-based index step, for a network of the given depth.
func (r Recipe) LRAt(step, depth int) float64 {
	if r.Warmup > 0 && r.WarmupDepth > 0 && depth >= r.WarmupDepth && step < r.Warmup {
		return r.WarmupLR
	}
	lr := r.LR
	for _, m := range r.Milestones {
		if step >= m {
			lr /= 10
		}
	}
	return lr
}

// Validate reports a recipe that cannot train.
func (r Recipe) Validate() error {
	if r.Width < 1 || r.BatchSize < 1 || r.Steps < 1 || !(r.LR > 0) || r.Momentum < 0 || r.Momentum >= 1 ||
		r.WeightDecay < 0 || r.Pad < 0 {
		return fmt.Errorf("ResNet recipe: want width, batch, steps and LR > 0, 0 ≤ momentum < 1, weight decay and pad ≥ 0, got %+v", r)
	}
	for i, m := range r.Milestones {
		if m < 1 || i > 0 && m <= r.Milestones[i-1] {
			return fmt.Errorf("ResNet recipe: milestones must increase from 1, got %v", r.Milestones)
		}
	}
	if r.Warmup < 0 || r.Warmup > 0 && (r.WarmupDepth < 1 || !(r.WarmupLR > 0)) {
		return fmt.Errorf("ResNet recipe: a warm-up needs a depth ≥ 1 and a positive rate, got %d steps at %g from depth %d",
			r.Warmup, r.WarmupLR, r.WarmupDepth)
	}
	return nil
}

// Net is the CIFAR network of the given depth (6n+2) at the recipe's width, residual with option A shortcuts
// (§4.2) or plain.
func (r Recipe) Net(depth int, plain bool) (models.ResNetConfig, error) {
	cfg, err := models.CIFARResNet(depth, models.ShortcutA)
	if err != nil {
		return cfg, err
	}
	cfg.Planes = []int{r.Width, 2 * r.Width, 4 * r.Width}
	cfg.Plain = plain
	if plain {
		cfg.Name = fmt.Sprintf("plain-%d", depth)
	}
	return cfg, nil
}

// Classification is the training run of cfg under r: the recipe's optimizer, schedule and augmentation, seeded.
func (r Recipe) Classification(cfg models.ResNetConfig) (train.Classification, error) {
	if err := r.Validate(); err != nil {
		return train.Classification{}, err
	}
	depth := cfg.Depth()
	c := train.Classification{
		Name: fmt.Sprintf("%s (width %d)", cfg.Name, cfg.Planes[0]), Model: models.ResNet(cfg), Dataset: MeanSubtracted,
		TrainN: r.TrainN, TestN: r.TestN, EvalTrainN: r.EvalTrainN, BatchSize: r.BatchSize, Steps: r.Steps,
		EvalEvery: r.EvalEvery, LogEvery: max(1, r.EvalEvery/10),
		Optimizer: optim.Momentum{LR: r.LRAt(0, depth), Mu: r.Momentum, WeightDecay: r.WeightDecay},
		Schedule:  func(step int) float64 { return r.LRAt(step, depth) },
	}
	if r.Pad > 0 {
		rng := rand.New(rand.NewPCG(uint64(depth), 4))
		c.Augment = func(pixels []float32, n, h, w, ch int) error {
			return augment.PadCropFlipNHWC(rng, pixels, n, h, w, ch, r.Pad)
		}
	}
	return c, nil
}

// Trained is one trained network.
type Trained struct {
	Config models.ResNetConfig
	Fitted *train.Fitted
	// TestErr and TrainErr are the final errors in %; Data names the data set; Seconds the training time.
	TestErr, TrainErr float64
	Data              string
	Seconds           float64
}

// Fit trains cfg with r on env.Backend.
func (r Recipe) Fit(env *reproduce.Env, cfg models.ResNetConfig) (*Trained, error) {
	c, err := r.Classification(cfg)
	if err != nil {
		return nil, err
	}
	_, name, err := Data(data.Test)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	f, err := c.Fit(env.Backend, env.Progress)
	if err != nil {
		return nil, err
	}
	tr := &Trained{Config: cfg, Fitted: f, Data: name, Seconds: time.Since(t0).Seconds()}
	test, ok := f.Run.History.LastEval("test")
	if !ok {
		return nil, fmt.Errorf("%s: no final test evaluation", c.Name)
	}
	tr.TestErr = 100 * (1 - test.Accuracy)
	tr.TrainErr = -1
	if e, ok := f.Run.History.LastEval("train"); ok {
		tr.TrainErr = 100 * (1 - e.Accuracy)
	}
	return tr, nil
}

// Study is a set of CIFAR networks trained with one recipe.
type Study struct {
	// Depths are the networks' depths (6n+2); WithPlain also trains the plain network of each depth.
	Depths    []int
	WithPlain bool
	Recipe
}

// PaperRecipe is §4.2's recipe: width 16, batch 128, SGD momentum 0.9, weight decay 10⁻⁴, learning rate 0.1
// divided by 10 at 32k and 48k iterations, stopped at 64k, 4-pixel padding with random crops and flips, all
// 50,000 training images (the paper splits off 5k for validation only to choose the schedule), ResNet-110
// warmed up at 0.01 for 400 iterations.
var PaperRecipe = Recipe{Width: 16, EvalTrainN: 10000, BatchSize: 128, Steps: 64000, EvalEvery: 2000, LR: 0.1,
	Momentum: 0.9, WeightDecay: 1e-4, Milestones: []int{32000, 48000}, Warmup: 400, WarmupDepth: 110,
	WarmupLR: 0.01, Pad: 4}

// Degradation is the plain-vs-residual study of Fig. 6 per profile. The full profile trains depths 20 and 56 at
// half the paper's width for 800 steps of 64 (51,200 images: 0.85 epoch of Fashion-MNIST, 1.02 of CIFAR-10),
// the schedule compressed in the same proportions (÷10 at 50% and 75%); the paper profile is Fig. 6 itself.
var Degradation = train.ByProfile[Study]{
	Quick: Study{Depths: []int{8, 14}, WithPlain: true, Recipe: Recipe{Width: 4, TrainN: 1280, TestN: 300,
		EvalTrainN: 300, BatchSize: 32, Steps: 12, EvalEvery: 6, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4,
		Milestones: []int{6, 9}, Pad: 4}},
	Full: Study{Depths: []int{20, 56}, WithPlain: true, Recipe: Recipe{Width: 8, TestN: 1000, EvalTrainN: 1000,
		BatchSize: 64, Steps: 800, EvalEvery: 100, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4,
		Milestones: []int{400, 600}, Pad: 4}},
	Paper: &Study{Depths: []int{20, 32, 44, 56}, WithPlain: true, Recipe: PaperRecipe},
}

// Table6 is the ResNet-20 training per profile: the paper's network (width 16, option A) with the paper's
// batch of 128 and its schedule compressed to 750 steps (96,000 images: 1.6 epochs of Fashion-MNIST, 1.92 of
// CIFAR-10) in the full profile; the
// paper profile trains every depth of Table 6.
var Table6 = train.ByProfile[Study]{
	Quick: Study{Depths: []int{20}, Recipe: Recipe{Width: 16, TrainN: 640, TestN: 300, BatchSize: 32, Steps: 6,
		EvalEvery: 6, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, Milestones: []int{3, 5}, Pad: 4}},
	Full: Study{Depths: []int{20}, Recipe: Recipe{Width: 16, BatchSize: 128, Steps: 750, EvalEvery: 250, LR: 0.1,
		Momentum: 0.9, WeightDecay: 1e-4, Milestones: []int{375, 563}, Pad: 4}},
	Paper: &Study{Depths: models.ResNetCIFARDepths, Recipe: PaperRecipe},
}

// PaperCIFARError is Table 6's CIFAR-10 test error (%) of the ResNets, and Fig. 6's plain nets are worse with
// depth (no table; the text gives none).
var PaperCIFARError = map[int]float64{20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43}

// Train trains every network of s, the plain network of each depth before the residual one.
func (s Study) Train(env *reproduce.Env) ([]*Trained, error) {
	if len(s.Depths) == 0 {
		return nil, errors.New("ResNet study: no depths")
	}
	var out []*Trained
	for _, d := range s.Depths {
		kinds := []bool{false}
		if s.WithPlain {
			kinds = []bool{true, false}
		}
		for _, plain := range kinds {
			cfg, err := s.Net(d, plain)
			if err != nil {
				return nil, err
			}
			t, err := s.Fit(env, cfg)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// DegradationFigures draw Fig. 6: training error (and test error) over the steps, plain networks on the left
// figure and residual ones on the right, on the same scale.
func DegradationFigures(runs []*Trained) (plain, residual *plots.Figure, err error) {
	var ps, rs []plots.Series
	hi := 0.0
	for _, r := range runs {
		for _, set := range []string{"train", "test"} {
			s := plots.Series{Name: fmt.Sprintf("%d layers (%s)", r.Config.Depth(), set), Points: set == "train"}
			s.X, s.Y = errorSeries(r, set)
			for _, y := range s.Y {
				hi = max(hi, y)
			}
			if len(s.X) == 0 {
				continue
			}
			if r.Config.Plain {
				ps = append(ps, s)
			} else {
				rs = append(rs, s)
			}
		}
	}
	if len(ps) == 0 || len(rs) == 0 {
		return nil, nil, errors.New("DegradationFigures: need evaluated plain and residual networks")
	}
	top := min(100, hi*1.05)
	plain, err = plots.Curves("plain networks (cf. Fig. 6 left)", "step", "error (%)", ps, plots.YRange(0, top))
	if err != nil {
		return nil, nil, err
	}
	residual, err = plots.Curves("ResNets, option A (cf. Fig. 6 middle)", "step", "error (%)", rs, plots.YRange(0, top))
	return plain, residual, err
}

// Degraded compares the runs of a degradation study at its shallowest and deepest depth: the plain networks'
// and the residual networks' final training errors.
type Degraded struct {
	Shallow, Deep                         int
	PlainShallow, PlainDeep               float64
	ResidualShallow, ResidualDeep         float64
	PlainTestShallow, PlainTestDeep       float64
	ResidualTestShallow, ResidualTestDeep float64
	Data                                  string
}

// CompareDepths reads the training errors of the shallowest and the deepest plain and residual networks.
func CompareDepths(runs []*Trained) (Degraded, error) {
	d := Degraded{Shallow: -1, Deep: -1}
	find := func(depth int, plain bool) *Trained {
		for _, r := range runs {
			if r.Config.Depth() == depth && r.Config.Plain == plain {
				return r
			}
		}
		return nil
	}
	for _, r := range runs {
		if dep := r.Config.Depth(); d.Shallow < 0 || dep < d.Shallow {
			d.Shallow = dep
		}
		if dep := r.Config.Depth(); dep > d.Deep {
			d.Deep = dep
		}
	}
	ps, pd, rs, rd := find(d.Shallow, true), find(d.Deep, true), find(d.Shallow, false), find(d.Deep, false)
	if ps == nil || pd == nil || rs == nil || rd == nil || d.Shallow == d.Deep {
		return d, errors.New("CompareDepths: need plain and residual networks at two depths")
	}
	for _, r := range []*Trained{ps, pd, rs, rd} {
		if r.TrainErr < 0 {
			return d, fmt.Errorf("CompareDepths: %s has no training-error evaluation", r.Config.Name)
		}
	}
	d.PlainShallow, d.PlainDeep, d.ResidualShallow, d.ResidualDeep = ps.TrainErr, pd.TrainErr, rs.TrainErr, rd.TrainErr
	d.PlainTestShallow, d.PlainTestDeep, d.ResidualTestShallow, d.ResidualTestDeep = ps.TestErr, pd.TestErr, rs.TestErr, rd.TestErr
	d.Data = rs.Data
	return d, nil
}

// Judge judges Fig. 6's two claims on one run of each network: going deeper adds training error to the plain
// network (deep − shallow above 0) and none to the ResNet (deep − shallow below 0), in points.
func (d Degraded) Judge(env *reproduce.Env) reproduce.Judgement {
	return reproduce.AllOf(
		env.Judge(reproduce.Above(0).In(" points (plain, deep − shallow)"), reproduce.Single(d.PlainDeep-d.PlainShallow)),
		env.Judge(reproduce.Below(0).In(" points (ResNet, deep − shallow)"), reproduce.Single(d.ResidualDeep-d.ResidualShallow)))
}
