package alexnet

import (
	"io"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// TestSummaries: the paper's network has 60,965,224 parameters and 659,272 neurons at 227; from 224 conv1 is
// 54×54 and pool5 5×5; torchvision's AlexNet has exactly 61,100,840 parameters.
func TestSummaries(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := Summaries(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		s                    *Summary
		params, neurons      int
		conv1Side, pool5Side int
	}{
		{"paper 227", ss[0], 60_965_224, 659_272, 55, 6},
		{"paper 224", ss[1], 60_965_224 - 9216*4096 + 6400*4096, 0, 54, 5},
		{"torchvision 224", ss[2], 61_100_840, 0, 55, 6},
	}
	for _, tc := range tests {
		if tc.s.Table.TotalParams != tc.params || tc.s.Conv1Side != tc.conv1Side || tc.s.Pool5Side != tc.pool5Side {
			t.Errorf("%s: %d params, conv1 %d, pool5 %d; want %d, %d, %d", tc.name, tc.s.Table.TotalParams,
				tc.s.Conv1Side, tc.s.Pool5Side, tc.params, tc.conv1Side, tc.pool5Side)
		}
		if tc.neurons > 0 && tc.s.Neurons != tc.neurons {
			t.Errorf("%s: %d neurons, want %d", tc.name, tc.s.Neurons, tc.neurons)
		}
	}
}

func TestConvOutSide(t *testing.T) {
	tests := []struct {
		n, k, s, p, want int
		exact            bool
	}{{227, 11, 4, 0, 55, true}, {224, 11, 4, 0, 54, false}, {224, 11, 4, 2, 55, false}, {55, 3, 2, 0, 27, true}}
	for _, tc := range tests {
		if got, exact := ConvOutSide(tc.n, tc.k, tc.s, tc.p); got != tc.want || exact != tc.exact {
			t.Errorf("ConvOutSide(%d,%d,%d,%d) = %d, %v; want %d, %v", tc.n, tc.k, tc.s, tc.p, got, exact, tc.want, tc.exact)
		}
	}
}

// TestLRN: the layer equals the formula, and the formula is right on a hand-computed case.
func TestLRN(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := CheckLRN(b, layers.AlexNetLRN, 30)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxAbsDiff > 1e-5 || c.MaxRelChange < 0.1 || c.PyTorchAlpha != 5e-4 {
		t.Errorf("check %+v: want agreement ≤ 1e-5, a visible normalization, PyTorch alpha 5e-4", c)
	}
	// Three channels 1, 2, 3 with n = 5: every window covers all three, Σa² = 14.
	got := LRNReference([]float32{1, 2, 3}, 1, 1, 1, 3, layers.LRN{K: 2, Alpha: 0.1, Beta: 0.5, Size: 5})
	for i, a := range []float64{1, 2, 3} {
		if want := a / math.Sqrt(2+1.4); math.Abs(float64(got[i])-want) > 1e-6 {
			t.Errorf("channel %d: %g, want %g", i, got[i], want)
		}
	}
}

func TestRunningError(t *testing.T) {
	recs := []train.StepRecord{{Step: 1, Accuracy: 0}, {Step: 2, Accuracy: 0.5}, {Step: 3, Accuracy: 1}, {Step: 4, Accuracy: 1}}
	steps, errs := RunningError(recs, 2)
	want := []float64{1, 0.75, 0.25, 0}
	for i := range want {
		if steps[i] != float64(i+1) || math.Abs(errs[i]-want[i]) > 1e-12 {
			t.Errorf("step %v: error %g, want %g", steps[i], errs[i], want[i])
		}
	}
	if got := EpochsToError(steps, errs, 0.25); got != 3 {
		t.Errorf("steps to 25%%: %g, want 3", got)
	}
	if got := EpochsToError(steps, errs, -1); !math.IsNaN(got) {
		t.Errorf("unreachable threshold: %g, want NaN", got)
	}
}

// TestBestLR: the rate reaching the lowest threshold earliest wins; among runs that reached none, the lowest
// final error.
func TestBestLR(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		runs []*Curve
		want float64
	}{
		{"lower threshold wins", []*Curve{{LR: 0.1, Reached: []float64{1, nan}, Error: []float64{0.2}},
			{LR: 0.01, Reached: []float64{3, 5}, Error: []float64{0.1}}}, 0.01},
		{"earlier wins", []*Curve{{LR: 0.1, Reached: []float64{1, 4}, Error: []float64{0.1}},
			{LR: 0.01, Reached: []float64{2, 6}, Error: []float64{0.1}}}, 0.1},
		{"none reached: final error", []*Curve{{LR: 0.1, Reached: []float64{nan, nan}, Error: []float64{0.9}},
			{LR: 0.01, Reached: []float64{nan, nan}, Error: []float64{0.5}}}, 0.01},
	}
	for _, tc := range tests {
		if got := bestLR(tc.runs, 10); got != tc.want {
			t.Errorf("%s: %g, want %g", tc.name, got, tc.want)
		}
	}
}

