package optimization

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// TestLearningRateSweep: the bisected divergence thresholds of GD and momentum agree with 2/λmax and
// 2(1+μ)/λmax within 1%, and Adam never overflows.
func TestLearningRateSweep(t *testing.T) {
	s, err := LearningRateSweep(100)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		curve int
		want  float64
	}{
		{0, GDStabilityLimit(QuadraticCurvature)},
		{1, MomentumStabilityLimit(QuadraticCurvature, MomentumSweepMu)},
	}
	for _, tc := range tests {
		c := s.Curves[tc.curve]
		if got := c.Threshold; !(math.Abs(got-tc.want)/tc.want < 0.01) {
			t.Errorf("%s diverges above η = %g, want %g ± 1%%", c.Label, got, tc.want)
		}
		// Below the threshold the sweep must be stable, above it diverged.
		for _, r := range c.Results {
			if r.Diverged != (r.LR > c.Threshold) {
				t.Errorf("%s at η = %g: diverged = %v, threshold %g", c.Label, r.LR, r.Diverged, c.Threshold)
			}
		}
	}
	if th := s.Curves[2].Threshold; !math.IsNaN(th) {
		t.Errorf("Adam diverged above η = %g; its steps are bounded by ≈η", th)
	}
	if _, err := LearningRateSweep(0); err == nil {
		t.Error("0 steps accepted")
	}
	if _, err := s.Figure(); err != nil {
		t.Error(err)
	}
}

// TestTorchAgreement replays the torch.optim fixture: every case within TorchTolerance, and the deviation
// measure notices a perturbed trajectory.
func TestTorchAgreement(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	version, cases, err := TorchAgreement(b)
	if err != nil {
		t.Fatal(err)
	}
	if version == "" || len(cases) != 16 {
		t.Fatalf("torch %q, %d cases; want a version and 16 cases", version, len(cases))
	}
	if w := MaxTorchDeviation(cases); !(w <= TorchTolerance) {
		t.Errorf("largest deviation from torch %g > %g", w, TorchTolerance)
	}
	for _, tc := range []struct {
		name      string
		got, want [][]float64
		dev       float64
		err       bool
	}{
		{"equal", [][]float64{{1, 2}}, [][]float64{{1, 2}}, 0, false},
		{"relative above 1", [][]float64{{10.1}}, [][]float64{{10}}, 0.01, false},
		{"absolute below 1", [][]float64{{0.2}}, [][]float64{{0.1}}, 0.1, false},
		{"NaN", [][]float64{{math.NaN()}}, [][]float64{{0}}, math.Inf(1), false},
		{"length", [][]float64{{1}}, [][]float64{{1}, {2}}, 0, true},
	} {
		d, err := trajectoryDeviation(tc.got, tc.want)
		if (err != nil) != tc.err || (!tc.err && math.Abs(d-tc.dev) > 1e-12 && d != tc.dev) {
			t.Errorf("%s: deviation %g, err %v; want %g, err %v", tc.name, d, err, tc.dev, tc.err)
		}
	}
}

// TestLandscapes: the paths start where they should, take the first GD step of the worked example, and the
// characteristic outcomes hold (RMSProp beats GD on the axis-aligned bowl; Adam reaches Rosenbrock's minimum).
func TestLandscapes(t *testing.T) {
	quad, err := QuadraticLandscape().Run()
	if err != nil {
		t.Fatal(err)
	}
	if p := quad.Paths[0].Points[1]; math.Abs(p[0]+3.69) > 1e-12 || math.Abs(p[1]+1.2) > 1e-12 {
		t.Errorf("first GD step on the quadratic = %v, want (-3.69, -1.2)", p)
	}
	rows := quad.Summary(1e-3)
	if !(rows[2].StepsTo >= 0 && rows[2].StepsTo < rows[0].StepsTo) {
		t.Errorf("RMSProp reached f<1e-3 at step %d, GD at %d: want RMSProp first", rows[2].StepsTo, rows[0].StepsTo)
	}
	ros, err := RosenbrockLandscape().Run()
	if err != nil {
		t.Fatal(err)
	}
	r := ros.Summary(1e-3)
	if !(r[3].Distance < 0.01) || !(r[0].Distance > 1) {
		t.Errorf("Rosenbrock distances to (1,1): Adam %g (want < 0.01), GD %g (want > 1)", r[3].Distance, r[0].Distance)
	}
	if _, err := (Landscape{Title: "empty"}).Run(); err == nil {
		t.Error("landscape without optimizers accepted")
	}
	bad := QuadraticLandscape()
	bad.Optimizers = []NamedOptimizer{{"bad", optim.SGD{}}}
	if _, err := bad.Run(); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("zero learning rate: error %v", err)
	}
}

