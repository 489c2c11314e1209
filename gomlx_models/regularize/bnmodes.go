package regularize

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
)

// BNModes is a numerical demonstration of batch normalization's two modes (Ioffe & Szegedy
// 2015, Alg. 1 and Alg. 2) on one layer of features, with γ = 1 and β = 0:
//
//	training:  BN(x) = (x − μ_B) / √(σ²_B + ε)       (statistics of the current batch)
//	inference: BN(x) = (x − μ̄)  / √(σ̄² + ε)         (moving averages from training)
//
// Everything is measured from GoMLX's norm.BatchNorm, not recomputed.
type BNModes struct {
	// Epsilon is the ε used (GoMLX's default, 1e-3).
	Epsilon float64
	// Momentum is the moving-average momentum used.
	Momentum float64
	// BatchMean and BatchVar are μ_B and σ²_B of the probe batch (σ² is the biased, 1/m,
	// variance, as GoMLX and Alg. 1 use for normalizing).
	BatchMean, BatchVar []float64
	// MovingMean and MovingVar are the moving averages μ̄, σ̄² after the training batches.
	MovingMean, MovingVar []float64
	// TrainOut is BN(probe) in training mode; InferOut in inference mode.
	TrainOut, InferOut [][]float64
}

// CompareBNModes runs GoMLX's batch normalization (feature axis last, γ=1, β=0 at their
// initial values, given momentum) in training mode over trainBatches — which updates its
// moving averages — then normalizes probe in inference mode and in training mode, and
// returns the statistics and both outputs. Every batch is [m][features] with m >= 2.
//
// GoMLX's moving averages are debiased: after t batches, μ̄ ← d·μ̄ + (1−d)·μ_B with
// d = min(momentum, 1 − 1/t), so the first batch sets them outright.
func CompareBNModes(backend compute.Backend, trainBatches [][][]float64, probe [][]float64, momentum float64) (res BNModes, err error) {
	if backend == nil {
		return BNModes{}, errors.New("regularize.CompareBNModes: nil backend")
	}
	if len(trainBatches) == 0 || !(momentum >= 0 && momentum < 1) {
		return BNModes{}, fmt.Errorf("regularize.CompareBNModes: need training batches and momentum in [0, 1), got %d batches, momentum %g",
			len(trainBatches), momentum)
	}
	all := make([][][]float64, 0, len(trainBatches)+1)
	all = append(append(all, trainBatches...), probe)
	features := -1
	for i, b := range all {
		if len(b) < 2 {
			return BNModes{}, fmt.Errorf("regularize.CompareBNModes: batch %d has %d rows, need >= 2", i, len(b))
		}
		for _, row := range b {
			if features == -1 {
				features = len(row)
			}
			if len(row) != features || features == 0 {
				return BNModes{}, fmt.Errorf("regularize.CompareBNModes: batch %d has a row of %d features, want %d (> 0)", i, len(row), features)
			}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("regularize.CompareBNModes: %v", r)
		}
	}()

	const epsilon = 1e-3 // GoMLX's default.
	store := model.NewStore()
	bnFn := func(training bool) func(scope *model.Scope, x *graph.Node) *graph.Node {
		return func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.Store().SetTraining(x.Graph(), training)
			return norm.BatchNorm(scope.In("bn"), x, -1).Momentum(momentum).Epsilon(epsilon).
				UseBackendInference(false).Done()
		}
	}
	trainExec, err := model.NewExec(backend, store, bnFn(true))
	if err != nil {
		return BNModes{}, fmt.Errorf("regularize.CompareBNModes: %w", err)
	}
	defer trainExec.Finalize()
	inferExec, err := model.NewExec(backend, store, bnFn(false))
	if err != nil {
		return BNModes{}, fmt.Errorf("regularize.CompareBNModes: %w", err)
	}
	defer inferExec.Finalize()

	run := func(exec *model.Exec, batch [][]float64) ([][]float64, error) {
		outs, err := exec.Call(tensors.FromValue(batch))
		if err != nil {
			return nil, err
		}
		defer outs[0].MustFinalizeAll()
		v, ok := outs[0].Value().([][]float64)
		if !ok {
			return nil, fmt.Errorf("unexpected output %s", outs[0].Shape())
		}
		return v, nil
	}
	for i, b := range trainBatches {
		if _, err := run(trainExec, b); err != nil {
			return BNModes{}, fmt.Errorf("regularize.CompareBNModes: training batch %d: %w", i, err)
		}
	}
	readVar := func(name string) ([]float64, error) {
		v := store.GetVariable("/bn/batch_normalization/" + name)
		if v == nil {
			return nil, fmt.Errorf("variable %q not found", name)
		}
		t, err := v.Value()
		if err != nil {
			return nil, err
		}
		return tensors.CopyFlatData[float64](t)
	}
	res = BNModes{Epsilon: epsilon, Momentum: momentum}
	if res.MovingMean, err = readVar("mean"); err != nil {
		return BNModes{}, fmt.Errorf("regularize.CompareBNModes: %w", err)
	}
	if res.MovingVar, err = readVar("variance"); err != nil {
		return BNModes{}, fmt.Errorf("regularize.CompareBNModes: %w", err)
	}
	// Inference first: the training-mode call below would fold the probe into the averages.
	if res.InferOut, err = run(inferExec, probe); err != nil {
		return BNModes{}, fmt.Errorf("regularize.CompareBNModes: inference: %w", err)
	}
	if res.TrainOut, err = run(trainExec, probe); err != nil {
		return BNModes{}, fmt.Errorf("regularize.CompareBNModes: training-mode probe: %w", err)
	}
	res.BatchMean, res.BatchVar = columnStats(probe)
	return res, nil
}

// columnStats returns the per-column mean and biased (1/m) variance of rows.
func columnStats(rows [][]float64) (mean, variance []float64) {
	n := float64(len(rows))
	mean = make([]float64, len(rows[0]))
	variance = make([]float64, len(rows[0]))
	for _, r := range rows {
		for j, v := range r {
			mean[j] += v / n
		}
	}
	for _, r := range rows {
		for j, v := range r {
			variance[j] += (v - mean[j]) * (v - mean[j]) / n
		}
	}
	return mean, variance
}

// Normalize applies (x − mean)/√(variance + eps) column-wise: the formula both BN modes use,
// with batch or moving statistics.
func Normalize(rows [][]float64, mean, variance []float64, eps float64) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			out[i][j] = (v - mean[j]) / math.Sqrt(variance[j]+eps)
		}
	}
	return out
}
