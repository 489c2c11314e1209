package sdae

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// Stack is the result of greedy layer-wise pre-training (§5, Fig. 3): the encoders' variables, each layer's
// final reconstruction loss on the training data and the time spent.
type Stack struct {
	Net   models.AutoencoderConfig
	Noise models.Corruption
	// Store holds every pre-trained layer's variables, "/layer_<k>/encoder/…" and "/layer_<k>/decoder/…".
	Store *model.Store
	// Losses[k] is layer k's mean reconstruction cross-entropy over its last epoch of training steps.
	Losses  []float64
	Seconds float64
}

// Schedule is how long and how fast a stage trains.
type Schedule struct {
	Epochs, BatchSize int
	LR                float64
}

func (s Schedule) validate(what string) error {
	if s.Epochs < 1 || s.BatchSize < 1 || !(s.LR > 0) {
		return fmt.Errorf("%s: need epochs, batch size and learning rate > 0, got %+v", what, s)
	}
	return nil
}

// copyVariables copies the variables of from whose path starts with one of prefixes into to, trainable or not.
func copyVariables(from, to *model.Store, trainable bool, prefixes ...string) error {
	for v := range from.IterVariables() {
		keep := false
		for _, p := range prefixes {
			keep = keep || strings.HasPrefix(v.Path(), p)
		}
		if !keep {
			continue
		}
		val, err := v.Value()
		if err != nil {
			return fmt.Errorf("reading %s: %w", v.Path(), err)
		}
		c, err := val.Clone()
		if err != nil {
			return fmt.Errorf("copying %s: %w", v.Path(), err)
		}
		nv, err := to.CreateVariable(v.Path(), c)
		if err != nil {
			return fmt.Errorf("copying %s: %w", v.Path(), err)
		}
		nv.SetTrainable(trainable)
	}
	return nil
}

// Pretrain trains the layers of net one after the other as denoising autoencoders on the images of im (§5):
// layer k sees the clean input mapped through the already trained, now fixed, encoders 0…k−1, corrupted by
// noise (only the input of the layer being trained is corrupted) and learns to reconstruct it uncorrupted.
// Each layer has its own store, seed 100·seed+k (its initial weights and corruption) and Adam optimizer; the
// batches are shuffled by seed; the encoders are collected in the Stack.
func Pretrain(backend compute.Backend, net models.AutoencoderConfig, noise models.Corruption, im *data.Images,
	sched Schedule, seed int64, progress io.Writer) (*Stack, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if err := sched.validate("pretrain"); err != nil {
		return nil, err
	}
	if im.ImageSize() != net.Input {
		return nil, fmt.Errorf("pretrain: images have %d values, the network takes %d", im.ImageSize(), net.Input)
	}
	st := &Stack{Net: net, Noise: noise, Store: model.NewStore()}
	ds := data.NewBatches(im, data.BatchConfig{BatchSize: sched.BatchSize, Shuffle: true, Seed: seed, DropLast: true, Flatten: true})
	classifier := false
	for k := range net.Hidden {
		store := model.NewStore()
		var below []string
		for j := range k {
			below = append(below, fmt.Sprintf("/layer_%d/encoder/", j))
		}
		if err := copyVariables(st.Store, store, false, below...); err != nil {
			return nil, fmt.Errorf("pretrain layer %d: %w", k, err)
		}
		run, err := train.Fit(train.Options{Name: fmt.Sprintf("DAE layer %d (%s %g)", k+1, noise.Kind, noise.Level),
			Backend: backend, Model: net.DAE(k, noise), Loss: models.ReconstructionLoss, Classifier: &classifier,
			Optimizer: optimizer.Adam().LearningRate(sched.LR).Done(), Train: ds, Epochs: sched.Epochs,
			Seed: 100*seed + int64(k), Store: store, Progress: progress})
		if err != nil {
			return nil, fmt.Errorf("pretrain layer %d: %w", k, err)
		}
		if err := copyVariables(run.Store, st.Store, true, fmt.Sprintf("/layer_%d/", k)); err != nil {
			return nil, fmt.Errorf("pretrain layer %d: %w", k, err)
		}
		st.Losses = append(st.Losses, meanLastLoss(run, ds.NumBatches()))
		st.Seconds += run.Seconds
		run.Trainer.ResetComputationGraphs()
	}
	return st, nil
}

// FineTuneSchedule is how the supervised stage trains: Adam at LR on batches of BatchSize, evaluated on the
// validation and test sets after every epoch, stopped when the validation error has not improved for Patience
// epochs (or after MaxEpochs).
type FineTuneSchedule struct {
	MaxEpochs, Patience, BatchSize int
	LR                             float64
}

func (s FineTuneSchedule) validate() error {
	if s.MaxEpochs < 1 || s.Patience < 1 || s.BatchSize < 1 || !(s.LR > 0) {
		return fmt.Errorf("fine-tune: need epochs, patience, batch size and learning rate > 0, got %+v", s)
	}
	return nil
}

// FineTuned is a fine-tuned classifier with early stopping: its run (the sets "valid" and "test" evaluated
// after every epoch), the epoch of its lowest validation error and the errors (%) there.
type FineTuned struct {
	Run               *train.Run
	BestEpoch         int
	ValidErr, TestErr float64
	Epochs            int
	Seconds           float64
}

