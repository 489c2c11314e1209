package resnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// ReestimateBN re-estimates the batch normalization statistics on the EvalTrainN (un-augmented) training
	// images before every evaluation, so that the training error measured in inference mode is that of the
	// weights, not of moving averages that lag them (or average over augmented batches).
	ReestimateBN bool
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

// Classification is the training run of cfg under r with the given seed (0: the recipe's fixed seeds): the
// recipe's optimizer, schedule and augmentation, seeded.
func (r Recipe) Classification(cfg models.ResNetConfig, seed int64) (train.Classification, error) {
	if err := r.Validate(); err != nil {
		return train.Classification{}, err
	}
	depth := cfg.Depth()
	c := train.Classification{
		Name: fmt.Sprintf("%s (width %d)", cfg.Name, cfg.Planes[0]), Model: models.ResNet(cfg), Dataset: MeanSubtracted,
		TrainN: r.TrainN, TestN: r.TestN, EvalTrainN: r.EvalTrainN, BatchSize: r.BatchSize, Steps: r.Steps,
		EvalEvery: r.EvalEvery, LogEvery: max(1, r.EvalEvery/10), Seed: seed,
		Optimizer: optim.Momentum{LR: r.LRAt(0, depth), Mu: r.Momentum, WeightDecay: r.WeightDecay},
		Schedule:  func(step int) float64 { return r.LRAt(step, depth) },
	}
	if seed != 0 {
		c.Name += fmt.Sprintf(", seed %d", seed)
	}
	if r.ReestimateBN {
		if r.EvalTrainN < 1 || r.EvalEvery < 1 || r.Steps%r.EvalEvery != 0 {
			return train.Classification{}, fmt.Errorf("ResNet recipe: re-estimating BN needs EvalTrainN ≥ 1 and Steps a multiple of EvalEvery, got %d, %d, %d",
				r.EvalTrainN, r.Steps, r.EvalEvery)
		}
		ds, err := r.reestimationData()
		if err != nil {
			return train.Classification{}, err
		}
		c.OnStep = func(run *train.Run, rec train.StepRecord) error {
			if rec.Step%r.EvalEvery != 0 {
				return nil
			}
			return run.ReestimateBatchNorm(ds)
		}
	}
	if r.Pad > 0 {
		rng := rand.New(rand.NewPCG(uint64(depth), 4+uint64(seed)))
		c.Augment = func(pixels []float32, n, h, w, ch int) error {
			return augment.PadCropFlipNHWC(rng, pixels, n, h, w, ch, r.Pad)
		}
	}
	return c, nil
}

// reestimationData is the first EvalTrainN training images the recipe trains on (mean subtracted, not
// augmented), in batches of 500: the data BN's statistics are re-estimated on before each evaluation.
func (r Recipe) reestimationData() (train.Dataset, error) {
	im, err := MeanSubtracted(data.Train)
	if err != nil {
		return nil, err
	}
	if r.TrainN > 0 && r.TrainN < im.N {
		im = im.Subset(r.TrainN)
	}
	return data.NewBatches(im.Subset(min(r.EvalTrainN, im.N)), data.BatchConfig{BatchSize: min(500, r.EvalTrainN)}), nil
}

// Trained is one trained network.
type Trained struct {
	Config models.ResNetConfig
	Seed   int64
	Fitted *train.Fitted
	// TestErr and TrainErr are the final errors in %; Data names the data set; Seconds the training time.
	TestErr, TrainErr float64
	Data              string
	Seconds           float64
	// Alongside is how many networks were training at once while this one trained (1: alone); Seconds is wall
	// time, shared with them.
	Alongside int
}

