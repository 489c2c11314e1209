package regularization

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// BNConfig sizes the BN paper's §4.1 experiment.
type BNConfig struct {
	// Steps of batch BNPaperBatchSize (§4.1: 50,000).
	Steps int
	// EvalEvery evaluates test accuracy every so many steps; ProbeEvery records the inputs of the last hidden
	// layer's sigmoids.
	EvalEvery, ProbeEvery int
	// EarlyStep is the probe step the drift of the sigmoid inputs is measured from (to the last step); a
	// multiple of ProbeEvery.
	EarlyStep int
	// TestN test images are used for accuracy (0: all 10,000); the first ProbeN of them are the probe batch.
	TestN, ProbeN int
	// LR is the learning rate of plain SGD (the paper does not give its optimizer settings for §4.1).
	LR float64
	// Seeds are the runs: each seed trains both networks with the same initial weights' seed and data order.
	Seeds []int64
	// Net is the network; the zero value means models.BNPaperMLP. Batch normalization is switched on and off
	// by the study.
	Net models.MLPConfig
}

// BNStudyConfig is the §4.1 experiment's size per profile: the full (and paper) profile is the paper's 50,000
// steps of batch 60, three seeds.
var BNStudyConfig = train.ByProfile[BNConfig]{
	Quick: BNConfig{Steps: 500, EvalEvery: 50, ProbeEvery: 50, EarlyStep: 100, TestN: 1000, ProbeN: 500, LR: BNStudyLR,
		Seeds: []int64{1}},
	Full: BNConfig{Steps: BNPaperSteps, EvalEvery: 1000, ProbeEvery: 1000, EarlyStep: 2000, TestN: 0, ProbeN: 1000,
		LR: BNStudyLR, Seeds: []int64{1, 2, 3}},
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
// BN (one full run: 97.72% vs 97.80% test accuracy after 50,000 steps, BN ahead at 43 of 50 evaluations),
// unlike Fig. 1(a), whose gap suggests a more conservative step such as this one.
const BNStudyLR = 0.05

// BNRun is one network of one seed of the §4.1 experiment: its training run and the 15th/50th/85th percentiles
// of the input of every sigmoid of the last hidden layer over the probe batch, in training mode, at each probe
// step.
type BNRun struct {
	Label     string
	BatchNorm bool
	Seed      int64
	Run       *train.Run
	// ProbeSteps are the steps at which Percentiles were measured.
	ProbeSteps []int
	// Percentiles[i][u] are BNPaperPercentiles of unit u's input at ProbeSteps[i].
	Percentiles [][][]float64
}

// BNStudyResult is the §4.1 experiment: the runs, without then with BN for each seed in turn.
type BNStudyResult struct {
	Config BNConfig
	Runs   []*BNRun

	figMu sync.Mutex
	saved map[string][]string // saved figures' paths by output folder
}

// savedFigures draws BNFigures and saves them in env's output folder once for both rows of the study, returning
// their paths in the order of BNFigureNames.
func (s *BNStudyResult) savedFigures(env *reproduce.Env, cs []BNSeed) ([]string, error) {
	s.figMu.Lock()
	defer s.figMu.Unlock()
	if paths, ok := s.saved[env.OutDir]; ok {
		return paths, nil
	}
	figs, err := BNFigures(s, cs)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, figs, BNFigureNames...)
	if err != nil {
		return nil, err
	}
	if s.saved == nil {
		s.saved = map[string][]string{}
	}
	s.saved[env.OutDir] = paths
	return paths, nil
}

var (
	bnMu    sync.Mutex
	bnCache = map[string]*BNStudyResult{}
)

