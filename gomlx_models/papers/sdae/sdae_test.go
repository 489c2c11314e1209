package sdae

import (
	"io"
	"math"
	"testing"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

func testBackend(t *testing.T) compute.Backend { return reprotest.Backend(t) }

func TestCorruptionStatistics(t *testing.T) {
	b := testBackend(t)
	tests := []struct {
		c          models.Corruption
		changed    float64 // expected fraction of changed components
		zero, one  float64
		mean, std  float64
		exactCount int // components changed in every example by the plain-Go process (-1: not fixed)
	}{
		{models.Corruption{Kind: models.MaskingNoise, Level: 0.25}, 0.25, 0.25, 0, -0.125, math.NaN(), 196},
		{models.Corruption{Kind: models.MaskingNoise, Level: 0.5}, 0.5, 0.5, 0, -0.25, math.NaN(), 392},
		{models.Corruption{Kind: models.SaltAndPepper, Level: 0.3}, 0.3, 0.15, 0.15, 0, math.NaN(), 235},
		{models.Corruption{Kind: models.GaussianNoise, Level: 0.2}, 1, 0, 0, 0, 0.2, -1},
		{models.Corruption{Kind: models.NoCorruption}, 0, 0, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.c.Kind.String(), func(t *testing.T) {
			rows, err := MeasureNoise(b, tc.c, 1000, 784, 9)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				near := func(what string, got, want, tol float64) {
					t.Helper()
					if !math.IsNaN(want) && math.Abs(got-want) > tol {
						t.Errorf("%s %s: %s = %.4f, want %.4f ± %g", r.Impl, tc.c.Kind, what, got, want, tol)
					}
				}
				near("changed", r.Changed, tc.changed, 0.005)
				near("zero", r.Zero, tc.zero, 0.005)
				near("one", r.One, tc.one, 0.005)
				near("mean", r.Mean, tc.mean, 0.005)
				near("std", r.Std, tc.std, 0.005)
			}
			if tc.exactCount >= 0 && (rows[0].MinChanged != tc.exactCount || rows[0].MaxChanged != tc.exactCount) {
				t.Errorf("plain Go changes %d…%d components per example, want exactly %d", rows[0].MinChanged,
					rows[0].MaxChanged, tc.exactCount)
			}
		})
	}
}