// Fit trains cfg with r on env.Backend, with the given seed (0: the recipe's fixed seeds).
func (r Recipe) Fit(env *reproduce.Env, cfg models.ResNetConfig, seed int64) (*Trained, error) {
	c, err := r.Classification(cfg, seed)
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
	tr := &Trained{Config: cfg, Seed: seed, Fitted: f, Data: name, Seconds: time.Since(t0).Seconds()}
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

// Study is a set of CIFAR networks trained with one recipe, for each seed: the residual networks of Depths and
// the plain networks of PlainDepths (6n+2 each).
type Study struct {
	Depths, PlainDepths []int
	Seeds               []int64
	Recipe
}

// PaperRecipe is §4.2's recipe: width 16, batch 128, SGD momentum 0.9, weight decay 10⁻⁴, learning rate 0.1
// divided by 10 at 32k and 48k iterations, stopped at 64k, 4-pixel padding with random crops and flips, all
// 50,000 training images (the paper splits off 5k for validation only to choose the schedule), ResNet-110
// warmed up at 0.01 for 400 iterations; BN re-estimated on 10,000 training images before each evaluation.
var PaperRecipe = Recipe{Width: 16, EvalTrainN: 10000, BatchSize: 128, Steps: 64000, EvalEvery: 2000, LR: 0.1,
	Momentum: 0.9, WeightDecay: 1e-4, Milestones: []int{32000, 48000}, Warmup: 400, WarmupDepth: 110,
	WarmupLR: 0.01, Pad: 4, ReestimateBN: true}

// DepthRecipe is the full profile's recipe of the depth studies: a fixed subset of 4,000 training images
// trained until the training error stops falling — 15 epochs of 62 batches of 64 (930 steps), the learning
// rate 0.1 divided by 10 at 50% and 75% as in §4.2 — at half the paper's width (8-16-32), with the paper's
// momentum, weight decay and augmentation. Every 5 epochs BN is re-estimated on the first 2,000 training
// images and the training error is measured on them (inference mode, no augmentation), the test error on 5,000
// test images. (A first full run on 5,000 images with two seeds and an evaluation every 3 epochs took 2 h 17 min
// on the shared machine, its evaluations almost a third of it, and its intervals over two seeds — Student's t
// with one degree of freedom — could not resolve even the 22-point degradation of the plain networks: hence
// three seeds, fewer and smaller evaluations, and 4,000 images.)
var DepthRecipe = Recipe{Width: 8, TrainN: 4000, TestN: 5000, EvalTrainN: 2000, BatchSize: 64, Steps: 930,
	EvalEvery: 310, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, Milestones: []int{465, 698}, Pad: 4, ReestimateBN: true}

// quickDepthRecipe is the quick profile's: depths 8 and 14 at width 4 on 640 images for 20 steps.
var quickDepthRecipe = Recipe{Width: 4, TrainN: 640, TestN: 300, EvalTrainN: 640, BatchSize: 32, Steps: 20,
	EvalEvery: 10, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, Milestones: []int{10, 15}, Pad: 4, ReestimateBN: true}

// Degradation is the plain-vs-residual study of Fig. 6 per profile: depths 20, 32 and 56, plain and residual,
// three seeds, on a fixed 4,000-image subset until the training error stops falling (see DepthRecipe); the
// paper profile is Fig. 6 itself (depths 20, 32, 44, 56 on CIFAR-10, 64k iterations).
var Degradation = train.ByProfile[Study]{
	Quick: Study{Depths: []int{8, 14}, PlainDepths: []int{8, 14}, Seeds: []int64{1}, Recipe: quickDepthRecipe},
	Full:  Study{Depths: []int{20, 32, 56}, PlainDepths: []int{20, 32, 56}, Seeds: []int64{1, 2, 3}, Recipe: DepthRecipe},
	Paper: &Study{Depths: []int{20, 32, 44, 56}, PlainDepths: []int{20, 32, 44, 56}, Seeds: []int64{1, 2}, Recipe: PaperRecipe},
}

// Table6 is the study behind the test-error claims of Table 6 per profile. In the quick and full profiles it is
// the degradation study itself (the same networks, trained once per process): its residual networks of
// depth 20, 32 and 56 and its plain-20 at a fixed budget. The paper profile trains Table 6's ResNets of depth
// 20 to 110 and the plain-20 with §4.2's recipe on CIFAR-10.
var Table6 = train.ByProfile[Study]{
	Quick: Degradation.Quick,
	Full:  Degradation.Full,
	Paper: &Study{Depths: models.ResNetCIFARDepths, PlainDepths: []int{20}, Seeds: []int64{1, 2}, Recipe: PaperRecipe},
}

// PaperCIFARError is Table 6's CIFAR-10 test error (%) of the ResNets, and Fig. 6's plain nets are worse with
// depth (no table; the text gives none).
var PaperCIFARError = map[int]float64{20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43}

var (
	studyMu    sync.Mutex
	studyCache = map[string][]*Trained{}
)

// maxConcurrentFits bounds how many networks Train fits at once. A fit keeps about 1.3 of 2 cores busy on the
// Go backend (its operations are only partly parallel), so two fits side by side finish in about 55% of the
// time of one after the other (measured: two ResNet-20 fits of 60 steps, 61 s in turn, 34 s side by side).
var maxConcurrentFits = 4

// fitWorkers is how many of n fits Train runs at once: one per processor, at most maxConcurrentFits.
func fitWorkers(n int) int {
	return max(1, min(n, runtime.GOMAXPROCS(0), maxConcurrentFits))
}

// Train trains every network of s for every seed — for each seed, each depth, the plain network before the
// residual one, up to fitWorkers at a time — and keeps the result for the process, so that the two experiments
// reading one study train it once. Every fit has its own seeds, so the runs do not depend on how many train at
// once; the result lists them in the order above.
func (s Study) Train(env *reproduce.Env) ([]*Trained, error) {
	if len(s.Depths) == 0 || len(s.Seeds) == 0 {
		return nil, errors.New("ResNet study: no depths or no seeds")
	}
	key := fmt.Sprintf("%s|%+v", env.Backend.Name(), s)
	studyMu.Lock()
	defer studyMu.Unlock()
	if out, ok := studyCache[key]; ok {
		return out, nil
	}
	depths := slices.Clone(s.Depths)
	for _, d := range s.PlainDepths {
		if !slices.Contains(depths, d) {
			depths = append(depths, d)
		}
	}
	slices.Sort(depths)
	type job struct {
		cfg  models.ResNetConfig
		seed int64
	}
	var jobs []job
	for _, seed := range s.Seeds {
		for _, d := range depths {
			for _, plain := range []bool{true, false} {
				if plain && !slices.Contains(s.PlainDepths, d) || !plain && !slices.Contains(s.Depths, d) {
					continue
				}
				cfg, err := s.Net(d, plain)
				if err != nil {
					return nil, err
				}
				jobs = append(jobs, job{cfg, seed})
			}
		}
	}
	// The deepest networks start first, so that no long fit is left to run alone at the end.
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return jobs[b].cfg.Depth() - jobs[a].cfg.Depth() })
	workers := fitWorkers(len(jobs))
	out := make([]*Trained, len(jobs))
	errs := make([]error, len(jobs))
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(order) || failed.Load() {
					return
				}
				i := order[k]
				t, err := recovered(func() (*Trained, error) { return s.Fit(env, jobs[i].cfg, jobs[i].seed) })
				if err != nil {
					errs[i] = err
					failed.Store(true)
					return
				}
				// Only the history and the errors are read later: free the compiled graphs.
				t.Fitted.Run.Trainer.ResetComputationGraphs()
				t.Alongside = workers
				out[i] = t
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	studyCache[key] = out
	return out, nil
}

