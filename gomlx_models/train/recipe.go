package train

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/data"
)

// Classification is the shared training recipe of the classification studies: a model trained on (a subset
// of) a data set's training split with Adam (or Optimizer), evaluated on (a subset of) its test split as the set
// "test", optionally also on the first EvalTrainN training images as the set "train", optionally probing an
// activation while it trains.
type Classification struct {
	Name    string
	Model   ModelFn
	Flatten bool // feed [batch, H·W·C] instead of [batch, H, W, C].
	// Dataset loads a split; nil means MNIST.
	Dataset   func(data.Split) (*data.Images, error)
	TrainN    int // examples used for training (0: all).
	TestN     int // examples used for testing (0: all).
	BatchSize int
	Epochs    int
	Steps     int // overrides Epochs when > 0.
	LR        float64
	EvalEvery int
	// Optimizer replaces the default Adam(LR) when set.
	Optimizer optimizer.Interface
	// EvalTrainN, when > 0, also evaluates on the first EvalTrainN training examples, as the set "train".
	EvalTrainN int
	// LogEvery records a training step every N steps (0: every step).
	LogEvery int
	// Checkpoint, when set, is a file training resumes from and saves to (a complete checkpoint is only
	// restored, without a progress display).
	Checkpoint string
	// Probe, when set, records an activation of the model on fixed inputs while it trains.
	Probe *Probe
	// Schedule, when set, gives the learning rate for the step after step (a step-wise decay, say); the
	// optimizer's own rate is used for the first step.
	Schedule func(step int) float64
	// Augment, when set, rewrites each training batch's pixels [batch·H·W·C] in place before the step
	// (random crops and flips, say); an error stops training. Its random state is not part of a checkpoint: a
	// resumed run shuffles as an uninterrupted one would but draws other crops and flips.
	Augment func(pixels []float32, n, h, w, c int) error
	// Seed, when not 0, seeds the initial weights, the model's random numbers (dropout masks) and the order of
	// the training batches, so that runs of a study differ only by it; 0 keeps the recipe's fixed seeds.
	Seed int64
	// OnStep, when set, is called after every training step with the run, whose store then holds the weights
	// after the step, before that step's evaluation; an error stops training.
	OnStep func(run *Run, rec StepRecord) error
}

// Default seeds of [Classification] when its Seed is 0: the initial weights' and the batch order's.
const (
	DefaultInitSeed  = 42
	DefaultOrderSeed = 1
)

// seeds returns the initial-weight seed and the batch-order seed of c.
func (c Classification) seeds() (init, order int64) {
	if c.Seed == 0 {
		return DefaultInitSeed, DefaultOrderSeed
	}
	return c.Seed, c.Seed
}

// Probe records an activation while a model trains: every Every steps (and before the first step) it runs
// Activation on the first N test images, in inference mode, and keeps the values. The BN paper's Fig. 1(b, c)
// follows a sigmoid's input this way.
type Probe struct {
	// Activation builds the model and returns the probed node first; further outputs are computed and dropped.
	// It must build the same variables as the model, and every variable must reach an output (GoMLX's
	// model.Exec rejects a graph that reads a variable whose value reaches no output): return the logits too.
	Activation func(scope *model.Scope, x *graph.Node) []*graph.Node
	Every, N   int
	// Steps and Values are filled in while training: Values[i] is the activation at Steps[i], flattened.
	Steps  []int
	Values [][]float32
}

// Fitted is a trained classifier with the data it was trained and tested on.
type Fitted struct {
	Run         *Run
	Train, Test *data.Images
}