// BNStudy trains the §4.1 network (cfg.Net, by default models.BNPaperMLP: 3 hidden layers of 100 sigmoid units,
// batch 60) on the MNIST training set without and with batch normalization, for every seed of cfg, with plain
// SGD (our optim.SGD); both networks of a seed share the initial weights' seed and the data order. It records
// test accuracy against steps (Fig. 1a) and, every cfg.ProbeEvery steps, the percentiles of the inputs of all
// the last hidden layer's sigmoids on the probe batch (Fig. 1b, c), computed by [SigmoidInputs] in training
// mode — the distribution the next layer sees while it trains. The result is kept for the process, so the two
// experiments that read it train once.
func BNStudy(env *reproduce.Env, cfg BNConfig) (*BNStudyResult, error) {
	if cfg.Steps < 1 || cfg.EvalEvery < 1 || cfg.ProbeEvery < 1 || cfg.ProbeN < 2 || !(cfg.LR > 0) || len(cfg.Seeds) == 0 ||
		cfg.EarlyStep < cfg.ProbeEvery || cfg.EarlyStep%cfg.ProbeEvery != 0 || cfg.EarlyStep >= cfg.Steps {
		return nil, fmt.Errorf("BN study: invalid configuration %+v", cfg)
	}
	net := cfg.Net
	if net.Classes == 0 {
		net = models.BNPaperMLP
	}
	key := fmt.Sprintf("%s|%+v|%+v", env.Backend.Name(), cfg, net)
	bnMu.Lock()
	defer bnMu.Unlock()
	if r, ok := bnCache[key]; ok {
		return r, nil
	}
	probeIm, err := data.MNIST(data.Test)
	if err != nil {
		return nil, fmt.Errorf("BN study: %w", err)
	}
	probeIm = probeIm.Subset(cfg.ProbeN)
	res := &BNStudyResult{Config: cfg}
	for _, seed := range cfg.Seeds {
		for _, bn := range []bool{false, true} {
			r := &BNRun{Label: "without BN", BatchNorm: bn, Seed: seed}
			if bn {
				r.Label = "with BN"
			}
			n := net.WithBatchNorm(bn)
			c := train.Classification{Name: fmt.Sprintf("bn-mnist %s, seed %d", r.Label, seed), Model: models.MLP(n),
				Flatten: true, TestN: cfg.TestN, BatchSize: BNPaperBatchSize, Steps: cfg.Steps, EvalEvery: cfg.EvalEvery,
				LogEvery: max(1, cfg.Steps/500), Optimizer: optim.NewSGD(cfg.LR), Seed: seed,
				OnStep: func(run *train.Run, rec train.StepRecord) error {
					if rec.Step%cfg.ProbeEvery != 0 {
						return nil
					}
					in, err := SigmoidInputs(run.Store, n, probeIm)
					if err != nil {
						return err
					}
					r.ProbeSteps = append(r.ProbeSteps, rec.Step)
					r.Percentiles = append(r.Percentiles, UnitPercentiles(in))
					return nil
				}}
			f, err := c.Fit(env.Backend, env.Progress)
			if err != nil {
				return nil, fmt.Errorf("BN study, %s, seed %d: %w", r.Label, seed, err)
			}
			r.Run = f.Run
			res.Runs = append(res.Runs, r)
		}
	}
	bnCache[key] = res
	return res, nil
}

// SigmoidInputs computes, in plain Go, the input of every unit of net's last hidden layer for the n images of
// im, with the weights in store, in training mode: layer by layer u = W·h (+ b without BN); with BN each unit
// is normalized with the mean and (1/n) variance of u over the n images, x̂ = (u − μ_B)/√(σ²_B + ε), and
// scaled, γ·x̂ + β (Alg. 1); h = s(·) feeds the next layer. It returns one row per unit of n values. The
// variables are read by path ("/hidden_<i>/dense/weights", "…/batch_normalization/scale"), and nothing in the
// store changes: unlike the graph in training mode, the moving averages are not updated.
func SigmoidInputs(store *model.Store, net models.MLPConfig, im *data.Images) ([][]float64, error) {
	if len(net.Hidden) == 0 {
		return nil, errors.New("sigmoid inputs: the network has no hidden layer")
	}
	act := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	switch net.Activation {
	case activation.TypeSigmoid:
	case activation.TypeRelu:
		act = func(v float64) float64 { return math.Max(v, 0) }
	default:
		return nil, fmt.Errorf("sigmoid inputs: activation %s is not supported", net.Activation)
	}
	n, d := im.N, im.ImageSize()
	h := make([]float64, n*d)
	for i, v := range im.Pixels[:n*d] {
		h[i] = float64(v)
	}
	for layer, width := range net.Hidden {
		prefix := fmt.Sprintf("/hidden_%d/", layer)
		w, err := train.VariableValues(store, prefix+"dense/weights")
		if err != nil {
			return nil, fmt.Errorf("sigmoid inputs: %w", err)
		}
		if len(w) != d*width {
			return nil, fmt.Errorf("sigmoid inputs: layer %d has %d weights, want %d×%d", layer, len(w), d, width)
		}
		u := make([]float64, n*width)
		for i := range n {
			row, out := h[i*d:(i+1)*d], u[i*width:(i+1)*width]
			for k, x := range row {
				if x == 0 {
					continue
				}
				for j, wkj := range w[k*width : (k+1)*width] {
					out[j] += x * wkj
				}
			}
		}
		if net.BatchNorm {
			gamma, err1 := train.VariableValues(store, prefix+"batch_normalization/scale")
			beta, err2 := train.VariableValues(store, prefix+"batch_normalization/offset")
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("sigmoid inputs: %w", err)
			}
			for j := range width {
				var mu, v float64
				for i := range n {
					mu += u[i*width+j]
				}
				mu /= float64(n)
				for i := range n {
					v += (u[i*width+j] - mu) * (u[i*width+j] - mu)
				}
				inv := 1 / math.Sqrt(v/float64(n)+layers.BNEpsilon)
				for i := range n {
					u[i*width+j] = gamma[j]*(u[i*width+j]-mu)*inv + beta[j]
				}
			}
		} else {
			b, err := train.VariableValues(store, prefix+"dense/biases")
			if err != nil {
				return nil, fmt.Errorf("sigmoid inputs: %w", err)
			}
			for i := range n {
				for j := range width {
					u[i*width+j] += b[j]
				}
			}
		}
		if layer == len(net.Hidden)-1 {
			units := make([][]float64, width)
			for j := range units {
				units[j] = make([]float64, n)
				for i := range n {
					units[j][i] = u[i*width+j]
				}
			}
			return units, nil
		}
		for i := range u {
			u[i] = act(u[i])
		}
		h, d = u, width
	}
	return nil, errors.New("sigmoid inputs: unreachable")
}

