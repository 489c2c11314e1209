package regularization

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/regularize"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
	"github.com/gomlx/compute"
)

// BNConfig sizes the BN paper's §4.1 experiment.
type BNConfig struct {
	// Steps of batch BNPaperBatchSize (§4.1: 50,000).
	Steps int
	// EvalEvery evaluates test accuracy every so many steps; ProbeEvery records the sigmoid-input percentiles.
	EvalEvery, ProbeEvery int
	// TestN test images are used for accuracy (0: all 10,000); ProbeN of them feed the probe.
	TestN, ProbeN int
	// LR is the learning rate of plain SGD (the paper does not give its optimizer settings for §4.1).
	LR float64
	// Net is the network; the zero value means models.BNPaperMLP. Batch normalization is switched on and off
	// by the study.
	Net models.MLPConfig
}

// BNStudyConfig is the §4.1 experiment's size per profile: the full (and paper) profile is the paper's 50,000
// steps of batch 60.
var BNStudyConfig = train.ByProfile[BNConfig]{
	Quick: BNConfig{Steps: 500, EvalEvery: 50, ProbeEvery: 25, TestN: 1000, ProbeN: 500, LR: BNStudyLR},
	Full:  BNConfig{Steps: BNPaperSteps, EvalEvery: 1000, ProbeEvery: 250, TestN: 0, ProbeN: 1000, LR: BNStudyLR},
}

// Hyper-parameters of the BN paper's MNIST experiment (Ioffe & Szegedy 2015, §4.1).
const (
	// BNPaperBatchSize is the mini-batch size (§4.1: "60 examples per mini-batch").
	BNPaperBatchSize = 60
	// BNPaperSteps is the training length (§4.1: "50000 steps").
	BNPaperSteps = 50000
)

// BNPaperPercentiles are the percentiles of the sigmoid input that Fig. 1(b, c) track.
var BNPaperPercentiles = []float64{15, 50, 85}

// BNStudyLR is our choice of learning rate for plain SGD in the §4.1 experiment, the same for both networks
// (the paper does not give one). With η = 0.5 the network without BN trained nearly as fast as the one with
// BN (our full run: 97.72% vs 97.80% test accuracy after 50,000 steps, BN ahead at 43 of 50 evaluations),
// unlike Fig. 1(a), whose gap suggests a more conservative step such as this one.
const BNStudyLR = 0.05

// BNRun is one network of the §4.1 experiment: its training run and the 15th/50th/85th percentiles of the
// probed sigmoid input (over ProbeN test images, inference mode) at each probe step.
type BNRun struct {
	Label     string
	BatchNorm bool
	Run       *train.Run
	// ProbeSteps are the steps at which Percentiles were measured (0 = before training).
	ProbeSteps  []float64
	Percentiles [][]float64 // one row per probe step: BNPaperPercentiles of the sigmoid input.
}

// BNStudy trains the §4.1 network (cfg.Net, by default models.BNPaperMLP: 3 hidden layers of 100 sigmoid units,
// batch 60) on the MNIST training set without and with batch normalization, with plain SGD (our optim.SGD) and
// the same seed and data order, and records test accuracy against steps (Fig. 1a) and the distribution of one sigmoid's input
// (Fig. 1b, c) through the training recipe's probe.
func BNStudy(env *reproduce.Env, cfg BNConfig) ([]*BNRun, error) {
	if cfg.Steps < 1 || cfg.EvalEvery < 1 || cfg.ProbeEvery < 1 || cfg.ProbeN < 2 || !(cfg.LR > 0) {
		return nil, fmt.Errorf("BN study: invalid configuration %+v", cfg)
	}
	var runs []*BNRun
	for _, bn := range []bool{false, true} {
		r := &BNRun{Label: "without BN", BatchNorm: bn}
		if bn {
			r.Label = "with BN"
		}
		net := cfg.Net
		if net.Classes == 0 {
			net = models.BNPaperMLP
		}
		net = net.WithBatchNorm(bn)
		probe := &train.Probe{Activation: models.MLPWithProbe(net), Every: cfg.ProbeEvery, N: cfg.ProbeN}
		c := train.Classification{Name: "bn-mnist " + r.Label, Model: models.MLP(net), Flatten: true,
			TestN: cfg.TestN, BatchSize: BNPaperBatchSize, Steps: cfg.Steps, EvalEvery: cfg.EvalEvery,
			LogEvery: max(1, cfg.Steps/500), Optimizer: optim.NewSGD(cfg.LR), Probe: probe}
		f, err := c.Fit(env.Backend, env.Progress)
		if err != nil {
			return nil, fmt.Errorf("BN study, %s: %w", r.Label, err)
		}
		for i, vals := range probe.Values {
			v64 := make([]float64, len(vals))
			for j, v := range vals {
				v64[j] = float64(v)
			}
			r.ProbeSteps = append(r.ProbeSteps, float64(probe.Steps[i]))
			r.Percentiles = append(r.Percentiles, plots.Percentiles(v64, BNPaperPercentiles...))
		}
		r.Run = f.Run
		runs = append(runs, r)
	}
	return runs, nil
}

