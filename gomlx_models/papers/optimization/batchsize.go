package optimization

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// BatchSizeRun is one training run of the batch-size study.
type BatchSizeRun struct {
	Label     string
	BatchSize int
	LR        float64
	Epochs    int
	// Seed drew the initial weights and the order of the examples.
	Seed int64
	Run  *train.Run
}

// BatchSizeConfig sizes the batch-size study.
type BatchSizeConfig struct {
	TrainN     int // training examples (the "full batch").
	EvalTrainN int // training examples the loss is measured on.
	TestN      int
	// Epochs for batch sizes 1, 10 and 100; full-batch GD gets GDEpochs (one step each).
	Epochs, GDEpochs int
	// EvalsPerEpoch is how often the training loss is measured for the mini-batch runs.
	EvalsPerEpoch int
	// Seeds repeat the whole study: each seed trains the four batch sizes from its own initial weights and
	// example order, and times them again.
	Seeds []int64
}

// BatchSizeStudyConfig is the batch-size study's size per profile: three repetitions in the full profile, one in
// the quick.
var BatchSizeStudyConfig = train.ByProfile[BatchSizeConfig]{
	Quick: BatchSizeConfig{TrainN: 3000, EvalTrainN: 3000, TestN: 500, Epochs: 1, GDEpochs: 20, EvalsPerEpoch: 10,
		Seeds: []int64{1}},
	Full: BatchSizeConfig{TrainN: 60000, EvalTrainN: 5000, TestN: 2000, Epochs: 1, GDEpochs: 30, EvalsPerEpoch: 20,
		Seeds: []int64{1, 2, 3}},
}

// batchSizeLR are the learning rates of plain SGD per batch size (0: full batch), hand-tuned: each is close to
// the largest that trains stably, as in d2l §12.5 (larger batches average out gradient noise, so they take
// larger steps).
var batchSizeLR = map[int]float64{1: 0.01, 10: 0.05, 100: 0.3, 0: 0.5}

// BatchSizeStudy trains softmax regression on MNIST with plain SGD (our optim.SGD) at batch sizes 1 (SGD),
// 10 and 100 (mini-batch) and the whole training set (batch GD), once per seed of cfg, and records the loss on
// (a subset of) the training set against epochs and against wall-clock training seconds. The runs come seed by
// seed, the four batch sizes of each in that order.
func BatchSizeStudy(env *reproduce.Env, cfg BatchSizeConfig) ([]BatchSizeRun, error) {
	if cfg.TrainN < 100 || cfg.Epochs < 1 || cfg.GDEpochs < 1 || cfg.EvalsPerEpoch < 1 || len(cfg.Seeds) == 0 {
		return nil, fmt.Errorf("batch-size study: invalid configuration %+v", cfg)
	}
	var runs []BatchSizeRun
	for _, seed := range cfg.Seeds {
		for _, bs := range []int{1, 10, 100, 0} {
			r, err := batchSizeRun(env, cfg, bs, seed)
			if err != nil {
				return nil, err
			}
			runs = append(runs, r)
		}
	}
	return runs, nil
}

// batchSizeRun trains one arm of the study: batch size bs (0: the whole training set) from seed.
func batchSizeRun(env *reproduce.Env, cfg BatchSizeConfig, bs int, seed int64) (BatchSizeRun, error) {
	r := BatchSizeRun{BatchSize: bs, LR: batchSizeLR[bs], Epochs: cfg.Epochs, Seed: seed}
	switch bs {
	case 0:
		r.BatchSize, r.Epochs = cfg.TrainN, cfg.GDEpochs
		r.Label = fmt.Sprintf("batch GD (%d)", cfg.TrainN)
	case 1:
		r.Label = "SGD (1)"
	default:
		r.Label = fmt.Sprintf("mini-batch %d", bs)
	}
	stepsPerEpoch := cfg.TrainN / r.BatchSize
	c := train.Classification{
		Name: fmt.Sprintf("mnist-softmax-bs%d", r.BatchSize), Model: models.MLP(models.SoftmaxRegression),
		Flatten: true, TrainN: cfg.TrainN, TestN: cfg.TestN, BatchSize: r.BatchSize, Epochs: r.Epochs,
		Optimizer: optim.NewSGD(r.LR), EvalTrainN: cfg.EvalTrainN,
		EvalEvery: max(1, stepsPerEpoch/cfg.EvalsPerEpoch), LogEvery: max(1, stepsPerEpoch/200), Seed: seed,
	}
	f, err := c.Fit(env.Backend, env.Progress)
	if err != nil {
		return r, fmt.Errorf("batch-size study, %s, seed %d: %w", r.Label, seed, err)
	}
	r.Run = f.Run
	return r, nil
}

// BatchSizeFigureNames are the file names (without .png) of BatchSizeFigures' figures, in order.
var BatchSizeFigureNames = []string{"optim_batch_epochs", "optim_batch_seconds"}

