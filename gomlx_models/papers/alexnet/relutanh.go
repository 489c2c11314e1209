package alexnet

import (
	"fmt"
	"math"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// PaperSpeedup is Fig. 1's claim: "A four-layer convolutional neural network with ReLUs (solid line) reaches a
// 25% training error rate on CIFAR-10 six times faster than an equivalent network with tanh neurons".
const (
	PaperSpeedup   = 6.0
	PaperThreshold = 0.25
)

// FourLayerCNN is the four-layer network of the ReLU-vs-tanh comparison for 32×32 images: three 5×5
// convolutions (SAME, each followed by a 2×2 max-pool) and one fully connected layer to the ten classes
// (32×32 → 16×16×16 → 8×8×16 → 4×4×32 → 10). The paper does not print its Fig. 1 network; this one has its
// depth (four learned layers) at a width two CPU cores train in seconds.
var FourLayerCNN = models.ConvNet{
	Stages: []models.ConvStage{
		{Filters: 16, Kernel: 5, Padding: layers.Same, Pool: 2},
		{Filters: 16, Kernel: 5, Padding: layers.Same, Pool: 2},
		{Filters: 32, Kernel: 5, Padding: layers.Same, Pool: 2},
	},
	Classes: 10,
}

// ReLUTanhSetup sizes the comparison. Both networks get the same data order, initialization seed, learning
// rate and momentum; there is no regularization (Fig. 1: "No regularization of any kind was employed").
type ReLUTanhSetup struct {
	Net ConvNetSpec
	// TrainN training images (0: all), BatchSize, Steps per network.
	TrainN, BatchSize, Steps int
	// LR and Momentum of SGD.
	LR, Momentum float64
	// Threshold is the training error to reach (0.25); Window the number of steps the batch error is averaged
	// over before comparing.
	Threshold float64
	Window    int
	// Harder is a second, lower threshold (0: none): Fashion-MNIST is easier than CIFAR-10, so 25% training
	// error comes within a few dozen steps for any unit; a lower error is where saturation can show.
	Harder float64
}

// ConvNetSpec is the network of a study (its ReLU form).
type ConvNetSpec = models.ConvNet

// ReLUTanhConfig holds the comparison's sizes per profile. The paper profile is Fig. 1's setting as far as the
// paper states it: CIFAR-10 (when present), all 50,000 training images, batch 128, 35 epochs.
var ReLUTanhConfig = train.ByProfile[ReLUTanhSetup]{
	Quick: ReLUTanhSetup{Net: FourLayerCNN, TrainN: 2000, BatchSize: 32, Steps: 60, LR: 0.01, Momentum: 0.9,
		Threshold: PaperThreshold, Window: 10, Harder: 0.2},
	Full: ReLUTanhSetup{Net: FourLayerCNN, TrainN: 20000, BatchSize: 32, Steps: 300, LR: 0.01, Momentum: 0.9,
		Threshold: PaperThreshold, Window: 20, Harder: 0.2},
	Paper: &ReLUTanhSetup{Net: FourLayerCNN, TrainN: 0, BatchSize: 128, Steps: 35 * 390, LR: 0.01, Momentum: 0.9,
		Threshold: PaperThreshold, Window: 100},
}

// ReLUTanhRun is one network's training.
type ReLUTanhRun struct {
	Label string
	Run   *train.Run
	// Steps and Error are the running mean of the batch training error (over Window steps) at each step.
	Steps, Error []float64
	// Reached is the first step at which the running error is at or below the threshold (0: never);
	// ReachedHarder the same for the harder threshold.
	Reached, ReachedHarder int
}

// ReLUTanhResult is the comparison.
type ReLUTanhResult struct {
	Setup   ReLUTanhSetup
	Dataset string
	Runs    []*ReLUTanhRun // ReLU, then tanh.
	// Ratio is tanh's steps to the threshold over ReLU's (a lower bound, Steps over ReLU's, when tanh never got
	// there; NaN when ReLU never did); RatioHarder the same for the harder threshold.
	Ratio, RatioHarder float64
}

// ReLUTanh trains the network of s once with ReLUs and once with tanh and measures the steps each needs to
// reach the training-error threshold.
func ReLUTanh(env *reproduce.Env, s ReLUTanhSetup) (*ReLUTanhResult, error) {
	if s.Steps < 1 || s.BatchSize < 1 || s.Window < 1 || !(s.Threshold > 0 && s.Threshold < 1) {
		return nil, fmt.Errorf("alexnet: ReLU vs tanh: invalid setup %+v", s)
	}
	d, err := LoadData(32, s.TrainN, 1000)
	if err != nil {
		return nil, err
	}
	res := &ReLUTanhResult{Setup: s, Dataset: d.Name}
	for _, tanh := range []bool{false, true} {
		net := s.Net
		net.Tanh = tanh
		label := "ReLU"
		if tanh {
			label = "tanh"
		}
		c := train.Classification{
			Name: "four-layer CNN, " + label, Model: net.Model(), Dataset: d.split,
			BatchSize: s.BatchSize, Steps: s.Steps, EvalEvery: s.Steps, LogEvery: 1,
			Optimizer: optim.Momentum{LR: s.LR, Mu: s.Momentum},
		}
		f, err := c.Fit(env.Backend, env.Progress)
		if err != nil {
			return nil, err
		}
		r := &ReLUTanhRun{Label: label, Run: f.Run}
		r.Steps, r.Error = RunningError(f.Run.History.Steps, s.Window)
		r.Reached = StepsToError(r.Steps, r.Error, s.Threshold)
		if s.Harder > 0 {
			r.ReachedHarder = StepsToError(r.Steps, r.Error, s.Harder)
		}
		res.Runs = append(res.Runs, r)
	}
	res.Ratio = stepRatio(res.Runs[0].Reached, res.Runs[1].Reached, s.Steps)
	res.RatioHarder = stepRatio(res.Runs[0].ReachedHarder, res.Runs[1].ReachedHarder, s.Steps)
	return res, nil
}

// stepRatio is tanh's steps over ReLU's: NaN when ReLU never reached the threshold, Steps/relu (a lower
// bound) when only tanh never did.
func stepRatio(relu, tanh, steps int) float64 {
	switch {
	case relu == 0:
		return math.NaN()
	case tanh == 0:
		return float64(steps) / float64(relu)
	}
	return float64(tanh) / float64(relu)
}

// split returns d's training or test images (the Dataset function of a train.Classification).
func (d *Data) split(s data.Split) (*data.Images, error) {
	if s == data.Train {
		return d.Train, nil
	}
	return d.Test, nil
}

// RunningError is the mean batch error 1 − accuracy over the last window steps (fewer at the start), at each
// logged step.
func RunningError(recs []train.StepRecord, window int) (steps, errs []float64) {
	var sum float64
	for i, r := range recs {
		sum += 1 - r.Accuracy
		if i >= window {
			sum -= 1 - recs[i-window].Accuracy
		}
		n := min(i+1, window)
		steps = append(steps, float64(r.Step))
		errs = append(errs, sum/float64(n))
	}
	return steps, errs
}

// StepsToError is the first step whose error is at or below threshold, or 0 if none is.
func StepsToError(steps, errs []float64, threshold float64) int {
	for i, e := range errs {
		if e <= threshold {
			return int(steps[i])
		}
	}
	return 0
}

// reached formats steps to a threshold.
func reached(step, steps int) string {
	if step == 0 {
		return fmt.Sprintf("not within %d steps", steps)
	}
	return fmt.Sprintf("%d steps", step)
}

// ratioText formats a ratio, as a lower bound when tanh never reached the threshold.
func ratioText(ratio float64, tanhReached int) string {
	if math.IsNaN(ratio) {
		return "ReLU never got there"
	}
	if tanhReached == 0 {
		return fmt.Sprintf("≥ %.1f×", ratio)
	}
	return fmt.Sprintf("%.1f×", ratio)
}

// Summary is the comparison in one line.
func (r *ReLUTanhResult) Summary() string {
	relu, tanh := r.Runs[0], r.Runs[1]
	s := fmt.Sprintf("%s: ReLU reaches %.0f%% training error in %s, tanh in %s (%s)", r.Dataset,
		100*r.Setup.Threshold, reached(relu.Reached, r.Setup.Steps), reached(tanh.Reached, r.Setup.Steps),
		ratioText(r.Ratio, tanh.Reached))
	if r.Setup.Harder > 0 {
		s += fmt.Sprintf("; %.0f%%: %s vs %s (%s)", 100*r.Setup.Harder, reached(relu.ReachedHarder, r.Setup.Steps),
			reached(tanh.ReachedHarder, r.Setup.Steps), ratioText(r.RatioHarder, tanh.ReachedHarder))
	}
	return s
}

// Judge judges §3.1's claim that ReLUs train faster: the speed-up (tanh's steps over ReLU's) above 1, from one
// run of each network.
func (r *ReLUTanhResult) Judge(env *reproduce.Env) reproduce.Judgement {
	return env.Judge(reproduce.Above(1).In("×"), reproduce.Single(r.Ratio))
}

// Figure draws both running training errors against steps with the threshold.
func (r *ReLUTanhResult) Figure() (*plots.Figure, error) {
	var series []plots.Series
	for _, run := range r.Runs {
		series = append(series, plots.Series{Name: run.Label, X: run.Steps, Y: run.Error})
	}
	last := float64(r.Setup.Steps)
	for _, th := range []float64{r.Setup.Threshold, r.Setup.Harder} {
		if th > 0 {
			series = append(series, plots.Series{Name: fmt.Sprintf("%.0f%% error", 100*th),
				X: []float64{1, last}, Y: []float64{th, th}})
		}
	}
	return plots.Curves(fmt.Sprintf("Fig. 1 on %s: four-layer CNN, training error (mean of %d batches)", r.Dataset,
		r.Setup.Window), "step", "training error", series, plots.YRange(0, 1))
}

// Findings are the closing-table rows.
func (r *ReLUTanhResult) Findings() []reproduce.Finding {
	return []reproduce.Finding{{Item: "ReLU vs tanh: steps to 25% training error",
		Paper: "6× faster (CIFAR-10, Fig. 1)", Ours: r.Summary()}}
}