// BNFigureNames are the file names (without .png) of BNFigures' figures, in order.
var BNFigureNames = []string{"bn_fig1a_accuracy", "bn_fig1b_without", "bn_fig1c_with"}

// BNFigures draws Fig. 1 of the BN paper from our runs: (a) test accuracy against steps for both networks,
// and (b, c) the 15th, 50th and 85th percentiles of the probed sigmoid input without and with BN.
func BNFigures(runs []*BNRun) ([]*plots.Figure, error) {
	if len(runs) != 2 {
		return nil, fmt.Errorf("BN figures: want the runs without and with BN, got %d", len(runs))
	}
	var series []plots.Series
	for _, r := range runs {
		xs, ys, err := r.Run.History.EvalSeries("test", "step", "accuracy")
		if err != nil {
			return nil, err
		}
		series = append(series, plots.Series{Name: r.Label, X: xs, Y: ys, Points: len(xs) <= 60})
	}
	accuracy, err := plots.Curves("(a) test accuracy, 3×100 sigmoid MLP, batch 60", "training step", "test accuracy",
		series, plots.LegendBottom())
	if err != nil {
		return nil, err
	}
	// The same y range for (b) and (c) so the drift is comparable.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range runs {
		for _, p := range r.Percentiles {
			lo, hi = math.Min(lo, p[0]), math.Max(hi, p[2])
		}
	}
	pad := 0.05 * (hi - lo)
	bands := make([]*plots.Figure, 2)
	for i, r := range runs {
		lower, mid, upper := make([]float64, len(r.Percentiles)), make([]float64, len(r.Percentiles)), make([]float64, len(r.Percentiles))
		for j, p := range r.Percentiles {
			lower[j], mid[j], upper[j] = p[0], p[1], p[2]
		}
		title := fmt.Sprintf("(%c) input of one last-layer sigmoid, %s", 'b'+i, r.Label)
		bands[i], err = plots.Bands(title, "training step", "sigmoid input", r.ProbeSteps, lower, mid, upper,
			"median, 15th–85th percentile band", plots.YRange(lo-pad, hi+pad), plots.LegendBottom())
		if err != nil {
			return nil, err
		}
	}
	return []*plots.Figure{accuracy, bands[0], bands[1]}, nil
}

// BNComparison summarises the §4.1 runs at equal steps.
type BNComparison struct {
	// Steps are the evaluation steps; AccNoBN and AccBN the test accuracies there.
	Steps          []int
	AccNoBN, AccBN []float64
	// Ahead counts the evaluations at which the BN network is strictly more accurate.
	Ahead int
	// FirstNoBN, LastNoBN, FirstBN and LastBN are the 15th/50th/85th percentiles of the probed sigmoid input
	// at the first and the last probe: how far its distribution moved over training (Fig. 1b, c).
	FirstNoBN, LastNoBN, FirstBN, LastBN []float64
}

