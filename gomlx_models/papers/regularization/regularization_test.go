package regularization

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
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
	stats, outs := BNModesTables(probe, probe2, res, res2)
	if len(stats) != 5 || len(outs) != len(probe)+1 {
		t.Errorf("tables of %d and %d rows", len(stats), len(outs))
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

// TestCompareBN pairs the runs of each seed: evaluations with BN ahead, BN's smallest lead and the drift of the
// sigmoid inputs from the early probe to the last; runs out of order are an error.
func TestCompareBN(t *testing.T) {
	mk := func(bn bool, seed int64, accs []float64, shift float64) *BNRun {
		r := &BNRun{Run: &train.Run{}, BatchNorm: bn, Seed: seed}
		for i, a := range accs {
			r.Run.History.Evals = append(r.Run.History.Evals, train.EvalRecord{Step: 100 * (i + 1), Set: "test", Accuracy: a})
		}
		for step := 100; step <= 400; step += 100 {
			m := shift * float64(step) / 100
			r.ProbeSteps = append(r.ProbeSteps, step)
			r.Percentiles = append(r.Percentiles, [][]float64{{m - 1, m, m + 1}, {-1, 0, 2 + m}})
		}
		return r
	}
	s := &BNStudyResult{Config: BNConfig{EarlyStep: 200}, Runs: []*BNRun{
		mk(false, 1, []float64{0.1, 0.5, 0.9, 0.95}, 1), mk(true, 1, []float64{0.6, 0.9, 0.88, 0.97}, 0.25)}}
	cs, err := s.Compare()
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	if c.Ahead != 3 || len(c.Steps) != 4 || math.Abs(c.MinLead-(-2)) > 1e-9 {
		t.Errorf("ahead %d of %d, smallest lead %g; want 3 of 4, −2 points", c.Ahead, len(c.Steps), c.MinLead)
	}
	// Without BN unit 0 moves by 2 in every percentile from step 200 to 400, unit 1 by 2 in its 85th only.
	if math.Abs(c.DriftNoBN[0]-2) > 1e-9 || math.Abs(c.DriftNoBN[1]-2.0/3) > 1e-9 || math.Abs(c.MeanDriftBN-(0.5+0.5/3)/2) > 1e-9 {
		t.Errorf("drifts %v (mean %g) without BN, %v (mean %g) with BN", c.DriftNoBN, c.MeanDriftNoBN, c.DriftBN, c.MeanDriftBN)
	}
	if c.SmallerWithBN != 2 {
		t.Errorf("%d units drift less with BN, want 2", c.SmallerWithBN)
	}
	s.Runs[0], s.Runs[1] = s.Runs[1], s.Runs[0]
	if _, err := s.Compare(); err == nil {
		t.Error("runs out of order accepted")
	}
	s.Runs[0], s.Runs[1] = s.Runs[1], s.Runs[0]
	s.Config.EarlyStep = 150
	if _, err := s.Compare(); err == nil {
		t.Error("an early step without a probe accepted")
	}
	s.Config.EarlyStep = 200

	// Both rows show the study's figures, drawn and saved once: files removed after the first row stay absent.
	env := &reproduce.Env{OutDir: t.TempDir(), Profile: train.ProfileFull}
	ahead, err := BNAheadResult(env, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(ahead.Figures) != 1 {
		t.Fatalf("bn-mnist shows %d figures, want 1", len(ahead.Figures))
	}
	entries, err := os.ReadDir(env.OutDir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no figures saved in %s: %v", env.OutDir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(env.OutDir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	drift, err := BNDriftResult(env, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift.Figures) != len(BNFigureNames)-1 {
		t.Errorf("bn-input-drift shows %d figures, want %d", len(drift.Figures), len(BNFigureNames)-1)
	}
	if again, _ := os.ReadDir(env.OutDir); len(again) != 0 {
		t.Errorf("the second row drew the figures again: %d files", len(again))
	}
}

// TestSigmoidInputs: the plain-Go inputs of the last hidden layer equal the graph's in training mode (batch
// statistics, learned γ and β) with BN, and the graph's without BN.
func TestSigmoidInputs(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	im := &data.Images{N: 16, H: 2, W: 3, C: 1}
	rng := rand.New(rand.NewPCG(4, 5))
	for range im.N * im.ImageSize() {
		im.Pixels = append(im.Pixels, rng.Float32())
	}
	x := tensors.FromFlatDataAndDimensions(im.Pixels, im.N, im.ImageSize())
	for _, bn := range []bool{false, true} {
		net := models.MLPConfig{Hidden: []int{5, 4}, Activation: activation.TypeSigmoid, Classes: 3, InitStddev: 0.8,
			BatchNorm: bn, ProbeLayer: 1}
		store := model.NewStore()
		probe := func(unit int) []float32 {
			n := net
			n.ProbeUnit = unit
			e, err := model.NewExec(b, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
				scope.Store().SetTraining(x.Graph(), true)
				return models.MLPWithProbe(n)(scope, x)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Finalize()
			out, err := e.Exec(x)
			if err != nil {
				t.Fatal(err)
			}
			return tensors.MustCopyFlatData[float32](out[0])
		}
		probe(0) // creates the variables
		if bn {
			for _, name := range []string{"scale", "offset"} {
				for layer, width := range net.Hidden {
					v := store.GetVariable(fmt.Sprintf("/hidden_%d/batch_normalization/%s", layer, name))
					vals := make([]float32, width)
					for i := range vals {
						vals[i] = float32(0.5 + rng.Float64())
					}
					if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, width)); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		units, err := SigmoidInputs(store, net, im)
		if err != nil {
			t.Fatal(err)
		}
		if len(units) != 4 || len(units[0]) != im.N {
			t.Fatalf("BN %v: %d units of %d values", bn, len(units), len(units[0]))
		}
		for _, u := range []int{0, 3} {
			want := probe(u)
			for i := range want {
				if d := math.Abs(units[u][i] - float64(want[i])); d > 1e-4 {
					t.Fatalf("BN %v, unit %d, image %d: plain Go %g, graph %g", bn, u, i, units[u][i], want[i])
				}
			}
		}
	}
	if _, err := SigmoidInputs(model.NewStore(), models.BNPaperMLP, im); err == nil {
		t.Error("an empty store was accepted")
	}
}

// TestDropoutResult: gaps that shrink in every seed are reproduced; a seed list out of pairs is an error.
func TestDropoutResult(t *testing.T) {
	env := &reproduce.Env{OutDir: t.TempDir()}
	stats := []DropoutStats{{N: 200_000, KeptFraction: 0.8, MeanRatio: 1.001}, {KeptFraction: 0.8, MeanRatio: 0.999}}
	var rows []DropoutRow
	for i, g := range [][2]float64{{0.10, 0.08}, {0.11, 0.085}, {0.105, 0.09}} {
		rows = append(rows, DropoutRow{Seed: int64(i + 1), Gap: g[0], TrainAcc: 1, TestAcc: 1 - g[0], Evals: 3},
			DropoutRow{Seed: int64(i + 1), Gap: g[1], TrainAcc: 1, TestAcc: 1 - g[1], Evals: 3})
	}
	res, err := DropoutResult(env, stats, rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict() != reproduce.Reproduced {
		t.Errorf("verdict %s (%s), want reproduced", res.Verdict(), res.Judgement.Reason)
	}
	rows[1].Gap = 0.2 // one seed where dropout widens the gap: the interval now includes 0
	if res, err := DropoutResult(env, stats, rows, nil); err != nil || res.Verdict() != reproduce.Inconclusive {
		t.Errorf("verdict %v, err %v; want inconclusive", res.Verdict(), err)
	}
	if _, err := DropoutResult(env, stats, rows[1:], nil); err == nil {
		t.Error("rows out of pairs accepted")
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
