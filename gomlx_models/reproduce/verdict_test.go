package reproduce

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// TestTQuantile checks the 0.975 quantiles of Student's t against published tables (and the normal's).
func TestTQuantile(t *testing.T) {
	for _, tc := range []struct{ df, want float64 }{
		{1, 12.7062}, {2, 4.3027}, {3, 3.1824}, {4, 2.7764}, {9, 2.2622}, {29, 2.0452}, {2.5, 3.5747},
		{math.Inf(1), 1.9600},
	} {
		if got := tQuantile(tc.df); math.Abs(got-tc.want) > 5e-4 {
			t.Errorf("t(0.975, %g df) = %.4f, want %.4f", tc.df, got, tc.want)
		}
	}
}

func mustSeeded(t *testing.T, seeds []int64, v ...float64) Estimate {
	t.Helper()
	e, err := Seeded(seeds, v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSeeded: mean, sample sd and the t interval of three seeds, worked by hand: values 1, 2, 3 have mean 2,
// sd 1, standard error 1/√3 and half-width 4.3027/√3 = 2.4842.
func TestSeeded(t *testing.T) {
	e := mustSeeded(t, []int64{1, 2, 3}, 1, 2, 3)
	if e.Mean != 2 || math.Abs(e.SD-1) > 1e-12 || math.Abs(e.Hi-2-2.4842) > 1e-3 || math.Abs(e.Lo-2+2.4842) > 1e-3 {
		t.Errorf("Seeded(1, 2, 3) = %+v", e)
	}
	if got := e.MeanSD(2, "%") + " " + e.CI(2) + " " + e.SeedList(); got != "2.00 ± 1.00% 95% CI [−0.48, 4.48] seeds 1, 2, 3" {
		t.Errorf("formatted %q", got)
	}
	one := mustSeeded(t, []int64{7}, 5)
	if !math.IsInf(one.Lo, -1) || !math.IsInf(one.Hi, 1) || one.SeedList() != "seed 7" {
		t.Errorf("one seed must have no interval: %+v", one)
	}
	for _, bad := range []struct {
		seeds []int64
		v     []float64
	}{{nil, nil}, {[]int64{1}, []float64{1, 2}}, {[]int64{1, 1}, []float64{1, 2}}, {[]int64{1, 2}, []float64{1, math.NaN()}}} {
		if _, err := Seeded(bad.seeds, bad.v); err == nil {
			t.Errorf("Seeded(%v, %v) accepted", bad.seeds, bad.v)
		}
	}
}

// TestJudge is the verdict function on rows whose verdicts can be worked out by hand.
func TestJudge(t *testing.T) {
	seeds := []int64{1, 2, 3}
	sdae := MeanSE(3.64, 0.19)
	sae := MeanSE(3.70, 0.19)
	for _, tc := range []struct {
		name  string
		claim Claim
		est   Estimate
		want  Verdict
	}{
		// Issue 18's example: 3.64 ± 0.19 vs 3.70 ± 0.19 (standard errors) — the difference −0.06 has the
		// interval ±1.96·√2·0.19 = ±0.53, which contains 0.
		{"SDAE vs SAE within noise", Below(0), Difference(sdae, sae), Inconclusive},
		{"clear improvement", Below(0), Difference(MeanSE(1.28, 0.1), MeanSE(2.0, 0.1)), Reproduced},
		{"clear opposite", Below(0), Difference(MeanSE(2.5, 0.1), MeanSE(2.0, 0.1)), NotReproduced},
		{"seeds separate", Above(0), Difference(mustSeeded(t, seeds, 10, 11, 12), mustSeeded(t, seeds, 5, 6, 7)), Reproduced},
		{"seeds overlap", Above(0), Difference(mustSeeded(t, seeds, 10, 11, 12), mustSeeded(t, seeds, 9, 11, 13)), Inconclusive},
		{"one seed each", Above(0), Difference(mustSeeded(t, []int64{1}, 10), mustSeeded(t, []int64{1}, 5)), Inconclusive},
		{"speed-up above 1", Above(1), mustPairedRatio(t, mustSeeded(t, seeds, 60, 66, 63), mustSeeded(t, seeds, 10, 12, 11)), Reproduced},
		{"speed-up near 1", Above(1), mustPairedRatio(t, mustSeeded(t, seeds, 10, 12, 11), mustSeeded(t, seeds, 11, 10, 12)), Inconclusive},
		{"error under the paper's", Below(3.05), MeanSE(2.40, 0.15), Reproduced},
		{"error over the paper's, within the stated tolerance", Below(0.95).OrClose(1), MeanSE(1.44, 0.12), Close},
		{"error over the paper's and the tolerance", Below(0.95).OrClose(0.3), MeanSE(1.44, 0.12), NotReproduced},
		{"paper's number within its rounding", Equals(28, 0.5), Exact(28.0), Reproduced},
		{"paper's number missed", Equals(3, 0.5), Exact(4.24), NotReproduced},
		{"paper's number missed, within a stated tolerance", Equals(42, 0.5).OrClose(10), Exact(48), Close},
		{"straddling the tolerance", Equals(10, 1), MeanSE(10.9, 0.2), Inconclusive},
		{"identity holds", Holds(1e-5), Exact(7e-7), Shown},
		{"identity broken", Holds(1e-5), Exact(3e-3), NotReproduced},
		{"boundary: interval ends at the bound", Above(0), Estimate{Mean: 1, Lo: 0, Hi: 2}, Inconclusive},
		{"boundary: opposite side touching", Above(0), Estimate{Mean: -1, Lo: -2, Hi: 0}, NotReproduced},
		{"not a number", Above(0), Exact(math.NaN()), Inconclusive},
	} {
		j := Judge(tc.claim, tc.est)
		if j.Verdict != tc.want {
			t.Errorf("%s: Judge(%s, [%g, %g]) = %s (%s), want %s", tc.name, tc.claim, tc.est.Lo, tc.est.Hi, j.Verdict, j.Reason, tc.want)
		}
		if j.Reason == "" {
			t.Errorf("%s: no reason", tc.name)
		}
	}
}

// TestProvided: a failed precondition turns a verdict that judges the claim into *inconclusive*, saying why;
// one that held changes nothing.
func TestProvided(t *testing.T) {
	for _, tc := range []struct {
		name string
		j    Judgement
		ok   bool
		want Verdict
	}{
		{"held", Judge(Equals(0, 0), Exact(0)), true, Reproduced},
		{"failed, reproduced", Judge(Equals(0, 0), Exact(0)), false, Inconclusive},
		{"failed, not reproduced", Judge(Equals(0, 0), Exact(2)), false, Inconclusive},
		{"failed, close", Judge(Equals(42, 0.5).OrClose(10), Exact(48)), false, Inconclusive},
		{"failed, already inconclusive", Judge(Above(0), Estimate{Mean: 1, Lo: -1, Hi: 3}), false, Inconclusive},
		{"failed, shown", Judge(Holds(1e-5), Exact(0)), false, Shown},
	} {
		got := tc.j.Provided(tc.ok, "2 of 8 runs not converged")
		if got.Verdict != tc.want {
			t.Errorf("%s: %s, want %s (%s)", tc.name, got.Verdict, tc.want, got.Reason)
		}
		changed := got.Verdict != tc.j.Verdict
		if mentions := strings.Contains(got.Reason, "2 of 8 runs not converged"); mentions != changed {
			t.Errorf("%s: reason %q (verdict changed %v)", tc.name, got.Reason, changed)
		}
	}
}

func mustPairedRatio(t *testing.T, a, b Estimate) Estimate {
	t.Helper()
	r, err := PairedRatio(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDifferences: paired differences and ratios need the same seeds; Welch's degrees of freedom fall between
// the smaller sample's and the pooled count; the quick profile marks verdicts indicative.
func TestDifferences(t *testing.T) {
	a := mustSeeded(t, []int64{1, 2, 3}, 1, 2, 3)
	b := mustSeeded(t, []int64{4, 5, 6}, 1, 2, 3)
	if _, err := PairedDifference(a, b); !errors.Is(err, ErrSeedsDiffer) {
		t.Errorf("paired difference of different seeds: %v", err)
	}
	if _, err := PairedRatio(a, b); !errors.Is(err, ErrSeedsDiffer) {
		t.Errorf("paired ratio of different seeds: %v", err)
	}
	c := mustSeeded(t, []int64{1, 2, 3}, 2, 4, 6.5)
	d, err := PairedDifference(c, a)
	if err != nil || math.Abs(d.Mean-(1+2+3.5)/3) > 1e-12 || !strings.HasPrefix(d.Method, "paired t") {
		t.Errorf("paired difference %+v, %v", d, err)
	}
	w := Difference(c, b)
	if w.DF < 2 || w.DF > 4 || !strings.HasPrefix(w.Method, "Welch") {
		t.Errorf("Welch df %g (%s), want within [2, 4]", w.DF, w.Method)
	}
	r := mustPairedRatio(t, mustSeeded(t, []int64{1, 2}, 4, 9), mustSeeded(t, []int64{1, 2}, 1, 1))
	if math.Abs(r.Mean-6) > 1e-12 {
		t.Errorf("geometric mean ratio of 4 and 9 = %g, want 6", r.Mean)
	}
	p, err := Proportion(364, 10000)
	if err != nil || math.Abs(Scale(p, 100).SE-0.1873) > 1e-3 {
		t.Errorf("binomial standard error of 3.64%% on 10,000 images: %+v, %v", Scale(p, 100), err)
	}
	if _, err := Proportion(3, 2); err == nil {
		t.Error("Proportion(3, 2) accepted")
	}
	env := &Env{Quick: true, Log: io.Discard}
	if j := env.Judge(Above(0), Exact(1)); !j.Indicative || j.Label() != "reproduced (indicative)" {
		t.Errorf("quick-profile judgement %+v", j)
	}
}

// TestJudgeSteps: an ordering is judged on each consecutive paired difference, against each step's own claim;
// a step that reverses is not reproduced while the others are, and too few estimates or unpaired seeds are
// refused.
func TestJudgeSteps(t *testing.T) {
	seeds := []int64{1, 2, 3}
	ests := []Estimate{mustSeeded(t, seeds, 1, 1.1, 0.9), mustSeeded(t, seeds, 2, 2.2, 2.1), mustSeeded(t, seeds, 1.5, 1.6, 1.5)}
	env := &Env{Log: io.Discard}
	var asked []int
	js, diffs, err := env.JudgeSteps(ests, func(i int) Claim { asked = append(asked, i); return Above(0) })
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 2 || len(diffs) != 2 || len(asked) != 2 || asked[0] != 1 || asked[1] != 2 {
		t.Fatalf("%d judgements, %d differences, claims asked for steps %v; want 2, 2, [1 2]", len(js), len(diffs), asked)
	}
	if math.Abs(diffs[0].Mean-(1+1.1+1.2)/3) > 1e-12 || math.Abs(diffs[1].Mean-(-0.5-0.6-0.6)/3) > 1e-12 {
		t.Errorf("step differences %g and %g", diffs[0].Mean, diffs[1].Mean)
	}
	if js[0].Verdict != Reproduced || js[1].Verdict != NotReproduced || AllOf(js...).Verdict != NotReproduced {
		t.Errorf("verdicts %s, %s, all of them %s", js[0].Verdict, js[1].Verdict, AllOf(js...).Verdict)
	}
	quick := &Env{Quick: true, Log: io.Discard}
	if js, _, err := quick.JudgeSteps(ests[:2], func(int) Claim { return Above(0) }); err != nil || !js[0].Indicative {
		t.Errorf("quick profile: %+v, %v", js, err)
	}
	if _, _, err := env.JudgeSteps(ests[:1], func(int) Claim { return Above(0) }); err == nil {
		t.Error("an ordering of one estimate accepted")
	}
	other := mustSeeded(t, []int64{4, 5, 6}, 3, 3, 3)
	if _, _, err := env.JudgeSteps([]Estimate{ests[0], other}, func(int) Claim { return Above(0) }); !errors.Is(err, ErrSeedsDiffer) {
		t.Errorf("unpaired seeds: %v", err)
	}
}

// TestJudgementJSON: judgements survive JSON (results.json, closing tables), unbounded intervals included.
func TestJudgementJSON(t *testing.T) {
	for _, j := range []Judgement{
		Judge(Above(0), Single(1.5)),
		Judge(Below(0).In(" points"), Difference(MeanSE(3.64, 0.19), MeanSE(3.70, 0.19))),
		Judge(Above(1), mustSeeded(t, []int64{1, 2, 3}, 1.2, 1.4, 1.3)),
	} {
		raw, err := json.Marshal(j)
		if err != nil {
			t.Fatalf("%+v: %v", j, err)
		}
		var back Judgement
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(raw) || back.Estimate.Lo != j.Estimate.Lo || back.Verdict != j.Verdict {
			t.Errorf("round trip changed the judgement:\n%s\n%s", raw, again)
		}
	}
	var e Estimate
	if err := json.Unmarshal([]byte(`{"mean":"x"}`), &e); err == nil {
		t.Error("a string mean was accepted")
	}
}
