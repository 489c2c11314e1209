package sdae

import (
	"fmt"
	"io"
	"strings"

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
// Each layer has its own store, seed 42+k and Adam optimizer; the encoders are collected in the Stack.
func Pretrain(backend compute.Backend, net models.AutoencoderConfig, noise models.Corruption, im *data.Images,
	sched Schedule, progress io.Writer) (*Stack, error) {
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
	ds := data.NewBatches(im, data.BatchConfig{BatchSize: sched.BatchSize, Shuffle: true, Seed: 7, DropLast: true, Flatten: true})
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
			Seed: int64(42 + k), Store: store, Progress: progress})
		if err != nil {
			return nil, fmt.Errorf("pretrain layer %d: %w", k, err)
		}
		if err := copyVariables(run.Store, st.Store, true, fmt.Sprintf("/layer_%d/", k)); err != nil {
			return nil, fmt.Errorf("pretrain layer %d: %w", k, err)
		}
		st.Losses = append(st.Losses, meanLastLoss(run, ds.NumBatches()))
		st.Seconds += run.Seconds
	}
	return st, nil
}

// FineTune trains net's classifier (the stacked encoders and a softmax layer, §5, Fig. 3 right) on trainIm
// with Adam, starting from the pre-trained encoders of stack (nil: from random initialisation, "no
// pre-training"), and evaluates it on testIm as the set "test".
func FineTune(backend compute.Backend, net models.AutoencoderConfig, stack *Stack, trainIm, testIm *data.Images,
	sched Schedule, name string, progress io.Writer) (*train.Run, error) {
	if err := sched.validate("fine-tune"); err != nil {
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
	ds := data.NewBatches(trainIm, data.BatchConfig{BatchSize: sched.BatchSize, Shuffle: true, Seed: 1, DropLast: true, Flatten: true})
	test := data.NewBatches(testIm, data.BatchConfig{BatchSize: 500, Flatten: true})
	run, err := train.Fit(train.Options{Name: name, Backend: backend, Model: net.Classifier(),
		Optimizer: optimizer.Adam().LearningRate(sched.LR).Done(), Train: ds, Epochs: sched.Epochs,
		Eval: []train.NamedDataset{{Name: "test", Data: test}}, Store: store, Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("fine-tune %s: %w", name, err)
	}
	return run, nil
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
