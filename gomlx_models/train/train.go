package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gtrain "github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// ModelFn maps a batch of inputs to logits (or predictions), building GoMLX graph nodes under scope.
type ModelFn = func(scope *model.Scope, x *graph.Node) *graph.Node

// Dataset is a GoMLX training dataset (re-exported so callers need not import GoMLX's train package).
type Dataset = gtrain.Dataset

// EpochSetter is implemented by datasets whose order is a function of (seed, epoch): the harness calls SetEpoch
// before each pass, which is what makes a resumed run see exactly the batches the uninterrupted run would have.
type EpochSetter interface {
	SetEpoch(epoch int)
}

// Sizer is implemented by datasets that know their number of batches per epoch.
type Sizer interface {
	NumBatches() int
}

// NamedDataset is an evaluation set and its name in the [History].
type NamedDataset struct {
	Name string
	Data Dataset
}

// Options configures [Fit].
type Options struct {
	Name    string          // shown in progress and stored in checkpoints.
	Backend compute.Backend // required.
	Model   ModelFn         // required: returns logits for classifiers.
	// Loss defaults to sparse categorical cross-entropy on logits with int32 labels [B,1].
	Loss loss.LossFn
	// Classifier adds accuracy (argmax of the logits vs int32 labels) to training and evaluation. Default true
	// when Loss is nil.
	Classifier *bool
	// Optimizer defaults to Adam with learning rate 1e-3.
	Optimizer optimizer.Interface
	Train     Dataset
	Eval      []NamedDataset
	// Steps is the number of training steps to reach (global step); if 0, Epochs full passes are run.
	Steps  int
	Epochs int
	// EvalEvery evaluates every N steps (and always at the end); 0 evaluates at the end of each epoch only.
	EvalEvery int
	// LogEvery records a StepRecord every N steps (default 1).
	LogEvery int
	Seed     int64 // initial seed of variables and the RNG (default 42).
	// Store to use; a new one is created when nil. A store that already holds variables continues from them.
	Store *model.Store
	// Checkpoint, if set, is a file path: written atomically every CheckpointEvery steps (default: end of each
	// epoch) and at the end; if it exists when Fit starts and Resume is set, training resumes from it.
	Checkpoint      string
	CheckpointEvery int
	Resume          bool
	// Progress receives the progress display (default os.Stderr; io.Discard silences it). Inside a GoNB
	// notebook an HTML progress bar is displayed instead.
	Progress io.Writer
	// OnStep, if set, is called after every step with the step record (before logging filters); returning an
	// error stops training with that error.
	OnStep func(r StepRecord) error
}

// Run is a fitted model: its store (variables), the GoMLX trainer and the measured history.
type Run struct {
	Options Options
	Store   *model.Store
	Trainer *gtrain.Trainer
	History History
	// Seconds is the wall-clock training time (evaluation excluded) including time restored from a checkpoint.
	Seconds float64
	// batchesPerEpoch is known after the first full epoch or from a Sizer.
	batchesPerEpoch     int
	epoch, batchInEpoch int
	classifier          bool
	evalSpent           float64 // seconds spent evaluating during the current Fit call.
	predictExec         *model.Exec
}

// ErrOptions is wrapped by errors about invalid [Options].
var ErrOptions = errors.New("invalid training options")

