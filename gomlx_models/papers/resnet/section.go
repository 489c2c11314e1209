// Package resnet is notebook 09: Deep Residual Learning (He, Zhang, Ren & Sun 2016). The networks live in
// gomlx_models/models (models.ResNetConfig: the basic and bottleneck blocks, shortcut options A/B/C, plain
// networks, the ImageNet table and the CIFAR family); this package writes a residual block out in plain Go and
// checks it against the builder (Eq. 1 and 2), counts Table 1's parameters and multiply-adds, the blocks of
// Fig. 5 and the shortcut options, builds a deeper network from a trained shallower one plus identity blocks
// ("a solution by construction", §1), and trains plain and residual networks of several depths with the paper's
// CIFAR recipe (§4.2) and seeds, to near convergence on a fixed subset, for the degradation problem (Fig. 6, on
// training error with re-estimated BN statistics) and for depth against test error (Table 6).
package resnet

import (
	"fmt"
	"math"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/plots"
)

// Section lists notebook 09's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "09", Title: "ResNet: residual learning, shortcuts, bottlenecks, the degradation problem",
		Experiments: []reproduce.Experiment{resnetBlock(), resnetImageNetTable(), resnetBottleneck(), resnetShortcuts(),
			resnetConstruction(), resnetDegradation(), resnetCIFAR()}}
}

// UnitChecks are the blocks checked against BasicUnit: an identity shortcut, option A across a stage boundary
// (stride 2, 8 → 16 channels) and option B's projection there.
var UnitChecks = []struct {
	Shortcut       models.Shortcut
	H, C, Planes   int
	Stride         int
	Name           string
	PaperEquation  string
	ProjectionUsed bool
}{
	{models.ShortcutA, 6, 8, 8, 1, "identity shortcut", "Eq. 1", false},
	{models.ShortcutA, 6, 8, 16, 2, "option A (zero-padded, stride 2)", "Eq. 1 with zero padding", false},
	{models.ShortcutB, 6, 8, 16, 2, "option B (projection, stride 2)", "Eq. 2", true},
}

// UnitCheck is one block of UnitChecks run by the library and by BasicUnit.
type UnitCheck struct {
	Run  *UnitRun
	Mine Image
	Diff float64
}

// CheckUnits runs every UnitChecks block through the library and through BasicUnit.
func CheckUnits(env *reproduce.Env) ([]UnitCheck, error) {
	var out []UnitCheck
	for i, u := range UnitChecks {
		cfg, err := models.CIFARResNet(20, u.Shortcut)
		if err != nil {
			return nil, err
		}
		run, err := RunUnit(env.Backend, cfg, u.H, u.H, u.C, u.Planes, u.Stride, uint64(11+i))
		if err != nil {
			return nil, err
		}
		if (run.Projection != nil) != u.ProjectionUsed {
			return nil, fmt.Errorf("%s: projection present = %v, want %v", u.Name, run.Projection != nil, u.ProjectionUsed)
		}
		mine := BasicUnit(run.Input, run.A, run.B, run.Projection)
		out = append(out, UnitCheck{Run: run, Mine: mine, Diff: MaxAbsDiff(run.Output, mine)})
	}
	return out, nil
}

func resnetBlock() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "resnet-block", Section: "09",
		Paper:      "He et al. 2016, §3.2, Eq. 1 and 2; Fig. 2 and 5 (left)",
		Claim:      "a residual block computes y = F(x, {W_i}) + x, or y = F(x) + W_s·x where the dimensions change",
		PaperValue: "the same function (Eq. 1, Eq. 2)",
		Measure: "models.ResNetConfig.Unit (basic block, random BN statistics, inference mode) vs BasicUnit, the block " +
			"in plain Go with the unit's own weights: identity, option A and option B shortcuts (same in both profiles)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			checks, err := CheckUnits(env)
			if err != nil {
				return nil, err
			}
			return BlockResult(env, checks)
		},
	}
}