// TestFig1NetInit: the Fig. 1 network starts from N(0, 0.01²) weights and zero biases.
func TestFig1NetInit(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(3))
	if _, err := model.CallOnce(b, store, Fig1Net.Model(), tensors.FromShape(shapes.Make(dtypes.Float32, 1, 32, 32, 1))); err != nil {
		t.Fatal(err)
	}
	w, err := train.VariableValues(store, "/stage2/conv/weights")
	if err != nil {
		t.Fatal(err)
	}
	var ss float64
	for _, v := range w {
		ss += v * v
	}
	if std := math.Sqrt(ss / float64(len(w))); math.Abs(std-PaperInitStd) > 0.001 {
		t.Errorf("conv2 weights have standard deviation %g, want %g", std, PaperInitStd)
	}
	bias, err := train.VariableValues(store, "/stage3/conv/biases")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range bias {
		if v != 0 {
			t.Fatalf("conv3 biases %v, want zeros", bias)
		}
	}
}

// TestPoolSides: at 227 both poolings give 27, 13, 6 (§3.4 compares "equivalent" outputs); at 32 they differ.
func TestPoolSides(t *testing.T) {
	tests := []struct {
		cfg  models.AlexNetConfig
		want []int
	}{
		{models.AlexNetPaper, []int{27, 13, 6}},
		{models.AlexNetPaper.WithPool(NonOverlappingPool), []int{27, 13, 6}},
		{models.AlexNetSmall, []int{15, 7, 3}},
		{models.AlexNetSmall.WithPool(NonOverlappingPool), []int{16, 8, 4}},
		{PoolingNet(16, OverlappingPool, false), []int{15, 7, 3}},
		{PoolingNet(16, NonOverlappingPool, false), []int{15, 7, 3}},
	}
	for _, tc := range tests {
		got := PoolSides(tc.cfg)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v, want %v", tc.cfg.Name, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.cfg.Name, got, tc.want)
				break
			}
		}
	}
}

// TestAugmentation: 2048, an exact eigen-decomposition with decreasing eigenvalues, and patches of 224.
func TestAugmentation(t *testing.T) {
	d, err := Augmentation(1)
	if err != nil {
		t.Skipf("sample photos: %v", err)
	}
	e := d.PCA.Eigenvalues
	if d.Factor != 2048 || d.Distinct != 2178 || d.Residual > 1e-9 || !(e[0] >= e[1] && e[1] >= e[2] && e[2] > 0) {
		t.Errorf("factor %d, distinct %d, residual %g, eigenvalues %v", d.Factor, d.Distinct, d.Residual, e)
	}
	if len(d.TenCrop) != 10 || d.Crops[0].H != 224 || len(d.Coloured) != len(d.Alphas) {
		t.Errorf("%d ten-crop patches, crop side %d", len(d.TenCrop), d.Crops[0].H)
	}
	again, err := Augmentation(1)
	if err != nil {
		t.Fatal(err)
	}
	if again.CropSpecs[3] != d.CropSpecs[3] || again.Alphas[2] != d.Alphas[2] {
		t.Error("the same seed gave different augmentations")
	}
}

