// Package regularization is notebook 02: batch normalization (Ioffe & Szegedy 2015) and inverted dropout. The
// layers live in gomlx_models/layers and gomlx_models/regularize, the network in gomlx_models/models; this
// package runs the BN paper's §4.1 MNIST experiment (Fig. 1) with seeds — test accuracy, and the drift of the
// inputs of all the last hidden layer's sigmoids in training mode —, shows BN's training and inference modes
// side by side, measures inverted dropout's expectation against GoMLX's dropout, and trains an over-fitting MLP
// with and without dropout over several seeds.
package regularization

import (
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/regularize"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Section lists notebook 02's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "02", Title: "Regularization and normalization: Batch Normalization and inverted Dropout",
		Experiments: []reproduce.Experiment{bnMnist(), bnInputDrift(), bnTrainVsInference(), dropoutInverted()}}
}

// bnMeasure says how both §4.1 experiments train (they share the study), from BNStudyConfig.
func bnMeasure() string {
	f, q := BNStudyConfig.Full, BNStudyConfig.Quick
	n := func(v int) string { return summary.Thousands(int64(v)) }
	testSet := func(c BNConfig) string {
		if c.TestN == 0 {
			return "the 10k test set"
		}
		return fmt.Sprintf("%dk test images", c.TestN/1000)
	}
	return fmt.Sprintf("784-100-100-100-10 sigmoid MLP, N(0, 0.1²) weights, batch %d, plain SGD η=%g, %s steps, without "+
		"and with BN, %s (each seed: the same initial weights' seed and data order for both networks); test accuracy "+
		"every %s steps on %s; every %s steps the inputs of all 100 last-layer sigmoids on %s test images in training "+
		"mode (quick: %s steps, %s, %s probe images, %s)", BNPaperBatchSize, f.LR, n(f.Steps), reproduce.Estimate{Seeds: f.Seeds}.SeedList(),
		n(f.EvalEvery), testSet(f), n(f.ProbeEvery), n(f.ProbeN), n(q.Steps), testSet(q), n(q.ProbeN), reproduce.Estimate{Seeds: q.Seeds}.SeedList())
}

// bnMnist is the experiment "bn-mnist" (Fig. 1a): with BN the sigmoid MLP is ahead in test accuracy at every
// evaluation.
func bnMnist() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "bn-mnist", Section: "02",
		Paper:      "Ioffe & Szegedy 2015, Batch Normalization, §4.1 and Fig. 1(a)",
		Claim:      "with BN the 3×100 sigmoid MLP trains faster and reaches higher test accuracy: ahead at every step",
		PaperValue: "BN ahead at every step of 50,000 (Fig. 1a; no number printed)",
		Measure: bnMeasure() + fmt.Sprintf("; the claim is judged on BN's smallest lead in test accuracy over the %d evaluations, per seed",
			BNStudyConfig.Full.Steps/BNStudyConfig.Full.EvalEvery),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			s, err := BNStudy(env, BNStudyConfig.For(env.Profile))
			if err != nil {
				return nil, err
			}
			return BNAheadResult(env, s)
		},
	}
}

// bnInputDrift is the experiment "bn-input-drift" (Fig. 1b, c): with BN the inputs of the last hidden layer's
// sigmoids move less over training.
func bnInputDrift() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "bn-input-drift", Section: "02",
		Paper:      "Ioffe & Szegedy 2015, §4.1 and Fig. 1(b, c)",
		Claim:      "with BN the distribution of a sigmoid's input is much more stable over training (less internal covariate shift)",
		PaperValue: "15th/50th/85th percentiles drift without BN (Fig. 1b), steady with BN (Fig. 1c); no number printed",
		Measure: bnMeasure() + fmt.Sprintf("; drift of each unit = mean |Δ| of its 15th/50th/85th percentiles from step %s (quick: %d) "+
			"to the end, averaged over the 100 units; judged on the ratio without/with BN, paired by seed",
			summary.Thousands(int64(BNStudyConfig.Full.EarlyStep)), BNStudyConfig.Quick.EarlyStep),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			s, err := BNStudy(env, BNStudyConfig.For(env.Profile))
			if err != nil {
				return nil, err
			}
			return BNDriftResult(env, s)
		},
	}
}

// bnTrainVsInference is the experiment "bn-train-vs-inference": training mode normalizes with the batch's
// statistics, inference with moving averages (a fixed affine map per unit).
func bnTrainVsInference() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "bn-train-vs-inference", Section: "02",
		Paper:      "Ioffe & Szegedy 2015, Alg. 1 (training) and Alg. 2 (inference)",
		Claim:      "training mode normalizes with the batch's statistics, inference with moving averages (a fixed affine map per unit)",
		PaperValue: "BN(x) = (x − μ)/√(σ² + ε) with μ, σ² from the batch (train) or the population estimate (inference)",
		Measure:    "GoMLX norm.BatchNorm after 300 synthetic batches, both modes on a probe batch, vs the formulas in plain Go (largest difference)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			probe, probe2, res, res2, err := BNModesDemo(env.Backend)
			if err != nil {
				return nil, err
			}
			return BNModesResult(env, probe, probe2, res, res2)
		},
	}
}

// dropoutInverted is the experiment "dropout-inverted": inverted dropout keeps the expectation (E[out] = x) and
// reduces over-fitting: a smaller train–test gap.
func dropoutInverted() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "dropout-inverted", Section: "02",
		Paper:      "Srivastava et al. 2014, Dropout, JMLR §6.1; the notes' inverted dropout (keep_prob 0.8)",
		Claim:      "inverted dropout keeps the expectation (E[out] = x) and reduces over-fitting: a smaller train–test gap",
		PaperValue: "E[out]/x = 1 with 80% of units kept; smaller generalization gap with dropout (no number for this set-up)",
		Measure:    "our InvertedDropout vs GoMLX's Dropout on 200k values; 784-256-256-10 ReLU MLP on 1,000 MNIST images (over-fit regime: 75 epochs, training accuracy 100% without dropout), Adam, 1,500 steps of 50, without dropout and with keep 0.8 on inputs and hidden units, seeds 1–5 (each: same initial weights' seed and data order for both); gaps averaged over the last quarter of evaluations; judged on the per-seed difference of the gaps (quick: 500 images, 300 steps, seed 1)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			stats, err := DropoutExpectation(env.Backend, regularize.DefaultKeepProb, 1, 200_000)
			if err != nil {
				return nil, err
			}
			runs, err := DropoutStudy(env, DropoutStudyConfig.For(env.Profile))
			if err != nil {
				return nil, err
			}
			figs, err := DropoutFigures(runs)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, figs, DropoutFigureNames...)
			if err != nil {
				return nil, err
			}
			rows, err := DropoutSummary(runs)
			if err != nil {
				return nil, err
			}
			return DropoutResult(env, stats, rows, paths)
		},
	}
}
