package alexnet

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Fig. 1's claim (§3.1): "A four-layer convolutional neural network with ReLUs (solid line) reaches a 25%
// training error rate on CIFAR-10 six times faster than an equivalent network with tanh neurons (dashed line).
// The learning rates for each network were chosen independently to make training as fast as possible. No
// regularization of any kind was employed."
const (
	PaperSpeedup   = 6.0
	PaperThreshold = 0.25
	// PaperInitStd is §5's weight initialization, N(0, 0.01²).
	PaperInitStd = 0.01
)

// Fig1Net is the four-layer network of the comparison, the layout of cuda-convnet's layers-80sec.cfg, which
// Fig. 1 most likely used (the paper does not print it): three 5×5 convolutions of 32, 32 and 64 kernels, each
// followed by a pooling, and one fully connected layer to the ten classes (32×32 → 16×16×32 → 8×8×32 → 4×4×64
// → 10; cuda-convnet pools 3×3 at stride 2, this net 2×2). Weights start at N(0, 0.01²) as §5's.
var Fig1Net = models.ConvNet{
	Stages: []models.ConvStage{
		{Filters: 32, Kernel: 5, Padding: layers.Same, Pool: 2},
		{Filters: 32, Kernel: 5, Padding: layers.Same, Pool: 2},
		{Filters: 64, Kernel: 5, Padding: layers.Same, Pool: 2},
	},
	Classes: 10,
	InitStd: PaperInitStd,
}

// ReLUTanhSetup sizes the comparison. Every run trains Net (ReLU or tanh) with SGD and momentum on the first
// TrainN training images, with no regularization, and records its training error; "training error" is the
// mean error of the mini-batches of the last Window steps (the network is in the same state in training and
// inference: nothing in it is random). Each unit gets its own learning rate (Fig. 1): every rate of LRs is tried
// with TuneSeed and the one reaching the lowest threshold first is kept; the comparison then runs Seeds, which
// do not include TuneSeed, at the kept rates (the same seed gives both units the same initial weights and
// batches).
type ReLUTanhSetup struct {
	Net               models.ConvNet
	TrainN, BatchSize int
	Epochs            int
	Momentum          float64
	LRs               []float64
	TuneSeed          int64
	Seeds             []int64
	Thresholds        []float64
	Window            int
}

// ReLUTanhConfig holds the comparison per profile. The full profile trains on 2,000 images, where from §5's
// N(0, 0.01²) weights 25% training error takes several epochs and 15% most of the twelve (η = 0.1 does not train
// from there at all); the paper profile is Fig. 1's setting as far as the paper gives it:
// all of CIFAR-10 (when present), batch 128, 35 epochs, 25% training error.
var ReLUTanhConfig = train.ByProfile[ReLUTanhSetup]{
	Quick: ReLUTanhSetup{Net: Fig1Net, TrainN: 512, BatchSize: 32, Epochs: 2, Momentum: 0.9, LRs: []float64{0.01, 0.03},
		TuneSeed: 100, Seeds: []int64{1}, Thresholds: []float64{0.5, 0.3}, Window: 4},
	Full: ReLUTanhSetup{Net: Fig1Net, TrainN: 2000, BatchSize: 32, Epochs: 12, Momentum: 0.9,
		LRs: []float64{0.003, 0.01, 0.03}, TuneSeed: 100, Seeds: []int64{1, 2, 3},
		Thresholds: []float64{0.25, 0.20, 0.15}, Window: 16},
	Paper: &ReLUTanhSetup{Net: Fig1Net, TrainN: 0, BatchSize: 128, Epochs: 35, Momentum: 0.9,
		LRs: []float64{0.001, 0.003, 0.01, 0.03}, TuneSeed: 100, Seeds: []int64{1, 2, 3},
		Thresholds: []float64{PaperThreshold}, Window: 100},
}

