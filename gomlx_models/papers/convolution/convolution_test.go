package convolution

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

func testBackend(t *testing.T) compute.Backend { return reprotest.Backend(t) }

func TestSizeFormulas(t *testing.T) {
	for _, tc := range []struct {
		n, f, s             int
		valid, same, padded int // padded: with SAME's padding
	}{
		{7, 3, 1, 5, 7, 7},
		{7, 3, 2, 3, 4, 4},
		{6, 3, 2, 2, 3, 3},
		{28, 5, 1, 24, 28, 28},
		{227, 11, 4, 55, 57, 57},
		{4, 2, 2, 2, 2, 2},
		{3, 5, 1, 0, 3, 3}, // the kernel does not fit without padding
		{1, 1, 4, 1, 1, 1},
	} {
		pb, pa := layers.SamePads(tc.f)
		if got := layers.ValidSize(tc.n, tc.f, tc.s); got != tc.valid {
			t.Errorf("layers.ValidSize(%d,%d,%d) = %d, want %d", tc.n, tc.f, tc.s, got, tc.valid)
		}
		if got := layers.SameSize(tc.n, tc.s); got != tc.same {
			t.Errorf("layers.SameSize(%d,%d) = %d, want %d", tc.n, tc.s, got, tc.same)
		}
		if got := layers.PaddedSize(tc.n, tc.f, tc.s, pb, pa); got != tc.padded {
			t.Errorf("layers.PaddedSize(%d,%d,%d,%d,%d) = %d, want %d", tc.n, tc.f, tc.s, pb, pa, got, tc.padded)
		}
		if got := layers.PaddedSize(tc.n, tc.f, tc.s, 0, 0); got != tc.valid {
			t.Errorf("layers.PaddedSize(%d,%d,%d,0,0) = %d, want the VALID size %d", tc.n, tc.f, tc.s, got, tc.valid)
		}
	}
}