// BatchSizeFigures draws the training loss of the first seed's runs against epochs and against wall-clock
// seconds.
func BatchSizeFigures(runs []BatchSizeRun) ([]*plots.Figure, error) {
	if len(runs) == 0 {
		return nil, errors.New("batch-size study: no runs to draw")
	}
	var se, ss []plots.Series
	for _, r := range runs {
		if r.Seed != runs[0].Seed {
			continue
		}
		ex, ey, err := r.Run.History.EvalSeries("train", "epoch", "loss")
		if err != nil {
			return nil, err
		}
		sx, sy, err := r.Run.History.EvalSeries("train", "seconds", "loss")
		if err != nil {
			return nil, err
		}
		if len(ex) == 0 {
			return nil, fmt.Errorf("batch-size study: %s has no training-loss evaluation", r.Label)
		}
		name := fmt.Sprintf("%s, η=%g", r.Label, r.LR)
		se = append(se, plots.Series{Name: name, X: ex, Y: ey, Points: len(ex) <= 50})
		ss = append(ss, plots.Series{Name: name, X: sx, Y: sy, Points: len(sx) <= 50})
	}
	byEpoch, err := plots.Curves(fmt.Sprintf("softmax regression on MNIST: loss vs epochs (seed %d)", runs[0].Seed),
		"epoch (log)", "training loss", se, plots.LogX(), plots.LogY())
	if err != nil {
		return nil, err
	}
	bySeconds, err := plots.Curves(fmt.Sprintf("softmax regression on MNIST: loss vs wall-clock time (seed %d)", runs[0].Seed),
		"training seconds (log)",
		"training loss", ss, plots.LogX(), plots.LogY())
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{byEpoch, bySeconds}, nil
}

// BatchSizeRow summarises one run of the batch-size study.
type BatchSizeRow struct {
	Label                      string
	BatchSize, Steps           int
	Seed                       int64
	Epochs                     float64
	Seconds, MillisPerStep     float64
	FinalLoss, TestAccuracy    float64
	SecondsToTarget, TargetHit float64 // seconds to first reach the target loss (NaN if never) and the target.
	// LossAtEpoch1 is the training loss at the last evaluation within the first epoch.
	LossAtEpoch1 float64
}

