package train

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	gtrain "github.com/gomlx/gomlx/ml/train"

	"github.com/convnotes/convnotes/gomlx_models/backend"
)

// blobs is a deterministic two-class dataset: points around (+1,+1) and (-1,-1), shuffled per epoch.
type blobs struct {
	x       []float32
	y       []int32
	n, bs   int
	epoch   int
	shuffle bool
}

func newBlobs(n, bs int, seed uint64) *blobs {
	r := rand.New(rand.NewPCG(seed, 7))
	b := &blobs{n: n, bs: bs, shuffle: true}
	for i := 0; i < n; i++ {
		c := int32(i % 2)
		s := float32(2*c - 1)
		b.x = append(b.x, s+0.5*float32(r.NormFloat64()), s+0.5*float32(r.NormFloat64()))
		b.y = append(b.y, c)
	}
	return b
}

func (b *blobs) Name() string    { return "blobs" }
func (b *blobs) SetEpoch(e int)  { b.epoch = e }
func (b *blobs) NumBatches() int { return b.n / b.bs }
func (b *blobs) Iter() iter.Seq2[gtrain.Batch, error] {
	return func(yield func(gtrain.Batch, error) bool) {
		perm := make([]int, b.n)
		for i := range perm {
			perm[i] = i
		}
		if b.shuffle {
			r := rand.New(rand.NewPCG(11, uint64(b.epoch)))
			r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		for s := 0; s+b.bs <= b.n; s += b.bs {
			xb := make([]float32, 0, 2*b.bs)
			yb := make([]int32, 0, b.bs)
			for _, i := range perm[s : s+b.bs] {
				xb = append(xb, b.x[2*i], b.x[2*i+1])
				yb = append(yb, b.y[i])
			}
			batch := gtrain.Batch{
				Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(xb, b.bs, 2)},
				Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(yb, b.bs, 1)},
			}
			if !yield(batch, nil) {
				return
			}
		}
	}
}

func mlp(scope *model.Scope, x *graph.Node) *graph.Node {
	x = activation.Relu(layers.DenseWithBias(scope.In("hidden"), x, 8))
	x = layers.DropoutStatic(scope.In("dropout"), x, 0.1) // exercises the RNG state in checkpoints.
	return layers.DenseWithBias(scope.In("logits"), x, 2)
}

func opts(t *testing.T, steps int) Options {
	t.Helper()
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	return Options{Name: "blobs", Backend: b, Model: mlp, Train: newBlobs(64, 16, 1), Steps: steps,
		Eval:     []NamedDataset{{Name: "test", Data: &blobs{x: newBlobs(64, 32, 2).x, y: newBlobs(64, 32, 2).y, n: 64, bs: 32}}},
		Progress: io.Discard}
}

func TestFitLearnsAndRecords(t *testing.T) {
	o := opts(t, 0)
	o.Epochs = 5
	run, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Step(); got != 20 {
		t.Errorf("steps = %d, want 5 epochs × 4 batches = 20", got)
	}
	if len(run.History.Steps) != 20 || len(run.History.EpochSeconds) != 5 || len(run.History.Evals) != 5 {
		t.Errorf("history: %d steps, %d epochs, %d evals; want 20, 5, 5",
			len(run.History.Steps), len(run.History.EpochSeconds), len(run.History.Evals))
	}
	last, ok := run.History.LastEval("test")
	if !ok || last.Accuracy < 0.9 {
		t.Errorf("test accuracy %.3f (found %v); want >= 0.9 on separable blobs", last.Accuracy, ok)
	}
	if e := run.History.Steps[19].Epoch; e != 5 {
		t.Errorf("epoch of last step = %v, want 5", e)
	}
	if _, _, err := run.History.Series("seconds", "loss"); err != nil {
		t.Error(err)
	}
	if _, _, err := run.History.Series("minutes", "loss"); err == nil {
		t.Error("unknown axis accepted")
	}
}