// New prepares a [Run] without training (Fit calls it). Use it to evaluate or resume a model.
func New(opts Options) (*Run, error) {
	if opts.Backend == nil {
		return nil, fmt.Errorf("train %q: %w: Backend is nil", opts.Name, ErrOptions)
	}
	if opts.Model == nil {
		return nil, fmt.Errorf("train %q: %w: Model is nil", opts.Name, ErrOptions)
	}
	if opts.Steps < 0 || opts.Epochs < 0 || opts.EvalEvery < 0 || opts.LogEvery < 0 || opts.CheckpointEvery < 0 {
		return nil, fmt.Errorf("train %q: %w: negative Steps/Epochs/EvalEvery/LogEvery/CheckpointEvery", opts.Name, ErrOptions)
	}
	classifier := opts.Loss == nil
	if opts.Classifier != nil {
		classifier = *opts.Classifier
	}
	if opts.Loss == nil {
		opts.Loss = loss.SparseCategoricalCrossEntropyLogits
	}
	if opts.Optimizer == nil {
		opts.Optimizer = optimizer.Adam().LearningRate(1e-3).Done()
	}
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	if opts.LogEvery == 0 {
		opts.LogEvery = 1
	}
	if opts.Progress == nil {
		opts.Progress = os.Stderr
	}
	store := opts.Store
	if store == nil {
		store = model.NewStore()
	}
	if _, found := store.GetParam(model.ParamInitialSeed); !found {
		store.SetParam(model.ParamInitialSeed, opts.Seed)
	}
	var trainMetrics, evalMetrics []metric.Interface
	if classifier {
		trainMetrics = []metric.Interface{metric.NewBaseMetric("Accuracy", "acc", metric.AccuracyMetricType,
			metric.SparseCategoricalAccuracyGraph, nil)}
		evalMetrics = []metric.Interface{metric.NewSparseCategoricalAccuracy("Accuracy", "acc")}
	}
	r := &Run{Options: opts, Store: store, classifier: classifier}
	err := catch(func() {
		r.Trainer = gtrain.NewTrainer(opts.Backend, store, opts.Model, opts.Loss, opts.Optimizer, trainMetrics, evalMetrics)
	})
	if err != nil {
		return nil, fmt.Errorf("train %q: creating trainer: %w", opts.Name, err)
	}
	if s, ok := opts.Train.(Sizer); ok {
		r.batchesPerEpoch = s.NumBatches()
	}
	return r, nil
}

// Fit trains a model as configured by opts and returns the run with its history. On error the run so far is
// returned too (its History is valid).
func Fit(opts Options) (*Run, error) {
	r, err := New(opts)
	if err != nil {
		return nil, err
	}
	return r, r.Fit()
}

// Step is the global step (number of updates applied so far).
func (r *Run) Step() int { return int(optimizer.GetGlobalStep(r.Store)) }