// recovered calls fit and turns a panic inside it into an error: Train runs fits on its own goroutines, where
// a panic would end the process instead of reaching the experiment runner's recover.
func recovered(fit func() (*Trained, error)) (t *Trained, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("ResNet study: panic: %v", p)
		}
	}()
	return fit()
}

// Find returns the run of the network of depth d, plain or residual, trained with seed.
func Find(runs []*Trained, d int, plain bool, seed int64) (*Trained, error) {
	for _, r := range runs {
		if r.Config.Depth() == d && r.Config.Plain == plain && r.Seed == seed {
			return r, nil
		}
	}
	kind := "ResNet"
	if plain {
		kind = "plain"
	}
	return nil, fmt.Errorf("ResNet study: no %s-%d trained with seed %d", kind, d, seed)
}

// ErrorEstimate is the final training (train true) or test error, in %, of the network of depth d over the
// seeds.
func ErrorEstimate(runs []*Trained, seeds []int64, d int, plain, training bool) (reproduce.Estimate, error) {
	vals := make([]float64, len(seeds))
	for i, seed := range seeds {
		r, err := Find(runs, d, plain, seed)
		if err != nil {
			return reproduce.Estimate{}, err
		}
		vals[i] = r.TestErr
		if training {
			if r.TrainErr < 0 {
				return reproduce.Estimate{}, fmt.Errorf("ResNet study: %s (seed %d) has no training-error evaluation", r.Config.Name, seed)
			}
			vals[i] = r.TrainErr
		}
	}
	return reproduce.Seeded(seeds, vals)
}