// Validate reports a setup the study cannot run.
func (s ReLUTanhSetup) Validate() error {
	switch {
	case s.BatchSize < 1 || s.Epochs < 1 || s.Window < 1:
		return fmt.Errorf("alexnet: ReLU vs tanh: need a batch size, epochs and a window (%+v)", s)
	case len(s.LRs) == 0 || len(s.Seeds) == 0 || len(s.Thresholds) == 0:
		return fmt.Errorf("alexnet: ReLU vs tanh: need learning rates, seeds and thresholds")
	case slices.Contains(s.Seeds, s.TuneSeed):
		return fmt.Errorf("alexnet: ReLU vs tanh: the tuning seed %d is also an evaluation seed", s.TuneSeed)
	}
	for _, t := range s.Thresholds {
		if !(t > 0 && t < 1) {
			return fmt.Errorf("alexnet: ReLU vs tanh: threshold %g outside (0, 1)", t)
		}
	}
	if !slices.IsSortedFunc(s.Thresholds, func(a, b float64) int { return cmp.Compare(b, a) }) {
		return fmt.Errorf("alexnet: ReLU vs tanh: thresholds %v must decrease", s.Thresholds)
	}
	return nil
}

// Curve is one run's training error against epochs.
type Curve struct {
	Unit string
	LR   float64
	Seed int64
	// Epoch and Error are the running training error (mean of the last Window batches) at every step.
	Epoch, Error []float64
	// Reached[k] is the epoch at which Error first fell to Thresholds[k], or NaN when it never did.
	Reached []float64
	Seconds float64
}

// UnitResult is one unit's tuning and evaluation.
type UnitResult struct {
	Unit string
	// Tuning are the TuneSeed runs, one per learning rate; LR the rate kept.
	Tuning []*Curve
	LR     float64
	// Runs are the evaluation seeds' runs at LR, in the order of Seeds.
	Runs []*Curve
}

// ReLUTanhResult is the comparison: ReLU first, then tanh.
type ReLUTanhResult struct {
	Setup   ReLUTanhSetup
	Dataset string
	Units   []*UnitResult
	// Speedup[k] is tanh's epochs to Thresholds[k] over ReLU's, seed by seed (a paired ratio); Censored[k]
	// counts the seeds where tanh never got there within Epochs (the ratio then uses Epochs: a lower bound).
	// A threshold that some ReLU run never reached has no speed-up (Speedup[k].Values is nil).
	Speedup  []reproduce.Estimate
	Censored []int
}

// ReLUTanh runs the comparison of s: the learning-rate grid of each unit on TuneSeed, then every seed of Seeds at
// each unit's best rate.
func ReLUTanh(env *reproduce.Env, s ReLUTanhSetup) (*ReLUTanhResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	d, err := LoadData(32, s.TrainN, 1)
	if err != nil {
		return nil, err
	}
	res := &ReLUTanhResult{Setup: s, Dataset: d.Name}
	for _, tanh := range []bool{false, true} {
		u := &UnitResult{Unit: "ReLU"}
		if tanh {
			u.Unit = "tanh"
		}
		for _, lr := range s.LRs {
			c, err := reluTanhRun(env, s, d.Train, tanh, lr, s.TuneSeed)
			if err != nil {
				return nil, err
			}
			u.Tuning = append(u.Tuning, c)
		}
		u.LR = bestLR(u.Tuning, s.Epochs)
		for _, seed := range s.Seeds {
			c, err := reluTanhRun(env, s, d.Train, tanh, u.LR, seed)
			if err != nil {
				return nil, err
			}
			u.Runs = append(u.Runs, c)
		}
		res.Units = append(res.Units, u)
	}
	relu, tanh := res.Units[0], res.Units[1]
	for k := range s.Thresholds {
		var a, b []float64
		censored, ok := 0, true
		for i := range s.Seeds {
			r, t := relu.Runs[i].Reached[k], tanh.Runs[i].Reached[k]
			if math.IsNaN(r) {
				ok = false
				break
			}
			if math.IsNaN(t) {
				t, censored = float64(s.Epochs), censored+1
			}
			a, b = append(a, t), append(b, r)
		}
		est := reproduce.Estimate{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Method: "ReLU did not reach the threshold"}
		if ok {
			ta, err := reproduce.Seeded(s.Seeds, a)
			if err != nil {
				return nil, err
			}
			rb, err := reproduce.Seeded(s.Seeds, b)
			if err != nil {
				return nil, err
			}
			if est, err = reproduce.PairedRatio(ta, rb); err != nil {
				return nil, err
			}
		}
		res.Speedup = append(res.Speedup, est)
		res.Censored = append(res.Censored, censored)
	}
	return res, nil
}