// BlockResult is the row of "resnet-block": the library's blocks equal BasicUnit within 1e-4.
func BlockResult(env *reproduce.Env, checks []UnitCheck) (*reproduce.Result, error) {
	worst := 0.0
	var parts []string
	for i, c := range checks {
		worst = math.Max(worst, c.Diff)
		parts = append(parts, fmt.Sprintf("%s %.1g", UnitChecks[i].Name, c.Diff))
	}
	fig, err := UnitFigure(checks[1])
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "resnet_block_vs_plain_go.png")
	if err != nil {
		return nil, err
	}
	return &reproduce.Result{Ours: fmt.Sprintf("max |library − plain Go| = %.2g", worst), Value: worst,
		Judgement: env.Judge(reproduce.Holds(1e-4), reproduce.Exact(worst)),
		Notes:     strings.Join(parts, "; ") + " (float32 engine vs float64 Go).", Figures: paths}, nil
}

func resnetImageNetTable() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "resnet-imagenet-table", Section: "09",
		Paper:      "He et al. 2016, Table 1",
		Claim:      "ResNet-18/34/50/101/152 cost 1.8, 3.6, 3.8, 7.6 and 11.3 ×10⁹ FLOPs (multiply-adds) on 224×224",
		PaperValue: "1.8 / 3.6 / 3.8 / 7.6 / 11.3 ×10⁹; parameters (torchvision) 11,689,512 … 60,192,808",
		Measure: "summary.Of on the models.ResNet table (Native layers, nothing executed), bottlenecks with the stride on " +
			"the first 1×1 as in the paper and on the 3×3 as in torchvision (same in both profiles)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			rows, err := ImageNetTable(env.Backend)
			if err != nil {
				return nil, err
			}
			return ImageNetResult(env, rows)
		},
	}
}

// ImageNetResult is the row of "resnet-imagenet-table": Table 1's multiply-adds within its printed precision
// (close within 6%) and torchvision's parameter counts exactly.
func ImageNetResult(env *reproduce.Env, rows []ImageNetRow) (*reproduce.Result, error) {
	var ours, notes []string
	var js []reproduce.Judgement
	for _, r := range rows {
		g := float64(r.Paper.MACs) / 1e9
		ours = append(ours, fmt.Sprintf("%.2f", g))
		// Table 1 prints 1.8, 3.6, 3.8, 7.6, 11.3 ×10⁹ (±0.05 by its rounding); close within a stated 6%.
		js = append(js,
			env.Judge(reproduce.Equals(r.PaperGFLOPs, 0.05).OrClose(0.06*r.PaperGFLOPs).In("×10⁹ multiply-adds ("+r.Config.Name+")"), reproduce.Exact(g)),
			env.Judge(reproduce.Equals(float64(r.TorchvisionParams), 0).In(" parameters ("+r.Config.Name+", torchvision)"), reproduce.Exact(float64(r.Paper.Params))))
		notes = append(notes, fmt.Sprintf("%s %s params", r.Config.Name, summary.Thousands(int64(r.Paper.Params))))
	}
	fig, err := ImageNetFigure(rows)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "resnet_imagenet_flops.png")
	if err != nil {
		return nil, err
	}
	notes = append(notes, fmt.Sprintf("torchvision's stride-on-3×3 bottleneck (v1.5): ResNet-50 %.2f, -101 %.2f, -152 %.2f ×10⁹",
		float64(rows[2].V15.MACs)/1e9, float64(rows[3].V15.MACs)/1e9, float64(rows[4].V15.MACs)/1e9))
	return &reproduce.Result{Ours: strings.Join(ours, " / ") + " ×10⁹ multiply-adds; parameters equal torchvision's",
		Value: float64(rows[4].Paper.MACs) / 1e9, Judgement: reproduce.AllOf(js...), Notes: strings.Join(notes, "; ") + ".", Figures: paths}, nil
}

func resnetBottleneck() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "resnet-bottleneck", Section: "09",
		Paper:      "He et al. 2016, §4.1 (Deeper Bottleneck Architectures), Fig. 5",
		Claim:      "a bottleneck block on 256-d has similar time complexity to a basic block on 64-d",
		PaperValue: "similar time complexity",
		Measure:    "multiply-adds and parameters of one block of each kind on conv2_x's 56×56 grid (summary.Of, Native layers)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			bc, err := CompareBlocks(env.Backend)
			if err != nil {
				return nil, err
			}
			return BottleneckResult(env, bc)
		},
	}
}