// BatchSizeSummary returns, for each run, its cost and the wall-clock seconds it took to first bring the
// training loss below target.
func BatchSizeSummary(runs []BatchSizeRun, target float64) ([]BatchSizeRow, error) {
	var rows []BatchSizeRow
	for _, r := range runs {
		last, ok := r.Run.History.LastEval("train")
		if !ok {
			return nil, fmt.Errorf("batch-size study: %s has no training-loss evaluation", r.Label)
		}
		test, _ := r.Run.History.LastEval("test")
		row := BatchSizeRow{Label: r.Label, BatchSize: r.BatchSize, Seed: r.Seed, Steps: r.Run.Step(), Epochs: last.Epoch,
			Seconds: r.Run.Seconds, FinalLoss: last.Loss, TestAccuracy: test.Accuracy,
			SecondsToTarget: math.NaN(), TargetHit: target}
		if row.Steps > 0 {
			row.MillisPerStep = 1e3 * r.Run.Seconds / float64(row.Steps)
		}
		row.LossAtEpoch1 = math.NaN()
		for _, e := range r.Run.History.Evals {
			if e.Set != "train" {
				continue
			}
			if e.Loss <= target && math.IsNaN(row.SecondsToTarget) {
				row.SecondsToTarget = e.Seconds
			}
			if e.Epoch <= 1+1e-9 {
				row.LossAtEpoch1 = e.Loss
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// WriteBatchSizeTable prints the batch-size summary.
func WriteBatchSizeTable(w io.Writer, rows []BatchSizeRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(rows) > 0 {
		fmt.Fprintf(tw, "seed\trun\tsteps\tepochs\tms/step\ttrain s\tloss after 1 epoch\tfinal loss\ttest acc\ts to loss ≤ %.3f\n", rows[0].TargetHit)
	}
	for _, r := range rows {
		hit := "never"
		if !math.IsNaN(r.SecondsToTarget) {
			hit = fmt.Sprintf("%.2f", r.SecondsToTarget)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.1f\t%.2f\t%.1f\t%.4f\t%.4f\t%.4f\t%s\n", r.Seed, r.Label, r.Steps, r.Epochs, r.MillisPerStep,
			r.Seconds, r.LossAtEpoch1, r.FinalLoss, r.TestAccuracy, hit)
	}
	return tw.Flush()
}

// BatchSizeTarget is the common loss level of the time-to-target comparison: the worst final training loss of
// the runs, so that every run reaches it.
func BatchSizeTarget(runs []BatchSizeRun) float64 {
	target := math.Inf(-1)
	for _, r := range runs {
		if last, ok := r.Run.History.LastEval("train"); ok {
			target = math.Max(target, last.Loss)
		}
	}
	return target
}

// BatchSizeVerdict is what the study measured across its seeds, and the verdict on d2l §12.5's two claims.
type BatchSizeVerdict struct {
	Target float64
	// Slowdown is, per seed, the time the faster of SGD (batch 1) and batch GD took to reach Target over the
	// time the faster mini-batch (10 or 100) took: the paired ratio across seeds (above 1: a mini-batch wins).
	Slowdown reproduce.Estimate
	// EpochGap is, per seed, the lowest loss after one epoch of the larger batches minus SGD's (above 0: SGD
	// made the most progress per epoch).
	EpochGap reproduce.Estimate
	// Fastest counts, per label, the seeds in which that run reached Target first.
	Fastest map[string]int
	Seeds   []int64
	// Judgement is the row's verdict: both claims together.
	Judgement reproduce.Judgement
}

// JudgeBatchSize judges the summary rows of a seeded batch-size study (every seed with its four runs).
func JudgeBatchSize(env *reproduce.Env, rows []BatchSizeRow) (BatchSizeVerdict, error) {
	v := BatchSizeVerdict{Fastest: map[string]int{}}
	if len(rows) == 0 {
		return v, errors.New("batch-size study: no runs")
	}
	v.Target = rows[0].TargetHit
	var slowExtreme, fastMini, sgdEpoch, otherEpoch []float64
	for _, r := range rows {
		if !slices.Contains(v.Seeds, r.Seed) {
			v.Seeds = append(v.Seeds, r.Seed)
		}
	}
	for _, seed := range v.Seeds {
		extreme, mini, sgd, other := math.Inf(1), math.Inf(1), math.NaN(), math.Inf(1)
		first := BatchSizeRow{SecondsToTarget: math.Inf(1)}
		arms := 0
		for _, r := range rows {
			if r.Seed != seed {
				continue
			}
			arms++
			if math.IsNaN(r.SecondsToTarget) || math.IsNaN(r.LossAtEpoch1) {
				return v, fmt.Errorf("batch-size study: %s (seed %d) never reached the loss %.3f or has no loss after one epoch",
					r.Label, seed, v.Target)
			}
			if r.SecondsToTarget < first.SecondsToTarget {
				first = r
			}
			switch {
			case r.BatchSize == 10 || r.BatchSize == 100:
				mini = math.Min(mini, r.SecondsToTarget)
			default:
				extreme = math.Min(extreme, r.SecondsToTarget)
			}
			if r.BatchSize == 1 {
				sgd = r.LossAtEpoch1
			} else {
				other = math.Min(other, r.LossAtEpoch1)
			}
		}
		if arms != 4 || math.IsInf(extreme, 1) || math.IsInf(mini, 1) || math.IsNaN(sgd) || math.IsInf(other, 1) {
			return v, fmt.Errorf("batch-size study: seed %d has %d runs, not one each of batch sizes 1, 10, 100 and the full batch", seed, arms)
		}
		v.Fastest[first.Label]++
		slowExtreme, fastMini = append(slowExtreme, extreme), append(fastMini, mini)
		sgdEpoch, otherEpoch = append(sgdEpoch, sgd), append(otherEpoch, other)
	}
	est := make([]reproduce.Estimate, 4)
	for i, vals := range [][]float64{slowExtreme, fastMini, otherEpoch, sgdEpoch} {
		e, err := reproduce.Seeded(v.Seeds, vals)
		if err != nil {
			return v, fmt.Errorf("batch-size study: %w", err)
		}
		est[i] = e
	}
	var err error
	if v.Slowdown, err = reproduce.PairedRatio(est[0], est[1]); err != nil {
		return v, fmt.Errorf("batch-size study: %w", err)
	}
	if v.EpochGap, err = reproduce.PairedDifference(est[2], est[3]); err != nil {
		return v, fmt.Errorf("batch-size study: %w", err)
	}
	v.Judgement = reproduce.AllOf(
		env.Judge(reproduce.Above(1).In("×"), v.Slowdown),
		env.Judge(reproduce.Above(0).In(" (loss)"), v.EpochGap))
	return v, nil
}

// Ours is the row's "ours" cell: who reached the common loss first, by how much, and the per-epoch gap.
func (v BatchSizeVerdict) Ours() string {
	var first []string
	for _, l := range slices.Sorted(maps.Keys(v.Fastest)) {
		first = append(first, fmt.Sprintf("%s in %d of %d", l, v.Fastest[l], len(v.Seeds)))
	}
	return fmt.Sprintf("first to loss %.3f: %s; SGD or GD took %s× the mini-batch's time%s; after one epoch SGD's loss "+
		"was lower by %s%s; %s", v.Target, strings.Join(first, ", "), v.Slowdown.MeanSD(2, ""), interval(v.Slowdown, 2),
		v.EpochGap.MeanSD(3, ""), interval(v.EpochGap, 3), v.Slowdown.SeedList())
}

// interval is " (95% CI [lo, hi])", or nothing for an estimate without one (a single seed).
func interval(e reproduce.Estimate, prec int) string {
	if math.IsInf(e.Lo, 0) || math.IsInf(e.Hi, 0) {
		return ""
	}
	return " (" + e.CI(prec) + ")"
}
