package data

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// toyImages returns n 2×2×1 images whose pixels all equal the example index, labelled i%3.
func toyImages(n int) *Images {
	im := &Images{Name: "toy", N: n, H: 2, W: 2, C: 1, Classes: []string{"a", "b", "c"},
		Pixels: make([]float32, n*4), Labels: make([]int32, n)}
	for i := range n {
		for j := range 4 {
			im.Pixels[i*4+j] = float32(i)
		}
		im.Labels[i] = int32(i % 3)
	}
	return im
}

// epoch runs one Iter and returns the example ids in order, the batch input shapes and label
// shapes, checking that labels match the examples.
func epoch(t *testing.T, b *Batches) (ids []int, inDims, lblDims [][]int) {
	t.Helper()
	for batch, err := range b.Iter() {
		if err != nil {
			t.Fatal(err)
		}
		in, lbl := batch.Inputs[0], batch.Labels[0]
		inDims = append(inDims, in.Shape().Dimensions)
		lblDims = append(lblDims, lbl.Shape().Dimensions)
		px := tensors.MustCopyFlatData[float32](in)
		ls := tensors.MustCopyFlatData[int32](lbl)
		sz := len(px) / len(ls)
		for j, l := range ls {
			id := int(px[j*sz])
			if int32(id%3) != l {
				t.Fatalf("example %d carries label %d", id, l)
			}
			ids = append(ids, id)
		}
		if err := batch.Finalize(); err != nil {
			t.Fatal(err)
		}
	}
	return ids, inDims, lblDims
}

func TestBatches(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		cfg         BatchConfig
		wantBatches int
		wantIn      [][]int
		wantLbl     [][]int
	}{
		{"in order, ragged last", 10, BatchConfig{BatchSize: 4}, 3,
			[][]int{{4, 2, 2, 1}, {4, 2, 2, 1}, {2, 2, 2, 1}}, [][]int{{4, 1}, {4, 1}, {2, 1}}},
		{"drop last", 10, BatchConfig{BatchSize: 4, DropLast: true, Shuffle: true, Seed: 3}, 2,
			[][]int{{4, 2, 2, 1}, {4, 2, 2, 1}}, [][]int{{4, 1}, {4, 1}}},
		{"exact multiple, drop last keeps all", 8, BatchConfig{BatchSize: 4, DropLast: true}, 2,
			[][]int{{4, 2, 2, 1}, {4, 2, 2, 1}}, [][]int{{4, 1}, {4, 1}}},
		{"flatten", 5, BatchConfig{BatchSize: 5, Flatten: true}, 1, [][]int{{5, 4}}, [][]int{{5, 1}}},
		{"max batches", 10, BatchConfig{BatchSize: 3, MaxBatches: 2, Shuffle: true}, 2,
			[][]int{{3, 2, 2, 1}, {3, 2, 2, 1}}, [][]int{{3, 1}, {3, 1}}},
		{"max batches above count", 10, BatchConfig{BatchSize: 6, MaxBatches: 5}, 2,
			[][]int{{6, 2, 2, 1}, {4, 2, 2, 1}}, [][]int{{6, 1}, {4, 1}}},
		{"batch larger than data", 3, BatchConfig{BatchSize: 8}, 1, [][]int{{3, 2, 2, 1}}, [][]int{{3, 1}}},
		{"batch larger than data, drop last", 3, BatchConfig{BatchSize: 8, DropLast: true}, 0, nil, nil},
		{"empty dataset", 0, BatchConfig{BatchSize: 2}, 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatches(toyImages(tc.n), tc.cfg)
			if got := b.NumBatches(); got != tc.wantBatches {
				t.Errorf("NumBatches = %d, want %d", got, tc.wantBatches)
			}
			if b.NumExamples() != tc.n || b.Name() != "toy" {
				t.Errorf("NumExamples = %d, Name = %q", b.NumExamples(), b.Name())
			}
			ids, in, lbl := epoch(t, b)
			if !slices.EqualFunc(in, tc.wantIn, slices.Equal) || !slices.EqualFunc(lbl, tc.wantLbl, slices.Equal) {
				t.Errorf("shapes in=%v labels=%v, want %v %v", in, lbl, tc.wantIn, tc.wantLbl)
			}
			// No example twice within an epoch; all of them when nothing is dropped or capped.
			seen := map[int]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("example %d served twice in one epoch: %v", id, ids)
				}
				seen[id] = true
			}
			if !tc.cfg.DropLast && tc.cfg.MaxBatches == 0 && len(seen) != tc.n {
				t.Errorf("saw %d distinct examples, want %d", len(seen), tc.n)
			}
			if !tc.cfg.Shuffle && !slices.IsSorted(ids) {
				t.Errorf("unshuffled order %v", ids)
			}
		})
	}
}