// TestCropFlipBatches: patches have the crop's size, are deterministic per epoch and differ between epochs.
func TestCropFlipBatches(t *testing.T) {
	im := &data.Images{Name: "ramp", N: 8, H: 6, W: 6, C: 1, Pixels: make([]float32, 8*36), Labels: make([]int32, 8)}
	for i := range im.Pixels {
		im.Pixels[i] = float32(i)
	}
	first := func(epoch int) []float32 {
		t.Helper()
		ds := newCropFlipBatches(im, 4, 4, 3)
		ds.SetEpoch(epoch)
		for batch, err := range ds.Iter() {
			if err != nil {
				t.Fatal(err)
			}
			if d := batch.Inputs[0].Shape().Dimensions; d[0] != 4 || d[1] != 4 || d[2] != 4 || d[3] != 1 {
				t.Fatalf("batch shape %v", d)
			}
			v := batch.Inputs[0].Value().([][][][]float32)
			var out []float32
			for _, row := range v[0] {
				for _, px := range row {
					out = append(out, px...)
				}
			}
			batch.Finalize()
			return out
		}
		return nil
	}
	a, b, c := first(0), first(0), first(1)
	same := func(x, y []float32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("epoch 0 differs between two datasets with the same seed")
	}
	if same(a, c) {
		t.Error("epochs 0 and 1 gave the same first patch")
	}
}

// TestPaperProfileWiring: the paper profile of ReLU-vs-tanh is Fig. 1's setting (all the data, batch 128,
// 35 epochs, 25%), and the study runs with it (shortened to a few images and one epoch).
func TestPaperProfileWiring(t *testing.T) {
	p := ReLUTanhConfig.For(train.ProfilePaper)
	if p.TrainN != 0 || p.BatchSize != 128 || p.Epochs != 35 || len(p.Thresholds) != 1 || p.Thresholds[0] != PaperThreshold {
		t.Errorf("paper profile %+v", p)
	}
	for _, s := range []ReLUTanhSetup{ReLUTanhConfig.Quick, ReLUTanhConfig.Full, p} {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
	if full := ReLUTanhConfig.For(train.ProfileFull); len(full.Seeds) < 3 {
		t.Errorf("full profile runs %d seeds, want at least 3", len(full.Seeds))
	}
	if bad := (ReLUTanhSetup{BatchSize: 1, Epochs: 1, Window: 1, LRs: []float64{1}, Seeds: []int64{1}, TuneSeed: 1,
		Thresholds: []float64{0.5}}); bad.Validate() == nil {
		t.Error("a tuning seed among the evaluation seeds was accepted")
	}
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	p.TrainN, p.Epochs, p.BatchSize, p.LRs, p.Seeds, p.Window = 256, 1, 32, []float64{0.01}, []int64{1}, 2
	env := &reproduce.Env{Backend: b, OutDir: t.TempDir(), Profile: train.ProfilePaper, Progress: io.Discard, Log: io.Discard}
	r, err := ReLUTanh(env, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Units) != 2 || len(r.Units[1].Runs) != 1 || len(r.Units[0].Tuning) != 1 || len(r.Speedup) != 1 ||
		(r.Dataset != data.DatasetCIFAR10 && r.Dataset != data.DatasetFashionMNIST) {
		t.Errorf("units %d, speed-ups %d, dataset %q", len(r.Units), len(r.Speedup), r.Dataset)
	}
	if _, err := r.Figures(); err != nil {
		t.Error(err)
	}
}

// TestPoolingSeedsPair: the pooling study pairs the two schemes seed by seed, and a seed reruns exactly.
func TestPoolingSeedsPair(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	env := &reproduce.Env{Backend: b, OutDir: t.TempDir(), Profile: train.ProfileQuick, Quick: true, Progress: io.Discard, Log: io.Discard}
	s := PoolingConfig.Quick
	s.TrainN, s.TestN, s.Epochs, s.Seeds = 128, 100, 1, []int64{1, 2}
	a, err := Pooling(env, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.TestDiff.Values) != 2 || a.TestDiff.Values[0] != a.Arms[1].Runs[0].TestErr-a.Arms[0].Runs[0].TestErr {
		t.Errorf("test-error differences %v do not pair the runs", a.TestDiff.Values)
	}
	s.Seeds = []int64{1}
	again, err := Pooling(env, s)
	if err != nil {
		t.Fatal(err)
	}
	if again.Arms[0].Runs[0].TestErr != a.Arms[0].Runs[0].TestErr {
		t.Errorf("seed 1 gave %g then %g", a.Arms[0].Runs[0].TestErr, again.Arms[0].Runs[0].TestErr)
	}
}

// TestQuickProfile runs notebook 05's reproductions in the quick profile, as CI does.
func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