// BottleneckResult is the row of "resnet-bottleneck": the bottleneck block's multiply-adds within ±25% of the
// basic block's ("similar time complexity").
func BottleneckResult(env *reproduce.Env, bc BlockCosts) (*reproduce.Result, error) {
	ratio := float64(bc.Bottleneck.MACs) / float64(bc.Basic.MACs)
	fig, err := BlocksFigure(bc)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "resnet_basic_vs_bottleneck.png")
	if err != nil {
		return nil, err
	}
	// §4.1: the two designs have "similar time complexity"; the row states ±25% as similar.
	return &reproduce.Result{Ours: fmt.Sprintf("bottleneck/basic multiply-adds = %.3f", ratio), Value: ratio,
		Judgement: env.Judge(reproduce.Equals(1, 0.25).In("× basic block's cost"), reproduce.Exact(ratio)),
		Notes: fmt.Sprintf("basic (64-d): %s multiply-adds, %s parameters; bottleneck (256-d): %s, %s.",
			summary.Thousands(bc.Basic.MACs), summary.Thousands(int64(bc.Basic.Params)),
			summary.Thousands(bc.Bottleneck.MACs), summary.Thousands(int64(bc.Bottleneck.Params))), Figures: paths}, nil
}

func resnetShortcuts() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "resnet-shortcuts", Section: "09",
		Paper:      "He et al. 2016, §3.3 and §4.1 (Identity vs. Projection Shortcuts), Table 3",
		Claim:      "option A adds no parameters, B adds projections only where dimensions increase, C on every block",
		PaperValue: "A: parameter-free; ImageNet top-1 error of ResNet-34: A 25.03%, B 24.52%, C 24.19%",
		Measure:    "trainable parameters of ResNet-34 (224×224) and the CIFAR ResNet-20 with each option (summary.Of)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			rows, err := CompareShortcuts(env.Backend)
			if err != nil {
				return nil, err
			}
			return ShortcutsResult(env, rows)
		},
	}
}

// ShortcutsResult is the row of "resnet-shortcuts": B adds parameters over A, and C over B.
func ShortcutsResult(env *reproduce.Env, rows []ShortcutRow) (*reproduce.Result, error) {
	var notes []string
	var js []reproduce.Judgement
	for _, r := range rows {
		js = append(js,
			env.Judge(reproduce.Above(0).In(" parameters (B − A, "+r.Name+")"), reproduce.Exact(float64(r.B.Params-r.A.Params))),
			env.Judge(reproduce.Above(0).In(" parameters (C − B, "+r.Name+")"), reproduce.Exact(float64(r.C.Params-r.B.Params))))
		notes = append(notes, fmt.Sprintf("%s: A %s, B %s, C %s", r.Name, summary.Thousands(int64(r.A.Params)),
			summary.Thousands(int64(r.B.Params)), summary.Thousands(int64(r.C.Params))))
	}
	r34 := rows[0]
	fig, err := ShortcutFigure(rows)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "resnet_shortcut_parameters.png")
	if err != nil {
		return nil, err
	}
	return &reproduce.Result{Ours: fmt.Sprintf("ResNet-34: B +%s, C +%s parameters over A",
		summary.Thousands(int64(r34.B.Params-r34.A.Params)), summary.Thousands(int64(r34.C.Params-r34.A.Params))),
		Value: float64(r34.C.Params - r34.A.Params), Judgement: reproduce.AllOf(js...),
		Notes: strings.Join(notes, "; ") + ". Table 3's accuracies need ImageNet: not measured.", Figures: paths}, nil
}

func resnetConstruction() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "resnet-construction", Section: "09",
		Paper:      "He et al. 2016, §1 and §3.1 (\"a solution by construction\")",
		Claim:      "a deeper model made of a trained shallower model plus identity layers has the same outputs",
		PaperValue: "the same outputs, so no higher training error",
		Measure: "CIFAR nets of depth 8 (option A, and plain) trained briefly on CIFAR-10 or Fashion-MNIST, deepened to " +
			"depth 20 (quick: 14): residual blocks with their last BN's γ = β = 0, plain blocks with Dirac kernels and " +
			"pass-through BN; logits compared on 1,000 test images (quick: 200)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			s := Construction.For(env.Profile)
			var built []*Constructed
			for _, plain := range []bool{false, true} {
				c, err := Construct(env, s, plain)
				if err != nil {
					return nil, err
				}
				built = append(built, c)
			}
			return ConstructionResult(env, built)
		},
	}
}