// Fit loads the data, trains on backend and evaluates; progress receives the progress display (io.Discard
// silences it). The run's History holds the test evaluations under the set name "test".
func (c Classification) Fit(backend compute.Backend, progress io.Writer) (*Fitted, error) {
	if c.BatchSize < 1 || (c.Steps < 1 && c.Epochs < 1) {
		return nil, fmt.Errorf("%s: %w: need a batch size and steps or epochs, got batch %d, %d steps, %d epochs",
			c.Name, ErrOptions, c.BatchSize, c.Steps, c.Epochs)
	}
	load := c.Dataset
	if load == nil {
		load = data.MNIST
	}
	trainIm, err := load(data.Train)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	testIm, err := load(data.Test)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	if c.TrainN > 0 && c.TrainN < trainIm.N {
		trainIm = trainIm.Subset(c.TrainN)
	}
	if c.TestN > 0 && c.TestN < testIm.N {
		testIm = testIm.Subset(c.TestN)
	}
	initSeed, orderSeed := c.seeds()
	trainDS := data.NewBatches(trainIm, data.BatchConfig{BatchSize: c.BatchSize, Shuffle: true, Seed: orderSeed,
		DropLast: true, Flatten: c.Flatten, Augment: c.Augment})
	evals := []NamedDataset{{Name: "test", Data: data.NewBatches(testIm, data.BatchConfig{BatchSize: 500, Flatten: c.Flatten})}}
	if c.EvalTrainN > 0 {
		evals = append(evals, NamedDataset{Name: "train", Data: data.NewBatches(trainIm.Subset(min(c.EvalTrainN, trainIm.N)),
			data.BatchConfig{BatchSize: 500, Flatten: c.Flatten})})
	}
	opt := c.Optimizer
	if opt == nil {
		opt = optimizer.Adam().LearningRate(c.LR).Done()
	}
	if c.Checkpoint != "" {
		if _, err := os.Stat(c.Checkpoint); err == nil {
			progress = io.Discard // restoring: no progress bar for training that already happened.
		}
	}
	var run *Run
	var probe *prober
	opts := Options{
		Name: c.Name, Backend: backend, Model: c.Model, Optimizer: opt,
		Train: trainDS, Eval: evals, Epochs: c.Epochs, Steps: c.Steps, EvalEvery: c.EvalEvery,
		LogEvery: c.LogEvery, Seed: initSeed, Progress: progress, Checkpoint: c.Checkpoint, Resume: c.Checkpoint != "",
	}
	var onStep []func(StepRecord) error
	if c.OnStep != nil {
		onStep = append(onStep, func(rec StepRecord) error { return c.OnStep(run, rec) })
	}
	if c.Schedule != nil {
		onStep = append(onStep, func(rec StepRecord) error { return run.SetLearningRate(c.Schedule(rec.Step)) })
	}
	if c.Probe != nil {
		if c.Probe.Activation == nil || c.Probe.Every < 1 || c.Probe.N < 1 {
			return nil, fmt.Errorf("%s: %w: a probe needs an activation, Every ≥ 1 and N ≥ 1", c.Name, ErrOptions)
		}
		probe = &prober{p: c.Probe, im: testIm.Subset(c.Probe.N), flatten: c.Flatten}
		defer probe.close()
		onStep = append(onStep, func(rec StepRecord) error {
			if rec.Step%c.Probe.Every != 0 {
				return nil
			}
			return probe.record(backend, run.Store, rec.Step)
		})
	}
	if len(onStep) > 0 {
		opts.OnStep = func(rec StepRecord) error {
			for _, f := range onStep {
				if err := f(rec); err != nil {
					return err
				}
			}
			return nil
		}
	}
	run, err = New(opts)
	if err != nil {
		return nil, err
	}
	if probe != nil && run.Step() == 0 {
		if err := probe.record(backend, run.Store, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	if err := run.Fit(); err != nil {
		return nil, err
	}
	return &Fitted{Run: run, Train: trainIm, Test: testIm}, nil
}

// prober runs a Probe's activation graph on its fixed images.
type prober struct {
	p       *Probe
	im      *data.Images
	flatten bool
	exec    *model.Exec
}

func (pr *prober) record(backend compute.Backend, store *model.Store, step int) error {
	if pr.exec == nil {
		e, err := model.NewExec(backend, store, pr.p.Activation)
		if err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		pr.exec = e
	}
	outs, err := pr.exec.Exec(imagesTensor(pr.im, pr.flatten))
	if err != nil {
		return fmt.Errorf("probe at step %d: %w", step, err)
	}
	vals, err := tensors.CopyFlatData[float32](outs[0])
	for _, o := range outs {
		_ = o.FinalizeAll()
	}
	if err != nil {
		return fmt.Errorf("probe at step %d: %w", step, err)
	}
	pr.p.Steps = append(pr.p.Steps, step)
	pr.p.Values = append(pr.p.Values, vals)
	return nil
}

func (pr *prober) close() {
	if pr.exec != nil {
		pr.exec.Finalize()
	}
}

// imagesTensor is im's pixels as [N, H, W, C] (or [N, H·W·C] when flatten).
func imagesTensor(im *data.Images, flatten bool) *tensors.Tensor {
	if flatten {
		return tensors.FromFlatDataAndDimensions(im.Pixels, im.N, im.ImageSize())
	}
	return tensors.FromFlatDataAndDimensions(im.Pixels, im.N, im.H, im.W, im.C)
}

// PredictClasses returns the argmax class of the run's model for every image of im, in batches of 500.
func (r *Run) PredictClasses(im *data.Images, flatten bool) ([]int32, error) {
	logits, k, err := r.Logits(im, flatten)
	if err != nil {
		return nil, err
	}
	return ArgmaxRows(logits, k), nil
}

// Logits returns the run's model outputs for every image of im, in batches of 500: [im.N × k] flattened, and k.
func (r *Run) Logits(im *data.Images, flatten bool) ([]float32, int, error) {
	return batchedLogits(im, flatten, r.Predict)
}

// StoreLogits is [Run.Logits] for the model function fn with the variables of store, in inference mode: a
// network no Run trained (one assembled from another's weights, say).
func StoreLogits(backend compute.Backend, store *model.Store, fn ModelFn, im *data.Images) ([]float32, int, error) {
	e, err := model.NewExec(backend, store, fn)
	if err != nil {
		return nil, 0, fmt.Errorf("logits: %w", err)
	}
	defer e.Finalize()
	return batchedLogits(im, false, func(x *tensors.Tensor) (*tensors.Tensor, error) {
		outs, err := e.Exec(x)
		if err != nil {
			return nil, fmt.Errorf("logits: %w", err)
		}
		for _, o := range outs[1:] {
			_ = o.FinalizeAll()
		}
		return outs[0], nil
	})
}

// batchedLogits runs predict on im in batches of 500 and concatenates the outputs.
func batchedLogits(im *data.Images, flatten bool, predict func(*tensors.Tensor) (*tensors.Tensor, error)) ([]float32, int, error) {
	const bs = 500
	out := make([]float32, 0, im.N)
	k := 0
	size := im.ImageSize()
	for s := 0; s < im.N; s += bs {
		n := min(bs, im.N-s)
		part := &data.Images{N: n, H: im.H, W: im.W, C: im.C, Pixels: im.Pixels[s*size : (s+n)*size]}
		t, err := predict(imagesTensor(part, flatten))
		if err != nil {
			return nil, 0, err
		}
		vals, err := tensors.CopyFlatData[float32](t)
		_ = t.FinalizeAll()
		if err != nil {
			return nil, 0, fmt.Errorf("reading predictions: %w", err)
		}
		k = len(vals) / n
		out = append(out, vals...)
	}
	return out, k, nil
}

// ArgmaxRows returns, for each k-long row of v, the index of its largest value (the first of equal ones).
func ArgmaxRows(v []float32, k int) []int32 {
	if k < 1 {
		return nil
	}
	idx := make([]int32, 0, len(v)/k)
	for row := 0; row+k <= len(v); row += k {
		best := 0
		for j := 1; j < k; j++ {
			if v[row+j] > v[row+best] {
				best = j
			}
		}
		idx = append(idx, int32(best))
	}
	return idx
}

// Variable returns the run's variable whose path ends in suffix (e.g. "/stage1/conv/weights").
func (r *Run) Variable(suffix string) (*model.Variable, error) {
	var paths []string
	for v := range r.Store.IterVariables() {
		if strings.HasSuffix(v.Path(), suffix) {
			return v, nil
		}
		paths = append(paths, v.Path())
	}
	return nil, fmt.Errorf("%s: no variable ending in %q among %v", r.Options.Name, suffix, paths)
}

// VariableValues returns the values of the variable of store whose path ends in suffix, flattened, as float64
// (the float32 and float64 variables the layers create).
func VariableValues(store *model.Store, suffix string) ([]float64, error) {
	for v := range store.IterVariables() {
		if !strings.HasSuffix(v.Path(), suffix) {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		switch t.DType() {
		case dtypes.Float64:
			return tensors.CopyFlatData[float64](t)
		case dtypes.Float32:
			vals, err := tensors.CopyFlatData[float32](t)
			if err != nil {
				return nil, fmt.Errorf("variable %s: %w", v.Path(), err)
			}
			out := make([]float64, len(vals))
			for i, x := range vals {
				out[i] = float64(x)
			}
			return out, nil
		}
		return nil, fmt.Errorf("variable %s: dtype %s is not a float", v.Path(), t.DType())
	}
	return nil, fmt.Errorf("no variable ending in %s", suffix)
}

// FitCached is [Classification.Fit] with a checkpoint: training resumes from it (or, when it is complete, only
// restores it, without a progress display) and saves there; retrain removes it first.
func (c Classification) FitCached(backend compute.Backend, progress io.Writer, checkpoint string, retrain bool) (*Fitted, error) {
	if checkpoint != "" && retrain {
		if err := os.Remove(checkpoint); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: removing the old checkpoint: %w", c.Name, err)
		}
	}
	c.Checkpoint = checkpoint
	return c.Fit(backend, progress)
}

// SetLearningRate sets the learning rate the run's optimizer reads (the GoMLX variable
// "/optimizers/learning_rate") for the next steps: learning-rate schedules call it from an OnStep hook.
func (r *Run) SetLearningRate(lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("%s: learning rate must be positive and finite, got %g", r.Options.Name, lr)
	}
	v := r.Store.GetVariable("/" + optimizer.Scope + "/" + optimizer.LearningRateKey)
	if v == nil {
		return fmt.Errorf("%s: no learning-rate variable yet (it is created with the first training step)", r.Options.Name)
	}
	old, err := v.Value()
	if err != nil {
		return fmt.Errorf("%s: learning rate: %w", r.Options.Name, err)
	}
	var t *tensors.Tensor
	switch old.DType() {
	case dtypes.Float64:
		t = tensors.FromScalar(lr)
	default:
		t = tensors.FromScalar(float32(lr))
	}
	if err := v.SetValue(t); err != nil {
		return fmt.Errorf("%s: setting the learning rate: %w", r.Options.Name, err)
	}
	return nil
}

// ReestimateBatchNorm replaces the moving averages of every batch normalization of the run's model by the
// statistics of ds, a pass of un-augmented training batches: GoMLX's norm.UpdateBatchNormAverages resets each
// average and runs ds twice in inference mode (the second pass normalizes with the averages of the first),
// averaging the batch means and variances. A network's training error measured in inference mode is then that
// of the weights it has, not of averages that lag them. Models without batch normalization are left unchanged.
func (r *Run) ReestimateBatchNorm(ds Dataset) error {
	if ds == nil {
		return fmt.Errorf("%s: re-estimating batch normalization: %w: dataset is nil", r.Options.Name, ErrOptions)
	}
	if es, ok := ds.(EpochSetter); ok {
		es.SetEpoch(0)
	}
	err := catch(func() {
		_, err := norm.UpdateBatchNormAverages(r.Trainer, ds)
		if err != nil {
			panic(err)
		}
	})
	if err != nil {
		return fmt.Errorf("%s: re-estimating batch normalization: %w", r.Options.Name, err)
	}
	return nil
}