// Fit trains (or continues training) the run up to Options.Steps or Options.Epochs.
func (r *Run) Fit() error {
	o := &r.Options
	if o.Train == nil {
		return fmt.Errorf("train %q: %w: Train dataset is nil", o.Name, ErrOptions)
	}
	if o.Steps == 0 && o.Epochs == 0 {
		return fmt.Errorf("train %q: %w: set Steps or Epochs", o.Name, ErrOptions)
	}
	if o.Checkpoint != "" && o.Resume {
		if _, err := os.Stat(o.Checkpoint); err == nil {
			if err := r.LoadCheckpoint(o.Checkpoint); err != nil {
				return err
			}
		}
	}
	target := o.Steps
	if target == 0 && r.batchesPerEpoch > 0 {
		target = o.Epochs * r.batchesPerEpoch
	}
	prog := newProgress(o.Progress, o.Name, target)
	defer prog.close()
	trainStart, baseSeconds := time.Now(), r.Seconds
	r.evalSpent = 0
	elapsed := func() float64 { return baseSeconds + time.Since(trainStart).Seconds() - r.evalSpent }
	reached := func() bool { return o.Steps > 0 && r.Step() >= o.Steps }
	for !reached() && (o.Steps > 0 || r.epoch < o.Epochs) {
		if es, ok := o.Train.(EpochSetter); ok {
			es.SetEpoch(r.epoch)
		}
		epochStart, evalAtEpochStart := time.Now(), r.evalSpent
		skip, n, stopped := r.batchInEpoch, 0, false
		for batch, err := range o.Train.Iter() {
			if err != nil {
				return fmt.Errorf("train %q: reading batch %d of epoch %d: %w", o.Name, n, r.epoch, err)
			}
			n++
			if n <= skip { // resuming in the middle of an epoch: these batches were already trained on.
				if err := batch.Finalize(); err != nil {
					return fmt.Errorf("train %q: %w", o.Name, err)
				}
				continue
			}
			if err := r.step(batch, n, elapsed, prog); err != nil {
				return err
			}
			if reached() {
				stopped = true
				break
			}
		}
		if n == 0 {
			return fmt.Errorf("train %q: the training dataset yielded no batch (is it smaller than one batch?)", o.Name)
		}
		if stopped && (r.batchesPerEpoch == 0 || r.batchInEpoch < r.batchesPerEpoch) {
			break // the step target was reached in the middle of an epoch.
		}
		// A complete pass over the data.
		if r.batchesPerEpoch == 0 {
			r.batchesPerEpoch = n
		}
		r.History.EpochSeconds = append(r.History.EpochSeconds,
			time.Since(epochStart).Seconds()-(r.evalSpent-evalAtEpochStart))
		r.epoch++
		r.batchInEpoch = 0
		if o.EvalEvery == 0 {
			if err := r.evalAll(elapsed); err != nil {
				return err
			}
		}
		if o.Checkpoint != "" && o.CheckpointEvery == 0 {
			r.Seconds = elapsed()
			if err := r.SaveCheckpoint(o.Checkpoint); err != nil {
				return err
			}
		}
	}
	// Final evaluation, unless one was just done at this step.
	if len(o.Eval) > 0 {
		if last, ok := r.History.LastEval(o.Eval[0].Name); !ok || last.Step != r.Step() {
			if err := r.evalAll(elapsed); err != nil {
				return err
			}
		}
	}
	r.Seconds = elapsed()
	if o.Checkpoint != "" {
		if err := r.SaveCheckpoint(o.Checkpoint); err != nil {
			return err
		}
	}
	prog.finish(r.Step(), r.Seconds, r.lastEvalLine())
	return nil
}

// step applies one training step on batch (the n-th of the epoch) and records, evaluates and checkpoints as
// configured.
func (r *Run) step(batch gtrain.Batch, n int, elapsed func() float64, prog *progress) error {
	o := &r.Options
	bs := 0
	if len(batch.Inputs) > 0 && batch.Inputs[0].Shape().Rank() > 0 {
		bs = batch.Inputs[0].Shape().Dimensions[0]
	}
	t0 := time.Now()
	metrics, err := r.Trainer.TrainStep(batch)
	if err != nil {
		return fmt.Errorf("train %q: step %d: %w", o.Name, r.Step()+1, err)
	}
	dt := time.Since(t0).Seconds()
	r.batchInEpoch = n
	rec := StepRecord{Step: r.Step(), Seconds: elapsed(), StepMillis: dt * 1e3, Accuracy: math.NaN(),
		Loss: scalar(metrics, 0), Epoch: float64(r.epoch)}
	if dt > 0 {
		rec.ExamplesPerSec = float64(bs) / dt
	}
	if r.batchesPerEpoch > 0 {
		rec.Epoch += float64(n) / float64(r.batchesPerEpoch)
	}
	if r.classifier {
		rec.Accuracy = scalar(metrics, 2)
	}
	for _, m := range metrics {
		_ = m.FinalizeAll()
	}
	if math.IsNaN(rec.Loss) || math.IsInf(rec.Loss, 0) {
		return fmt.Errorf("train %q: step %d: loss is %v (diverged: lower the learning rate)", o.Name, rec.Step, rec.Loss)
	}
	if rec.Step%o.LogEvery == 0 || rec.Step == 1 {
		r.History.Steps = append(r.History.Steps, rec)
	}
	if o.OnStep != nil {
		if err := o.OnStep(rec); err != nil {
			return fmt.Errorf("train %q: step %d: %w", o.Name, rec.Step, err)
		}
	}
	prog.update(rec, r.lastEvalLine())
	if o.EvalEvery > 0 && rec.Step%o.EvalEvery == 0 {
		if err := r.evalAll(elapsed); err != nil {
			return err
		}
	}
	if o.Checkpoint != "" && o.CheckpointEvery > 0 && rec.Step%o.CheckpointEvery == 0 {
		r.Seconds = elapsed()
		if err := r.SaveCheckpoint(o.Checkpoint); err != nil {
			return err
		}
	}
	return nil
}