// ConstructionResult is the row of "resnet-construction": the deepened networks' logits equal the shallow
// ones' within 1e-4.
func ConstructionResult(env *reproduce.Env, built []*Constructed) (*reproduce.Result, error) {
	var notes []string
	worst := 0.0
	for _, c := range built {
		plain := c.Shallow.Plain
		worst = math.Max(worst, c.MaxDiff)
		notes = append(notes, fmt.Sprintf("%s → %s: %d variables copied, %d set, max |Δlogit| %.2g (largest logit %.1f), "+
			"test error %.2f%% → %.2f%%", c.Shallow.Name, c.Deep.Name, c.Copied, c.Added, c.MaxDiff, c.MaxLogit,
			c.ShallowErr, c.DeepErr))
		if plain {
			notes = append(notes, "data: "+c.Data)
		}
	}
	figs, err := ConstructionFigures(built)
	if err != nil {
		return nil, err
	}
	paths, err := reproduce.SaveFigures(env, figs, "resnet_construction_residual.png", "resnet_construction_plain.png")
	if err != nil {
		return nil, err
	}
	return &reproduce.Result{Ours: fmt.Sprintf("max |logits(deep) − logits(shallow)| = %.2g", worst), Value: worst,
		Judgement: env.Judge(reproduce.Holds(1e-4), reproduce.Exact(worst)), Notes: strings.Join(notes, "; ") + ".", Figures: paths}, nil
}

// depthMeasure is how the two depth experiments train (the full profile shares one study).
const depthMeasure = "plain and option-A residual nets of depth 20, 32 and 56 at half width (8-16-32), seeds 1, 2, 3, " +
	"on a fixed subset of 4,000 training images of CIFAR-10 or Fashion-MNIST (mean subtracted, pad-4 crops + flips): " +
	"SGD momentum 0.9, weight decay 1e-4, batch 64, 15 epochs (930 steps), lr 0.1 ÷10 at 50% and 75%; every 5 " +
	"epochs BN statistics re-estimated on 2,000 of the training images, training error measured on them (inference " +
	"mode, no augmentation), test error on 5,000 test images (quick: depths 8/14, width 4, 640 images, 20 steps, " +
	"seed 1); paper profile: §4.2's recipe on CIFAR-10, two seeds"

func resnetDegradation() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "resnet-degradation", Section: "09",
		Paper:      "He et al. 2016, §4.2, Fig. 6 (and Fig. 1, 4)",
		Claim:      "the deeper plain network has higher training error than the shallower one; the deeper ResNet has lower",
		PaperValue: "CIFAR-10: plain-56 trains worse than plain-20; ResNet-56 better than ResNet-20 (Fig. 6, no table)",
		Measure:    depthMeasure + "; judged on the per-seed differences of training error, deepest − shallowest",
		Long:       true, FullMinutes: 70, // shared with resnet-cifar: 18 networks, two at a time, 69 min in notebook 09's full run of 2026-12-08
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			s := Degradation.For(env.Profile)
			runs, err := s.Train(env)
			if err != nil {
				return nil, err
			}
			return DegradationResult(env, s, runs)
		},
	}
}

func resnetCIFAR() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "resnet-cifar", Section: "09",
		Paper:      "He et al. 2016, §4.2, Table 6 and Fig. 6",
		Claim:      "on one data set and budget, deeper ResNets reach lower test error, and a ResNet beats the plain network of its depth",
		PaperValue: "CIFAR-10 test error falls with depth: ResNet-20 8.75%, -32 7.51%, -56 6.97% (Table 6); plain-20 worse than ResNet-20 (Fig. 6)",
		Measure:    depthMeasure + "; the networks of resnet-degradation (trained once when both run); judged on the per-seed differences of test error at each step of depth, ResNet-32 − ResNet-20 and ResNet-56 − ResNet-32 (Table 6's ordering), and ResNet-20 − plain-20, each below 0; Table 6's numbers are context (another data set and 164 epochs)",
		Long:       true, FullMinutes: 70, // shared with resnet-degradation: one training of the 18 networks
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			s := Table6.For(env.Profile)
			runs, err := s.Train(env)
			if err != nil {
				return nil, err
			}
			return TestErrorResult(env, s, runs)
		},
	}
}
