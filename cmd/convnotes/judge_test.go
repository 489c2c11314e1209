package main

import (
	"strings"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/reproduce"
)

// TestJudgeRow re-judges rows from the command line's form: the SDAE-vs-SAE row, one-sided claims against
// a paper's number with a close tolerance, seeds (independent and paired), ratios and identities.
func TestJudgeRow(t *testing.T) {
	tests := []struct {
		name string
		in   judgeInput
		want reproduce.Verdict
		// lo, hi bound the printed interval of the judged quantity (checked when hi > lo).
		lo, hi float64
	}{
		{"SDAE 3.64 vs SAE 3.70 on 10,000 images: indistinguishable",
			judgeInput{claim: "a<b", a: "3.64±0.19", b: "3.70±0.19"}, reproduce.Inconclusive, -0.59, 0.47},
		{"same with +- and spaces", judgeInput{claim: " a < b ", a: "3.64 +- 0.19", b: "3.70+-0.19"}, reproduce.Inconclusive, -0.59, 0.47},
		{"a clear gap", judgeInput{claim: "a<b", a: "3.0±0.1", b: "4.0±0.1"}, reproduce.Reproduced, -1.28, -0.72},
		{"the opposite of the claim", judgeInput{claim: "a>b", a: "3.0±0.1", b: "4.0±0.1"}, reproduce.NotReproduced, 0, 0},
		{"below the paper's error over seeds", judgeInput{claim: "a<3.05", a: "2.4,2.5,2.45", unit: "%"}, reproduce.Reproduced, 2.33, 2.57},
		{"above the paper's error but within the stated slack", judgeInput{claim: "a<3.05", a: "3.5,3.6,3.55", close: 1},
			reproduce.Close, 0, 0},
		{"above the paper's error beyond the slack", judgeInput{claim: "a<3.05", a: "4.5,4.6,4.55", close: 1},
			reproduce.NotReproduced, 0, 0},
		{"an exact value", judgeInput{claim: "a<3.05", a: "2.4"}, reproduce.Reproduced, 0, 0},
		{"one seed", judgeInput{claim: "a<3.05", a: "2.4", seeds: "1"}, reproduce.Inconclusive, 0, 0},
		{"paired seeds", judgeInput{claim: "a>b", a: "1.2,1.4,1.3", b: "1.0,1.1,1.05", paired: true}, reproduce.Reproduced, 0.12, 0.38},
		{"the same seeds unpaired", judgeInput{claim: "a>b", a: "1.2,1.4,1.3", b: "1.0,1.1,1.05"}, reproduce.Reproduced, 0, 0},
		{"named seeds", judgeInput{claim: "a>1", a: "1.2,1.4,1.3", seeds: "7,8,9"}, reproduce.Reproduced, 1.05, 1.55},
		{"paired ratio", judgeInput{claim: "a/b>1", a: "4,4.4,3.6", b: "1,1.1,0.9"}, reproduce.Reproduced, 0, 0},
		{"agreement within a tolerance", judgeInput{claim: "a=28±0.5", a: "28.1±0.1"}, reproduce.Reproduced, 27.9, 28.3},
		{"agreement of two measurements", judgeInput{claim: "a=b±1", a: "3.64±0.19", b: "3.70±0.19"}, reproduce.Reproduced, 0, 0},
		{"straddles, close within the slack", judgeInput{claim: "a=28±0.5", a: "27.2±0.2", close: 1.5}, reproduce.Close, 0, 0},
		{"a mechanism", judgeInput{claim: "|a|<=1e-5", a: "6.5e-7"}, reproduce.Shown, 0, 0},
		{"a mechanism that fails", judgeInput{claim: "|a|<=1e-5", a: "2e-5"}, reproduce.NotReproduced, 0, 0},
		{"a true minus sign", judgeInput{claim: "a>−1", a: "−0.5"}, reproduce.Reproduced, 0, 0},
	}
	for _, tc := range tests {
		j, _, err := judgeRow(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if j.Verdict != tc.want {
			t.Errorf("%s: %s (%s), want %s", tc.name, j.Verdict, j.Reason, tc.want)
		}
		if tc.hi > tc.lo && (j.Estimate.Lo < tc.lo-0.01 || j.Estimate.Lo > tc.lo+0.01 || j.Estimate.Hi < tc.hi-0.01 || j.Estimate.Hi > tc.hi+0.01) {
			t.Errorf("%s: interval [%.3f, %.3f], want [%.2f, %.2f]", tc.name, j.Estimate.Lo, j.Estimate.Hi, tc.lo, tc.hi)
		}
	}
}

// TestJudgeRowErrors: bad rows are one-line errors naming what is wrong.
func TestJudgeRowErrors(t *testing.T) {
	tests := []struct {
		name string
		in   judgeInput
		want string
	}{
		{"no claim", judgeInput{a: "1"}, "--claim is missing"},
		{"unknown claim", judgeInput{claim: "a<<b", a: "1", b: "2"}, "is not one of"},
		{"no a", judgeInput{claim: "a>1"}, "--a is missing"},
		{"no b", judgeInput{claim: "a<b", a: "1"}, "--b is missing"},
		{"b without use", judgeInput{claim: "a<1", a: "1", b: "2"}, "does not use b"},
		{"not a number", judgeInput{claim: "a<1", a: "x"}, "not a finite number"},
		{"bad mean±se", judgeInput{claim: "a<1", a: "1±2±3"}, "want MEAN±SE"},
		{"negative se", judgeInput{claim: "a<1", a: "1±-2"}, "negative"},
		{"seeds and values", judgeInput{claim: "a<1", a: "1,2,3", seeds: "1,2"}, "3 values for 2 seeds"},
		{"repeated seed", judgeInput{claim: "a<1", a: "1,2", seeds: "1,1"}, "appears twice"},
		{"bad seed", judgeInput{claim: "a<1", a: "1,2", seeds: "1,x"}, "not an integer"},
		{"paired of different seeds", judgeInput{claim: "a<b", a: "1,2", b: "1,2,3", paired: true}, "same seeds"},
		{"paired without b", judgeInput{claim: "a<1", a: "1,2", paired: true}, "compares a with b"},
		{"ratio without seeds", judgeInput{claim: "a/b>1", a: "1±0.1", b: "2±0.1"}, "same seeds"},
		{"negative close", judgeInput{claim: "a<1", a: "1", close: -1}, "must be ≥ 0"},
		{"infinite", judgeInput{claim: "a<1", a: "Inf"}, "not a finite number"},
	}
	for _, tc := range tests {
		_, _, err := judgeRow(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestJudgeCommand runs the command: the verdict on the first line, then the claim, estimate and reason; usage
// errors exit with status 2.
func TestJudgeCommand(t *testing.T) {
	out, errOut, code := convnotes(t, nil, "judge", "--claim", "a<b", "--a", "3.64±0.19", "--b", "3.70±0.19")
	if code != 0 || !strings.HasPrefix(out, "inconclusive\n") || !strings.Contains(out, "95% CI [−0.5866, 0.4666]") ||
		!strings.Contains(out, "a − b < 0") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	_, errOut, code = convnotes(t, nil, "judge", "--claim", "a<b", "--a", "3")
	if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--b is missing") {
		t.Errorf("missing --b: exit %d, stderr %q", code, errOut)
	}
}
