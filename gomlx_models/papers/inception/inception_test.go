package inception

import (
	"math"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/gomlx/compute"
)

func goBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }

// TestDepth: 47 convolutions on the longest path (stem 5, 3×3 per 35×35 module, 3 in ReductionA, 5 per 17×17
// module, 4 in ReductionB, 3 per 8×8 module) plus the dense layer: 48, Keras's documented depth.
func TestDepth(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cfg         models.InceptionV3Config
		total, conv int
	}{
		{"ImageNet top", models.InceptionV3ImageNet, 48, 47},
		{"nsfwjs head", models.InceptionV3NSFWJS, 50, 47},
	} {
		total, conv, per := Depth(models.InceptionV3Modules, tc.cfg)
		if total != tc.total || conv != tc.conv || len(per) != 12 {
			t.Errorf("%s: depth %d (%d convs, %d modules), want %d (%d, 12)", tc.name, total, conv, len(per), tc.total, tc.conv)
		}
	}
}

func TestFactorizations(t *testing.T) {
	rs, err := MeasureFactorizations(goBackend(t), Factorizations)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		saving float64
		rf     [2]int
	}{{0.28, [2]int{5, 5}}, {1.0 / 3, [2]int{3, 3}}, {1.0 / 9, [2]int{3, 3}}, {1 - 14.0/49, [2]int{7, 7}}}
	for i, r := range rs {
		if math.Abs(r.Saving-want[i].saving) > 1e-9 || math.Abs(r.Analytic-want[i].saving) > 1e-9 {
			t.Errorf("%s: saving %.4f (analytic %.4f), want %.4f", r.Name, r.Saving, r.Analytic, want[i].saving)
		}
		if r.OriginalRF != want[i].rf || r.StackRF != want[i].rf {
			t.Errorf("%s: receptive fields %v and %v, want %v", r.Name, r.OriginalRF, r.StackRF, want[i].rf)
		}
	}
}

func TestGradientRF(t *testing.T) {
	for _, tc := range []struct {
		ks   []Kernel
		want [2]int
	}{
		{[]Kernel{{3, 3}}, [2]int{3, 3}},
		{[]Kernel{{3, 3}, {3, 3}, {3, 3}}, [2]int{7, 7}},
		{[]Kernel{{1, 7}}, [2]int{1, 7}},
	} {
		got, err := GradientRF(goBackend(t), tc.ks, 15)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%v: %v, want %v", tc.ks, got, tc.want)
		}
	}
}

// TestReductions: at 35×35×320 the pool-first variant costs 17²·9·320·640, expand-first 35²·9·320·640, the
// parallel block 17²·9·320·320; pooling first narrows the representation to 17²·320.
func TestReductions(t *testing.T) {
	rs, err := MeasureReductions(goBackend(t), 35, 320)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		macs     int64
		smallest int
	}{{17 * 17 * 9 * 320 * 640, 17 * 17 * 320}, {35 * 35 * 9 * 320 * 640, 17 * 17 * 640}, {17 * 17 * 9 * 320 * 320, 17 * 17 * 640}}
	for i, w := range want {
		r := rs[i]
		if r.MACs != w.macs || r.Smallest != w.smallest || r.OutputGrid != 17 || r.OutputC != 640 {
			t.Errorf("%s: %d MACs, narrowest %d, output %d×%d, want %d, %d, 17×640", r.Name, r.MACs, r.Smallest, r.OutputGrid, r.OutputC, w.macs, w.smallest)
		}
	}
	if last := rs[3]; last.OutputGrid != 17 || last.OutputC != 768 {
		t.Errorf("ReductionA: output %d×%d, want 17×768", last.OutputGrid, last.OutputC)
	}
}

func TestSmoothedTargets(t *testing.T) {
	q := SmoothedTargets(2, 4, 0.1)
	want := []float64{0.025, 0.025, 0.925, 0.025}
	for i := range q {
		if math.Abs(q[i]-want[i]) > 1e-15 {
			t.Fatalf("q' = %v, want %v", q, want)
		}
	}
	// ε = 0 is the ordinary cross-entropy: −log softmax(l)_y.
	l := []float64{1, 2, 3}
	ce := -(3 - math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)))
	if got := SmoothedCrossEntropy(l, 2, 0); math.Abs(got-ce) > 1e-12 {
		t.Errorf("ε=0: %v, want %v", got, ce)
	}
	for _, eps := range []float64{0, 0.1, 0.5} {
		plain, lib, diff, err := SmoothingCheck(goBackend(t), 64, 10, eps, 7)
		if err != nil {
			t.Fatal(err)
		}
		if diff > 1e-5*math.Max(1, plain) {
			t.Errorf("ε=%g: plain %v, graph %v", eps, plain, lib)
		}
	}
}

func TestConfidenceOf(t *testing.T) {
	c := ConfidenceOf([][]float32{{0, 0}, {10, 0}}, []int32{0, 1})
	// Row 0: uniform (entropy ln 2, confidence 0.5, argmax 0 correct); row 1: confident and wrong.
	p := 1 / (1 + math.Exp(-10))
	if math.Abs(c.Accuracy-0.5) > 1e-12 || math.Abs(c.MaxLogit-5) > 1e-12 || math.Abs(c.MaxProb-(0.5+p)/2) > 1e-6 {
		t.Errorf("%+v", c)
	}
	if math.Abs(c.ECE-(0.5+p)/2) > 1e-6 {
		t.Errorf("ECE %v, want %v", c.ECE, (0.5+p)/2)
	}
}

func TestClipDemo(t *testing.T) {
	before, after, err := ClipDemo(100, 50, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		want := math.Min(before[i], 2)
		if math.Abs(after[i]-want) > 1e-9 {
			t.Errorf("step %d: %v → %v, want %v", i, before[i], after[i], want)
		}
	}
}