// UnitPercentiles returns BNPaperPercentiles of each unit's values.
func UnitPercentiles(units [][]float64) [][]float64 {
	out := make([][]float64, len(units))
	for j, v := range units {
		out[j] = plots.Percentiles(v, BNPaperPercentiles...)
	}
	return out
}

// UnitDrift is, for each unit, how far its input distribution moved between two probes: the mean over the
// 15th, 50th and 85th percentiles of |p_to − p_from|, in the units of the sigmoid's input (what decides how
// far into the sigmoid's flat tails it moves).
func UnitDrift(from, to [][]float64) []float64 {
	out := make([]float64, len(from))
	for j := range from {
		for p := range from[j] {
			out[j] += math.Abs(to[j][p]-from[j][p]) / float64(len(from[j]))
		}
	}
	return out
}

// probeAt returns the percentiles of r at step, or an error if r was not probed there.
func (r *BNRun) probeAt(step int) ([][]float64, error) {
	i := slices.Index(r.ProbeSteps, step)
	if i < 0 {
		return nil, fmt.Errorf("BN study: %s, seed %d was not probed at step %d", r.Label, r.Seed, step)
	}
	return r.Percentiles[i], nil
}

// BNSeed compares the two networks of one seed.
type BNSeed struct {
	Seed int64
	// Steps are the evaluation steps; AccNoBN and AccBN the test accuracies there.
	Steps          []int
	AccNoBN, AccBN []float64
	// Ahead counts the evaluations at which the BN network is strictly more accurate; MinLead is the smallest
	// lead acc_BN − acc_noBN over the evaluations, in points.
	Ahead   int
	MinLead float64
	// DriftNoBN and DriftBN are the per-unit drifts ([UnitDrift]) from EarlyStep to the last probe; their means
	// over the units are MeanDriftNoBN and MeanDriftBN.
	DriftNoBN, DriftBN         []float64
	MeanDriftNoBN, MeanDriftBN float64
	// SmallerWithBN counts the units whose drift is smaller in the BN network than the same unit's without
	// (units of two networks are not the same features: it is a count over the unit index, for the record).
	SmallerWithBN int
	// FromSteps are all the probe steps before the last; FromNoBN[i] and FromBN[i] the mean drift over the units
	// from FromSteps[i] to the last probe: how the measure depends on the step it starts from.
	FromSteps        []int
	FromNoBN, FromBN []float64
}

