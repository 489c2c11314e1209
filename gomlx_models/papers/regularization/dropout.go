package regularization

import (
	"errors"
	"fmt"
	"math"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/regularize"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

// DropoutStats describes the output of a dropout layer applied, in training mode, to n copies of x.
type DropoutStats struct {
	Impl string
	N    int
	// KeptFraction is the fraction of non-zero outputs; MeanRatio is mean(output)/x.
	KeptFraction, MeanRatio float64
	// Values are the distinct output values (0 and x/keep for inverted dropout).
	Values []float64
	// InferenceIdentity is true if the layer returns its input unchanged in inference mode.
	InferenceIdentity bool
}

// DropoutExpectation applies our regularize.InvertedDropout (keep probability keep) and GoMLX's layers.Dropout
// (rate 1 − keep) to n copies of x, in training and in inference mode, and returns what each did.
func DropoutExpectation(backend compute.Backend, keep, x float64, n int) ([]DropoutStats, error) {
	if n < 1 || !(keep > 0 && keep <= 1) {
		return nil, fmt.Errorf("dropout expectation: need n >= 1 and keep in (0, 1], got %d, %g", n, keep)
	}
	impls := []struct {
		name string
		fn   func(scope *model.Scope, x *graph.Node) *graph.Node
	}{
		{fmt.Sprintf("ours: InvertedDropout(keep=%g)", keep), func(scope *model.Scope, x *graph.Node) *graph.Node {
			return regularize.InvertedDropout(scope, x, keep)
		}},
		{fmt.Sprintf("GoMLX: layers.Dropout(rate=%.3g)", 1-keep), func(scope *model.Scope, x *graph.Node) *graph.Node {
			return layers.Dropout(scope, x, graph.Scalar(x.Graph(), x.DType(), 1-keep))
		}},
	}
	input := tensors.FromScalarAndDimensions(float32(x), n)
	var out []DropoutStats
	for _, im := range impls {
		st := DropoutStats{Impl: im.name, N: n}
		for _, training := range []bool{true, false} {
			vals, err := applyDropout(backend, im.fn, training, input)
			if err != nil {
				return nil, fmt.Errorf("dropout expectation, %s: %w", im.name, err)
			}
			if !training {
				st.InferenceIdentity = true
				for _, v := range vals {
					if v != float32(x) {
						st.InferenceIdentity = false
						break
					}
				}
				continue
			}
			seen := map[float32]bool{}
			var sum float64
			kept := 0
			for _, v := range vals {
				sum += float64(v)
				if v != 0 {
					kept++
				}
				if !seen[v] {
					seen[v] = true
					st.Values = append(st.Values, float64(v))
				}
			}
			st.KeptFraction = float64(kept) / float64(n)
			st.MeanRatio = sum / float64(n) / x
		}
		out = append(out, st)
	}
	return out, nil
}

// dropoutSeed seeds the store's random numbers, so the masks (and the measured fractions) are the same on every
// run.
const dropoutSeed = 1

// applyDropout runs fn once on input in a fresh store seeded with dropoutSeed, in training or inference mode.
func applyDropout(backend compute.Backend, fn func(*model.Scope, *graph.Node) *graph.Node, training bool,
	input *tensors.Tensor) (vals []float32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(dropoutSeed))
	out, err := model.CallOnce(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.Store().SetTraining(x.Graph(), training)
		return fn(scope, x)
	}, input)
	if err != nil {
		return nil, err
	}
	defer out.MustFinalizeAll()
	return tensors.CopyFlatData[float32](out)
}

// DropoutExpectationTable is DropoutExpectation's result as a table (header first).
func DropoutExpectationTable(stats []DropoutStats) [][]string {
	rows := [][]string{{"layer", "n", "kept", "mean(out)/x", "values", "identity at inference"}}
	for _, s := range stats {
		rows = append(rows, []string{s.Impl, fmt.Sprint(s.N), fmt.Sprintf("%.4f", s.KeptFraction),
			fmt.Sprintf("%.4f", s.MeanRatio), fmt.Sprint(s.Values), fmt.Sprint(s.InferenceIdentity)})
	}
	return rows
}