// reluTanhRun trains one network and returns its training-error curve.
func reluTanhRun(env *reproduce.Env, s ReLUTanhSetup, im *data.Images, tanh bool, lr float64, seed int64) (*Curve, error) {
	net := s.Net
	net.Tanh = tanh
	unit := "ReLU"
	if tanh {
		unit = "tanh"
	}
	c := train.Classification{
		Name: fmt.Sprintf("four-layer CNN, %s, η=%g, seed %d", unit, lr, seed), Model: net.Model(),
		Dataset: func(data.Split) (*data.Images, error) { return im, nil }, TestN: 1,
		BatchSize: s.BatchSize, Epochs: s.Epochs, LogEvery: 1, Seed: seed,
		Optimizer: optim.Momentum{LR: lr, Mu: s.Momentum},
	}
	f, err := c.Fit(env.Backend, env.Progress)
	if err != nil {
		return nil, err
	}
	steps, errs := RunningError(f.Run.History.Steps, s.Window)
	perEpoch := float64(im.N / s.BatchSize)
	out := &Curve{Unit: unit, LR: lr, Seed: seed, Error: errs, Seconds: f.Run.Seconds}
	for _, st := range steps {
		out.Epoch = append(out.Epoch, st/perEpoch)
	}
	for _, th := range s.Thresholds {
		out.Reached = append(out.Reached, EpochsToError(out.Epoch, out.Error, th))
	}
	return out, nil
}

