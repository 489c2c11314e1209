package optimization

import (
	"errors"
	"fmt"
	"io"
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
	Run       *train.Run
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
}

// BatchSizeStudyConfig is the batch-size study's size per profile.
var BatchSizeStudyConfig = train.ByProfile[BatchSizeConfig]{
	Quick: BatchSizeConfig{TrainN: 3000, EvalTrainN: 3000, TestN: 500, Epochs: 1, GDEpochs: 20, EvalsPerEpoch: 10},
	Full:  BatchSizeConfig{TrainN: 60000, EvalTrainN: 5000, TestN: 2000, Epochs: 1, GDEpochs: 30, EvalsPerEpoch: 20},
}

// batchSizeLR are the learning rates of plain SGD per batch size (0: full batch), hand-tuned: each is close to
// the largest that trains stably, as in d2l §12.5 (larger batches average out gradient noise, so they take
// larger steps).
var batchSizeLR = map[int]float64{1: 0.01, 10: 0.05, 100: 0.3, 0: 0.5}

// BatchSizeStudy trains softmax regression on MNIST with plain SGD (our optim.SGD) at batch sizes 1 (SGD),
// 10 and 100 (mini-batch) and the whole training set (batch GD), and records the loss on (a subset of) the
// training set against epochs and against wall-clock training seconds.
func BatchSizeStudy(env *reproduce.Env, cfg BatchSizeConfig) ([]BatchSizeRun, error) {
	if cfg.TrainN < 100 || cfg.Epochs < 1 || cfg.GDEpochs < 1 || cfg.EvalsPerEpoch < 1 {
		return nil, fmt.Errorf("batch-size study: invalid configuration %+v", cfg)
	}
	var runs []BatchSizeRun
	for _, bs := range []int{1, 10, 100, 0} {
		r := BatchSizeRun{BatchSize: bs, LR: batchSizeLR[bs], Epochs: cfg.Epochs}
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
			EvalEvery: max(1, stepsPerEpoch/cfg.EvalsPerEpoch), LogEvery: max(1, stepsPerEpoch/200),
		}
		f, err := c.Fit(env.Backend, env.Progress)
		if err != nil {
			return nil, fmt.Errorf("batch-size study, %s: %w", r.Label, err)
		}
		r.Run = f.Run
		runs = append(runs, r)
	}
	return runs, nil
}

// BatchSizeFigureNames are the file names (without .png) of BatchSizeFigures' figures, in order.
var BatchSizeFigureNames = []string{"optim_batch_epochs", "optim_batch_seconds"}

// BatchSizeFigures draws the training loss of every run against epochs and against wall-clock seconds.
func BatchSizeFigures(runs []BatchSizeRun) ([]*plots.Figure, error) {
	var se, ss []plots.Series
	for _, r := range runs {
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
	byEpoch, err := plots.Curves("softmax regression on MNIST: loss vs epochs", "epoch (log)", "training loss", se,
		plots.LogX(), plots.LogY())
	if err != nil {
		return nil, err
	}
	bySeconds, err := plots.Curves("softmax regression on MNIST: loss vs wall-clock time", "training seconds (log)",
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
		row := BatchSizeRow{Label: r.Label, BatchSize: r.BatchSize, Steps: r.Run.Step(), Epochs: last.Epoch,
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
		fmt.Fprintf(tw, "run\tsteps\tepochs\tms/step\ttrain s\tfinal loss\ttest acc\ts to loss ≤ %.3f\n", rows[0].TargetHit)
	}
	for _, r := range rows {
		hit := "never"
		if !math.IsNaN(r.SecondsToTarget) {
			hit = fmt.Sprintf("%.2f", r.SecondsToTarget)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.1f\t%.4f\t%.4f\t%s\n", r.Label, r.Steps, r.Epochs, r.MillisPerStep,
			r.Seconds, r.FinalLoss, r.TestAccuracy, hit)
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

// fastest returns the row that reached the target first (false if none did).
func fastest(rows []BatchSizeRow) (BatchSizeRow, bool) {
	i := -1
	for j, r := range rows {
		if r.SecondsToTarget < math.Inf(1) && (i < 0 || r.SecondsToTarget < rows[i].SecondsToTarget) {
			i = j
		}
	}
	if i < 0 {
		return BatchSizeRow{}, false
	}
	return rows[i], true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BatchSizeFindings turns the batch-size summary into the closing-table findings: which run reached
// the common loss first in wall-clock time (d2l: a mini-batch), and which made the most progress per epoch
// (d2l: SGD) — measured at the end of the runs' first epoch.
func BatchSizeFindings(rows []BatchSizeRow) ([]reproduce.Finding, error) {
	best, ok := fastest(rows)
	if !ok {
		return nil, errors.New("batch-size study: no run reached the target loss")
	}
	var times []string
	for _, r := range rows {
		t := "never"
		if !math.IsNaN(r.SecondsToTarget) {
			t = fmt.Sprintf("%.2fs", r.SecondsToTarget)
		}
		times = append(times, fmt.Sprintf("%s %s", r.Label, t))
	}
	lowest := slices.MinFunc(rows, func(a, b BatchSizeRow) int { return cmpFloat(a.LossAtEpoch1, b.LossAtEpoch1) })
	return []reproduce.Finding{
		{Item: fmt.Sprintf("first to training loss %.3f (wall clock)", best.TargetHit), Paper: "a mini-batch (d2l §12.5)",
			Ours: fmt.Sprintf("%s (%s)", best.Label, strings.Join(times, ", "))},
		{Item: "lowest training loss after one epoch", Paper: "SGD, batch 1 (d2l §12.5)",
			Ours: fmt.Sprintf("%s, %.3f", lowest.Label, lowest.LossAtEpoch1)},
	}, nil
}