func (r *Run) evalAll(elapsed func() float64) error {
	if len(r.Options.Eval) == 0 {
		return nil
	}
	t0 := time.Now()
	now := elapsed()
	for _, set := range r.Options.Eval {
		l, acc, err := r.Evaluate(set.Data)
		if err != nil {
			return fmt.Errorf("train %q: evaluating %q: %w", r.Options.Name, set.Name, err)
		}
		rec := EvalRecord{Step: r.Step(), Seconds: now, Set: set.Name, Loss: l, Accuracy: acc}
		if r.batchesPerEpoch > 0 {
			rec.Epoch = float64(r.epoch) + float64(r.batchInEpoch)/float64(r.batchesPerEpoch)
		}
		r.History.Evals = append(r.History.Evals, rec)
	}
	r.evalSpent += time.Since(t0).Seconds()
	return nil
}

func (r *Run) lastEvalLine() string {
	if len(r.Options.Eval) == 0 {
		return ""
	}
	e, ok := r.History.LastEval(r.Options.Eval[0].Name)
	if !ok {
		return ""
	}
	if r.classifier {
		return fmt.Sprintf("%s acc %.4f", e.Set, e.Accuracy)
	}
	return fmt.Sprintf("%s loss %.4f", e.Set, e.Loss)
}

// Evaluate returns the mean loss and accuracy (NaN for non-classifiers) of the model over ds.
func (r *Run) Evaluate(ds Dataset) (meanLoss, accuracy float64, err error) {
	if ds == nil {
		return 0, 0, fmt.Errorf("evaluate: %w: dataset is nil", ErrOptions)
	}
	if es, ok := ds.(EpochSetter); ok {
		es.SetEpoch(0)
	}
	var metrics []*tensors.Tensor
	err = catch(func() {
		metrics, err = r.Trainer.Eval(ds)
	})
	if err != nil {
		return 0, 0, err
	}
	meanLoss, accuracy = scalar(metrics, 0), math.NaN()
	if r.classifier {
		accuracy = scalar(metrics, 1)
	}
	for _, m := range metrics {
		_ = m.FinalizeAll()
	}
	return meanLoss, accuracy, nil
}

// Predict runs the model in inference mode on x (a batch) and returns its output tensor. The compiled
// executable is kept for later calls (one per input shape).
func (r *Run) Predict(x *tensors.Tensor) (*tensors.Tensor, error) {
	var out *tensors.Tensor
	err := catch(func() {
		if r.predictExec == nil {
			e, err := model.NewExec(r.Options.Backend, r.Store, func(scope *model.Scope, x *graph.Node) *graph.Node {
				return r.Options.Model(scope, x)
			})
			if err != nil {
				panic(err)
			}
			r.predictExec = e
		}
		outs, err := r.predictExec.Exec(x)
		if err != nil {
			panic(err)
		}
		out = outs[0]
	})
	if err != nil {
		return nil, fmt.Errorf("predict %q: %w", r.Options.Name, err)
	}
	return out, nil
}

// scalar reads metric i as float64 (NaN if absent).
func scalar(ts []*tensors.Tensor, i int) float64 {
	if i >= len(ts) || ts[i] == nil {
		return math.NaN()
	}
	var v float64
	err := catch(func() {
		switch x := ts[i].Value().(type) {
		case float32:
			v = float64(x)
		case float64:
			v = x
		default:
			v = math.NaN()
		}
	})
	if err != nil {
		return math.NaN()
	}
	return v
}

// catch turns a panic raised inside GoMLX (graph building reports errors by panicking) into an error.
func catch(fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", p)
			}
		}
	}()
	fn()
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