// TestJudgeBatchSize checks the seeded verdict of the batch-size study on made-up summaries: the paired ratio of
// times to the target, the paired per-epoch gap, who came first, and the errors.
func TestJudgeBatchSize(t *testing.T) {
	env := &reproduce.Env{Profile: train.ProfileFull}
	seed := func(s int64, sgd, mb10, mb100, gd, sgdLoss, mb10Loss float64) []BatchSizeRow {
		return []BatchSizeRow{
			{Label: "SGD (1)", BatchSize: 1, Seed: s, SecondsToTarget: sgd, TargetHit: 0.5, LossAtEpoch1: sgdLoss},
			{Label: "mini-batch 10", BatchSize: 10, Seed: s, SecondsToTarget: mb10, TargetHit: 0.5, LossAtEpoch1: mb10Loss},
			{Label: "mini-batch 100", BatchSize: 100, Seed: s, SecondsToTarget: mb100, TargetHit: 0.5, LossAtEpoch1: 0.5},
			{Label: "batch GD", BatchSize: 3000, Seed: s, SecondsToTarget: gd, TargetHit: 0.5, LossAtEpoch1: 2},
		}
	}
	join := func(rs ...[]BatchSizeRow) []BatchSizeRow { return slices.Concat(rs...) }
	tests := []struct {
		name    string
		rows    []BatchSizeRow
		want    reproduce.Verdict
		fastest string
		ratio   float64
	}{
		{"mini-batch clearly first, SGD clearly lowest per epoch",
			join(seed(1, 4, 1, 2, 8, 0.30, 0.40), seed(2, 4.4, 1.1, 2, 8, 0.31, 0.40), seed(3, 3.6, 0.9, 2, 8, 0.29, 0.41)),
			reproduce.Reproduced, "mini-batch 10 in 3 of 3", 4},
		{"one seed: no interval",
			seed(1, 4, 1, 2, 8, 0.30, 0.40), reproduce.Inconclusive, "mini-batch 10 in 1 of 1", 4},
		{"SGD first in wall-clock time",
			join(seed(1, 1, 4, 4, 8, 0.30, 0.40), seed(2, 1.1, 4, 4.2, 8, 0.30, 0.40), seed(3, 0.9, 4.1, 4, 8, 0.30, 0.40)),
			reproduce.NotReproduced, "SGD (1) in 3 of 3", 0.25},
		{"per-epoch gap straddles zero",
			join(seed(1, 4, 1, 2, 8, 0.30, 0.31), seed(2, 4, 1, 2, 8, 0.32, 0.31), seed(3, 4, 1, 2, 8, 0.30, 0.30)),
			reproduce.Inconclusive, "mini-batch 10 in 3 of 3", 4},
	}
	for _, tc := range tests {
		v, err := JudgeBatchSize(env, tc.rows)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if v.Judgement.Verdict != tc.want || !strings.Contains(v.Ours(), tc.fastest) ||
			math.Abs(v.Slowdown.Mean-tc.ratio) > 0.1*tc.ratio {
			t.Errorf("%s: verdict %s, ratio %.3g, ours %q; want %s, ratio ≈ %g, %q", tc.name, v.Judgement.Verdict,
				v.Slowdown.Mean, v.Ours(), tc.want, tc.ratio, tc.fastest)
		}
	}
	never := seed(1, 4, 1, math.NaN(), 8, 0.3, 0.4)
	if _, err := JudgeBatchSize(env, never); err == nil {
		t.Error("a run that never reached the target was accepted")
	}
	if _, err := JudgeBatchSize(env, seed(1, 4, 1, 2, 8, 0.3, 0.4)[:2]); err == nil {
		t.Error("a seed without GD and batch 100 was accepted")
	}
	if _, err := JudgeBatchSize(env, nil); err == nil {
		t.Error("no rows accepted")
	}
}

// TestQuickProfile runs notebook 01's reproductions in the quick profile, as CI does.
func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