// TestOutputSizeGridAgrees is the check: over the whole grid (n 1..32, f 1..7, s 1..4, both paddings)
// the formulas and the executed convolutions agree in every case.
func TestOutputSizeGridAgrees(t *testing.T) {
	g, err := OutputSizeGrid(testBackend(t), 32, 7, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != 32*7*4*2 {
		t.Fatalf("%d cases, want %d", len(g.Cases), 32*7*4*2)
	}
	for _, c := range g.Disagreements() {
		t.Errorf("disagreement: %+v", c)
	}
	// VALID with f > n: Σ_{f=2..7} (f−1) values of n below f, times 4 strides.
	if want := (1 + 2 + 3 + 4 + 5 + 6) * 4; g.Refused != want {
		t.Errorf("%d refused cases, want %d", g.Refused, want)
	}
	var buf bytes.Buffer
	if err := g.WriteTable(&buf, func(c SizeCase) bool { return c.N == 7 && c.F == 3 }); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != 1+4*2 {
		t.Errorf("table excerpt has %d lines, want 9:\n%s", lines, buf.String())
	}
	if _, err := g.Figure(3); err != nil {
		t.Error(err)
	}
	if _, err := g.Figure(99); err == nil {
		t.Error("Figure(99) did not fail")
	}
}

func TestSizeCaseAgrees(t *testing.T) {
	ok := SizeCase{Formula: 3, Padded: 3, Native: 3, Fast: 3, NativeW: 3, FastW: 3}
	for _, tc := range []struct {
		name string
		mod  func(*SizeCase)
		want bool
	}{
		{"all equal", func(*SizeCase) {}, true},
		{"engine differs", func(c *SizeCase) { c.Native = 4 }, false},
		{"fast differs", func(c *SizeCase) { c.Fast = 2 }, false},
		{"padded differs", func(c *SizeCase) { c.Padded = 2 }, false},
		{"width differs", func(c *SizeCase) { c.NativeW = 2 }, false},
	} {
		c := ok
		tc.mod(&c)
		if got := c.Agrees(); got != tc.want {
			t.Errorf("%s: Agrees() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestConnectivity(t *testing.T) {
	cases, err := Connectivity(testBackend(t), ConnectivityCases)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{ // conv, dense parameters by hand
		"notes: 32×32×3 → 28×28×6": {5*5*3*6 + 6, 3072*4704 + 4704},
		"LeNet-5 C1":               {156, 1024*4704 + 4704},
		"DevNet conv1":             {5*5*8 + 8, 784*4608 + 4608},
		"DevNet conv2":             {9*8*16 + 16, 1152*1600 + 1600},
		"AlexNet conv1":            {34_944, 154_587*290_400 + 290_400},
	}
	for _, c := range cases {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected case %q", c.Name)
			continue
		}
		if c.ConvParams != w[0] || c.ConvMeasured != w[0] {
			t.Errorf("%s: conv params %d (measured %d), want %d", c.Name, c.ConvParams, c.ConvMeasured, w[0])
		}
		if c.DenseParams != w[1] || (c.DenseMeasured >= 0 && c.DenseMeasured != w[1]) {
			t.Errorf("%s: dense params %d (measured %d), want %d", c.Name, c.DenseParams, c.DenseMeasured, w[1])
		}
	}
	if cases[0].DenseMeasured < 0 || cases[0].WeightUses != 28*28 || cases[0].ConvInputsPerUnit != 75 {
		t.Errorf("notes case: %+v", cases[0])
	}
	if cases[4].OutH != 55 || cases[4].DenseMeasured != -1 {
		t.Errorf("AlexNet conv1: %+v", cases[4])
	}
	if err := WriteConnectivity(io.Discard, cases); err != nil {
		t.Error(err)
	}
	if _, err := Connectivity(testBackend(t), []ConnectivityCase{{Name: "too big", InH: 3, InW: 3, InC: 1, Kernel: 5, Filters: 1}}); err == nil {
		t.Error("a kernel larger than the input was accepted")
	}
}

func TestReceptiveFields(t *testing.T) {
	b := testBackend(t)
	for _, tc := range []struct {
		name  string
		stack []RFLayer
		n     int
		sizes []int
	}{
		{"DevNet", models.DevNet.Windows(), 28, []int{5, 6, 10, 12}},
		{"two 3×3", []RFLayer{{Name: "a", Kernel: 3, Stride: 1}, {Name: "b", Kernel: 3, Stride: 1}}, 9, []int{3, 5}},
		{"strided", []RFLayer{{Name: "a", Kernel: 3, Stride: 2}, {Name: "b", Kernel: 3, Stride: 2}, {Name: "c", Kernel: 3, Stride: 1}}, 17, []int{3, 7, 15}},
	} {
		fields, err := ReceptiveFields(b, tc.stack, tc.n)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for i, f := range fields {
			if f.Size != tc.sizes[i] || f.Measured != tc.sizes[i] {
				t.Errorf("%s layer %d: size %d measured %d, want %d", tc.name, i, f.Size, f.Measured, tc.sizes[i])
			}
		}
	}
	// Two 3×3 convs: the centre pixel is reached by 9 paths, a corner of the 5×5 field by 1.
	fields, err := ReceptiveFields(b, []RFLayer{{Name: "a", Kernel: 3, Stride: 1}, {Name: "b", Kernel: 3, Stride: 1}}, 9)
	if err != nil {
		t.Fatal(err)
	}
	f := fields[1]
	if c, corner := f.Paths[f.Top+2][f.Left+2], f.Paths[f.Top][f.Left]; c != 9 || corner != 1 {
		t.Errorf("paths: centre %g corner %g, want 9 and 1", c, corner)
	}
	if _, _, err := ReceptiveFieldFigures(fields); err != nil {
		t.Error(err)
	}
	if _, err := ReceptiveFields(b, nil, 9); err == nil {
		t.Error("empty stack accepted")
	}
}

func TestPooling(t *testing.T) {
	b := testBackend(t)
	for _, tc := range []struct {
		name     string
		in       [][]float64
		k, s     int
		max, avg [][]float64
	}{
		{"notes 4×4", PoolingInput, 2, 2, [][]float64{{9, 2}, {6, 3}}, [][]float64{{3.75, 1.25}, {3.75, 2}}},
		{"notes 5×5 overlapping", PoolingOverlapInput, 3, 1,
			[][]float64{{9, 9, 5}, {9, 9, 5}, {8, 6, 9}}, nil},
	} {
		ex, err := Pooling(b, tc.in, tc.k, tc.s)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if d := reproduce.MaxAbsDiff(ex.Max, tc.max); d > 0 {
			t.Errorf("%s: max pool %v, want %v", tc.name, ex.Max, tc.max)
		}
		if tc.avg != nil && reproduce.MaxAbsDiff(ex.Avg, tc.avg) > 1e-6 {
			t.Errorf("%s: avg pool %v, want %v", tc.name, ex.Avg, tc.avg)
		}
		if ex.MaxAbsDiff > 1e-5 || !ex.PerChannelIdentical {
			t.Errorf("%s: engine vs loop %g, per channel %v", tc.name, ex.MaxAbsDiff, ex.PerChannelIdentical)
		}
		if !strings.Contains(ex.String(), "max pool") {
			t.Errorf("%s: String() = %q", tc.name, ex.String())
		}
	}
	if _, err := Pooling(b, PoolingInput, 5, 1); err == nil {
		t.Error("a window larger than the input was accepted")
	}
	if _, err := Pooling(b, [][]float64{{1, 2}, {3}}, 1, 1); err == nil {
		t.Error("a ragged input was accepted")
	}
}

func TestDevNetSummary(t *testing.T) {
	tab, err := Summary(testBackend(t), models.DevNet, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	// conv1 5·5·8+8, conv2 3·3·8·16+16, fc1 400·64+64, logits 64·10+10.
	if want := 208 + 1_168 + 25_664 + 650; tab.TotalParams != want {
		t.Errorf("DevNet has %d parameters, want %d\n%s", tab.TotalParams, want, tab)
	}
	// MACs: conv1 24·24·8·25, conv2 10·10·16·72, fc 400·64 + 64·10.
	if want := int64(24*24*8*25 + 10*10*16*72 + 400*64 + 640); tab.TotalMACs != want {
		t.Errorf("DevNet MACs %d, want %d", tab.TotalMACs, want)
	}
	if _, err := Summary(testBackend(t),
		models.ConvNet{Stages: []models.ConvStage{{Filters: 4, Kernel: 9, Padding: layers.Valid}}, Classes: 2}, 5, 5, 1); err == nil {
		t.Error("a 9×9 kernel on a 5×5 image was accepted")
	}
}

// TestDevNetTrainsAndRestores trains models.DevNet for a few steps, restores it from its checkpoint and draws its figures.
func TestDevNetTrainsAndRestores(t *testing.T) {
	env := &reproduce.Env{Backend: testBackend(t), OutDir: t.TempDir(), Profile: train.ProfileQuick, Quick: true, Progress: io.Discard, Log: io.Discard}
	c := DevNetStudy.For(env.Profile).Recipe
	c.TrainN, c.TestN, c.Steps, c.EvalEvery = 640, 200, 5, 0
	ckpt := env.Path("devnet.ckpt")
	fit, err := c.FitCached(env.Backend, env.Progress, ckpt, true)
	if err != nil {
		t.Skipf("no dataset: %v", err)
	}
	// A second call restores the checkpoint instead of training.
	again, err := c.FitCached(env.Backend, env.Progress, ckpt, false)
	if err != nil {
		t.Fatal(err)
	}
	if again.Run.Step() != 5 || len(again.Run.History.Steps) != len(fit.Run.History.Steps) {
		t.Errorf("restored run: step %d, %d records; want 5 and %d", again.Run.Step(), len(again.Run.History.Steps),
			len(fit.Run.History.Steps))
	}
	lossFig, accFig, err := LearningCurves(again.Run, "test")
	if err != nil || lossFig == nil || accFig == nil {
		t.Errorf("LearningCurves: %v", err)
	}
	if _, err := FilterGrid(again.Run, "/stage1/conv/weights", "filters"); err != nil {
		t.Error(err)
	}
	figs, err := FeatureMaps(again.Run, models.DevNet, again.Test, 0, []string{"stage2/conv", "stage1/conv"}, 4)
	if err != nil || len(figs) != 2 {
		t.Errorf("FeatureMaps: %d figures, %v", len(figs), err)
	}
	if _, err := FeatureMaps(again.Run, models.DevNet, again.Test, 0, []string{"nope"}, 4); err == nil {
		t.Error("FeatureMaps accepted an unknown layer")
	}
}

// TestLeNet5: the table is LeNet-5's layout (61,706 parameters with a full C3) and RunSeeds trains one run per
// seed, a seed rerunning exactly.
func TestLeNet5(t *testing.T) {
	tab, err := Summary(testBackend(t), models.LeNet5, 32, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	// C1 5·5·6+6, C3 5·5·6·16+16, C5 5·5·16·120+120, F6 120·84+84, output 84·10+10.
	if want := 156 + 2_416 + 48_120 + 10_164 + 850; tab.TotalParams != want {
		t.Errorf("LeNet-5 has %d parameters, want %d\n%s", tab.TotalParams, want, tab)
	}
	env := &reproduce.Env{Backend: testBackend(t), OutDir: t.TempDir(), Profile: train.ProfileQuick, Quick: true, Progress: io.Discard, Log: io.Discard}
	s := LeNet5Study.Quick
	s.Recipe.TrainN, s.Recipe.TestN, s.Recipe.Epochs, s.Recipe.Steps, s.Seeds = 256, 100, 0, 4, []int64{1, 2}
	r, err := RunSeeds(env, s, nil, false)
	if err != nil {
		t.Skipf("no MNIST: %v", err)
	}
	if len(r.Fits) != 2 || len(r.TestErr.Values) != 2 || r.Fits[0].Train.H != 32 {
		t.Fatalf("%d runs, %d values, %d px", len(r.Fits), len(r.TestErr.Values), r.Fits[0].Train.H)
	}
	s.Seeds = []int64{1}
	again, err := RunSeeds(env, s, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if again.TestErr.Values[0] != r.TestErr.Values[0] {
		t.Errorf("seed 1 gave %g%% then %g%%", r.TestErr.Values[0], again.TestErr.Values[0])
	}
	if res := LeNet5Result(env, r, nil); res.Judgement.Verdict == "" || !res.Judgement.Indicative {
		t.Errorf("LeNet-5 row %+v", res.Judgement)
	}
}

// TestQuickProfile runs notebook 03's reproductions in the quick profile, as CI does.
func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
