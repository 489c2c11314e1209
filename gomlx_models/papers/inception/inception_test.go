package inception

import (
	"math"
	"math/rand/v2"
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

// TestDepth: 47 convolutions on the longest path (stem 5, 3 per 35×35 module, 3 in ReductionA, 5 per 17×17
// module, 4 in ReductionB, 3 per 8×8 module) plus the dense layer: 48 by this rule.
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

// TestSymmetricEigenvalues: a rotated diagonal matrix gives back its diagonal, a 2×2 its closed form, and the
// eigenvalues of a random covariance sum to its trace.
func TestSymmetricEigenvalues(t *testing.T) {
	c, s := math.Cos(0.3), math.Sin(0.3)
	// R·diag(5, 2, −1)·Rᵀ for a rotation R in the first two axes.
	a := [][]float64{{5*c*c + 2*s*s, (5 - 2) * c * s, 0}, {(5 - 2) * c * s, 5*s*s + 2*c*c, 0}, {0, 0, -1}}
	got := SymmetricEigenvalues(a)
	for i, want := range []float64{5, 2, -1} {
		if math.Abs(got[i]-want) > 1e-12 {
			t.Errorf("eigenvalues %v, want 5, 2, −1", got)
			break
		}
	}
	two := SymmetricEigenvalues([][]float64{{2, 1}, {1, 2}})
	if math.Abs(two[0]-3) > 1e-12 || math.Abs(two[1]-1) > 1e-12 {
		t.Errorf("[[2 1] [1 2]]: %v, want 3, 1", two)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	const n = 40
	x := make([][]float64, 3*n)
	for i := range x {
		x[i] = make([]float64, n)
		for j := range x[i] {
			x[i][j] = rng.NormFloat64() * float64(j%5+1)
		}
	}
	cov := make([][]float64, n)
	var trace float64
	for i := range cov {
		cov[i] = make([]float64, n)
		for j := range cov[i] {
			for _, row := range x {
				cov[i][j] += row[i] * row[j]
			}
		}
		trace += cov[i][i]
	}
	vals := SymmetricEigenvalues(cov)
	var sum float64
	for i, v := range vals {
		sum += v
		if v < -1e-9 || i > 0 && v > vals[i-1] {
			t.Fatalf("eigenvalue %d = %g: want non-negative and decreasing", i, v)
		}
	}
	if math.Abs(sum-trace) > 1e-9*trace {
		t.Errorf("Σλ = %g, trace %g", sum, trace)
	}
}

// TestStagesAndPrinciples: every module's size, the reductions keep more than pooling first, wider coarser grids,
// no width drops.
func TestStagesAndPrinciples(t *testing.T) {
	s, err := MeasureSize(goBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Stages(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 12 || st[4].Name != "mixed3" || st[4].Values != 17*17*768 || st[4].PoolFirst != 17*17*288 {
		t.Fatalf("stages %+v", st[4])
	}
	var macs int64
	for _, x := range st {
		macs += x.MACs
	}
	if macs > s.MACs || macs < s.MACs*99/100 {
		t.Errorf("modules hold %d of the %d multiply-adds", macs, s.MACs)
	}
	if k := ReductionKeep(st); math.Abs(k-81920.0/49152) > 1e-12 {
		t.Errorf("smallest reduction keep %g, want mixed8's 81,920/49,152", k)
	}
	if n := NarrowerCoarserGrids(st); n != 0 {
		t.Errorf("%d coarser grids not wider", n)
	}
	if n := WidthDrops(st); n != 0 {
		t.Errorf("%d width drops", n)
	}
	if st[len(st)-1].Depth != 47 {
		t.Errorf("depth after mixed10 %d, want 47 convolutions", st[len(st)-1].Depth)
	}
	if _, err := StagesFigures(st); err != nil {
		t.Error(err)
	}
}

// TestV3Steps: the factorized stem and the BN-auxiliary head, counted by hand.
func TestV3Steps(t *testing.T) {
	steps, err := V3Steps(goBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 5 {
		t.Fatalf("%d steps", len(steps))
	}
	// 7×7×3×64 + BN(3·64) against 3·3·3·32 + 3·32 + 3·3·32·32 + 3·32 + 3·3·32·64 + 3·64.
	if want := (864 + 96 + 9216 + 96 + 18432 + 192) - (9408 + 192); steps[3].Params != want {
		t.Errorf("factorized 7×7 adds %d parameters, want %d", steps[3].Params, want)
	}
	if want := int64(149*149*864+147*147*9216+147*147*18432) - 147*147*9408; steps[3].MACs != want {
		t.Errorf("factorized 7×7 adds %d multiply-adds, want %d", steps[3].MACs, want)
	}
	for _, i := range []int{1, 2, 4} {
		if steps[i].MACs != 0 {
			t.Errorf("%s adds %d multiply-adds", steps[i].Name, steps[i].MACs)
		}
	}
	if steps[4].Params <= 0 {
		t.Errorf("BN-auxiliary adds %d parameters", steps[4].Params)
	}
}

// TestEffects pairs the label-smoothing runs by seed.
func TestEffects(t *testing.T) {
	cs := []Confidence{{Accuracy: 0.80, MaxLogit: 10, ECE: 0.1}, {Accuracy: 0.81, MaxLogit: 3, ECE: 0.05},
		{Accuracy: 0.82, MaxLogit: 12, ECE: 0.12}, {Accuracy: 0.84, MaxLogit: 4, ECE: 0.06}}
	e, err := Effects(cs, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.AccuracyGain.Mean-1.5) > 1e-9 || math.Abs(e.LogitDrop.Mean-7.5) > 1e-9 || math.Abs(e.ECEDrop.Mean-0.055) > 1e-9 {
		t.Errorf("gain %g, logit drop %g, ECE drop %g", e.AccuracyGain.Mean, e.LogitDrop.Mean, e.ECEDrop.Mean)
	}
	if _, err := Effects(cs, []int64{1}); err == nil {
		t.Error("four runs for one seed accepted")
	}
}