// errStop ends fine-tuning early.
var errStop = errors.New("early stop")

// FineTune trains net's classifier (the stacked encoders and a softmax layer, §5, Fig. 3 right) on trainIm,
// starting from the pre-trained encoders of stack (nil: from random initialisation, "no pre-training"), with
// initial weights and batch order seeded by seed; it evaluates on validIm and testIm after every epoch and stops
// when the validation error has not improved for sched.Patience epochs. The result is the test error at the
// epoch of the lowest validation error (early stopping, as the paper selects its models on validation data).
func FineTune(backend compute.Backend, net models.AutoencoderConfig, stack *Stack, trainIm, validIm, testIm *data.Images,
	sched FineTuneSchedule, name string, seed int64, progress io.Writer) (*FineTuned, error) {
	if err := sched.validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	if stack != nil {
		var enc []string
		for k := range net.Hidden {
			enc = append(enc, fmt.Sprintf("/layer_%d/encoder/", k))
		}
		if err := copyVariables(stack.Store, store, true, enc...); err != nil {
			return nil, fmt.Errorf("fine-tune %s: %w", name, err)
		}
	}
	ds := data.NewBatches(trainIm, data.BatchConfig{BatchSize: sched.BatchSize, Shuffle: true, Seed: seed, DropLast: true, Flatten: true})
	valid := data.NewBatches(validIm, data.BatchConfig{BatchSize: 500, Flatten: true})
	test := data.NewBatches(testIm, data.BatchConfig{BatchSize: 500, Flatten: true})
	var run *train.Run
	t0 := time.Now()
	run, err := train.New(train.Options{Name: name, Backend: backend, Model: net.Classifier(),
		Optimizer: optimizer.Adam().LearningRate(sched.LR).Done(), Train: ds, Epochs: sched.MaxEpochs, Seed: seed,
		Eval: []train.NamedDataset{{Name: "valid", Data: valid}, {Name: "test", Data: test}}, Store: store, Progress: progress,
		OnStep: func(train.StepRecord) error {
			// Called at every step: after an epoch's evaluation, the next step sees it.
			if best, n := bestEpoch(run); n-1-best >= sched.Patience {
				return errStop
			}
			return nil
		}})
	if err != nil {
		return nil, fmt.Errorf("fine-tune %s: %w", name, err)
	}
	if err := run.Fit(); err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("fine-tune %s: %w", name, err)
	}
	run.Trainer.ResetComputationGraphs() // only the history is read later
	best, n := bestEpoch(run)
	if n == 0 {
		return nil, fmt.Errorf("fine-tune %s: no evaluation", name)
	}
	validErr, testErr := evalAt(run, "valid", best), evalAt(run, "test", best)
	return &FineTuned{Run: run, BestEpoch: best + 1, ValidErr: validErr, TestErr: testErr, Epochs: n,
		Seconds: time.Since(t0).Seconds()}, nil
}

// bestEpoch returns the index of the evaluation with the lowest validation error (the first of equal ones) and
// the number of validation evaluations so far.
func bestEpoch(run *train.Run) (best, n int) {
	if run == nil {
		return 0, 0
	}
	lowest := math.Inf(1)
	for _, e := range run.History.Evals {
		if e.Set != "valid" {
			continue
		}
		if 1-e.Accuracy < lowest {
			lowest, best = 1-e.Accuracy, n
		}
		n++
	}
	return best, n
}

// evalAt is the error in % of the i-th evaluation of set.
func evalAt(run *train.Run, set string, i int) float64 {
	k := 0
	for _, e := range run.History.Evals {
		if e.Set != set {
			continue
		}
		if k == i {
			return 100 * (1 - e.Accuracy)
		}
		k++
	}
	return math.NaN()
}

// Filters returns the first n filters of layer 0 (the columns of W, each reshaped to h×w), from a store that
// holds "/layer_0/encoder/weights".
func Filters(store *model.Store, n, h, w int) ([][]float32, error) {
	v := store.GetVariable("/layer_0/encoder/weights")
	if v == nil {
		return nil, fmt.Errorf("filters: the store has no /layer_0/encoder/weights")
	}
	val, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("filters: %w", err)
	}
	dims := val.Shape().Dimensions
	if len(dims) != 2 || dims[0] != h*w {
		return nil, fmt.Errorf("filters: weights %v are not [%d, units]", dims, h*w)
	}
	flat, err := tensors.CopyFlatData[float32](val)
	if err != nil {
		return nil, fmt.Errorf("filters: %w", err)
	}
	units := dims[1]
	n = min(n, units)
	out := make([][]float32, n)
	for j := range n {
		out[j] = make([]float32, h*w)
		for i := range h * w {
			out[j][i] = flat[i*units+j]
		}
	}
	return out, nil
}

// meanLastLoss is the mean training loss of the run's last n recorded steps.
func meanLastLoss(run *train.Run, n int) float64 {
	steps := run.History.Steps
	n = min(max(n, 1), len(steps))
	if n == 0 {
		return 0
	}
	sum := 0.0
	for _, r := range steps[len(steps)-n:] {
		sum += r.Loss
	}
	return sum / float64(n)
}