func TestCorruptionIsSeeded(t *testing.T) {
	x := make([]float32, 100)
	for i := range x {
		x[i] = 0.7
	}
	a, b := Mask(NewRand(4), x, 0.3), Mask(NewRand(4), x, 0.3)
	c := Mask(NewRand(5), x, 0.3)
	same := func(p, q []float32) bool {
		for i := range p {
			if p[i] != q[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) || same(a, c) {
		t.Errorf("Mask: same seed must give the same corruption and another seed another")
	}
	if x[0] != 0.7 {
		t.Errorf("Mask modified its input")
	}
}

func TestBadCorruption(t *testing.T) {
	for _, c := range []models.Corruption{{Kind: models.MaskingNoise, Level: 1.5}, {Kind: models.GaussianNoise, Level: -1},
		{Kind: models.CorruptionKind(9), Level: 0.1}} {
		if _, err := CorruptGo(NewRand(1), []float32{0.5}, c); err == nil {
			t.Errorf("CorruptGo(%v): no error", c)
		}
		if _, err := MeasureNoise(testBackend(t), c, 10, 10, 1); err == nil {
			t.Errorf("MeasureNoise(%v): no error", c)
		}
	}
}

// TestLocality: a filter inside one 7×7 window scores 1, a constant filter 49/784, a zero filter 0; a filter
// of the wrong size is NaN.
func TestLocality(t *testing.T) {
	block := make([]float32, 784)
	for y := 10; y < 17; y++ {
		for x := 3; x < 10; x++ {
			block[y*28+x] = float32(y - x)
		}
	}
	flat := make([]float32, 784)
	for i := range flat {
		flat[i] = -0.5
	}
	for _, tc := range []struct {
		name string
		f    []float32
		want float64
	}{{"block", block, 1}, {"constant", flat, 49.0 / 784}, {"zero", make([]float32, 784), 0}} {
		if got := Locality(tc.f, 28, 28, 7); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: locality %g, want %g", tc.name, got, tc.want)
		}
	}
	if got := Locality(block[:700], 28, 28, 7); !math.IsNaN(got) {
		t.Errorf("a short filter gave %g", got)
	}
	if b := randomLocality(50, 28, 28); b < 49.0/784 || b > 0.2 {
		t.Errorf("random filters' locality %g", b)
	}
}

// TestTable3Result: SDAE ahead of both others in every seed and variant is reproduced; one seed is
// inconclusive.
func TestTable3Result(t *testing.T) {
	env := &reproduce.Env{OutDir: t.TempDir()}
	cfg := Table3Config{Variants: []string{VariantRot, VariantBgRand}, Seeds: []int64{1, 2, 3}, Net: models.SDAE3Small}
	r := &Table3Result{Config: cfg}
	for _, v := range cfg.Variants {
		for _, seed := range cfg.Seeds {
			for k, kind := range Kinds {
				e := 10 + float64(k) + 0.1*float64(seed)
				r.Nets = append(r.Nets, Table3Net{Variant: v, Kind: kind, Seed: seed, FineTuned: &FineTuned{TestErr: e, ValidErr: e}})
			}
		}
	}
	res, err := r.Result(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict() != reproduce.Reproduced {
		t.Errorf("verdict %s (%s)", res.Verdict(), res.Judgement.Reason)
	}
	r.Config.Seeds = []int64{1}
	r.Nets = r.Nets[:3]
	r.Config.Variants = r.Config.Variants[:1]
	if res, err := r.Result(env); err != nil || res.Verdict() != reproduce.Inconclusive {
		t.Errorf("one seed: %v, %v", res.Verdict(), err)
	}
	if rows := Table3Table(r); len(rows) != 4 {
		t.Errorf("%d table rows", len(rows))
	}
}

// TestFineTuneEarlyStopping: fine-tuning stops Patience epochs after its best validation epoch (or at
// MaxEpochs) and reports the test error of that epoch.
func TestFineTuneEarlyStopping(t *testing.T) {
	b := testBackend(t)
	rng := NewRand(8)
	mk := func(n int, random bool) *data.Images {
		im := &data.Images{N: n, H: 2, W: 4, C: 1, Classes: []string{"a", "b"}}
		for i := range n {
			c := int32(i % 2)
			for p := range 8 {
				im.Pixels = append(im.Pixels, float32(c)*0.6+0.2*rng.Float32()+0.05*float32(p%2))
			}
			if random {
				c = int32(rng.IntN(2))
			}
			im.Labels = append(im.Labels, c)
		}
		return im
	}
	net := models.AutoencoderConfig{Input: 8, Hidden: []int{6}, Tied: true, Classes: 2}
	sched := FineTuneSchedule{MaxEpochs: 40, Patience: 2, BatchSize: 10, LR: 1e-2}
	ft, err := FineTune(b, net, nil, mk(100, false), mk(50, true), mk(60, false), sched, "tiny", 3, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if ft.Epochs != sched.MaxEpochs && ft.Epochs-ft.BestEpoch != sched.Patience {
		t.Errorf("stopped after %d epochs, best %d, patience %d", ft.Epochs, ft.BestEpoch, sched.Patience)
	}
	if want := evalAt(ft.Run, "test", ft.BestEpoch-1); ft.TestErr != want {
		t.Errorf("test error %g, want the best epoch's %g", ft.TestErr, want)
	}
	if _, err := FineTune(b, net, nil, mk(10, false), mk(10, false), mk(10, false), FineTuneSchedule{}, "bad", 1, io.Discard); err == nil {
		t.Error("an empty schedule was accepted")
	}
}

// TestVariantData: the variants are the same for every call (fixed seeds), split in the sizes asked, and
// differ from the clean digits.
func TestVariantData(t *testing.T) {
	cfg := Table3Config{TrainN: 50, ValidN: 20, TestN: 30}
	for _, v := range []string{VariantRot, VariantBgRand} {
		tr, va, te, err := VariantData(v, cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr2, _, _, _ := VariantData(v, cfg)
		if tr.N != 50 || va.N != 20 || te.N != 30 || len(va.Pixels) != 20*784 || tr.Pixels[400] != tr2.Pixels[400] {
			t.Errorf("%s: %d/%d/%d images", v, tr.N, va.N, te.N)
		}
		clean, _ := data.MNIST(data.Train)
		same := 0
		for i := range 784 {
			if tr.Pixels[i] == clean.Pixels[i] {
				same++
			}
		}
		if same == 784 {
			t.Errorf("%s: the first image is unchanged", v)
		}
	}
	if _, _, _, err := VariantData("bg-img", cfg); err == nil {
		t.Error("an unknown variant was accepted")
	}
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }

// TestOrderJudgement judges the locality's rise step by step: every step up is reproduced, a middle step
// that falls in every seed is not (although the ends still differ), one seed is inconclusive, and noise
// levels out of order are refused.
func TestOrderJudgement(t *testing.T) {
	env := &reproduce.Env{Profile: train.ProfileFull, Log: io.Discard, Progress: io.Discard}
	noises := []float64{0, 0.25, 0.5}
	seeds := []int64{1, 2, 3}
	at := func(means ...float64) []reproduce.Estimate {
		var out []reproduce.Estimate
		for _, m := range means {
			e, err := reproduce.Seeded(seeds, []float64{m, m + 0.004, m - 0.003})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	tests := []struct {
		name    string
		noises  []float64
		byNoise []reproduce.Estimate
		want    reproduce.Verdict
	}{
		{"every step up", noises, at(0.23, 0.26, 0.29), reproduce.Reproduced},
		{"middle step down", noises, at(0.23, 0.30, 0.29), reproduce.NotReproduced},
		{"two levels", noises[:2], at(0.23, 0.26), reproduce.Reproduced},
	}
	for _, tc := range tests {
		j, steps, err := OrderJudgement(env, tc.noises, tc.byNoise)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if j.Verdict != tc.want || len(steps) != len(tc.noises)-1 {
			t.Errorf("%s: %s with %d steps (%s), want %s with %d", tc.name, j.Verdict, len(steps), j.Reason, tc.want, len(tc.noises)-1)
		}
	}
	one, err := reproduce.Seeded([]int64{1}, []float64{0.2})
	if err != nil {
		t.Fatal(err)
	}
	two, _ := reproduce.Seeded([]int64{1}, []float64{0.3})
	if j, _, err := OrderJudgement(env, noises[:2], []reproduce.Estimate{one, two}); err != nil || j.Verdict != reproduce.Inconclusive {
		t.Errorf("one seed: %v, %v", j.Verdict, err)
	}
	if _, _, err := OrderJudgement(env, []float64{0.5, 0}, at(0.2, 0.3)); err == nil {
		t.Error("decreasing noise levels accepted")
	}
	if _, _, err := OrderJudgement(env, noises, at(0.2, 0.3)); err == nil {
		t.Error("two estimates for three noise levels accepted")
	}
}
