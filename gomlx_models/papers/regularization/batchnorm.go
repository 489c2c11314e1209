package regularization

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convnotes/convnotes/gomlx_models/regularize"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/plots"
	"github.com/gomlx/compute"
)

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

// BNModesTables are the statistics and the outputs of both modes for feature 0 of each probe row, for the two
// probes of BNModesDemo, as two tables (header first).
func BNModesTables(probe, probe2 [][]float64, res, res2 regularize.BNModes) (stats, outputs [][]string) {
	stats = [][]string{{"statistic (per feature)", "feature 0", "feature 1", "feature 2"}}
	for _, row := range []struct {
		name string
		v    []float64
	}{{"probe batch mean μ_B", res.BatchMean}, {"probe batch var σ²_B", res.BatchVar},
		{"moving mean μ̄", res.MovingMean}, {"moving var σ̄²", res.MovingVar}} {
		stats = append(stats, []string{row.name, fmt.Sprintf("%.4f", row.v[0]), fmt.Sprintf("%.4f", row.v[1]), fmt.Sprintf("%.4f", row.v[2])})
	}
	outputs = [][]string{{"row", "x₀", "train BN(x₀)", "inference BN(x₀)", "x₀ (probe 2)", "train BN (probe 2)", "inference BN (probe 2)"}}
	for i := range probe {
		outputs = append(outputs, []string{fmt.Sprint(i), fmt.Sprintf("%.3f", probe[i][0]), fmt.Sprintf("%.4f", res.TrainOut[i][0]),
			fmt.Sprintf("%.4f", res.InferOut[i][0]), fmt.Sprintf("%.3f", probe2[i][0]), fmt.Sprintf("%.4f", res2.TrainOut[i][0]),
			fmt.Sprintf("%.4f", res2.InferOut[i][0])})
	}
	return stats, outputs
}

// BNModesResult is the row of "bn-train-vs-inference": GoMLX's BN against the formulas of Alg. 1 and 2 on both
// probes (largest difference within 1e-5), with the figure of feature 0.
func BNModesResult(env *reproduce.Env, probe, probe2 [][]float64, res, res2 regularize.BNModes) (*reproduce.Result, error) {
	dev := math.Max(BNModesDeviation(probe, res), BNModesDeviation(probe2, res2))
	fig, err := bnModesFigure(probe, probe2, res, res2)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "bn_modes")
	if err != nil {
		return nil, err
	}
	return &reproduce.Result{Ours: fmt.Sprintf("max |GoMLX − formula| = %.1e", dev), Value: dev,
		Judgement: env.Judge(reproduce.Holds(1e-5), reproduce.Exact(dev)),
		Notes: fmt.Sprintf("changing one row of the probe batch moved row 0's training-mode output from %.4f to %.4f; its inference-mode output stayed %.4f.",
			res.TrainOut[0][0], res2.TrainOut[0][0], res2.InferOut[0][0]),
		Figures: paths}, nil
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
