package alexnet

import (
	"fmt"
	"slices"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// §3.4: "If we set s = z, we obtain traditional local pooling as commonly employed in CNNs. If we set s < z, we
// obtain overlapping pooling. This is what we use throughout our network, with s = 2 and z = 3. This scheme
// reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as compared with the non-overlapping
// scheme s = 2, z = 2 […]. We generally observe during training that models with overlapping pooling find it
// slightly more difficult to overfit."
var (
	// OverlappingPool is §3.4's z = 3, s = 2.
	OverlappingPool = layers.Pool{Window: 3, Stride: 2}
	// NonOverlappingPool is its baseline z = s = 2.
	NonOverlappingPool = layers.Pool{Window: 2, Stride: 2}
)

// PoolSides lists the side of every pooling output of cfg (after conv1, conv2 and conv5) for its input side.
func PoolSides(cfg models.AlexNetConfig) []int {
	var out []int
	stride := cfg.Pool.Stride
	if stride == 0 {
		stride = cfg.Pool.Window
	}
	for _, l := range cfg.Convs {
		if l.Pool {
			out = append(out, layers.ValidSize(l.Out, cfg.Pool.Window, stride))
		}
	}
	return out
}

// PoolingSide is the input side of the pooling study: from 31×31 both schemes pool 31 → 15 → 7 → 3, as 55 → 27 →
// 13 → 6 do at the paper's scale (from 32 the non-overlapping one would give 16, 8, 4).
const PoolingSide = 31

// PoolingNet is the network of the pooling study: models.AlexNetSmall at width/div on 31×31 inputs with the
// pooling p, without dropout (§3.4's claim is about over-fitting, which dropout would mask) and, unless lrn, without
// local response normalization (it halves the speed here and is not what §3.4 varies).
func PoolingNet(div int, p layers.Pool, lrn bool) models.AlexNetConfig {
	c := models.AlexNetSmall.Scaled(div)
	c.Convs = slices.Clone(c.Convs)
	for i := range c.Convs {
		c.Convs[i].LRN = c.Convs[i].LRN && lrn
	}
	c.InputSide, c.Dropout = PoolingSide, 0
	return c.WithPool(p)
}

// PoolingSetup sizes the pooling comparison: PoolingNet at width/Div trained with each pooling on the first
// TrainN training images for Epochs epochs, with SGD, momentum and weight decay as §5, once per seed (the same
// seed gives both networks the same initial weights and batches: pooling has no parameters), then tested on TestN
// test images and on the whole training subset.
type PoolingSetup struct {
	Div                       int
	LRN                       bool
	TrainN, TestN             int
	BatchSize, Epochs, Evals  int
	LR, Momentum, WeightDecay float64
	Seeds                     []int64
}

// PoolingConfig holds the comparison per profile: in the full profile 3,000 images for 15 epochs, by when the test
// error has levelled off while the training error still falls (both networks over-fit, by about 9 points in a
// trial run), and five seeds.
var PoolingConfig = train.ByProfile[PoolingSetup]{
	Quick: PoolingSetup{Div: 16, TrainN: 256, TestN: 200, BatchSize: 32, Epochs: 2, Evals: 1,
		LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Seeds: []int64{1}},
	Full: PoolingSetup{Div: 16, TrainN: 3000, TestN: 2000, BatchSize: 32, Epochs: 15, Evals: 3,
		LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Seeds: []int64{1, 2, 3, 4, 5}},
}

// PoolingRun is one network's training with one seed.
type PoolingRun struct {
	Pool layers.Pool
	Seed int64
	Run  *train.Run
	// TrainErr and TestErr are the final errors in %, Gap = TestErr − TrainErr (the over-fitting).
	TrainErr, TestErr, Gap float64
}

// PoolingArm is one pooling scheme over the seeds.
type PoolingArm struct {
	Pool   layers.Pool
	Config models.AlexNetConfig
	Runs   []*PoolingRun
	// TestErr, TrainErr and Gap are the seeds' values as estimates (percent and points).
	TestErr, TrainErr, Gap reproduce.Estimate
}

// PoolingResult is the comparison: overlapping first. TestDiff and GapDiff are non-overlapping minus overlapping,
// seed by seed: positive where overlapping pooling has the lower test error and the smaller gap.
type PoolingResult struct {
	Setup             PoolingSetup
	Dataset           string
	Arms              []*PoolingArm
	TestDiff, GapDiff reproduce.Estimate
}

// Pooling trains PoolingNet with overlapping and with non-overlapping pooling for every seed of s.
func Pooling(env *reproduce.Env, s PoolingSetup) (*PoolingResult, error) {
	if s.Div < 1 || s.Epochs < 1 || s.BatchSize < 1 || s.Evals < 1 || len(s.Seeds) == 0 {
		return nil, fmt.Errorf("alexnet: pooling study: invalid setup %+v", s)
	}
	d, err := LoadData(PoolingSide, s.TrainN, s.TestN)
	if err != nil {
		return nil, err
	}
	res := &PoolingResult{Setup: s, Dataset: d.Name}
	stepsPerEpoch := d.Train.N / s.BatchSize
	for _, p := range []layers.Pool{OverlappingPool, NonOverlappingPool} {
		cfg := PoolingNet(s.Div, p, s.LRN)
		fn, err := models.AlexNet(cfg)
		if err != nil {
			return nil, err
		}
		arm := &PoolingArm{Pool: p, Config: cfg}
		var tests, trains, gaps []float64
		for _, seed := range s.Seeds {
			c := train.Classification{
				Name: fmt.Sprintf("%s, seed %d", cfg.Name, seed), Model: fn, Dataset: d.split, BatchSize: s.BatchSize,
				Epochs: s.Epochs, EvalEvery: max(1, s.Epochs*stepsPerEpoch/s.Evals), EvalTrainN: d.Train.N, LogEvery: 10,
				Seed: seed, Optimizer: optim.Momentum{LR: s.LR, Mu: s.Momentum, WeightDecay: s.WeightDecay},
			}
			f, err := c.Fit(env.Backend, env.Progress)
			if err != nil {
				return nil, err
			}
			tr, ok1 := f.Run.History.LastEval("train")
			te, ok2 := f.Run.History.LastEval("test")
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("alexnet: pooling study %s: no evaluation recorded", c.Name)
			}
			r := &PoolingRun{Pool: p, Seed: seed, Run: f.Run, TrainErr: 100 * (1 - tr.Accuracy), TestErr: 100 * (1 - te.Accuracy)}
			r.Gap = r.TestErr - r.TrainErr
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
		res.Arms = append(res.Arms, arm)
	}
	o, n := res.Arms[0], res.Arms[1]
	if res.TestDiff, err = reproduce.PairedDifference(n.TestErr, o.TestErr); err != nil {
		return nil, err
	}
	if res.GapDiff, err = reproduce.PairedDifference(n.Gap, o.Gap); err != nil {
		return nil, err
	}
	return res, nil
}

// Summary is the comparison in one line: each arm's test error, training error and gap (mean ± sd), the
// differences with their 95% intervals, and the seeds.
func (r *PoolingResult) Summary() string {
	o, n := r.Arms[0], r.Arms[1]
	return fmt.Sprintf("%s, %d images: test error %s (z=3,s=2) vs %s (z=2,s=2), difference %s (%s); train error %s vs %s; "+
		"train−test gap %s vs %s, difference %s (%s); %s",
		r.Dataset, r.Setup.TrainN, o.TestErr.MeanSD(2, "%"), n.TestErr.MeanSD(2, "%"), r.TestDiff.MeanSD(2, " points"),
		r.TestDiff.CI(2), o.TrainErr.MeanSD(2, "%"), n.TrainErr.MeanSD(2, "%"), o.Gap.MeanSD(2, ""), n.Gap.MeanSD(2, " points"),
		r.GapDiff.MeanSD(2, " points"), r.GapDiff.CI(2), r.TestDiff.SeedList())
}

// Judge judges §3.4's two claims, seed by seed: a lower test error and a smaller train−test gap with overlapping
// pooling (non-overlapping minus overlapping above 0 points).
func (r *PoolingResult) Judge(env *reproduce.Env) reproduce.Judgement {
	return reproduce.AllOf(
		env.Judge(reproduce.Above(0).In(" points of test error"), r.TestDiff),
		env.Judge(reproduce.Above(0).In(" points of gap"), r.GapDiff))
}

// Figures draws each scheme's test and training error against epochs (mean over the seeds), and each seed's
// test-error and gap differences.
func (r *PoolingResult) Figures() ([]*plots.Figure, error) {
	var series []plots.Series
	for _, arm := range r.Arms {
		name := fmt.Sprintf("z=%d s=%d", arm.Pool.Window, arm.Pool.Stride)
		for _, set := range []string{"train", "test"} {
			var xs, sum []float64
			for _, run := range arm.Runs {
				ex, ey, err := run.Run.History.EvalSeries(set, "epoch", "accuracy")
				if err != nil {
					return nil, err
				}
				if sum == nil {
					xs, sum = ex, make([]float64, len(ey))
				}
				for i := range min(len(sum), len(ey)) {
					sum[i] += 100 * (1 - ey[i]) / float64(len(arm.Runs))
				}
			}
			series = append(series, plots.Series{Name: name + " " + set, X: xs, Y: sum, Points: true})
		}
	}
	fig, err := plots.Curves(fmt.Sprintf("§3.4 on %s (%d images): error, mean of %d seeds", r.Dataset, r.Setup.TrainN, len(r.Setup.Seeds)),
		"epoch", "error (%)", series)
	if err != nil {
		return nil, err
	}
	diff := plots.Series{Name: "test error, z=2 minus z=3 (points)", Points: true}
	gap := plots.Series{Name: "train−test gap, z=2 minus z=3 (points)", Points: true}
	for i, s := range r.TestDiff.Seeds {
		diff.X, diff.Y = append(diff.X, float64(s)), append(diff.Y, r.TestDiff.Values[i])
		gap.X, gap.Y = append(gap.X, float64(s)), append(gap.Y, r.GapDiff.Values[i])
	}
	zero := plots.Series{Name: "no difference", X: []float64{float64(r.TestDiff.Seeds[0]), float64(r.TestDiff.Seeds[len(r.TestDiff.Seeds)-1])}, Y: []float64{0, 0}}
	perSeed, err := plots.Curves("§3.4 per seed: positive = overlapping pooling better", "seed", "points", []plots.Series{diff, gap, zero})
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{fig, perSeed}, nil
}

// Result is the experiment's row.
func (r *PoolingResult) Result(env *reproduce.Env, figures []string) *reproduce.Result {
	secs := 0.0
	for _, a := range r.Arms {
		for _, run := range a.Runs {
			secs += run.Run.Seconds
		}
	}
	notes := fmt.Sprintf("pooled sides at %d: %v (z=3,s=2) and %v (z=2,s=2); width/%d, no dropout, LRN %v; %.0fs of training. "+
		"The paper's effect is 0.4 points of top-1 error on ImageNet.", PoolingSide, PoolSides(r.Arms[0].Config),
		PoolSides(r.Arms[1].Config), r.Setup.Div, r.Setup.LRN, secs)
	if env.Quick {
		notes += " Quick profile: one seed and two epochs, so the verdict is indicative only."
	}
	return &reproduce.Result{Ours: r.Summary(), Value: r.TestDiff.Mean, Judgement: r.Judge(env), Notes: notes, Figures: figures}
}

// Table is the comparison as rows for a notebook table: each scheme's errors (mean ± sd over the seeds), then the
// paired differences with their 95% intervals.
func (r *PoolingResult) Table() [][]string {
	rows := [][]string{{"pooling", "test error", "training error", "train−test gap"}}
	for _, a := range r.Arms {
		rows = append(rows, []string{fmt.Sprintf("z=%d, s=%d", a.Pool.Window, a.Pool.Stride), a.TestErr.MeanSD(2, "%"),
			a.TrainErr.MeanSD(2, "%"), a.Gap.MeanSD(2, " points")})
	}
	return append(rows, []string{"z=2 minus z=3 (" + r.TestDiff.SeedList() + ")",
		r.TestDiff.MeanSD(2, " points") + ", " + r.TestDiff.CI(2), "",
		r.GapDiff.MeanSD(2, " points") + ", " + r.GapDiff.CI(2)})
}
