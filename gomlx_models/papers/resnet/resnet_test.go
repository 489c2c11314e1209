package resnet

import (
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

func testEnv(t *testing.T) *reproduce.Env {
	return &reproduce.Env{Backend: reprotest.Backend(t), OutDir: t.TempDir(), Profile: train.ProfileQuick, Quick: true,
		Progress: io.Discard, Log: io.Discard}
}

// TestUnitsMatchPlainGo: the builder's block equals BasicUnit for every shortcut, and a changed weight is seen.
func TestUnitsMatchPlainGo(t *testing.T) {
	env := testEnv(t)
	checks, err := CheckUnits(env)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range checks {
		if c.Diff > 1e-4 {
			t.Errorf("%s: max diff %g", UnitChecks[i].Name, c.Diff)
		}
	}
	cfg, _ := models.CIFARResNet(20, models.ShortcutA)
	run, err := RunUnit(env.Backend, cfg, 6, 6, 8, 16, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if run.Output.H != 3 || run.Output.C != 16 {
		t.Fatalf("output %d×%d×%d, want 3×3×16", run.Output.H, run.Output.W, run.Output.C)
	}
	nonzero := 0
	for _, v := range run.Output.Pix {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero < len(run.Output.Pix)/4 {
		t.Errorf("only %d of %d outputs are non-zero: the check would be weak", nonzero, len(run.Output.Pix))
	}
	run.B.Scale[0] += 0.5
	if d := MaxAbsDiff(run.Output, BasicUnit(run.Input, run.A, run.B, nil)); d < 1e-3 {
		t.Errorf("a changed γ is not detected (diff %g)", d)
	}
	if _, err := RunUnit(env.Backend, models.ResNet50, 6, 6, 8, 16, 1, 1); err == nil {
		t.Error("a bottleneck block was accepted by RunUnit")
	}
	plain := cfg
	plain.Plain = true
	if _, err := RunUnit(env.Backend, plain, 6, 6, 8, 16, 1, 1); err == nil {
		t.Error("a plain block was accepted by RunUnit")
	}
}

// TestImageNetTable: parameters equal torchvision's; multiply-adds within 6% of Table 1 with the paper's
// bottleneck, and torchvision's v1.5 costs more.
func TestImageNetTable(t *testing.T) {
	rows, err := ImageNetTable(testEnv(t).Backend)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	for _, r := range rows {
		if r.Paper.Params != r.TorchvisionParams || r.V15.Params != r.TorchvisionParams {
			t.Errorf("%s: %d / %d parameters, want %d", r.Config.Name, r.Paper.Params, r.V15.Params, r.TorchvisionParams)
		}
		g := float64(r.Paper.MACs) / 1e9
		if math.Abs(g-r.PaperGFLOPs) > 0.06*r.PaperGFLOPs {
			t.Errorf("%s: %.3f ×10⁹ multiply-adds, Table 1 says %.1f", r.Config.Name, g, r.PaperGFLOPs)
		}
		if bottleneck := r.Config.Block.Expansion == 4; bottleneck != (r.V15.MACs > r.Paper.MACs) {
			t.Errorf("%s: v1.5 %d vs v1 %d multiply-adds", r.Config.Name, r.V15.MACs, r.Paper.MACs)
		}
	}
}

// TestBlocksAndShortcuts: Fig. 5's two blocks cost about the same; the shortcut options add parameters A < B < C,
// B exactly the two projections of ResNet-20.
func TestBlocksAndShortcuts(t *testing.T) {
	b := testEnv(t).Backend
	bc, err := CompareBlocks(b)
	if err != nil {
		t.Fatal(err)
	}
	// Basic: two 3×3×64×64 convolutions on 56×56; bottleneck: 256·64 + 9·64·64 + 64·256 per position.
	if want := int64(2 * 9 * 64 * 64 * 56 * 56); bc.Basic.MACs != want {
		t.Errorf("basic block: %d multiply-adds, want %d", bc.Basic.MACs, want)
	}
	if want := int64((256*64 + 9*64*64 + 64*256) * 56 * 56); bc.Bottleneck.MACs != want {
		t.Errorf("bottleneck block: %d multiply-adds, want %d", bc.Bottleneck.MACs, want)
	}
	rows, err := CompareShortcuts(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !(r.A.Params < r.B.Params && r.B.Params < r.C.Params) {
			t.Errorf("%s: A %d, B %d, C %d parameters", r.Name, r.A.Params, r.B.Params, r.C.Params)
		}
	}
	if r20 := rows[1]; r20.A.Params != 269_722 || r20.B.Params != 269_722+576+2176 {
		t.Errorf("ResNet-20: A %d, B %d parameters", r20.A.Params, r20.B.Params)
	}
}

// TestConstruction: the deepened networks, residual and plain, give the shallow network's logits.
func TestConstruction(t *testing.T) {
	env := testEnv(t)
	s := Construction.For(train.ProfileQuick)
	for _, plain := range []bool{false, true} {
		c, err := Construct(env, s, plain)
		if err != nil {
			t.Fatal(err)
		}
		if c.MaxDiff > 1e-5 || c.MaxLogit == 0 || c.Copied == 0 || c.Added == 0 || c.ShallowErr != c.DeepErr {
			t.Errorf("plain=%v: %+v", plain, c)
		}
		if c.Deep.Depth() != s.Deep || c.Shallow.Depth() != s.Shallow {
			t.Errorf("plain=%v: depths %d → %d", plain, c.Shallow.Depth(), c.Deep.Depth())
		}
	}
	bad := s
	bad.Deep = s.Shallow
	if _, err := Construct(env, bad, false); err == nil {
		t.Error("a deep network as shallow as the shallow one was accepted")
	}
}

// TestRecipeSchedule: the paper's learning rates, ResNet-110's warm-up, and rejected recipes.
func TestRecipeSchedule(t *testing.T) {
	for _, tc := range []struct {
		step, depth int
		want        float64
	}{{0, 20, 0.1}, {31999, 20, 0.1}, {32000, 20, 0.01}, {47999, 56, 0.01}, {48000, 56, 0.001}, {63999, 20, 0.001},
		{0, 110, 0.01}, {399, 110, 0.01}, {400, 110, 0.1}, {32000, 110, 0.01}} {
		if got := PaperRecipe.LRAt(tc.step, tc.depth); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LRAt(%d, depth %d) = %g, want %g", tc.step, tc.depth, got, tc.want)
		}
	}
	p := PaperRecipe
	if p.BatchSize != 128 || p.Steps != 64000 || p.Momentum != 0.9 || p.WeightDecay != 1e-4 || p.Pad != 4 || p.Width != 16 {
		t.Errorf("paper recipe %+v", p)
	}
	if d := Degradation.For(train.ProfilePaper); len(d.PlainDepths) != 4 || len(d.Depths) != 4 || d.Depths[3] != 56 {
		t.Errorf("paper degradation study %+v", d)
	}
	if s := Table6.For(train.ProfilePaper); len(s.Depths) != 5 || s.Depths[4] != 110 || len(s.PlainDepths) != 1 {
		t.Errorf("paper Table 6 study %+v", s)
	}
	// The full profile's two experiments read one study (trained once per process).
	if fmt.Sprintf("%+v", Degradation.Full) != fmt.Sprintf("%+v", Table6.Full) {
		t.Error("the full profile's Table 6 study is not the degradation study")
	}
	if d := DepthRecipe; d.Steps%d.EvalEvery != 0 || d.Steps != 15*(d.TrainN/d.BatchSize) {
		t.Errorf("depth recipe %+v: want 15 epochs, evaluated at its last step", d)
	}
	for _, bad := range []Recipe{
		{Width: 16, BatchSize: 8, Steps: 10, LR: 0.1, Milestones: []int{5, 5}},
		{Width: 16, BatchSize: 8, Steps: 10, LR: 0},
		{Width: 16, BatchSize: 8, Steps: 10, LR: 0.1, Momentum: 1},
		{Width: 0, BatchSize: 8, Steps: 10, LR: 0.1},
		{Width: 16, BatchSize: 8, Steps: 10, LR: 0.1, Warmup: 5},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("recipe %+v accepted", bad)
		}
	}
}

// TestPaperRecipeWiring trains the paper's recipe for two steps, with augmentation on, and checks the learning
// rate the schedule leaves for the next step.
func TestPaperRecipeWiring(t *testing.T) {
	env := testEnv(t)
	r := PaperRecipe
	// Two steps, milestones at 2 and 3: the hook after step 2 sets LRAt(2) = 0.01 for a third step. One step
	// early would give 0.001, one step late 0.1.
	r.Width, r.TrainN, r.TestN, r.EvalTrainN, r.BatchSize, r.Steps, r.EvalEvery, r.Milestones = 4, 64, 32, 32, 16, 2, 2, []int{2, 3}
	cfg, err := r.Net(20, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Classification(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Augment == nil || c.Schedule == nil || c.OnStep == nil {
		t.Fatal("the paper recipe has no augmentation, no schedule or no BN re-estimation")
	}
	tr, err := r.Fit(env, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tr.Fitted.Run.Variable("/learning_rate")
	if err != nil {
		t.Fatal(err)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	if lr := val.Value(); math.Abs(toFloat(lr)-0.01) > 1e-9 {
		t.Errorf("learning rate after 2 steps = %v, want 0.01", lr)
	}
	if tr.TrainErr < 0 || tr.TestErr < 0 {
		t.Errorf("errors %g / %g", tr.TrainErr, tr.TestErr)
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// TestReestimatedBeforeEvaluation: with ReestimateBN the moving averages at the end hold the re-estimation on
// the 640 training images (two passes of two batches, 500 and 140: avg_weight 4), not the three training
// steps' updates (avg_weight 3).
func TestReestimatedBeforeEvaluation(t *testing.T) {
	env := testEnv(t)
	for _, on := range []bool{false, true} {
		r := quickDepthRecipe
		r.Steps, r.EvalEvery, r.Milestones, r.ReestimateBN = 3, 3, nil, on
		cfg, err := r.Net(8, false)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := r.Fit(env, cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		w, err := train.VariableValues(tr.Fitted.Run.Store, "batch_normalization/avg_weight")
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]float64{false: 3, true: 4}[on]; w[0] != want {
			t.Errorf("re-estimation %v: avg_weight %g, want %g", on, w[0], want)
		}
	}
	bad := quickDepthRecipe
	bad.Steps = 21
	cfg, _ := bad.Net(8, false)
	if _, err := bad.Classification(cfg, 1); err == nil {
		t.Error("re-estimation with steps not a multiple of EvalEvery accepted")
	}
}

// TestTrainSideBySide: a study trained two networks at a time gives every network the same history as one
// trained alone, lists the runs in the study's order (per seed, per depth, plain first) and says how many trained
// at once.
func TestTrainSideBySide(t *testing.T) {
	env := testEnv(t)
	r := quickDepthRecipe
	r.Steps, r.EvalEvery, r.Milestones = 4, 2, nil
	s := Study{Depths: []int{8, 14}, PlainDepths: []int{8}, Seeds: []int64{1, 2}, Recipe: r}
	defer func(n int) { maxConcurrentFits = n }(maxConcurrentFits)
	train1 := func(at int) []*Trained {
		t.Helper()
		maxConcurrentFits = at
		studyMu.Lock()
		clear(studyCache)
		studyMu.Unlock()
		runs, err := s.Train(env)
		if err != nil {
			t.Fatal(err)
		}
		return runs
	}
	alone, side := train1(1), train1(2)
	want := []string{"plain-8/1", "ResNet-8/1", "ResNet-14/1", "plain-8/2", "ResNet-8/2", "ResNet-14/2"}
	if len(side) != len(want) || len(alone) != len(want) {
		t.Fatalf("%d and %d runs, want %d", len(alone), len(side), len(want))
	}
	for i, w := range want {
		a, b := alone[i], side[i]
		if got := fmt.Sprintf("%s-%d/%d", map[bool]string{true: "plain", false: "ResNet"}[b.Config.Plain], b.Config.Depth(), b.Seed); got != w {
			t.Errorf("run %d is %s, want %s", i, got, w)
		}
		if a.Alongside != 1 || b.Alongside != 2 {
			t.Errorf("run %d: alongside %d and %d, want 1 and 2", i, a.Alongside, b.Alongside)
		}
		if a.TestErr != b.TestErr || a.TrainErr != b.TrainErr {
			t.Errorf("run %d: errors %.4f/%.4f alone, %.4f/%.4f side by side", i, a.TrainErr, a.TestErr, b.TrainErr, b.TestErr)
		}
		ha, hb := a.Fitted.Run.History.Steps, b.Fitted.Run.History.Steps
		if len(ha) == 0 || len(ha) != len(hb) {
			t.Fatalf("run %d: %d and %d recorded steps", i, len(ha), len(hb))
		}
		for k := range ha {
			if ha[k].Loss != hb[k].Loss {
				t.Errorf("run %d step %d: loss %g alone, %g side by side", i, ha[k].Step, ha[k].Loss, hb[k].Loss)
			}
		}
	}
	if got := timing(side); !strings.Contains(got, "6 networks trained, 2 at a time") {
		t.Errorf("timing %q does not say two trained at a time", got)
	}
}

// TestRecovered: a panic in a fit becomes an error; a fit's own result and error pass through.
func TestRecovered(t *testing.T) {
	if _, err := recovered(func() (*Trained, error) { panic("shape mismatch") }); err == nil || !strings.Contains(err.Error(), "shape mismatch") {
		t.Errorf("panic: got %v", err)
	}
	want := &Trained{Seed: 7}
	if got, err := recovered(func() (*Trained, error) { return want, nil }); got != want || err != nil {
		t.Errorf("ok fit: got %v, %v", got, err)
	}
	if _, err := recovered(func() (*Trained, error) { return nil, io.ErrUnexpectedEOF }); err != io.ErrUnexpectedEOF {
		t.Errorf("failed fit: got %v", err)
	}
}

// fakeRun is a trained network with a final training and test error and a short test-error history.
func fakeRun(depth int, plain bool, seed int64, trainErr, testErr float64) *Trained {
	cfg, _ := quickDepthRecipe.Net(depth, plain)
	run := &train.Run{}
	for _, step := range []int{10, 20} {
		run.History.Evals = append(run.History.Evals, train.EvalRecord{Step: step, Set: "test", Accuracy: 1 - testErr/100},
			train.EvalRecord{Step: step, Set: "train", Accuracy: 1 - trainErr/100})
	}
	return &Trained{Config: cfg, Seed: seed, TrainErr: trainErr, TestErr: testErr, Data: "Fashion-MNIST",
		Fitted: &train.Fitted{Run: run, Test: &data.Images{N: 300}}}
}

// TestDepthResults judges the two claims on synthetic runs: consistent effects over three seeds are
// reproduced, a reversed one is not, and one seed is inconclusive.
func TestDepthResults(t *testing.T) {
	env := testEnv(t)
	env.Quick = false
	s := Study{Depths: []int{8, 14}, PlainDepths: []int{8, 14}, Seeds: []int64{1, 2, 3}}
	var runs []*Trained
	for i, seed := range s.Seeds {
		e := 0.1 * float64(i)
		runs = append(runs, fakeRun(8, true, seed, 10+e, 12+e), fakeRun(8, false, seed, 9+e, 11+e),
			fakeRun(14, true, seed, 15+e, 16+e), fakeRun(14, false, seed, 8-e, 10-e))
	}
	deg, err := DegradationResult(env, s, runs)
	if err != nil {
		t.Fatal(err)
	}
	if deg.Verdict() != reproduce.Reproduced {
		t.Errorf("degradation: %s (%s)", deg.Verdict(), deg.Judgement.Reason)
	}
	te, err := TestErrorResult(env, s, runs)
	if err != nil {
		t.Fatal(err)
	}
	if te.Verdict() != reproduce.Reproduced {
		t.Errorf("test error: %s (%s)", te.Verdict(), te.Judgement.Reason)
	}
	for _, r := range runs {
		if r.Config.Depth() == 14 && !r.Config.Plain {
			r.TrainErr += 3 // the deep ResNet now trains worse than the shallow one in every seed
		}
	}
	if deg, err := DegradationResult(env, s, runs); err != nil || deg.Verdict() != reproduce.NotReproduced {
		t.Errorf("reversed ResNet depths: %v, %v", deg.Verdict(), err)
	}
	one := s
	one.Seeds = []int64{1}
	if deg, err := DegradationResult(env, one, runs); err != nil || deg.Verdict() != reproduce.Inconclusive {
		t.Errorf("one seed: %v, %v", deg.Verdict(), err)
	}
	if _, err := DegradationResult(env, Study{Depths: []int{8, 14}, PlainDepths: []int{8}, Seeds: s.Seeds}, runs); err == nil {
		t.Error("a study without the deep plain network accepted")
	}

	// Table 6's ordering is judged step by step: ResNet-20 beats ResNet-8, but ResNet-14 is worse than ResNet-8
	// in every seed, so the ordering does not hold.
	three := Study{Depths: []int{8, 14, 20}, PlainDepths: []int{8}, Seeds: s.Seeds}
	var runs3 []*Trained
	for i, seed := range three.Seeds {
		e := 0.1 * float64(i)
		runs3 = append(runs3, fakeRun(8, true, seed, 10+e, 12+e), fakeRun(8, false, seed, 9+e, 11+e),
			fakeRun(14, false, seed, 8+e, 11.5+e), fakeRun(20, false, seed, 7+e, 10+e))
	}
	te3, err := TestErrorResult(env, three, runs3)
	if err != nil {
		t.Fatal(err)
	}
	if te3.Verdict() != reproduce.NotReproduced || !strings.Contains(te3.Judgement.Reason, "ResNet-14 − ResNet-8") {
		t.Errorf("a reversed middle step: %s (%s)", te3.Verdict(), te3.Judgement.Reason)
	}
	if !strings.Contains(te3.Ours, "ResNet-20 − ResNet-14 -1.50 points") {
		t.Errorf("row does not give every step: %s", te3.Ours)
	}
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }

// TestMeanSubtracted: the training images average to zero at every pixel; the test images are shifted by the
// training mean, not their own.
func TestMeanSubtracted(t *testing.T) {
	tr, err := MeanSubtracted(data.Train)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range PixelMean(tr) {
		if math.Abs(float64(m)) > 1e-4 {
			t.Fatalf("pixel %d: training mean %g after subtraction", i, m)
		}
	}
	te, err := MeanSubtracted(data.Test)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := Data(data.Test)
	if err != nil {
		t.Fatal(err)
	}
	rawTrain, _, _ := Data(data.Train)
	mean := PixelMean(rawTrain)
	for _, i := range []int{0, 1, raw.ImageSize() / 2, len(raw.Pixels) - 1} {
		if want := raw.Pixels[i] - mean[i%raw.ImageSize()]; te.Pixels[i] != want {
			t.Errorf("test pixel %d: %g, want %g", i, te.Pixels[i], want)
		}
	}
	if te.N != raw.N || &te.Pixels[0] == &raw.Pixels[0] {
		t.Error("the test images were not copied")
	}
}