// bestLR is the rate whose run reached the lowest threshold earliest; a run that reached fewer thresholds ranks
// below one that reached more, and among runs that reached none the lowest final error wins.
func bestLR(runs []*Curve, epochs int) float64 {
	score := func(c *Curve) (int, float64) {
		for k := len(c.Reached) - 1; k >= 0; k-- {
			if !math.IsNaN(c.Reached[k]) {
				return k + 1, c.Reached[k]
			}
		}
		return 0, float64(epochs) + c.Error[len(c.Error)-1]
	}
	best := runs[0]
	for _, c := range runs[1:] {
		n, e := score(c)
		bn, be := score(best)
		if n > bn || n == bn && e < be {
			best = c
		}
	}
	return best.LR
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

// EpochsToError is the first x (epoch or step) whose error is at or below threshold, or NaN if none is.
func EpochsToError(xs, errs []float64, threshold float64) float64 {
	for i, e := range errs {
		if e <= threshold {
			return xs[i]
		}
	}
	return math.NaN()
}

// Primary is the index of the threshold the verdict uses: the lowest one every ReLU run reached (-1: none).
func (r *ReLUTanhResult) Primary() int {
	for k := len(r.Speedup) - 1; k >= 0; k-- {
		if r.Speedup[k].Values != nil {
			return k
		}
	}
	return -1
}

// epochStats is the mean ± sd over seeds of a unit's epochs to threshold k, or how many runs never got there
// within epochs.
func (u *UnitResult) epochStats(k int, seeds []int64, epochs int) string {
	var v []float64
	for _, c := range u.Runs {
		if !math.IsNaN(c.Reached[k]) {
			v = append(v, c.Reached[k])
		}
	}
	if len(v) < len(u.Runs) {
		return fmt.Sprintf("not within %d epochs in %d of %d runs", epochs, len(u.Runs)-len(v), len(u.Runs))
	}
	e, err := reproduce.Seeded(seeds, v)
	if err != nil {
		return err.Error()
	}
	return e.MeanSD(2, " epochs")
}

// Summary is the comparison in one line: each unit's rate, its epochs to the primary threshold and the
// speed-up at every threshold with its interval.
func (r *ReLUTanhResult) Summary() string {
	p := r.Primary()
	relu, tanh := r.Units[0], r.Units[1]
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d images: best η ReLU %g, tanh %g", r.Dataset, r.Setup.TrainN, relu.LR, tanh.LR)
	if p >= 0 {
		fmt.Fprintf(&b, "; epochs to %.0f%% training error: ReLU %s, tanh %s", 100*r.Setup.Thresholds[p],
			relu.epochStats(p, r.Setup.Seeds, r.Setup.Epochs), tanh.epochStats(p, r.Setup.Seeds, r.Setup.Epochs))
	}
	var parts []string
	for k, th := range r.Setup.Thresholds {
		e := r.Speedup[k]
		if e.Values == nil {
			parts = append(parts, fmt.Sprintf("%.0f%%: ReLU did not get there", 100*th))
			continue
		}
		bound := ""
		if r.Censored[k] > 0 {
			bound = fmt.Sprintf(", ≥ (tanh censored at %d epochs in %d runs)", r.Setup.Epochs, r.Censored[k])
		}
		parts = append(parts, fmt.Sprintf("%.0f%%: %.2f× (%s%s)", 100*th, e.Mean, e.CI(2), bound))
	}
	fmt.Fprintf(&b, "; speed-up tanh/ReLU %s; %s", strings.Join(parts, ", "), r.Speedup[max(p, 0)].SeedList())
	return b.String()
}

// Judge judges Fig. 1's claim that ReLUs train faster: the paired speed-up (tanh's epochs over ReLU's) above 1
// at the primary threshold. Where tanh never reached it, its epochs are the run's length, so the ratio is a lower
// bound and an interval above 1 still shows the claim.
func (r *ReLUTanhResult) Judge(env *reproduce.Env) reproduce.Judgement {
	p := r.Primary()
	if p < 0 {
		return env.Judge(reproduce.Above(1).In("×"), reproduce.Single(math.NaN()))
	}
	return env.Judge(reproduce.Above(1).In("×"), r.Speedup[p])
}

// Figures are Fig. 1's curves (the training error of every evaluation run against epochs, at each unit's best
// rate, with the thresholds), the speed-up against the threshold with its 95% intervals, and the learning-rate
// grid of each unit.
func (r *ReLUTanhResult) Figures() ([]*plots.Figure, error) {
	if len(r.Units) != 2 {
		return nil, errors.New("alexnet: ReLU vs tanh: no result to draw")
	}
	var curves []plots.Series
	last := 0.0
	for _, u := range r.Units {
		for _, c := range u.Runs {
			curves = append(curves, plots.Series{Name: fmt.Sprintf("%s η=%g seed %d", u.Unit, c.LR, c.Seed), X: c.Epoch, Y: c.Error})
			last = math.Max(last, c.Epoch[len(c.Epoch)-1])
		}
	}
	for _, th := range r.Setup.Thresholds {
		curves = append(curves, plots.Series{Name: fmt.Sprintf("%.0f%%", 100*th), X: []float64{0, last}, Y: []float64{th, th}})
	}
	fig1, err := plots.Curves(fmt.Sprintf("Fig. 1 on %s (%d images): training error, each unit at its best η", r.Dataset,
		r.Setup.TrainN), "epoch", "training error (last batches)", curves, plots.YRange(0, 1))
	if err != nil {
		return nil, err
	}
	var mean, lo, hi plots.Series
	mean.Name, lo.Name, hi.Name = "speed-up (geometric mean)", "95% interval, low", "95% interval, high"
	mean.Points, lo.Points, hi.Points = true, true, true
	for k, th := range r.Setup.Thresholds {
		e := r.Speedup[k]
		if e.Values == nil {
			continue
		}
		x := 100 * th
		mean.X, mean.Y = append(mean.X, x), append(mean.Y, e.Mean)
		if !math.IsInf(e.Lo, 0) && !math.IsInf(e.Hi, 0) {
			lo.X, lo.Y = append(lo.X, x), append(lo.Y, e.Lo)
			hi.X, hi.Y = append(hi.X, x), append(hi.Y, e.Hi)
		}
	}
	one := plots.Series{Name: "no speed-up (1×)", X: []float64{100 * r.Setup.Thresholds[len(r.Setup.Thresholds)-1],
		100 * r.Setup.Thresholds[0]}, Y: []float64{1, 1}}
	series := []plots.Series{mean, one}
	if len(lo.X) > 0 {
		series = append(series, lo, hi)
	}
	if len(mean.X) == 0 {
		series = []plots.Series{one}
	}
	fig2, err := plots.Curves("speed-up of ReLU over tanh (tanh's epochs / ReLU's) against the training-error threshold",
		"training-error threshold (%)", "speed-up (×)", series)
	if err != nil {
		return nil, err
	}
	var grid []plots.Series
	for _, u := range r.Units {
		s := plots.Series{Name: u.Unit + " (final training error)", Points: true}
		for _, c := range u.Tuning {
			s.X, s.Y = append(s.X, math.Log10(c.LR)), append(s.Y, c.Error[len(c.Error)-1])
		}
		grid = append(grid, s)
	}
	fig3, err := plots.Curves(fmt.Sprintf("learning-rate grid (tuning seed %d): final training error against log10 η", r.Setup.TuneSeed),
		"log10 η", "training error after the last epoch", grid, plots.YRange(0, 1))
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{fig1, fig2, fig3}, nil
}

// Result is the experiment's row: the summary, the judgement at the primary threshold, and the training time.
func (r *ReLUTanhResult) Result(env *reproduce.Env, figures []string) *reproduce.Result {
	secs := 0.0
	for _, u := range r.Units {
		for _, c := range append(slices.Clone(u.Tuning), u.Runs...) {
			secs += c.Seconds
		}
	}
	p := r.Primary()
	value := math.NaN()
	if p >= 0 {
		value = r.Speedup[p].Mean
	}
	notes := fmt.Sprintf("data: %s; %d training runs, %.0fs of training. The paper's 6× is on CIFAR-10 at 25%%; here the thresholds are where the subset's training error needs several epochs.",
		r.Dataset, len(r.Setup.LRs)*2+len(r.Setup.Seeds)*2, secs)
	if env.Quick {
		notes += " Quick profile: one seed and two epochs, so the verdict is indicative only."
	}
	return &reproduce.Result{Ours: r.Summary(), Value: value, Judgement: r.Judge(env), Notes: notes, Figures: figures}
}

// Table is the comparison as rows for a notebook table: each unit's rate and its epochs to every threshold (mean ±
// sd over the seeds), then the speed-up at every threshold with its 95% interval.
func (r *ReLUTanhResult) Table() [][]string {
	head := []string{"unit", "η (best of the grid)"}
	for _, th := range r.Setup.Thresholds {
		head = append(head, fmt.Sprintf("epochs to %.0f%%", 100*th))
	}
	rows := [][]string{head}
	for _, u := range r.Units {
		row := []string{u.Unit, fmt.Sprint(u.LR)}
		for k := range r.Setup.Thresholds {
			row = append(row, u.epochStats(k, r.Setup.Seeds, r.Setup.Epochs))
		}
		rows = append(rows, row)
	}
	row := []string{"speed-up tanh/ReLU", r.Speedup[0].SeedList()}
	for k, e := range r.Speedup {
		switch {
		case e.Values == nil:
			row = append(row, "—")
		case r.Censored[k] > 0:
			row = append(row, fmt.Sprintf("≥ %.2f× (%s)", e.Mean, e.CI(2)))
		default:
			row = append(row, fmt.Sprintf("%.2f× (%s)", e.Mean, e.CI(2)))
		}
	}
	return append(rows, row)
}