func TestBatchesShuffle(t *testing.T) {
	cfg := BatchConfig{BatchSize: 7, Shuffle: true, Seed: 42}
	a, b := NewBatches(toyImages(50), cfg), NewBatches(toyImages(50), cfg)
	a0, _, _ := epoch(t, a)
	a1, _, _ := epoch(t, a)
	b0, _, _ := epoch(t, b)
	b1, _, _ := epoch(t, b)
	if !slices.Equal(a0, b0) || !slices.Equal(a1, b1) {
		t.Error("same seed gave different orders")
	}
	if slices.Equal(a0, a1) {
		t.Error("epoch 1 repeats epoch 0's order")
	}
	for _, ids := range [][]int{a0, a1} {
		want := make([]int, 50)
		for i := range want {
			want[i] = i
		}
		if s := slices.Sorted(slices.Values(ids)); !slices.Equal(s, want) {
			t.Errorf("epoch did not serve every example exactly once: %v", s)
		}
		if slices.IsSorted(ids) {
			t.Error("shuffled epoch is in order")
		}
	}
	c := NewBatches(toyImages(50), BatchConfig{BatchSize: 7, Shuffle: true, Seed: 43})
	if c0, _, _ := epoch(t, c); slices.Equal(a0, c0) {
		t.Error("different seeds gave the same order")
	}
	// Resuming at epoch 1 reproduces epoch 1.
	d := NewBatches(toyImages(50), cfg)
	d.SetEpoch(1)
	if d1, _, _ := epoch(t, d); !slices.Equal(d1, a1) || d.Epoch() != 2 {
		t.Errorf("SetEpoch(1) gave %v, want %v (epoch now %d)", d1, a1, d.Epoch())
	}
}

func TestBatchesEarlyStopAndErrors(t *testing.T) {
	b := NewBatches(toyImages(10), BatchConfig{BatchSize: 2})
	count := 0
	for batch, err := range b.Iter() {
		if err != nil {
			t.Fatal(err)
		}
		_ = batch.Finalize()
		count++
		if count == 2 {
			break
		}
	}
	if count != 2 {
		t.Errorf("got %d batches before break", count)
	}
	bad := toyImages(3)
	bad.Labels = bad.Labels[:2]
	tests := []struct {
		name string
		b    *Batches
	}{
		{"nil images", NewBatches(nil, BatchConfig{BatchSize: 1})},
		{"zero batch size", NewBatches(toyImages(3), BatchConfig{})},
		{"negative max batches", NewBatches(toyImages(3), BatchConfig{BatchSize: 1, MaxBatches: -1})},
		{"inconsistent images", NewBatches(bad, BatchConfig{BatchSize: 1})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.b.NumBatches() != 0 {
				t.Errorf("NumBatches = %d for an invalid config", tc.b.NumBatches())
			}
			n := 0
			for _, err := range tc.b.Iter() {
				n++
				if err == nil {
					t.Fatal("invalid config yielded a batch")
				}
			}
			if n != 1 {
				t.Errorf("yielded %d items, want 1 error", n)
			}
		})
	}
}

func TestPermutation(t *testing.T) {
	// Pinned so a change of algorithm (which would silently change every experiment's data order)
	// fails loudly.
	if got, want := Permutation(10, 42, 0), []int{6, 2, 5, 3, 4, 7, 0, 1, 9, 8}; !slices.Equal(got, want) {
		t.Errorf("Permutation(10, 42, 0) = %v, want %v", got, want)
	}
	for _, n := range []int{0, 1, 2, 17, 1000} {
		for stream := range 3 {
			p := Permutation(n, 7, stream)
			if s := slices.Sorted(slices.Values(p)); len(s) != n || (n > 0 && (s[0] != 0 || s[n-1] != n-1)) {
				t.Fatalf("Permutation(%d) = %v is not a permutation", n, p)
			}
			if !slices.Equal(slices.Compact(slices.Sorted(slices.Values(p))), slices.Sorted(slices.Values(p))) {
				t.Fatalf("Permutation(%d) repeats values", n)
			}
		}
	}
}