// CompareBN pairs the two runs' evaluations step by step.
func CompareBN(runs []*BNRun) (*BNComparison, error) {
	if len(runs) != 2 {
		return nil, fmt.Errorf("BN comparison: want 2 runs, got %d", len(runs))
	}
	c := &BNComparison{}
	byStep := map[int]float64{}
	for _, e := range runs[1].Run.History.Evals {
		if e.Set == "test" {
			byStep[e.Step] = e.Accuracy
		}
	}
	for _, e := range runs[0].Run.History.Evals {
		acc, ok := byStep[e.Step]
		if e.Set != "test" || !ok {
			continue
		}
		c.Steps = append(c.Steps, e.Step)
		c.AccNoBN = append(c.AccNoBN, e.Accuracy)
		c.AccBN = append(c.AccBN, acc)
		if acc > e.Accuracy {
			c.Ahead++
		}
	}
	if len(c.Steps) == 0 {
		return nil, errors.New("BN comparison: the runs share no evaluation step")
	}
	for _, r := range runs {
		if len(r.Percentiles) == 0 {
			return nil, fmt.Errorf("BN comparison: %s has no probe", r.Label)
		}
	}
	c.FirstNoBN, c.LastNoBN = runs[0].Percentiles[0], runs[0].Percentiles[len(runs[0].Percentiles)-1]
	c.FirstBN, c.LastBN = runs[1].Percentiles[0], runs[1].Percentiles[len(runs[1].Percentiles)-1]
	return c, nil
}

// WriteBNTable prints the test accuracies at (up to about ten) evaluation steps.
func (c *BNComparison) WriteBNTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\twithout BN\twith BN\t")
	stride := max(1, len(c.Steps)/10)
	for i := range c.Steps {
		if i%stride != 0 && i != len(c.Steps)-1 {
			continue
		}
		fmt.Fprintf(tw, "%d\t%.4f\t%.4f\t\n", c.Steps[i], c.AccNoBN[i], c.AccBN[i])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "BN ahead at %d of %d evaluations\nprobed sigmoid input, first → last probe: %s without BN, %s with BN\n",
		c.Ahead, len(c.Steps), c.Shift(false), c.Shift(true))
	return err
}

// Shift describes how the probed input's distribution moved from the first to the last probe, for the
// network with or without BN: "median a → b, 15–85% spread c → d".
func (c *BNComparison) Shift(bn bool) string {
	first, last := c.FirstNoBN, c.LastNoBN
	if bn {
		first, last = c.FirstBN, c.LastBN
	}
	if len(first) < 3 || len(last) < 3 {
		return "no probe"
	}
	return fmt.Sprintf("median %.2f → %.2f, 15–85%% spread %.2f → %.2f", first[1], last[1], first[2]-first[0], last[2]-last[0])
}

// BNModesDemo runs regularize.CompareBNModes on a fixed synthetic layer of three features (means 2, −1, 0.5;
// standard deviations 1, 3, 0.5), trained on 300 batches of 16 with moving-average momentum 0.99 (GoMLX's
// default), then normalizes a probe batch of four rows in both modes. It also normalizes a second probe that
// differs only in its last row: in training mode every row's output moves (the batch statistics changed), in
// inference mode only the changed row does.
func BNModesDemo(backend compute.Backend) (probe, probe2 [][]float64, res, res2 regularize.BNModes, err error) {
	rng := rand.New(rand.NewPCG(2015, 41))
	means, stds := []float64{2, -1, 0.5}, []float64{1, 3, 0.5}
	batch := func(m int) [][]float64 {
		b := make([][]float64, m)
		for i := range b {
			b[i] = make([]float64, len(means))
			for j := range means {
				b[i][j] = means[j] + stds[j]*rng.NormFloat64()
			}
		}
		return b
	}
	train := make([][][]float64, 300)
	for i := range train {
		train[i] = batch(16)
	}
	probe = batch(4)
	probe2 = make([][]float64, len(probe))
	for i := range probe {
		probe2[i] = append([]float64(nil), probe[i]...)
	}
	probe2[3] = []float64{8, 8, 8}
	if res, err = regularize.CompareBNModes(backend, train, probe, 0.99); err != nil {
		return nil, nil, res, res2, fmt.Errorf("BN modes: %w", err)
	}
	if res2, err = regularize.CompareBNModes(backend, train, probe2, 0.99); err != nil {
		return nil, nil, res, res2, fmt.Errorf("BN modes: %w", err)
	}
	return probe, probe2, res, res2, nil
}

// BNModesDeviation is the largest difference between GoMLX's BN outputs and the formulas of Alg. 1 (batch
// statistics, training) and Alg. 2 (moving averages, inference) computed in plain Go.
func BNModesDeviation(probe [][]float64, res regularize.BNModes) float64 {
	worst := 0.0
	check := func(got, want [][]float64) {
		for i := range want {
			for j := range want[i] {
				worst = math.Max(worst, math.Abs(got[i][j]-want[i][j]))
			}
		}
	}
	check(res.TrainOut, regularize.Normalize(probe, res.BatchMean, res.BatchVar, res.Epsilon))
	check(res.InferOut, regularize.Normalize(probe, res.MovingMean, res.MovingVar, res.Epsilon))
	return worst
}

