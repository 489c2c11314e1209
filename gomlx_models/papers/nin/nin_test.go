package nin

import (
	"math"
	"testing"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

func testBackend(t *testing.T) compute.Backend { return reprotest.Backend(t) }

func TestMLPConvIsPatchMLP(t *testing.T) {
	b := testBackend(t)
	for _, tc := range []struct {
		block   models.MLPConv
		h, w, c int
	}{
		{CheckBlock, 7, 7, 3},
		{models.MLPConv{Kernel: 5, Filters: []int{6, 5}}, 6, 9, 2},
		{models.MLPConv{Kernel: 1, Filters: []int{3}}, 4, 4, 2},
	} {
		run, err := RunMLPConv(b, tc.block, tc.h, tc.w, tc.c, 9)
		if err != nil {
			t.Fatal(err)
		}
		mlp := PatchMLP(run.Input, tc.block.Kernel, run.Layers)
		if d := MaxAbsDiff(run.Output, mlp); d > 1e-5 {
			t.Errorf("%+v: max diff %g", tc.block, d)
		}
		var nonzero int
		for _, v := range mlp.Pix {
			if v != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%+v: all outputs zero: the check would be vacuous", tc.block)
		}
		// A perturbed weight must be detected.
		run.Layers[0].W[0][0] += 0.5
		if d := MaxAbsDiff(run.Output, PatchMLP(run.Input, tc.block.Kernel, run.Layers)); d < 1e-3 {
			t.Errorf("%+v: perturbed weights still match (diff %g)", tc.block, d)
		}
	}
	if _, err := RunMLPConv(b, CheckBlock, 0, 7, 3, 1); err == nil {
		t.Error("empty image: no error")
	}
}

func TestMaxoutFitImprovesWithPieces(t *testing.T) {
	fits, err := FitMaxout(testBackend(t), []int{1, 2, 4}, 101, 300)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(fits); i++ {
		if !(fits[i].RMSE < fits[i-1].RMSE) {
			t.Errorf("k=%d RMSE %g not below k=%d RMSE %g", fits[i].Pieces, fits[i].RMSE, fits[i-1].Pieces, fits[i-1].RMSE)
		}
	}
	// k = 1 is a line: the best line through x² on [−1, 1] has RMSE √(4/45) ≈ 0.298.
	if r := fits[0].RMSE; r < 0.29 || r > 0.35 {
		t.Errorf("k=1 RMSE %g, want ≈ 0.298", r)
	}
	if _, err := FitMaxout(testBackend(t), []int{0}, 10, 1); err == nil {
		t.Error("0 pieces: no error")
	}
}

func TestHeadConfigsAndParams(t *testing.T) {
	b := testBackend(t)
	s := HeadStudy.Full
	cfgs := HeadConfigs(s)
	names := []string{HeadFC, HeadFCDropout, HeadGAP}
	var params []int
	for i, c := range cfgs {
		if c.Name != names[i] {
			t.Errorf("head %d is %q, want %q", i, c.Name, names[i])
		}
		p, err := CountParams(b, c, 28, 1)
		if err != nil {
			t.Fatal(err)
		}
		params = append(params, p)
	}
	// On 28×28 images the FC heads add flatten(7×7×10) → 64 → 10 to the trunk; GAP adds nothing.
	head := 7*7*10*64 + 64 + 64*10 + 10
	if params[0] != params[2]+head || params[1] != params[0] {
		t.Errorf("params %v: FC heads should add %d to GAP's %d", params, head, params[2])
	}
	if !cfgs[0].NoFCDropout || cfgs[1].NoFCDropout {
		t.Error("dropout flags of the FC heads are swapped")
	}
	full, err := CountParams(b, HeadConfigs(*HeadStudy.Paper)[2], 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	if full != 966_986 {
		t.Errorf("paper profile GAP network has %d parameters, want NIN's 966,986", full)
	}
}

// TestPaperProfileWiring checks that the paper profile selects §4.2's network on all of the data with the same
// code path the quick profile runs.
func TestPaperProfileWiring(t *testing.T) {
	p := HeadStudy.For(train.ProfilePaper)
	if p.WidthDiv != 1 || p.TrainN != 0 || p.TestN != 0 || p.Epochs < 1 || p.BatchSize != 128 || len(p.Seeds) < 3 {
		t.Errorf("paper profile %+v", p)
	}
	if full := HeadStudy.For(train.ProfileFull); len(full.Seeds) < 3 || full.Epochs < 10 {
		t.Errorf("full profile %+v: want at least 3 seeds and 10 epochs", full)
	}
	for _, cfg := range HeadConfigs(p) {
		c, err := p.Classification(cfg, 1, 50000)
		if err != nil {
			t.Fatal(err)
		}
		if c.Epochs != p.Epochs || c.BatchSize != 128 || c.EvalTrainN != 50000 || c.Dataset == nil || c.Seed != 1 || c.Schedule == nil {
			t.Errorf("%s: recipe %+v", cfg.Name, c)
		}
		perEpoch := 50000 / 128
		if lr := c.Schedule(p.DecayAt[0]*perEpoch - 1); lr != p.LR {
			t.Errorf("learning rate before the first decay %g, want %g", lr, p.LR)
		}
		if lr := c.Schedule(p.DecayAt[1] * perEpoch); math.Abs(lr-p.LR/100) > 1e-15 {
			t.Errorf("learning rate after the second decay %g, want %g", lr, p.LR/100)
		}
	}
}

// TestShift: a shifted image moves its pixels and fills with zeros; the four directions of each magnitude.
func TestShift(t *testing.T) {
	im := &data.Images{Name: "ramp", N: 1, H: 3, W: 4, C: 1, Labels: []int32{0}, Pixels: []float32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12}}
	tests := []struct {
		dx, dy int
		want   []float32
	}{
		{1, 0, []float32{0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11}},
		{-2, 0, []float32{3, 4, 0, 0, 7, 8, 0, 0, 11, 12, 0, 0}},
		{0, 1, []float32{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{0, -1, []float32{5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		got := Shift(im, tc.dx, tc.dy).Pixels
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("shift (%d, %d): %v, want %v", tc.dx, tc.dy, got, tc.want)
				break
			}
		}
	}
	sets, err := ShiftedSets(im, []int{1, 2})
	if err != nil || len(sets) != 3 || len(sets[1]) != 4 || sets[0][0] != im {
		t.Errorf("ShiftedSets: %d sets, %v", len(sets), err)
	}
	if _, err := ShiftedSets(im, []int{3}); err == nil {
		t.Error("a shift as large as the image was accepted")
	}
}

// TestRegions: on the disk the maxout unit beats the linear one; the figure draws every fit.
func TestRegions(t *testing.T) {
	s := Regions
	s.TrainN, s.TestN, s.Steps, s.GridN = 400, 400, 300, 21
	fits, err := FitRegions(testBackend(t), s, []RegionPair{{0, sepLinear}, {0, sepMaxout}})
	if err != nil {
		t.Fatal(err)
	}
	if !(fits[1].Accuracy() > fits[0].Accuracy()+0.05) {
		t.Errorf("maxout %.3f, linear %.3f: maxout should separate the disk better", fits[1].Accuracy(), fits[0].Accuracy())
	}
	if got := fits[1].At(0.25, -0.15); got < 0.5 {
		t.Errorf("maxout P(inside) at the disk's centre %.2f", got)
	}
	if _, err := RegionsFigure(fits, 2); err != nil {
		t.Error(err)
	}
	if _, err := FitRegions(testBackend(t), s, []RegionPair{{5, 0}}); err == nil {
		t.Error("an unknown concept was accepted")
	}
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
