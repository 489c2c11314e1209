// Package deconvolution is notebook 04: convolution as a sparse matrix C, the transposed convolution as Cᵀ
// (Dumoulin & Visin 2016, §4), stride 2, the checkerboard artefact (Odena et al. 2016) and a transposed-
// convolution layer that learns a kernel.
package deconvolution

import (
	"fmt"
	"math"

	"github.com/convnotes/convnotes/gomlx_models/deconv"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
)

// Section lists notebook 04's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "04", Title: "Deconvolution: convolution as a matrix, transposed convolution",
		Experiments: []reproduce.Experiment{deconvIdentities(), deconvCheckerboard()}}
}

// deconvIdentities is the experiment "deconv-identities": convolution is y = C·vec(x); the transposed convolution
// is Cᵀ·vec(y), the same as a stride-1 convolution of the zero-dilated y with the rotated kernel.
func deconvIdentities() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "deconv-identities", Section: "04",
		Paper: "Dumoulin & Visin 2016, A guide to convolution arithmetic, §4 (transposed convolution as Cᵀ; relationships 8–14)",
		Claim: "convolution is y = C·vec(x); the transposed convolution is Cᵀ·vec(y), the same as a stride-1 " +
			"convolution of the zero-dilated y, padded by k−1−p, with the kernel rotated by 180°",
		PaperValue: "equal (exact identities); issue's tolerance 1e-5",
		Measure: "Shibuya's 4×4 input and 3×3 kernel (s=1, p=0), a 5×5 stride-2 case and 8 random cases " +
			"(kernels 2–5, strides 1–4, paddings 0–2): C·x vs graph.Convolve, Cᵀ·y vs deconv.TransposedConv, the " +
			"full-padding form and GoMLX autodiff (odd kernels)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			sweep, err := IdentitySweep(env.Backend, 1)
			if err != nil {
				return nil, err
			}
			return IdentitiesResult(env, sweep)
		},
	}
}

// IdentitiesResult is the row of deconv-identities: the worked example (s=1) and the stride-2 example, whose
// matrices it draws, and the cases of sweep, judged by the largest difference of any identity.
func IdentitiesResult(env *reproduce.Env, sweep []IdentityCase) (*reproduce.Result, error) {
	example, err := TransposedConvExample(env.Backend, deconv.ExampleInput, deconv.ExampleKernel, 1, 0)
	if err != nil {
		return nil, err
	}
	s2, err := TransposedConvExample(env.Backend, StrideTwoInput, deconv.ExampleKernel, 2, 0)
	if err != nil {
		return nil, err
	}
	worst := math.Max(example.MaxDiff(), s2.MaxDiff())
	for _, c := range sweep {
		worst = math.Max(worst, c.MaxDiff)
	}
	var figs []string
	for _, ex := range []struct {
		e    *DeconvExample
		name string
	}{{example, "deconv_example"}, {s2, "deconv_stride2"}} {
		c, ct, err := ex.e.Heatmaps()
		if err != nil {
			return nil, err
		}
		p1, p2 := env.Path(ex.name+"_C.png"), env.Path(ex.name+"_CT.png")
		if err := c.Save(p1); err != nil {
			return nil, err
		}
		if err := ct.Save(p2); err != nil {
			return nil, err
		}
		figs = append(figs, p1, p2)
	}
	j := env.Judge(reproduce.Holds(IdentityTolerance), reproduce.Exact(worst))
	return &reproduce.Result{Ours: fmt.Sprintf("max |difference| %.2g over %d cases", worst, len(sweep)+2), Value: worst,
		Judgement: j, Notes: fmt.Sprintf("worked example: y = %v, x' = Cᵀy = %v.", example.YEngine, example.XEngine),
		Figures: figs}, nil
}

// deconvCheckerboard is the experiment "deconv-checkerboard": a stride-2 transposed convolution overlaps unevenly
// when the kernel size is not divisible by the stride.
func deconvCheckerboard() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "deconv-checkerboard", Section: "04",
		Paper:      "Odena, Dumoulin & Olah 2016, Deconvolution and Checkerboard Artifacts (Distill), §Deconvolution & Overlap",
		Claim:      "a stride-2 transposed convolution overlaps unevenly when the kernel size is not divisible by the stride",
		PaperValue: "k=3, s=2: checkerboard; k=4, s=2: even",
		Measure: "6×6 image of ones up-sampled by the project's TransposedConv with all-ones kernels k=3 and k=4, " +
			"stride 2; interior values and their max/min ratio",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			cases, err := Checkerboards(env.Backend, 6, 2, 3, 4)
			if err != nil {
				return nil, err
			}
			return CheckerboardResult(env, cases)
		},
	}
}

// CheckerboardResult is the row of deconv-checkerboard from Checkerboards' cases for k = 3 and k = 4 (in that
// order): uneven (max/min above 1) for k = 3, even (max/min 1) for k = 4. It draws both.
func CheckerboardResult(env *reproduce.Env, cases []CheckerboardCase) (*reproduce.Result, error) {
	if len(cases) != 2 || cases[0].Kernel != 3 || cases[1].Kernel != 4 {
		return nil, fmt.Errorf("deconv-checkerboard: want the cases k=3 and k=4, got %d cases", len(cases))
	}
	var figs []string
	for _, c := range cases {
		fig, err := c.Figure()
		if err != nil {
			return nil, err
		}
		p := env.Path(fmt.Sprintf("checkerboard_k%d_s%d.png", c.Kernel, c.Stride))
		if err := fig.Save(p); err != nil {
			return nil, err
		}
		figs = append(figs, p)
	}
	j := reproduce.AllOf(
		env.Judge(reproduce.Above(1).In(" max/min for k=3"), reproduce.Exact(cases[0].Ratio)),
		env.Judge(reproduce.Equals(1, 0).In(" max/min for k=4"), reproduce.Exact(cases[1].Ratio)))
	return &reproduce.Result{Ours: fmt.Sprintf("k=3: interior values %v (max/min %g); k=4: %v (max/min %g)",
		cases[0].Interior, cases[0].Ratio, cases[1].Interior, cases[1].Ratio), Value: cases[0].Ratio, Judgement: j,
		Figures: figs}, nil
}