func TestResumeGivesSameNextLoss(t *testing.T) {
	dir := t.TempDir()
	// Uninterrupted: 10 steps (4 batches per epoch, so step 7 is in the middle of epoch 2).
	full, err := Fit(opts(t, 10))
	if err != nil {
		t.Fatal(err)
	}
	// Interrupted after 7 steps, checkpointed, then resumed in a fresh store to 10.
	ck := filepath.Join(dir, "run.ckpt")
	o := opts(t, 7)
	o.Checkpoint = ck
	if _, err := Fit(o); err != nil {
		t.Fatal(err)
	}
	o = opts(t, 10)
	o.Checkpoint, o.Resume = ck, true
	resumed, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	want := full.History.Steps[7:]
	got := resumed.History.Steps[7:]
	if len(got) != len(want) {
		t.Fatalf("resumed history has %d steps after 7, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Step != want[i].Step || got[i].Loss != want[i].Loss {
			t.Errorf("step %d: resumed loss %v, uninterrupted %v", want[i].Step, got[i].Loss, want[i].Loss)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(matches) != 0 {
		t.Errorf("temporary checkpoint files left behind: %v", matches)
	}
}

func TestBadCheckpointAndOptions(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "bad.ckpt")
	if err := os.WriteFile(ck, []byte("convnotes-checkpoint-v1\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := opts(t, 3)
	o.Checkpoint, o.Resume = ck, true
	if _, err := Fit(o); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("corrupt checkpoint: got %v, want ErrCheckpoint", err)
	}
	if err := os.WriteFile(ck, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Fit(o); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("foreign file: got %v, want ErrCheckpoint", err)
	}
	for name, mutate := range map[string]func(*Options){
		"no backend": func(o *Options) { o.Backend = nil },
		"no model":   func(o *Options) { o.Model = nil },
		"no length":  func(o *Options) { o.Steps, o.Epochs = 0, 0 },
		"negative":   func(o *Options) { o.Steps = -1 },
	} {
		o := opts(t, 3)
		mutate(&o)
		if _, err := Fit(o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: got %v, want ErrOptions", name, err)
		}
	}
}

func TestProfiles(t *testing.T) {
	defer SetProfile("")
	settings := ByProfile[int]{Quick: 1, Full: 2}
	paper := 3
	for _, tc := range []struct {
		name          string
		quick, prof   string
		set           Profile
		want          Profile
		pick, setting int
	}{
		{"default is full", "", "", "", ProfileFull, 2, 2},
		{"CONVNOTES_QUICK=1", "1", "", "", ProfileQuick, 1, 1},
		{"CONVNOTES_QUICK=true", "true", "", "", ProfileQuick, 1, 1},
		{"CONVNOTES_PROFILE wins", "1", "paper", "", ProfilePaper, 2, 3},
		{"bad CONVNOTES_PROFILE is full", "", "huge", "", ProfileFull, 2, 2},
		{"SetProfile wins", "1", "quick", ProfileFull, ProfileFull, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvQuick, tc.quick)
			t.Setenv(EnvProfile, tc.prof)
			SetProfile(tc.set)
			settings.Paper = &paper
			if got := CurrentProfile(); got != tc.want {
				t.Fatalf("CurrentProfile() = %q, want %q", got, tc.want)
			}
			if Quick() != (tc.want == ProfileQuick) || Pick(1, 2) != tc.pick {
				t.Errorf("Quick() = %v, Pick = %d", Quick(), Pick(1, 2))
			}
			if got := settings.For(tc.want); got != tc.setting {
				t.Errorf("ByProfile.For(%s) = %d, want %d", tc.want, got, tc.setting)
			}
		})
	}
	if got := (ByProfile[int]{Quick: 1, Full: 2}).For(ProfilePaper); got != 2 {
		t.Errorf("a missing paper setting must fall back to full, got %d", got)
	}
	for _, s := range []string{"quick", " Full ", "PAPER"} {
		if _, err := ParseProfile(s); err != nil {
			t.Errorf("ParseProfile(%q): %v", s, err)
		}
	}
	if _, err := ParseProfile("fast"); err == nil {
		t.Error("ParseProfile accepted an unknown profile")
	}
}

// TestSetLearningRate: a run's learning rate can be set after its first step (and is read back), not before,
// and never to a non-positive or non-finite value.
func TestSetLearningRate(t *testing.T) {
	o := opts(t, 2)
	run, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.SetLearningRate(0.5); err == nil {
		t.Error("set before the first step: no error")
	}
	if err := run.Fit(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if err := run.SetLearningRate(bad); err == nil {
			t.Errorf("learning rate %g accepted", bad)
		}
	}
	if err := run.SetLearningRate(0.25); err != nil {
		t.Fatal(err)
	}
	v, err := run.Variable("/learning_rate")
	if err != nil {
		t.Fatal(err)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	switch got := val.Value().(type) {
	case float32:
		if got != 0.25 {
			t.Errorf("learning rate variable %v, want 0.25", got)
		}
	case float64:
		if got != 0.25 {
			t.Errorf("learning rate variable %v, want 0.25", got)
		}
	default:
		t.Errorf("learning rate variable of type %T", got)
	}
}

func TestArgmaxRows(t *testing.T) {
	for _, tc := range []struct {
		v    []float32
		k    int
		want []int32
	}{
		{[]float32{0, 2, 1, 5, 4, 3}, 3, []int32{1, 0}},
		{[]float32{1, 1, 0, -1, -1, -2}, 3, []int32{0, 0}}, // the first of equal values
		{[]float32{3, 7}, 1, []int32{0, 0}},
		{nil, 4, []int32{}},
		{[]float32{1, 2}, 0, nil},
	} {
		if got := ArgmaxRows(tc.v, tc.k); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ArgmaxRows(%v, %d) = %v, want %v", tc.v, tc.k, got, tc.want)
		}
	}
}
