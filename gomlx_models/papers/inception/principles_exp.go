package inception

import (
	"fmt"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/plots"
)

// principleCite is where §2's principles are stated.
const principleCite = "Szegedy et al. 2016, §2 (general design principles)"

// stagesRun measures the stages and saves the principles' figures.
func stagesRun(env *reproduce.Env) ([]Stage, []string, error) {
	s, err := MeasureSize(env.Backend)
	if err != nil {
		return nil, nil, err
	}
	st, err := Stages(s)
	if err != nil {
		return nil, nil, err
	}
	figs, err := StagesFigures(st)
	if err != nil {
		return nil, nil, err
	}
	paths, err := reproduce.SaveFigures(env, figs, "principle1_sizes", "principle4_width_depth")
	return st, paths, err
}

// principleBottleneck is the experiment "inception-principle-1".
func principleBottleneck() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "inception-principle-1", Section: "08",
		Paper:      principleCite + ", principle 1; §5",
		Claim:      "avoid representational bottlenecks: the representation size decreases gently; the grid reductions keep more than pooling first would",
		PaperValue: "no number: a design rule",
		Measure:    "values per image (grid²·channels) after every module of models.InceptionV3 at 299×299; at mixed3 and mixed8 the values kept against those pooling the input first would keep",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			st, paths, err := stagesRun(env)
			if err != nil {
				return nil, err
			}
			keep := ReductionKeep(st)
			var parts []string
			for _, s := range st {
				if s.PoolFirst > 0 {
					parts = append(parts, fmt.Sprintf("%s keeps %s values, pooling first %s (%.2f×)", s.Name, summary.Thousands(int64(s.Values)),
						summary.Thousands(int64(s.PoolFirst)), float64(s.Values)/float64(s.PoolFirst)))
				}
			}
			var sizes []string
			for _, s := range st {
				sizes = append(sizes, fmt.Sprintf("%s %s", s.Name, summary.Thousands(int64(s.Values))))
			}
			return &reproduce.Result{Ours: strings.Join(parts, "; "), Value: keep, Figures: paths[:1],
				Judgement: env.Judge(reproduce.Above(1).In("× the values pooling first keeps (smallest of the reductions)"), reproduce.Exact(keep)),
				Notes:     "values per image: input 268,203; " + strings.Join(sizes, ", ") + "."}, nil
		},
	}
}

// principleHighDim is the experiment "inception-principle-2".
func principleHighDim() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "inception-principle-2", Section: "08",
		Paper:      principleCite + ", principle 2; §6 and Fig. 7",
		Claim:      "higher-dimensional representations are easier to process locally: the coarser the grid, the more activations per tile; the 8×8 modules expand their filter banks",
		PaperValue: "no number: a design rule (Fig. 7: \"expanded filter bank outputs\" on the coarsest grid)",
		Measure:    "the widest module output (channels, activations per tile) on each grid of models.InceptionV3, and the 8×8 modules' output against their input",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			st, paths, err := stagesRun(env)
			if err != nil {
				return nil, err
			}
			width := map[int]int{}
			for _, s := range st {
				width[s.Grid] = max(width[s.Grid], s.Channels)
			}
			n := NarrowerCoarserGrids(st)
			var e9 Stage
			for i, s := range st {
				if s.Name == "mixed9" {
					e9 = s
					e9.PoolFirst = st[i-1].Channels
				}
			}
			return &reproduce.Result{Ours: fmt.Sprintf("activations per tile: 35×35 %d, 17×17 %d, 8×8 %d; mixed9 widens %d → %d channels", width[35],
				width[17], width[8], e9.PoolFirst, e9.Channels), Value: float64(n), Figures: paths[1:],
				Judgement: env.Judge(reproduce.Holds(0).In(" coarser grids not wider"), reproduce.Exact(float64(n))),
				Notes:     "the principle's second half (such networks \"train faster\") is not measured here: it needs ImageNet training."}, nil
		},
	}
}

// principleLowDim is the experiment "inception-principle-3".
func principleLowDim() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "inception-principle-3", Section: "08",
		Paper:      principleCite + ", principle 3",
		Claim:      "spatial aggregation can be done over lower-dimensional embeddings without much loss: adjacent units are strongly correlated, so a 1×1 reduction before a 3×3 keeps most of the signal",
		PaperValue: "no number: a design rule and its hypothesis",
		Measure:    "pretrained nsfwjs Inception v3 on the four sample photos and their reflections: the share of the variance (over every position) of mixed0's 256 and mixed7's 768 channels held by as many principal components as the next module's 1×1 reductions keep (48, 64; 192), against the share k/C uncorrelated channels would keep; the correlation of neighbouring positions",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			imgs, err := PrincipleImages()
			if err != nil {
				return nil, err
			}
			ss, err := MeasureSpectra(env.Backend, imgs, Reductions)
			if err != nil {
				return nil, err
			}
			fig, err := SpectrumFigure(ss)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "principle3_spectrum")
			if err != nil {
				return nil, err
			}
			r := LowDimResult(env, ss, len(imgs))
			r.Figures = paths
			return r, nil
		},
	}
}