// DropoutConfig sizes the over-fitting study.
type DropoutConfig struct {
	TrainN, TestN int
	Hidden        []int
	// KeepInput and KeepHidden are the keep probabilities of the dropout network.
	KeepInput, KeepHidden float64
	Steps, EvalEvery      int
	// Seeds are the runs: each seed trains both networks with the same initial weights' seed and data order
	// (the dropout masks come from the same seed too).
	Seeds []int64
}

// DropoutStudyConfig is the over-fitting study's size per profile: a wide MLP on a small MNIST subset, trained
// far past the point where it fits every training image (1,500 steps of 50 are 75 epochs of 1,000 images), so
// that without dropout it memorises the training set; the dropout network keeps 80% of its inputs and hidden
// units (the notes' keep_prob). Five seeds in the full profile: a run takes seconds.
var DropoutStudyConfig = train.ByProfile[DropoutConfig]{
	Quick: DropoutConfig{TrainN: 500, TestN: 2000, Hidden: []int{256, 256}, KeepInput: regularize.DefaultKeepProb,
		KeepHidden: regularize.DefaultKeepProb, Steps: 300, EvalEvery: 25, Seeds: []int64{1}},
	Full: DropoutConfig{TrainN: 1000, TestN: 0, Hidden: []int{256, 256}, KeepInput: regularize.DefaultKeepProb,
		KeepHidden: regularize.DefaultKeepProb, Steps: 1500, EvalEvery: 100, Seeds: []int64{1, 2, 3, 4, 5}},
}

// DropoutRun is one network of one seed of the over-fitting study.
type DropoutRun struct {
	Label                 string
	KeepInput, KeepHidden float64
	Seed                  int64
	Run                   *train.Run
}

// DropoutStudy trains a ReLU MLP (models.MLPConfig with dropout) without dropout and with cfg's keep
// probabilities on the first cfg.TrainN MNIST training images (Adam, lr 1e-3, batch 50), for every seed of cfg
// (both networks of a seed share the seed of the initial weights and the data order), evaluating loss and
// accuracy on those same images ("train", in inference mode) and on the test set every cfg.EvalEvery steps.
// The runs come as (no dropout, dropout) pairs, seed by seed.
func DropoutStudy(env *reproduce.Env, cfg DropoutConfig) ([]DropoutRun, error) {
	valid := func(p float64) bool { return p > 0 && p <= 1 }
	if cfg.TrainN < 50 || cfg.Steps < 1 || cfg.EvalEvery < 1 || !valid(cfg.KeepInput) || !valid(cfg.KeepHidden) ||
		(cfg.KeepInput == 1 && cfg.KeepHidden == 1) || len(cfg.Seeds) == 0 {
		return nil, fmt.Errorf("dropout study: invalid configuration %+v", cfg)
	}
	var runs []DropoutRun
	for _, seed := range cfg.Seeds {
		for _, keep := range [][2]float64{{1, 1}, {cfg.KeepInput, cfg.KeepHidden}} {
			r := DropoutRun{Label: "no dropout", KeepInput: keep[0], KeepHidden: keep[1], Seed: seed}
			if keep != [2]float64{1, 1} {
				r.Label = fmt.Sprintf("dropout keep=%g/%g", keep[0], keep[1])
			}
			c := train.Classification{Name: fmt.Sprintf("dropout-%g-%g seed %d", keep[0], keep[1], seed),
				Model: models.MLP(models.MLPConfig{Hidden: cfg.Hidden, Activation: activation.TypeRelu, Classes: 10,
					KeepInput: keep[0], KeepHidden: keep[1]}), Flatten: true,
				TrainN: cfg.TrainN, TestN: cfg.TestN, BatchSize: 50, Steps: cfg.Steps, LR: 1e-3, EvalEvery: cfg.EvalEvery,
				EvalTrainN: cfg.TrainN, Seed: seed}
			f, err := c.Fit(env.Backend, env.Progress)
			if err != nil {
				return nil, fmt.Errorf("dropout study, %s, seed %d: %w", r.Label, seed, err)
			}
			r.Run = f.Run
			runs = append(runs, r)
		}
	}
	return runs, nil
}

