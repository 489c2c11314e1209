package nin

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gtrain "github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/plots"
)

// MaxoutFit is one maxout unit h(x) = max_{j<k} (w_j x + b_j) fitted to a convex function.
type MaxoutFit struct {
	Pieces int
	// RMSE is the root-mean-square error on the fitting grid after training.
	RMSE float64
	// X, Y are the fitting grid and the unit's output on it.
	X, Y []float64
}

// Convex is the function the maxout units approximate: x² on [−1, 1].
func Convex(x float64) float64 { return x * x }

// FitMaxout fits, for each number of pieces k, one layers.Maxout unit (1 input, k affine pieces, started as
// spread-out lines, see spreadPieces) to Convex on n grid points in [−1, 1] by full-batch Adam (lr 0.05, steps
// steps), and returns the fits.
func FitMaxout(backend compute.Backend, pieces []int, n, steps int) (fits []MaxoutFit, err error) {
	if backend == nil {
		return nil, errors.New("FitMaxout: nil backend")
	}
	if len(pieces) == 0 || n < 2 || steps < 1 {
		return nil, fmt.Errorf("FitMaxout: need pieces, n ≥ 2 and steps ≥ 1 (n=%d, steps=%d)", n, steps)
	}
	defer func() {
		if r := recover(); r != nil {
			fits, err = nil, fmt.Errorf("FitMaxout: %v", r)
		}
	}()
	xs := make([]float32, n)
	ys := make([]float32, n)
	grid := make([]float64, n)
	for i := range n {
		grid[i] = -1 + 2*float64(i)/float64(n-1)
		xs[i], ys[i] = float32(grid[i]), float32(Convex(grid[i]))
	}
	for _, k := range pieces {
		if k < 1 {
			return nil, fmt.Errorf("FitMaxout: %d pieces", k)
		}
		fn := func(scope *model.Scope, x *graph.Node) *graph.Node {
			return layers.Maxout(scope.In("maxout"), x, 1, k)
		}
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(10+k))
		if err := spreadPieces(backend, store, fn, xs, k); err != nil {
			return nil, fmt.Errorf("FitMaxout k=%d: %w", k, err)
		}
		trainer := gtrain.NewTrainer(backend, store, fn, loss.MeanSquaredError,
			optimizer.Adam().LearningRate(0.05).Done(), nil, nil)
		for range steps {
			batch := gtrain.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(xs, n, 1)},
				Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(ys, n, 1)}}
			metrics, err := trainer.TrainStep(batch)
			if err != nil {
				return nil, fmt.Errorf("FitMaxout k=%d: %w", k, err)
			}
			for _, m := range metrics {
				m.MustFinalizeAll()
			}
		}
		e, err := model.NewExec(backend, store, fn)
		if err != nil {
			return nil, fmt.Errorf("FitMaxout k=%d: %w", k, err)
		}
		outs, err := e.Exec(tensors.FromFlatDataAndDimensions(xs, n, 1))
		e.Finalize()
		if err != nil {
			return nil, fmt.Errorf("FitMaxout k=%d: %w", k, err)
		}
		vals, err := tensors.CopyFlatData[float32](outs[0])
		outs[0].MustFinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("FitMaxout k=%d: %w", k, err)
		}
		f := MaxoutFit{Pieces: k, X: grid, Y: make([]float64, n)}
		var se float64
		for i, v := range vals {
			f.Y[i] = float64(v)
			se += (f.Y[i] - Convex(grid[i])) * (f.Y[i] - Convex(grid[i]))
		}
		f.RMSE = math.Sqrt(se / float64(n))
		fits = append(fits, f)
	}
	return fits, nil
}

// MaxoutFigures draws the fits over the target and the error against the number of pieces.
func MaxoutFigures(fits []MaxoutFit) (curves, errs *plots.Figure, err error) {
	if len(fits) == 0 {
		return nil, nil, errors.New("MaxoutFigures: no fit")
	}
	target := plots.Series{Name: "x²", X: fits[0].X, Y: make([]float64, len(fits[0].X))}
	for i, x := range fits[0].X {
		target.Y[i] = Convex(x)
	}
	series := []plots.Series{target}
	e := plots.Series{Name: "RMSE", Points: true}
	for _, f := range fits {
		series = append(series, plots.Series{Name: fmt.Sprintf("maxout, k=%d", f.Pieces), X: f.X, Y: f.Y})
		e.X, e.Y = append(e.X, float64(f.Pieces)), append(e.Y, f.RMSE)
	}
	if curves, err = plots.Curves("one maxout unit max_j (w_j x + b_j) fitted to x²", "x", "h(x)", series); err != nil {
		return nil, nil, err
	}
	if errs, err = plots.Curves("maxout fit error against the number of pieces k", "k", "RMSE", []plots.Series{e},
		plots.LogY()); err != nil {
		return nil, nil, err
	}
	return curves, errs, nil
}

// spreadPieces creates the unit's variables and spreads its k pieces: slopes evenly spaced in [−2, 2] and
// biases −w²/8, the tangents of 2x² (a different convex function from the target). Dense layers start with zero
// biases, so every piece would be a line through the origin and only the steepest two could ever be the maximum:
// the others would get no gradient and stay dead.
func spreadPieces(backend compute.Backend, store *model.Store, fn func(*model.Scope, *graph.Node) *graph.Node,
	xs []float32, k int) error {
	e, err := model.NewExec(backend, store, fn)
	if err != nil {
		return err
	}
	outs, err := e.Exec(tensors.FromFlatDataAndDimensions(xs, len(xs), 1))
	e.Finalize()
	if err != nil {
		return err
	}
	outs[0].MustFinalizeAll()
	w, b := make([]float32, k), make([]float32, k)
	for j := range k {
		if k > 1 {
			w[j] = float32(-2 + 4*float64(j)/float64(k-1))
		}
		b[j] = -w[j] * w[j] / 8
	}
	set := 0
	for v := range store.IterVariables() {
		switch {
		case strings.HasSuffix(v.Path(), "/biases"):
			err = v.SetValue(tensors.FromFlatDataAndDimensions(b, k))
		case strings.HasSuffix(v.Path(), "/weights"):
			err = v.SetValue(tensors.FromFlatDataAndDimensions(w, 1, k))
		default:
			continue
		}
		if err != nil {
			return err
		}
		set++
	}
	if set != 2 {
		return fmt.Errorf("found %d of the 2 maxout variables", set)
	}
	return nil
}