// WriteBNModes prints the statistics and the outputs of both modes for feature 0 of each probe row, for the
// two probes of BNModesDemo.
func WriteBNModes(w io.Writer, probe, probe2 [][]float64, res, res2 regularize.BNModes) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "statistic (per feature)\tfeature 0\tfeature 1\tfeature 2\t\n")
	for _, row := range []struct {
		name string
		v    []float64
	}{{"probe batch mean μ_B", res.BatchMean}, {"probe batch var σ²_B", res.BatchVar},
		{"moving mean μ̄", res.MovingMean}, {"moving var σ̄²", res.MovingVar}} {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t\n", row.name, row.v[0], row.v[1], row.v[2])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "row\tx₀\ttrain BN(x₀)\tinference BN(x₀)\tx₀ (probe 2)\ttrain BN (probe 2)\tinference BN (probe 2)\t\n")
	for i := range probe {
		fmt.Fprintf(tw, "%d\t%.3f\t%.4f\t%.4f\t%.3f\t%.4f\t%.4f\t\n", i, probe[i][0], res.TrainOut[i][0], res.InferOut[i][0],
			probe2[i][0], res2.TrainOut[i][0], res2.InferOut[i][0])
	}
	return tw.Flush()
}

// bnModesFigure draws, for feature 0, the output of each probe row in training and inference mode, for the
// original probe and for the probe whose last row was changed.
func bnModesFigure(probe, probe2 [][]float64, res, res2 regularize.BNModes) (*plots.Figure, error) {
	m := make([][]float64, len(probe))
	for i := range probe {
		m[i] = []float64{probe[i][0], res.TrainOut[i][0], res.InferOut[i][0], probe2[i][0], res2.TrainOut[i][0], res2.InferOut[i][0]}
	}
	rows := make([]string, len(probe))
	for i := range rows {
		rows[i] = fmt.Sprint("row ", i)
	}
	cols := []string{"x", "train", "infer", "x'", "train'", "infer'"}
	return plots.Heatmap("BN of feature 0: training vs inference mode (primed: last row changed)", m, rows, cols, true,
		plots.SizePixels(760, 360))
}

// BNFindings turns the §4.1 comparison into rows of notebook 02's closing table.
func BNFindings(c *BNComparison) []reproduce.Finding {
	last := len(c.Steps) - 1
	return []reproduce.Finding{
		{Item: fmt.Sprintf("test accuracy at step %d (Fig. 1a)", c.Steps[last]), Paper: "higher with BN",
			Ours: fmt.Sprintf("%.2f%% without BN, %.2f%% with BN", 100*c.AccNoBN[last], 100*c.AccBN[last])},
		{Item: "evaluations with BN ahead (Fig. 1a)", Paper: "every step",
			Ours: fmt.Sprintf("%d of %d", c.Ahead, len(c.Steps))},
		{Item: "probed sigmoid input without BN, first → last probe (Fig. 1b)", Paper: "mean and variance drift",
			Ours: c.Shift(false)},
		{Item: "probed sigmoid input with BN, first → last probe (Fig. 1c)", Paper: "much steadier", Ours: c.Shift(true)},
	}
}

// BNModesFindings turns BNModesDemo's outputs into rows of notebook 02's closing table.
func BNModesFindings(probe, probe2 [][]float64, res, res2 regularize.BNModes) []reproduce.Finding {
	dev := math.Max(BNModesDeviation(probe, res), BNModesDeviation(probe2, res2))
	return []reproduce.Finding{
		{Item: "GoMLX BN vs Alg. 1 (train) / Alg. 2 (inference) formulas", Paper: "equal",
			Ours: fmt.Sprintf("max difference %.1e", dev)},
		{Item: "row 0's output when another row of the batch changes", Paper: "changes in training mode only",
			Ours: fmt.Sprintf("train %.4f → %.4f; inference %.4f → %.4f", res.TrainOut[0][0], res2.TrainOut[0][0],
				res.InferOut[0][0], res2.InferOut[0][0])},
	}
}