// DropoutFigureNames are the file names (without .png) of DropoutFigures' figures, in order.
var DropoutFigureNames = []string{"dropout_accuracy", "dropout_loss"}

// DropoutFigures draws train and test accuracy, and train and test loss, against steps, of both networks of the
// first seed.
func DropoutFigures(runs []DropoutRun) ([]*plots.Figure, error) {
	var acc, loss []plots.Series
	for _, r := range runs[:min(2, len(runs))] {
		for _, set := range []string{"train", "test"} {
			ax, ay, err := r.Run.History.EvalSeries(set, "step", "accuracy")
			if err != nil {
				return nil, err
			}
			lx, ly, err := r.Run.History.EvalSeries(set, "step", "loss")
			if err != nil {
				return nil, err
			}
			if len(ax) == 0 {
				return nil, fmt.Errorf("dropout figures: %s has no %s evaluation", r.Label, set)
			}
			acc = append(acc, plots.Series{Name: r.Label + ": " + set, X: ax, Y: ay, Points: set == "test"})
			loss = append(loss, plots.Series{Name: r.Label + ": " + set, X: lx, Y: ly, Points: set == "test"})
		}
	}
	accuracy, err := plots.Curves(fmt.Sprintf("MLP on a small MNIST subset: train vs test accuracy (seed %d)", runs[0].Seed), "step", "accuracy", acc,
		plots.LegendBottom())
	if err != nil {
		return nil, err
	}
	lossFig, err := plots.Curves("train vs test cross-entropy (the gap is the vertical distance)", "step", "loss (log)",
		loss, plots.LogY(), plots.LegendBottom())
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{accuracy, lossFig}, nil
}

// DropoutRow summarises one run of the over-fitting study over its last evaluations (the last quarter, at
// least one), which averages out the noise of a single evaluation.
type DropoutRow struct {
	Label string
	Seed  int64
	// Evals is the number of evaluations averaged.
	Evals                   int
	TrainAcc, TestAcc, Gap  float64
	TrainLoss, TestLoss     float64
	LossGap                 float64
	Steps                   int
	TrainSeconds, MsPerStep float64
}

