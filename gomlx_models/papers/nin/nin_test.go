package nin

import (
	"testing"

	"github.com/gomlx/compute"

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
		p, err := CountParams(b, c, 1)
		if err != nil {
			t.Fatal(err)
		}
		params = append(params, p)
	}
	// The FC heads add flatten(8×8×10) → 64 → 10 to the trunk; GAP adds nothing.
	head := 8*8*10*64 + 64 + 64*10 + 10
	if params[0] != params[2]+head || params[1] != params[0] {
		t.Errorf("params %v: FC heads should add %d to GAP's %d", params, head, params[2])
	}
	if !cfgs[0].NoFCDropout || cfgs[1].NoFCDropout {
		t.Error("dropout flags of the FC heads are swapped")
	}
	full, err := CountParams(b, HeadConfigs(*HeadStudy.Paper)[2], 3)
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
	if p.WidthDiv != 1 || p.TrainN != 0 || p.TestN != 0 || p.Epochs < 1 || p.BatchSize != 128 {
		t.Errorf("paper profile %+v", p)
	}
	if HeadStudy.For(train.ProfileQuick) != HeadStudy.Quick || HeadStudy.For(train.ProfileFull) != HeadStudy.Full {
		t.Error("ByProfile does not select quick/full")
	}
	for _, cfg := range HeadConfigs(p) {
		c, err := p.Classification(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.Epochs != p.Epochs || c.BatchSize != 128 || c.EvalTrainN == 0 || c.Dataset == nil {
			t.Errorf("%s: recipe %+v", cfg.Name, c)
		}
	}
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
