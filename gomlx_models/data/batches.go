package data

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"math/rand/v2"
	"sync"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"
)

// BatchConfig configures NewBatches.
type BatchConfig struct {
	// BatchSize is the number of examples per batch; it must be positive.
	BatchSize int
	// Shuffle reorders the examples at the start of every epoch, deterministically from
	// (Seed, epoch number).
	Shuffle bool
	// Seed drives the shuffling.
	Seed int64
	// DropLast drops the final batch when it holds fewer than BatchSize examples (keeping every
	// batch the same shape, so the trainer compiles a single graph).
	DropLast bool
	// Flatten yields inputs shaped [B, H*W*C] instead of [B, H, W, C].
	Flatten bool
	// MaxBatches caps the batches per epoch; 0 means all.
	MaxBatches int
	// Augment, when set, rewrites each batch's pixels (n images of H×W×C, HWC order) in place before the
	// batch is yielded: random crops and flips, say. It must be deterministic given its own seeded state; an
	// error ends the iteration with that error.
	Augment func(pixels []float32, n, h, w, c int) error
}

// Batches serves an Images dataset as GoMLX batches and implements train.Dataset. Each call to Iter
// is one epoch: inputs are a float32 tensor [B,H,W,C] (or [B,H*W*C] with Flatten) and labels an
// int32 tensor [B,1]. Batches is safe for concurrent use, but epochs are numbered in the order
// Iter is called.
type Batches struct {
	im  *Images
	cfg BatchConfig

	mu    sync.Mutex
	epoch int
}

var _ train.Dataset = (*Batches)(nil)

// NewBatches returns a batch iterator over im. An invalid configuration (nil im, BatchSize <= 0,
// negative MaxBatches) is reported as the first error yielded by Iter.
func NewBatches(im *Images, cfg BatchConfig) *Batches {
	return &Batches{im: im, cfg: cfg}
}

// Name returns the dataset's name.
func (b *Batches) Name() string {
	if b.im == nil {
		return "<nil>"
	}
	return b.im.Name
}

// NumExamples returns the number of examples in the underlying dataset.
func (b *Batches) NumExamples() int {
	if b.im == nil {
		return 0
	}
	return b.im.N
}

// NumBatches returns how many batches one epoch yields (after DropLast and MaxBatches), or 0 for
// an invalid configuration.
func (b *Batches) NumBatches() int {
	if b.validate() != nil {
		return 0
	}
	n := b.im.N / b.cfg.BatchSize
	if !b.cfg.DropLast && b.im.N%b.cfg.BatchSize != 0 {
		n++
	}
	if b.cfg.MaxBatches > 0 {
		n = min(n, b.cfg.MaxBatches)
	}
	return n
}

// Epoch returns the number of the epoch the next Iter call will serve (starting at 0).
func (b *Batches) Epoch() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.epoch
}

// SetEpoch sets the number of the epoch the next Iter call serves, e.g. to resume training from a
// checkpoint with the same shuffling as an uninterrupted run.
func (b *Batches) SetEpoch(epoch int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.epoch = epoch
}

// validate checks the configuration.
func (b *Batches) validate() error {
	switch {
	case b.im == nil:
		return errors.New("data: NewBatches: nil *Images")
	case b.cfg.BatchSize <= 0:
		return fmt.Errorf("data: NewBatches(%s): BatchSize must be positive, got %d", b.im.Name, b.cfg.BatchSize)
	case b.cfg.MaxBatches < 0:
		return fmt.Errorf("data: NewBatches(%s): MaxBatches must be >= 0, got %d", b.im.Name, b.cfg.MaxBatches)
	case len(b.im.Labels) != b.im.N || len(b.im.Pixels) != b.im.N*b.im.ImageSize():
		return fmt.Errorf("data: NewBatches(%s): inconsistent Images: N=%d, %d labels, %d pixels for %dx%dx%d images",
			b.im.Name, b.im.N, len(b.im.Labels), len(b.im.Pixels), b.im.H, b.im.W, b.im.C)
	}
	return nil
}

// Iter returns one epoch of batches and advances the epoch counter. Ownership of the yielded
// tensors passes to the caller (train.Trainer finalizes them).
func (b *Batches) Iter() iter.Seq2[train.Batch, error] {
	b.mu.Lock()
	epoch := b.epoch
	b.epoch++
	b.mu.Unlock()
	return func(yield func(train.Batch, error) bool) {
		if err := b.validate(); err != nil {
			yield(train.Batch{}, err)
			return
		}
		order := b.Order(epoch)
		im, bs := b.im, b.cfg.BatchSize
		sz := im.ImageSize()
		pixels := make([]float32, bs*sz)
		labels := make([]int32, bs)
		for k := range b.NumBatches() {
			idx := order[k*bs : min((k+1)*bs, len(order))]
			n := len(idx)
			for j, i := range idx {
				copy(pixels[j*sz:(j+1)*sz], im.Pixels[i*sz:(i+1)*sz])
				labels[j] = im.Labels[i]
			}
			if b.cfg.Augment != nil {
				if err := b.cfg.Augment(pixels[:n*sz], n, im.H, im.W, im.C); err != nil {
					yield(train.Batch{}, fmt.Errorf("data: augmenting batch %d of %s: %w", k, im.Name, err))
					return
				}
			}
			var in *tensors.Tensor
			if b.cfg.Flatten {
				in = tensors.FromFlatDataAndDimensions(pixels[:n*sz], n, sz)
			} else {
				in = tensors.FromFlatDataAndDimensions(pixels[:n*sz], n, im.H, im.W, im.C)
			}
			lbl := tensors.FromFlatDataAndDimensions(labels[:n], n, 1)
			if !yield(train.Batch{Inputs: []*tensors.Tensor{in}, Labels: []*tensors.Tensor{lbl}}, nil) {
				return
			}
		}
	}
}

// Order returns the example order of the given epoch: 0..N-1 without Shuffle, otherwise
// Permutation(N, Seed, epoch).
func (b *Batches) Order(epoch int) []int {
	if b.im == nil {
		return nil
	}
	if !b.cfg.Shuffle {
		order := make([]int, b.im.N)
		for i := range order {
			order[i] = i
		}
		return order
	}
	return Permutation(b.im.N, b.cfg.Seed, epoch)
}

// Permutation returns a random permutation of 0..n-1 determined by (seed, stream) alone: a
// Fisher–Yates shuffle driven by PCG, with the index drawn by this package (not by math/rand's
// Perm, whose algorithm may change between Go releases), so orders are reproducible across
// toolchains.
func Permutation(n int, seed int64, stream int) []int {
	if n <= 0 {
		return []int{}
	}
	rng := rand.NewPCG(uint64(seed), uint64(stream))
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		// Multiply-high maps a uniform 64-bit value onto 0..i; the bias is below 2^-32 for any
		// realistic n.
		hi, _ := bits.Mul64(rng.Uint64(), uint64(i+1))
		j := int(hi)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
