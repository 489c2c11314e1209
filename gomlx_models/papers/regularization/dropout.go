package regularization

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

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

// WriteDropoutTable prints DropoutExpectation's result.
func WriteDropoutTable(w io.Writer, stats []DropoutStats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tn\tkept\tmean(out)/x\tvalues\tidentity at inference")
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.4f\t%v\t%v\n", s.Impl, s.N, s.KeptFraction, s.MeanRatio, s.Values, s.InferenceIdentity)
	}
	return tw.Flush()
}

// DropoutConfig sizes the over-fitting study.
type DropoutConfig struct {
	TrainN, TestN int
	Hidden        []int
	// KeepInput and KeepHidden are the keep probabilities of the dropout network.
	KeepInput, KeepHidden float64
	Steps, EvalEvery      int
}

// DropoutStudyConfig is the over-fitting study's size per profile: a wide MLP on a small MNIST subset, so that
// without dropout it memorises the training set; the dropout network keeps 80% of its inputs and hidden units
// (the notes' keep_prob).
var DropoutStudyConfig = train.ByProfile[DropoutConfig]{
	Quick: DropoutConfig{TrainN: 500, TestN: 2000, Hidden: []int{256, 256}, KeepInput: regularize.DefaultKeepProb,
		KeepHidden: regularize.DefaultKeepProb, Steps: 300, EvalEvery: 25},
	Full: DropoutConfig{TrainN: 1000, TestN: 0, Hidden: []int{256, 256}, KeepInput: regularize.DefaultKeepProb,
		KeepHidden: regularize.DefaultKeepProb, Steps: 1500, EvalEvery: 100},
}

// DropoutRun is one network of the over-fitting study.
type DropoutRun struct {
	Label                 string
	KeepInput, KeepHidden float64
	Run                   *train.Run
}

// DropoutStudy trains a ReLU MLP (models.MLPConfig with dropout) without dropout and with cfg's keep probabilities on the first cfg.TrainN
// MNIST training images (Adam, lr 1e-3, batch 50, same seed and order), evaluating loss and accuracy on those
// same images ("train", in inference mode) and on the test set every cfg.EvalEvery steps.
func DropoutStudy(env *reproduce.Env, cfg DropoutConfig) ([]DropoutRun, error) {
	valid := func(p float64) bool { return p > 0 && p <= 1 }
	if cfg.TrainN < 50 || cfg.Steps < 1 || cfg.EvalEvery < 1 || !valid(cfg.KeepInput) || !valid(cfg.KeepHidden) ||
		(cfg.KeepInput == 1 && cfg.KeepHidden == 1) {
		return nil, fmt.Errorf("dropout study: invalid configuration %+v", cfg)
	}
	var runs []DropoutRun
	for _, keep := range [][2]float64{{1, 1}, {cfg.KeepInput, cfg.KeepHidden}} {
		r := DropoutRun{Label: "no dropout", KeepInput: keep[0], KeepHidden: keep[1]}
		if keep != [2]float64{1, 1} {
			r.Label = fmt.Sprintf("dropout keep=%g/%g", keep[0], keep[1])
		}
		c := train.Classification{Name: fmt.Sprintf("dropout-%g-%g", keep[0], keep[1]),
			Model: models.MLP(models.MLPConfig{Hidden: cfg.Hidden, Activation: activation.TypeRelu, Classes: 10,
				KeepInput: keep[0], KeepHidden: keep[1]}), Flatten: true,
			TrainN: cfg.TrainN, TestN: cfg.TestN, BatchSize: 50, Steps: cfg.Steps, LR: 1e-3, EvalEvery: cfg.EvalEvery,
			EvalTrainN: cfg.TrainN}
		f, err := c.Fit(env.Backend, env.Progress)
		if err != nil {
			return nil, fmt.Errorf("dropout study, %s: %w", r.Label, err)
		}
		r.Run = f.Run
		runs = append(runs, r)
	}
	return runs, nil
}

// DropoutFigureNames are the file names (without .png) of DropoutFigures' figures, in order.
var DropoutFigureNames = []string{"dropout_accuracy", "dropout_loss"}

// DropoutFigures draws train and test accuracy, and train and test loss, of both runs against steps.
func DropoutFigures(runs []DropoutRun) ([]*plots.Figure, error) {
	var acc, loss []plots.Series
	for _, r := range runs {
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
	accuracy, err := plots.Curves("MLP on a small MNIST subset: train vs test accuracy", "step", "accuracy", acc,
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
		row := DropoutRow{Label: r.Label, Evals: k, TrainAcc: mean(trAcc), TestAcc: mean(teAcc),
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

// WriteDropoutSummary prints DropoutSummary's rows.
func WriteDropoutSummary(w io.Writer, rows []DropoutRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(rows) > 0 {
		fmt.Fprintf(tw, "run (mean of last %d evals)\tsteps\ttrain acc\ttest acc\tacc gap\ttrain loss\ttest loss\tloss gap\tms/step\n", rows[0].Evals)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.1f\n", r.Label, r.Steps, r.TrainAcc, r.TestAcc, r.Gap,
			r.TrainLoss, r.TestLoss, r.LossGap, r.MsPerStep)
	}
	return tw.Flush()
}

// DropoutFindings turns the dropout measurements into rows of notebook 02's closing table.
func DropoutFindings(stats []DropoutStats, rows []DropoutRow) []reproduce.Finding {
	var m []reproduce.Finding
	if len(stats) >= 2 {
		m = append(m,
			reproduce.Finding{Item: "inverted dropout, keep 0.8: E[out]/x", Paper: "1 (notes)",
				Ours: fmt.Sprintf("%.4f ours, %.4f GoMLX (n = %d)", stats[0].MeanRatio, stats[1].MeanRatio, stats[0].N)},
			reproduce.Finding{Item: "fraction of units kept", Paper: "0.8",
				Ours: fmt.Sprintf("%.4f ours, %.4f GoMLX", stats[0].KeptFraction, stats[1].KeptFraction)})
	}
	if len(rows) >= 2 {
		m = append(m,
			reproduce.Finding{Item: "train − test accuracy gap, small MNIST subset", Paper: "smaller with dropout (Srivastava et al. 2014)",
				Ours: fmt.Sprintf("%.3f without → %.3f with dropout (test acc %.3f → %.3f)", rows[0].Gap, rows[1].Gap, rows[0].TestAcc, rows[1].TestAcc)},
			reproduce.Finding{Item: "test − train loss gap", Paper: "smaller with dropout",
				Ours: fmt.Sprintf("%.3f without → %.3f with dropout", rows[0].LossGap, rows[1].LossGap)})
	}
	return m
}