func TestImagesMethods(t *testing.T) {
	im := toyImages(20)
	if got := im.Image(3); len(got) != 4 || got[0] != 3 {
		t.Errorf("Image(3) = %v", got)
	}
	for _, i := range []int{-1, 20} {
		if im.Image(i) != nil {
			t.Errorf("Image(%d) not nil", i)
		}
	}
	subsets := []struct{ n, want int }{{5, 5}, {0, 0}, {-3, 0}, {50, 20}}
	for _, tc := range subsets {
		s := im.Subset(tc.n)
		if s.N != tc.want || len(s.Labels) != tc.want || len(s.Pixels) != 4*tc.want {
			t.Errorf("Subset(%d): N=%d, %d labels, %d pixels", tc.n, s.N, len(s.Labels), len(s.Pixels))
		}
	}
	if im.Subset(5).Image(4)[0] != 4 || im.N != 20 {
		t.Error("Subset changed the data or its receiver")
	}

	splits := []struct{ nVal, wantVal int }{{5, 5}, {0, 0}, {20, 20}, {99, 20}, {-1, 0}}
	for _, tc := range splits {
		tr, va := im.SplitValidation(tc.nVal, 1)
		tr2, va2 := im.SplitValidation(tc.nVal, 1)
		if va.N != tc.wantVal || tr.N != 20-tc.wantVal {
			t.Fatalf("SplitValidation(%d): %d train, %d val", tc.nVal, tr.N, va.N)
		}
		if !slices.Equal(va.Pixels, va2.Pixels) || !slices.Equal(tr.Labels, tr2.Labels) {
			t.Errorf("SplitValidation(%d) not deterministic", tc.nVal)
		}
		all := map[float32]bool{}
		for _, part := range []*Images{tr, va} {
			for i := range part.N {
				id := part.Image(i)[0]
				if all[id] || part.Labels[i] != int32(id)%3 {
					t.Fatalf("example %v duplicated or mislabelled", id)
				}
				all[id] = true
			}
		}
		if len(all) != 20 {
			t.Errorf("split covers %d examples", len(all))
		}
	}
	_, v1 := im.SplitValidation(5, 1)
	_, v2 := im.SplitValidation(5, 2)
	if slices.Equal(v1.Pixels, v2.Pixels) {
		t.Error("different seeds gave the same validation set")
	}
	if v1.Name != "toy/val" {
		t.Errorf("val name %q", v1.Name)
	}

	mean, std := im.MeanStd() // ids 0..19: mean 9.5, population std sqrt((20²-1)/12)
	if mean != 9.5 || std < 5.766 || std > 5.767 {
		t.Errorf("MeanStd = %v, %v", mean, std)
	}
	norm := im.Normalize(mean, std)
	if m, s := norm.MeanStd(); m > 1e-6 || m < -1e-6 || s < 0.9999 || s > 1.0001 {
		t.Errorf("normalized MeanStd = %v, %v", m, s)
	}
	if im.Pixels[5] != 1 {
		t.Error("Normalize modified its receiver")
	}
	for _, badStd := range []float32{0, -1, float32(math.NaN())} {
		if got := im.Normalize(1, badStd).Pixels[4]; got != 0 {
			t.Errorf("Normalize(1, %v) pixel 4 = %v, want 0", badStd, got)
		}
	}
	if m, s := toyImages(0).MeanStd(); m != 0 || s != 0 {
		t.Errorf("empty MeanStd = %v, %v", m, s)
	}
	if Train.String() != "train" || Test.String() != "test" || Split(5).String() != "Split(5)" {
		t.Error("Split.String")
	}
}

// TestBatchesAugment: the augmentation sees each batch's pixels and dimensions, its changes reach the batch,
// and the data set itself is left unchanged.
func TestBatchesAugment(t *testing.T) {
	im := toyImages(10)
	orig := slices.Clone(im.Pixels)
	var calls [][4]int
	b := NewBatches(im, BatchConfig{BatchSize: 4, Augment: func(pixels []float32, n, h, w, c int) error {
		calls = append(calls, [4]int{n, h, w, c})
		for i := range pixels {
			pixels[i] += 100
		}
		return nil
	}})
	for batch, err := range b.Iter() {
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range tensors.MustCopyFlatData[float32](batch.Inputs[0]) {
			if v < 100 {
				t.Fatalf("an un-augmented pixel %g reached the batch", v)
			}
		}
	}
	if want := [][4]int{{4, 2, 2, 1}, {4, 2, 2, 1}, {2, 2, 2, 1}}; !slices.Equal(calls, want) {
		t.Errorf("augment calls %v, want %v", calls, want)
	}
	if !slices.Equal(im.Pixels, orig) {
		t.Error("augmentation changed the data set")
	}
}

// TestBatchesAugmentError: an augmentation error ends the epoch with that error, naming the batch.
func TestBatchesAugmentError(t *testing.T) {
	boom := errors.New("boom")
	b := NewBatches(toyImages(10), BatchConfig{BatchSize: 4, Augment: func([]float32, int, int, int, int) error { return boom }})
	n := 0
	for _, err := range b.Iter() {
		n++
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "batch 0") {
			t.Errorf("got %v, want the augmentation's error for batch 0", err)
		}
	}
	if n != 1 {
		t.Errorf("%d items after an augmentation error, want 1", n)
	}
}
