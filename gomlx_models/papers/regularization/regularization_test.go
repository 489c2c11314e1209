package regularization

import (
	"fmt"
	"math"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// TestBNModesDemo: GoMLX's BN equals the formulas in both modes; changing one row of the probe batch moves
// every row's training-mode output and only that row's inference-mode output.
func TestBNModesDemo(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	probe, probe2, res, res2, err := BNModesDemo(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Max(BNModesDeviation(probe, res), BNModesDeviation(probe2, res2)); d > 1e-5 {
		t.Errorf("BN deviates from the formulas by %g", d)
	}
	// The moving averages estimate the training distribution (means 2, −1, 0.5; variances 1, 9, 0.25).
	for j, want := range []float64{2, -1, 0.5} {
		if math.Abs(res.MovingMean[j]-want) > 0.3 {
			t.Errorf("moving mean[%d] = %g, want ≈ %g", j, res.MovingMean[j], want)
		}
	}
	for i := range probe {
		changedTrain := math.Abs(res.TrainOut[i][0]-res2.TrainOut[i][0]) > 1e-6
		changedInfer := math.Abs(res.InferOut[i][0]-res2.InferOut[i][0]) > 1e-6
		if !changedTrain {
			t.Errorf("row %d: training-mode output did not move when row 3 changed", i)
		}
		if changedInfer != (i == 3) {
			t.Errorf("row %d: inference-mode output changed = %v, want %v", i, changedInfer, i == 3)
		}
	}
	if m := BNModesFindings(probe, probe2, res, res2); len(m) != 2 {
		t.Errorf("%d measured rows", len(m))
	}
}

// TestDropoutExpectation: both dropouts keep ≈ 80% of the units, output only 0 and 1/keep, preserve the
// mean and are the identity at inference; invalid arguments are errors.
func TestDropoutExpectation(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	const n, keep = 100_000, 0.8
	stats, err := DropoutExpectation(b, keep, 2, n)
	if err != nil {
		t.Fatal(err)
	}
	sigma := math.Sqrt(keep * (1 - keep) / n)
	for _, s := range stats {
		if math.Abs(s.KeptFraction-keep) > 5*sigma || math.Abs(s.MeanRatio-1) > 5*sigma/keep {
			t.Errorf("%s: kept %g, mean ratio %g", s.Impl, s.KeptFraction, s.MeanRatio)
		}
		if len(s.Values) != 2 || !s.InferenceIdentity {
			t.Errorf("%s: values %v, identity at inference %v", s.Impl, s.Values, s.InferenceIdentity)
		}
		for _, v := range s.Values {
			if v != 0 && math.Abs(v-2/keep) > 1e-6 {
				t.Errorf("%s: output value %g, want 0 or %g", s.Impl, v, 2/keep)
			}
		}
	}
	again, err := DropoutExpectation(b, keep, 2, n)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again) != fmt.Sprint(stats) {
		t.Errorf("two runs drew different masks:\n%+v\n%+v", stats, again)
	}
	for _, tc := range []struct {
		keep float64
		n    int
	}{{0, 10}, {1.5, 10}, {0.5, 0}} {
		if _, err := DropoutExpectation(b, tc.keep, 1, tc.n); err == nil {
			t.Errorf("keep %g, n %d accepted", tc.keep, tc.n)
		}
	}
}

// TestCompareBN counts the evaluations where BN is ahead and the drift of the probed median.
func TestCompareBN(t *testing.T) {
	mk := func(accs []float64, medians []float64) *BNRun {
		r := &BNRun{Run: &train.Run{}}
		for i, a := range accs {
			r.Run.History.Evals = append(r.Run.History.Evals, train.EvalRecord{Step: 100 * (i + 1), Set: "test", Accuracy: a})
		}
		for _, m := range medians {
			r.Percentiles = append(r.Percentiles, []float64{m - 1, m, m + 1})
		}
		return r
	}
	noBN := mk([]float64{0.1, 0.5, 0.9, 0.95}, []float64{0, 1, 2, 4})
	bn := mk([]float64{0.6, 0.9, 0.88, 0.97}, []float64{0, 0.5, 0.6, 0.5})
	c, err := CompareBN([]*BNRun{noBN, bn})
	if err != nil {
		t.Fatal(err)
	}
	if c.Ahead != 3 || len(c.Steps) != 4 {
		t.Errorf("ahead %d of %d, want 3 of 4", c.Ahead, len(c.Steps))
	}
	if got, want := c.Shift(false), "median 0.00 → 4.00, 15–85% spread 2.00 → 2.00"; got != want {
		t.Errorf("shift without BN %q, want %q", got, want)
	}
	if got := c.Shift(true); got != "median 0.00 → 0.50, 15–85% spread 2.00 → 2.00" {
		t.Errorf("shift with BN %q", got)
	}
	if m := BNFindings(c); len(m) != 4 {
		t.Errorf("%d measured rows", len(m))
	}
	if _, err := CompareBN([]*BNRun{noBN}); err == nil {
		t.Error("one run accepted")
	}
}

// TestDropoutSummary averages the last quarter of the evaluations and computes both gaps; the verdict needs
// both gaps to shrink.
func TestDropoutSummary(t *testing.T) {
	mk := func(label string, trAcc, teAcc, trLoss, teLoss []float64) DropoutRun {
		r := DropoutRun{Label: label, Run: &train.Run{}}
		for i := range trAcc {
			r.Run.History.Evals = append(r.Run.History.Evals,
				train.EvalRecord{Step: i + 1, Set: "train", Accuracy: trAcc[i], Loss: trLoss[i]},
				train.EvalRecord{Step: i + 1, Set: "test", Accuracy: teAcc[i], Loss: teLoss[i]})
		}
		return r
	}
	runs := []DropoutRun{
		mk("plain", []float64{0.9, 1, 1, 1, 1, 1, 1, 1}, []float64{0.8, 0.85, 0.86, 0.86, 0.86, 0.86, 0.85, 0.87},
			[]float64{0.5, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01}, []float64{0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.7}),
		mk("dropout", []float64{0.8, 0.9, 1, 1, 1, 1, 1, 1}, []float64{0.7, 0.8, 0.86, 0.87, 0.87, 0.87, 0.88, 0.88},
			[]float64{0.6, 0.2, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05}, []float64{0.7, 0.5, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45}),
	}
	rows, err := DropoutSummary(runs)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Evals != 2 || math.Abs(rows[0].TestAcc-0.86) > 1e-12 || math.Abs(rows[0].LossGap-0.64) > 1e-12 {
		t.Errorf("plain row %+v: want 2 evaluations, test acc 0.86, loss gap 0.64", rows[0])
	}
	if math.Abs(rows[1].Gap-0.12) > 1e-12 || math.Abs(rows[1].LossGap-0.4) > 1e-12 {
		t.Errorf("dropout row %+v: want accuracy gap 0.12, loss gap 0.4", rows[1])
	}
}

// TestQuickProfile runs notebook 02's reproductions in the quick profile, as CI does.
func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