// LowDimResult is principle 3's row: at every reduction, the share of the variance its width of principal
// components holds, above what as many uncorrelated channels would hold.
func LowDimResult(env *reproduce.Env, ss []Spectrum, images int) *reproduce.Result {
	var js []reproduce.Judgement
	var parts, neigh []string
	for _, s := range ss {
		for i, w := range s.Widths {
			js = append(js, env.Judge(reproduce.Above(s.Uncorrelated[i]).In(fmt.Sprintf(" of the variance in %d of %d components", w, s.Channels)),
				reproduce.Exact(s.Kept[i])))
			parts = append(parts, fmt.Sprintf("%s: %d of %d components hold %.1f%% (uncorrelated: %.1f%%)", s.Tap, w, s.Channels, 100*s.Kept[i],
				100*s.Uncorrelated[i]))
		}
		neigh = append(neigh, fmt.Sprintf("%s %.2f", s.Tap, s.Neighbour))
	}
	return &reproduce.Result{Ours: strings.Join(parts, "; ") + "; neighbour correlation " + strings.Join(neigh, ", "),
		Value: ss[0].Kept[len(ss[0].Kept)-1], Judgement: reproduce.AllOf(js...),
		Notes: fmt.Sprintf("%d images (%d positions at 35×35, %d at 17×17); nsfwjs's weights are a Keras ImageNet backbone fine-tuned on its 5 classes.",
			images, ss[0].Samples, ss[len(ss)-1].Samples)}
}

// principleWidthDepth is the experiment "inception-principle-4".
func principleWidthDepth() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "inception-principle-4", Section: "08",
		Paper:      principleCite + ", principle 4",
		Claim:      "balance the width and depth of the network: increase both in parallel",
		PaperValue: "no number: a design rule",
		Measure:    "width (output channels) against depth (weight layers on the longest path) after every module of models.InceptionV3, and the multiply-adds spent on each grid",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			st, paths, err := stagesRun(env)
			if err != nil {
				return nil, err
			}
			share := GridShares(st)
			drops := WidthDrops(st)
			first, last := st[0], st[len(st)-1]
			return &reproduce.Result{Ours: fmt.Sprintf("depth %d → %d weight layers while width grows %d → %d channels; multiply-adds on the 35/17/8 grids %.0f%% / %.0f%% / %.0f%%",
				first.Depth, last.Depth, first.Channels, last.Channels, 100*share[35], 100*share[17], 100*share[8]), Value: float64(drops), Figures: paths[1:],
				Judgement: env.Judge(reproduce.Holds(0).In(" modules narrower than the one before"), reproduce.Exact(float64(drops))),
				Notes:     "the principle's claim about the best use of a fixed computation budget needs ImageNet training to test; the row shows how Inception v3 follows it. The 35×35 share includes the stem."}, nil
		},
	}
}

// v2ToV3 is the experiment "inception-v2-to-v3".
func v2ToV3() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "inception-v2-to-v3", Section: "08",
		Paper:      "Szegedy et al. 2016, Table 3 and §10",
		Claim:      "Inception-v3 is Inception-v2 with RMSProp, label smoothing, a factorized 7×7 first layer and a batch-normalized auxiliary FC layer; only the factorized 7×7 changes the inference cost",
		PaperValue: "cost 3.8 → 3.8 → 3.8 → 4.8 → 4.8 billion operations; top-1 error 23.4 → 23.1 → 22.8 → 21.6 → 21.2%",
		Measure:    "summary.Of of a 7×7/2 first layer (3 → 64, BN, ReLU) against Table 1's three 3×3 units (32, 32, 64), both 299×299×3 → 147×147×64, and of the auxiliary head (Fig. 8) with and without BN on its 768-unit FC layer",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			steps, err := V3Steps(env.Backend)
			if err != nil {
				return nil, err
			}
			fig, err := V3StepsFigure(steps)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "inception_v2_to_v3")
			if err != nil {
				return nil, err
			}
			var js []reproduce.Judgement
			var parts []string
			for i, s := range steps[1:] {
				prev := steps[i]
				rising := s.PaperCost > prev.PaperCost
				if rising {
					js = append(js, env.Judge(reproduce.Above(0).In(" multiply-adds added ("+s.Name+")"), reproduce.Exact(float64(s.MACs))))
				} else {
					js = append(js, env.Judge(reproduce.Holds(0).In(" multiply-adds added ("+s.Name+")"), reproduce.Exact(float64(s.MACs))))
				}
				parts = append(parts, fmt.Sprintf("%s: %+d parameters, %+.3f×10⁹ multiply-adds", s.Name, s.Params, float64(s.MACs)/1e9))
			}
			return &reproduce.Result{Ours: strings.Join(parts, "; "), Value: float64(steps[3].MACs), Judgement: reproduce.AllOf(js...), Figures: paths,
				Notes: "Table 3's cost column rises by 1.0 billion at the factorized 7×7, more than the stem's difference measured here (its counting of operations is not given); BN-auxiliary's parameters are in the training-only auxiliary head. RMSProp and label smoothing change only the training: RMSProp keeps one mean square per parameter where momentum keeps one velocity."}, nil
		},
	}
}