// DepthsTable is the table a notebook shows: every network's final training and test error per seed, their
// means, and its training time (wall time, shared with the networks training alongside it).
func DepthsTable(runs []*Trained) [][]string {
	secs := "seconds"
	if len(runs) > 0 && runs[0].Alongside > 1 {
		secs = fmt.Sprintf("seconds (%d training at once)", runs[0].Alongside)
	}
	rows := [][]string{{"network", "seed", "training error", "test error", secs}}
	for _, r := range runs {
		rows = append(rows, []string{r.Config.Name, fmt.Sprint(r.Seed), fmt.Sprintf("%.2f%%", r.TrainErr),
			fmt.Sprintf("%.2f%%", r.TestErr), fmt.Sprintf("%.0f", r.Seconds)})
	}
	return rows
}

// DegradationFigures draw Fig. 6: training error (points) and test error over the steps, averaged over the
// seeds, plain networks on the left figure and residual ones on the right, on the same scale.
func DegradationFigures(runs []*Trained) (plain, residual *plots.Figure, err error) {
	var ps, rs []plots.Series
	hi := 0.0
	type key struct {
		depth int
		plain bool
	}
	var order []key
	groups := map[key][]*Trained{}
	for _, r := range runs {
		k := key{r.Config.Depth(), r.Config.Plain}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		for _, set := range []string{"train", "test"} {
			s := plots.Series{Name: fmt.Sprintf("%d layers (%s, mean of %d seeds)", k.depth, set, len(groups[k])), Points: set == "train"}
			s.X, s.Y = meanErrorSeries(groups[k], set)
			for _, y := range s.Y {
				hi = max(hi, y)
			}
			if len(s.X) == 0 {
				continue
			}
			if k.plain {
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

// meanErrorSeries is the error in % on the evaluation set over the steps, averaged over runs that share their
// evaluation steps.
func meanErrorSeries(runs []*Trained, set string) (steps, errs []float64) {
	for i, r := range runs {
		x, y := errorSeries(r, set)
		if i == 0 {
			steps, errs = x, y
			continue
		}
		if len(x) != len(steps) {
			return nil, nil
		}
		for j := range y {
			errs[j] += y[j]
		}
	}
	for j := range errs {
		errs[j] /= float64(len(runs))
	}
	return steps, errs
}

// DegradationResult is the row of "resnet-degradation" (Fig. 6): going from the shallowest to the deepest
// depth must add training error to the plain network and remove some from the ResNet — the per-seed
// differences deep − shallow, in points, above 0 (plain) and below 0 (ResNet).
func DegradationResult(env *reproduce.Env, s Study, runs []*Trained) (*reproduce.Result, error) {
	lo, hi := slices.Min(s.Depths), slices.Max(s.Depths)
	if !slices.Contains(s.PlainDepths, lo) || !slices.Contains(s.PlainDepths, hi) || lo == hi {
		return nil, fmt.Errorf("degradation: need plain and residual networks at depths %d and %d", lo, hi)
	}
	est := map[string]reproduce.Estimate{}
	for _, plain := range []bool{true, false} {
		for _, d := range []int{lo, hi} {
			e, err := ErrorEstimate(runs, s.Seeds, d, plain, true)
			if err != nil {
				return nil, err
			}
			est[fmt.Sprint(plain, d)] = e
		}
	}
	plainDiff, err1 := reproduce.PairedDifference(est[fmt.Sprint(true, hi)], est[fmt.Sprint(true, lo)])
	resDiff, err2 := reproduce.PairedDifference(est[fmt.Sprint(false, hi)], est[fmt.Sprint(false, lo)])
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	j := reproduce.AllOf(
		env.Judge(reproduce.Above(0).In(fmt.Sprintf(" points (plain-%d − plain-%d training error)", hi, lo)), plainDiff),
		env.Judge(reproduce.Below(0).In(fmt.Sprintf(" points (ResNet-%d − ResNet-%d training error)", hi, lo)), resDiff))
	pf, rf, err := DegradationFigures(runs)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{pf, rf}, "resnet_degradation_plain.png", "resnet_degradation_residual.png")
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, d := range s.Depths {
		for _, plain := range []bool{true, false} {
			if plain && !slices.Contains(s.PlainDepths, d) {
				continue
			}
			tr, err1 := ErrorEstimate(runs, s.Seeds, d, plain, true)
			te, err2 := ErrorEstimate(runs, s.Seeds, d, plain, false)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			name := fmt.Sprintf("ResNet-%d", d)
			if plain {
				name = fmt.Sprintf("plain-%d", d)
			}
			parts = append(parts, fmt.Sprintf("%s %s / %s", name, tr.MeanSD(2, "%"), te.MeanSD(2, "%")))
		}
	}
	atDepth, err := reproduce.PairedDifference(est[fmt.Sprint(false, hi)], est[fmt.Sprint(true, hi)])
	if err != nil {
		return nil, err
	}
	notes := fmt.Sprintf("at depth %d the ResNet's training error is %+.2f points from the plain network's (%s); training / test error per network: %s; data: %s; %s.",
		hi, atDepth.Mean, atDepth.CI(2), strings.Join(parts, "; "), runs[0].Data, timing(runs))
	if runs[0].Data != data.DatasetCIFAR10 {
		notes += " CIFAR-10 is absent: Fashion-MNIST stands in."
	}
	if env.Quick {
		notes += " Quick profile: depths 8 and 14, 20 steps, one seed (indicative)."
	}
	pl, ph, rl, rh := est[fmt.Sprint(true, lo)], est[fmt.Sprint(true, hi)], est[fmt.Sprint(false, lo)], est[fmt.Sprint(false, hi)]
	return &reproduce.Result{
		Ours: fmt.Sprintf("training error, %d → %d layers: plain %s → %s (%+.2f points, %s); ResNet %s → %s (%+.2f points, %s); %s",
			lo, hi, pl.MeanSD(2, "%"), ph.MeanSD(2, "%"), plainDiff.Mean, plainDiff.CI(2), rl.MeanSD(2, "%"), rh.MeanSD(2, "%"),
			resDiff.Mean, resDiff.CI(2), pl.SeedList()),
		Value: plainDiff.Mean, Judgement: j, Notes: notes, Figures: paths}, nil
}

// TestErrorResult is the row of "resnet-cifar" (Table 6, within one data set): at the study's fixed budget the
// deepest ResNet has a lower test error than the shallowest (Table 6: 8.75% for ResNet-20 … 6.97% for
// ResNet-56 on CIFAR-10), and the shallowest ResNet a lower one than the plain network of its depth — per-seed
// differences in points below 0.
func TestErrorResult(env *reproduce.Env, s Study, runs []*Trained) (*reproduce.Result, error) {
	lo, hi := slices.Min(s.Depths), slices.Max(s.Depths)
	if !slices.Contains(s.PlainDepths, lo) || lo == hi || !slices.IsSorted(s.Depths) {
		return nil, fmt.Errorf("test error: need ResNets of two or more depths, in increasing order, and the plain network of depth %d", lo)
	}
	var byDepth []reproduce.Estimate
	var parts []string
	for _, d := range s.Depths {
		e, err := ErrorEstimate(runs, s.Seeds, d, false, false)
		if err != nil {
			return nil, err
		}
		byDepth = append(byDepth, e)
		parts = append(parts, fmt.Sprintf("ResNet-%d %s", d, e.MeanSD(2, "%")))
	}
	plainLo, err := ErrorEstimate(runs, s.Seeds, lo, true, false)
	if err != nil {
		return nil, err
	}
	// Table 6's ordering, step by step: each deeper ResNet below the next shallower one, and the shallowest
	// ResNet below the plain network of its depth.
	what := func(i int) string { return fmt.Sprintf("ResNet-%d − ResNet-%d", s.Depths[i], s.Depths[i-1]) }
	js, diffs, err := env.JudgeSteps(byDepth, func(i int) reproduce.Claim {
		return reproduce.Below(0).In(" points (" + what(i) + " test error)")
	})
	if err != nil {
		return nil, err
	}
	var steps []string
	for k, d := range diffs {
		steps = append(steps, fmt.Sprintf("%s %+.2f points (%s)", what(k+1), d.Mean, d.CI(2)))
	}
	depthDiff, err1 := reproduce.PairedDifference(byDepth[len(byDepth)-1], byDepth[0])
	plainDiff, err2 := reproduce.PairedDifference(byDepth[0], plainLo)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	js = append(js, env.Judge(reproduce.Below(0).In(fmt.Sprintf(" points (ResNet-%d − plain-%d test error)", lo, lo)), plainDiff))
	j := reproduce.AllOf(js...)
	var resid []*Trained
	for _, r := range runs {
		if !r.Config.Plain || r.Config.Depth() == lo {
			resid = append(resid, r)
		}
	}
	fig, err := ErrorFigure(resid)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "resnet_cifar_error.png")
	if err != nil {
		return nil, err
	}
	var paper []string
	for _, d := range s.Depths {
		if e, ok := PaperCIFARError[d]; ok {
			paper = append(paper, fmt.Sprintf("ResNet-%d %.2f%%", d, e))
		}
	}
	notes := fmt.Sprintf("context, not compared: Table 6 on CIFAR-10 after 64k iterations: %s; data: %s, %d test images; %s.",
		strings.Join(paper, ", "), runs[0].Data, runs[0].Fitted.Test.N, timing(runs))
	if env.Quick {
		notes += " Quick profile: depths 8 and 14, 20 steps, one seed (indicative)."
	}
	return &reproduce.Result{
		Ours: fmt.Sprintf("test error %s; plain-%d %s; %s, ResNet-%d − plain-%d %+.2f points (%s); %s",
			strings.Join(parts, ", "), lo, plainLo.MeanSD(2, "%"), strings.Join(steps, ", "), lo, lo, plainDiff.Mean,
			plainDiff.CI(2), plainLo.SeedList()),
		Value: depthDiff.Mean, Judgement: j, Notes: notes, Figures: paths}, nil
}

// timing says how long the runs trained: the sum of their wall times, and how many trained at once.
func timing(runs []*Trained) string {
	total, at := 0.0, 1
	for _, r := range runs {
		total += r.Seconds
		at = max(at, r.Alongside)
	}
	if at > 1 {
		return fmt.Sprintf("%d networks trained, %d at a time, their wall times summing to %.0f s", len(runs), at, total)
	}
	return fmt.Sprintf("%d networks trained in %.0f s", len(runs), total)
}