// Compare pairs the two networks of every seed: accuracies at equal steps and the sigmoid inputs' drift from
// cfg.EarlyStep to the last probe.
func (s *BNStudyResult) Compare() ([]BNSeed, error) {
	var out []BNSeed
	for i := 0; i+1 < len(s.Runs); i += 2 {
		a, b := s.Runs[i], s.Runs[i+1]
		if a.BatchNorm || !b.BatchNorm || a.Seed != b.Seed {
			return nil, errors.New("BN comparison: runs must come as (without BN, with BN) of one seed")
		}
		c := BNSeed{Seed: a.Seed, MinLead: math.Inf(1)}
		byStep := map[int]float64{}
		for _, e := range b.Run.History.Evals {
			if e.Set == "test" {
				byStep[e.Step] = e.Accuracy
			}
		}
		for _, e := range a.Run.History.Evals {
			acc, ok := byStep[e.Step]
			if e.Set != "test" || !ok {
				continue
			}
			c.Steps = append(c.Steps, e.Step)
			c.AccNoBN, c.AccBN = append(c.AccNoBN, e.Accuracy), append(c.AccBN, acc)
			if acc > e.Accuracy {
				c.Ahead++
			}
			c.MinLead = math.Min(c.MinLead, 100*(acc-e.Accuracy))
		}
		if len(c.Steps) == 0 {
			return nil, fmt.Errorf("BN comparison, seed %d: the runs share no evaluation step", c.Seed)
		}
		for _, r := range []*BNRun{a, b} {
			early, err := r.probeAt(s.Config.EarlyStep)
			if err != nil {
				return nil, err
			}
			if len(r.Percentiles) == 0 {
				return nil, fmt.Errorf("BN comparison: %s, seed %d has no probe", r.Label, r.Seed)
			}
			last := r.Percentiles[len(r.Percentiles)-1]
			drift := UnitDrift(early, last)
			var from []float64
			for _, p := range r.Percentiles[:len(r.Percentiles)-1] {
				from = append(from, mean(UnitDrift(p, last)))
			}
			if r.BatchNorm {
				c.DriftBN, c.MeanDriftBN, c.FromBN = drift, mean(drift), from
			} else {
				c.DriftNoBN, c.MeanDriftNoBN, c.FromNoBN = drift, mean(drift), from
				c.FromSteps = r.ProbeSteps[:len(r.ProbeSteps)-1]
			}
		}
		for j := range c.DriftBN {
			if j < len(c.DriftNoBN) && c.DriftBN[j] < c.DriftNoBN[j] {
				c.SmallerWithBN++
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("BN comparison: no run")
	}
	return out, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// seeded returns the estimate over the seeds of f(seed comparison).
func seeded(cs []BNSeed, f func(BNSeed) float64) (reproduce.Estimate, error) {
	seeds, vals := make([]int64, len(cs)), make([]float64, len(cs))
	for i, c := range cs {
		seeds[i], vals[i] = c.Seed, f(c)
	}
	return reproduce.Seeded(seeds, vals)
}

// BNAheadResult is the row of "bn-mnist" (Fig. 1a): BN's smallest lead in test accuracy over all evaluations,
// per seed, must be positive ("BN ahead at every step"); the final accuracies of both networks are reported
// with it.
func BNAheadResult(env *reproduce.Env, s *BNStudyResult) (*reproduce.Result, error) {
	cs, err := s.Compare()
	if err != nil {
		return nil, err
	}
	lead, err1 := seeded(cs, func(c BNSeed) float64 { return c.MinLead })
	accNo, err2 := seeded(cs, func(c BNSeed) float64 { return 100 * c.AccNoBN[len(c.AccNoBN)-1] })
	accBN, err3 := seeded(cs, func(c BNSeed) float64 { return 100 * c.AccBN[len(c.AccBN)-1] })
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	final, err := reproduce.PairedDifference(accBN, accNo)
	if err != nil {
		return nil, err
	}
	j := env.Judge(reproduce.Above(0).In(" points (smallest lead of BN over the evaluations)"), lead)
	var ahead []string
	for _, c := range cs {
		ahead = append(ahead, fmt.Sprintf("%d/%d", c.Ahead, len(c.Steps)))
	}
	last := cs[0].Steps[len(cs[0].Steps)-1]
	paths, err := s.savedFigures(env, cs)
	if err != nil {
		return nil, err
	}
	notes := fmt.Sprintf("BN ahead at %s evaluations (per seed); final difference %s points, %s; each network %.0f s of training per seed.",
		strings.Join(ahead, ", "), final.MeanSD(2, ""), final.CI(2), meanSeconds(s.Runs))
	if env.Quick {
		notes += " Quick profile: 500 steps, one seed (indicative)."
	}
	return &reproduce.Result{
		Ours: fmt.Sprintf("smallest lead of BN over %d evaluations %s points, %s; test accuracy at step %d: %s without BN, %s with BN; %s",
			len(cs[0].Steps), lead.MeanSD(2, ""), lead.CI(2), last, accNo.MeanSD(2, "%"), accBN.MeanSD(2, "%"), lead.SeedList()),
		Value: lead.Mean, Judgement: j, Notes: notes, Figures: paths[:1]}, nil
}

// BNDriftResult is the row of "bn-input-drift" (Fig. 1b, c): how far the inputs of the 100 last-layer
// sigmoids moved from cfg.EarlyStep to the end, without BN over with BN (the ratio of the mean drifts, paired by
// seed), must exceed 1 for BN's "more stable" input distribution.
func BNDriftResult(env *reproduce.Env, s *BNStudyResult) (*reproduce.Result, error) {
	cs, err := s.Compare()
	if err != nil {
		return nil, err
	}
	no, err1 := seeded(cs, func(c BNSeed) float64 { return c.MeanDriftNoBN })
	bn, err2 := seeded(cs, func(c BNSeed) float64 { return c.MeanDriftBN })
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	ratio, err := reproduce.PairedRatio(no, bn)
	if err != nil {
		return nil, err
	}
	j := env.Judge(reproduce.Above(1).In("× (drift without BN / with BN)"), ratio)
	paths, err := s.savedFigures(env, cs)
	if err != nil {
		return nil, err
	}
	var smaller []string
	for _, c := range cs {
		smaller = append(smaller, fmt.Sprintf("%d", c.SmallerWithBN))
	}
	last := s.Runs[0].ProbeSteps[len(s.Runs[0].ProbeSteps)-1]
	// The same measure from later starting steps, for the record (figure bn_drift_from_step).
	var later []string
	for _, k := range []int{len(cs[0].FromSteps) / 5, len(cs[0].FromSteps) / 2} {
		if k <= 0 || k >= len(cs[0].FromSteps) || cs[0].FromSteps[k] <= s.Config.EarlyStep {
			continue
		}
		var a, b float64
		for _, c := range cs {
			a, b = a+c.FromNoBN[k]/float64(len(cs)), b+c.FromBN[k]/float64(len(cs))
		}
		later = append(later, fmt.Sprintf("from step %d: %.3f without, %.3f with BN", cs[0].FromSteps[k], a, b))
	}
	notes := fmt.Sprintf("drift = mean over the 15th/50th/85th percentiles of |p(step %d) − p(step %d)| of each unit's input on %d test images, in training mode (batch statistics); units with the smaller drift under BN (same index): %s of %d per seed; the same mean drift %s.",
		last, s.Config.EarlyStep, s.Config.ProbeN, strings.Join(smaller, ", "), len(cs[0].DriftBN), strings.Join(later, "; "))
	if env.Quick {
		notes += " Quick profile: 500 steps, one seed (indicative)."
	}
	return &reproduce.Result{
		Ours: fmt.Sprintf("drift of the %d last-layer sigmoid inputs, step %d → %d: %s without BN, %s with BN; ratio %.2f, %s; %s",
			len(cs[0].DriftBN), s.Config.EarlyStep, last, no.MeanSD(3, ""), bn.MeanSD(3, ""), ratio.Mean, ratio.CI(2), ratio.SeedList()),
		Value: ratio.Mean, Judgement: j, Notes: notes, Figures: paths[1:]}, nil
}

func meanSeconds(runs []*BNRun) float64 {
	s := 0.0
	for _, r := range runs {
		s += r.Run.Seconds
	}
	return s / float64(max(1, len(runs)))
}

// BNFigureNames are the file names (without .png) of BNFigures' figures, in order.
var BNFigureNames = []string{"bn_fig1a_accuracy", "bn_fig1b_without", "bn_fig1c_with", "bn_drift_per_unit", "bn_drift_from_step"}

// BNFigures draws Fig. 1 of the BN paper from the study: (a) test accuracy against steps for both networks
// (mean over the seeds, with the range of the seeds shaded), (b, c) the 15th, 50th and 85th percentiles of the
// input of one last-layer sigmoid (unit 0, first seed) over training, without and with BN, on the same scale,
// the drift of every unit from the early step to the end, sorted, for both networks and every seed, and the
// mean drift to the end from every probe step (mean over the seeds): the claim does not rest on one choice of
// the early step.
func BNFigures(s *BNStudyResult, cs []BNSeed) ([]*plots.Figure, error) {
	if len(cs) == 0 || len(s.Runs) < 2 {
		return nil, errors.New("BN figures: no runs")
	}
	var bands []plots.Band
	for k, name := range []string{"without BN", "with BN"} {
		b := plots.Band{Name: name + fmt.Sprintf(" (mean of %d seeds, range shaded)", len(cs))}
		for i, step := range cs[0].Steps {
			lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
			for _, c := range cs {
				acc := c.AccNoBN
				if k == 1 {
					acc = c.AccBN
				}
				if i >= len(acc) {
					return nil, errors.New("BN figures: the seeds have different evaluation steps")
				}
				lo, hi, sum = math.Min(lo, acc[i]), math.Max(hi, acc[i]), sum+acc[i]
			}
			b.X, b.Lower, b.Mid, b.Upper = append(b.X, float64(step)), append(b.Lower, lo), append(b.Mid, sum/float64(len(cs))), append(b.Upper, hi)
		}
		bands = append(bands, b)
	}
	accuracy, err := plots.MultiBands("(a) test accuracy, 3×100 sigmoid MLP, batch 60", "training step", "test accuracy",
		bands, plots.LegendBottom())
	if err != nil {
		return nil, err
	}
	// The same y range for (b) and (c) so the drift is comparable.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range s.Runs[:2] {
		for _, p := range r.Percentiles {
			lo, hi = math.Min(lo, p[0][0]), math.Max(hi, p[0][2])
		}
	}
	pad := 0.05 * (hi - lo)
	figs := []*plots.Figure{accuracy}
	for i, r := range s.Runs[:2] {
		n := len(r.Percentiles)
		x, lower, mid, upper := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for j, p := range r.Percentiles {
			x[j], lower[j], mid[j], upper[j] = float64(r.ProbeSteps[j]), p[0][0], p[0][1], p[0][2]
		}
		title := fmt.Sprintf("(%c) input of one last-layer sigmoid (unit 0, seed %d), %s", 'b'+i, r.Seed, r.Label)
		f, err := plots.Bands(title, "training step", "sigmoid input (training mode)", x, lower, mid, upper,
			"median, 15th–85th percentile band", plots.YRange(lo-pad, hi+pad), plots.LegendBottom())
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	var series []plots.Series
	for _, c := range cs {
		for _, d := range []struct {
			name  string
			drift []float64
		}{{"without BN", c.DriftNoBN}, {"with BN", c.DriftBN}} {
			v := slices.Clone(d.drift)
			slices.Sort(v)
			series = append(series, plots.Series{Name: fmt.Sprintf("%s, seed %d", d.name, c.Seed), Y: v})
		}
	}
	drift, err := plots.Curves(fmt.Sprintf("drift of each last-layer sigmoid input, step %d → end (sorted)", s.Config.EarlyStep),
		"unit (sorted by drift)", "mean |Δ percentile| (15th, 50th, 85th)", series, plots.LegendLeft())
	if err != nil {
		return nil, err
	}
	var from []plots.Series
	for k, name := range []string{"without BN", "with BN"} {
		ser := plots.Series{Name: fmt.Sprintf("%s (mean of %d seeds)", name, len(cs)), Points: true}
		for i, step := range cs[0].FromSteps {
			sum := 0.0
			for _, c := range cs {
				v := c.FromNoBN
				if k == 1 {
					v = c.FromBN
				}
				if i >= len(v) {
					return nil, errors.New("BN figures: the seeds have different probe steps")
				}
				sum += v[i]
			}
			ser.X, ser.Y = append(ser.X, float64(step)), append(ser.Y, sum/float64(len(cs)))
		}
		from = append(from, ser)
	}
	fromFig, err := plots.Curves("mean drift of the 100 sigmoid inputs from a step to the end", "from step",
		"mean |Δ percentile| to the last probe", from, plots.LegendLeft())
	if err != nil {
		return nil, err
	}
	return append(figs, drift, fromFig), nil
}

// BNTable is the table a notebook shows: per seed, the final test accuracies, BN's smallest lead, the
// evaluations with BN ahead and the mean drift of the sigmoid inputs.
func BNTable(cs []BNSeed) [][]string {
	rows := [][]string{{"seed", "test acc without BN", "test acc with BN", "smallest lead (points)", "BN ahead",
		"mean drift without BN", "mean drift with BN"}}
	for _, c := range cs {
		n := len(c.Steps)
		rows = append(rows, []string{fmt.Sprint(c.Seed), fmt.Sprintf("%.2f%%", 100*c.AccNoBN[n-1]),
			fmt.Sprintf("%.2f%%", 100*c.AccBN[n-1]), fmt.Sprintf("%.2f", c.MinLead), fmt.Sprintf("%d/%d", c.Ahead, n),
			fmt.Sprintf("%.3f", c.MeanDriftNoBN), fmt.Sprintf("%.3f", c.MeanDriftBN)})
	}
	return rows
}