// DropoutSummary returns each run's train/test accuracy and loss, and their gaps, averaged over its last
// evaluations.
func DropoutSummary(runs []DropoutRun) ([]DropoutRow, error) {
	var rows []DropoutRow
	for _, r := range runs {
		_, trAcc, err1 := r.Run.History.EvalSeries("train", "step", "accuracy")
		_, teAcc, err2 := r.Run.History.EvalSeries("test", "step", "accuracy")
		_, trLoss, err3 := r.Run.History.EvalSeries("train", "step", "loss")
		_, teLoss, err4 := r.Run.History.EvalSeries("test", "step", "loss")
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		n := len(teAcc)
		if n == 0 || len(trAcc) != n {
			return nil, fmt.Errorf("dropout summary: %s has %d train and %d test evaluations", r.Label, len(trAcc), n)
		}
		k := max(1, n/4)
		mean := func(v []float64) float64 {
			s := 0.0
			for _, x := range v[len(v)-k:] {
				s += x
			}
			return s / float64(k)
		}
		row := DropoutRow{Label: r.Label, Seed: r.Seed, Evals: k, TrainAcc: mean(trAcc), TestAcc: mean(teAcc),
			TrainLoss: mean(trLoss), TestLoss: mean(teLoss), TrainSeconds: r.Run.Seconds}
		if last, ok := r.Run.History.LastEval("test"); ok {
			row.Steps = last.Step
		}
		row.Gap, row.LossGap = row.TrainAcc-row.TestAcc, row.TestLoss-row.TrainLoss
		if row.Steps > 0 {
			row.MsPerStep = 1e3 * r.Run.Seconds / float64(row.Steps)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// DropoutTable is the table a notebook shows: DropoutSummary's rows, seed by seed.
func DropoutTable(rows []DropoutRow) [][]string {
	out := [][]string{{"seed", "run", "evals averaged", "train acc", "test acc", "acc gap", "train loss", "test loss",
		"loss gap", "ms/step"}}
	for _, r := range rows {
		out = append(out, []string{fmt.Sprint(r.Seed), r.Label, fmt.Sprint(r.Evals), fmt.Sprintf("%.4f", r.TrainAcc),
			fmt.Sprintf("%.4f", r.TestAcc), fmt.Sprintf("%.4f", r.Gap), fmt.Sprintf("%.4f", r.TrainLoss),
			fmt.Sprintf("%.4f", r.TestLoss), fmt.Sprintf("%.4f", r.LossGap), fmt.Sprintf("%.1f", r.MsPerStep)})
	}
	return out
}

// DropoutExpectationSE is the standard error of E[out]/x measured on n units kept with probability keep: the
// mean of n values that are 1/keep with probability keep and 0 otherwise has the standard deviation
// √(keep(1 − keep)/n)/keep.
func DropoutExpectationSE(keep float64, n int) float64 {
	return math.Sqrt(keep*(1-keep)/float64(n)) / keep
}

// DropoutResult is the row of "dropout-inverted": our inverted dropout's E[out]/x (stats[0]) must be 1 within
// 0.01, and the train − test accuracy gap (rows from DropoutSummary, (no dropout, dropout) per seed) must be
// smaller with dropout: the per-seed differences of the gaps, in points, paired by seed, above 0.
func DropoutResult(env *reproduce.Env, stats []DropoutStats, rows []DropoutRow, figures []string) (*reproduce.Result, error) {
	if len(stats) < 2 || len(rows) < 2 || len(rows)%2 != 0 {
		return nil, fmt.Errorf("dropout result: %d expectation rows and %d run rows", len(stats), len(rows))
	}
	var seeds []int64
	var gapNo, gapDrop, testNo, testDrop, trainNo []float64
	for i := 0; i < len(rows); i += 2 {
		a, b := rows[i], rows[i+1]
		if a.Seed != b.Seed {
			return nil, fmt.Errorf("dropout result: rows %d and %d are seeds %d and %d", i, i+1, a.Seed, b.Seed)
		}
		seeds = append(seeds, a.Seed)
		gapNo, gapDrop = append(gapNo, 100*a.Gap), append(gapDrop, 100*b.Gap)
		testNo, testDrop = append(testNo, 100*a.TestAcc), append(testDrop, 100*b.TestAcc)
		trainNo = append(trainNo, 100*a.TrainAcc)
	}
	no, err1 := reproduce.Seeded(seeds, gapNo)
	drop, err2 := reproduce.Seeded(seeds, gapDrop)
	tNo, err3 := reproduce.Seeded(seeds, testNo)
	tDrop, err4 := reproduce.Seeded(seeds, testDrop)
	trNo, err5 := reproduce.Seeded(seeds, trainNo)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}
	diff, err := reproduce.PairedDifference(no, drop)
	if err != nil {
		return nil, err
	}
	ours := stats[0]
	keep := ours.KeptFraction
	j := reproduce.AllOf(
		env.Judge(reproduce.Above(0).In(" points (gap without − with dropout)"), diff),
		env.Judge(reproduce.Equals(1, 0.01).In(" (E[out]/x)"), reproduce.MeanSE(ours.MeanRatio, DropoutExpectationSE(regularize.DefaultKeepProb, ours.N))))
	notes := fmt.Sprintf("test accuracy %s without, %s with dropout; training accuracy without dropout %s (the over-fit regime: it memorises its training images); gaps averaged over the last %d evaluations; GoMLX's Dropout kept %.3f, E[out]/x = %.4f.",
		tNo.MeanSD(2, "%"), tDrop.MeanSD(2, "%"), trNo.MeanSD(2, "%"), rows[0].Evals, stats[1].KeptFraction, stats[1].MeanRatio)
	if env.Quick {
		notes += " Quick profile: 500 images, 300 steps, one seed (indicative)."
	}
	return &reproduce.Result{
		Ours: fmt.Sprintf("E[out]/x = %.4f (kept %.3f); train − test accuracy gap %s without, %s with dropout: smaller by %s points, %s; %s",
			ours.MeanRatio, keep, no.MeanSD(2, " points"), drop.MeanSD(2, " points"), diff.MeanSD(2, ""), diff.CI(2), no.SeedList()),
		Value: diff.Mean, Judgement: j, Notes: notes, Figures: figures}, nil
}
