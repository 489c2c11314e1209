package inception

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/plots"
)

// Recipe is §8's training set-up: RMSProp with decay 0.9 and ε = 1.0, learning rate 0.045 decayed every two epochs
// by 0.94, gradient clipping with threshold 2.0 (batch 32, 50 replicas, 100 epochs for the best models).
type Recipe struct {
	Optimizer optim.RMSProp
	Schedule  optim.StepDecay
	ClipNorm  float64
	Epochs    int
}

// PaperRecipe is the recipe with the paper's values.
var PaperRecipe = Recipe{Optimizer: optim.RMSProp{LR: 0.045, Alpha: 0.9, Eps: 1.0}, Schedule: optim.InceptionV3Schedule,
	ClipNorm: 2.0, Epochs: 100}

// ClipDemo draws n seeded heavy-tailed gradients (dim values each: a Gaussian scaled by a log-normal factor, so
// that some steps are large) and clips each with optim.ClipByGlobalNorm: the norms before and after.
func ClipDemo(n, dim int, threshold float64, seed uint64) (before, after []float64, err error) {
	rng := rand.New(rand.NewPCG(seed, 9))
	for range n {
		scale := 0.03 * rngLogNormal(rng)
		g := make([]float64, dim)
		for i := range g {
			g[i] = scale * rng.NormFloat64()
		}
		norm, err := optim.ClipByGlobalNorm([][]float64{g}, threshold)
		if err != nil {
			return nil, nil, err
		}
		var s float64
		for _, v := range g {
			s += v * v
		}
		before = append(before, norm)
		after = append(after, math.Sqrt(s))
	}
	return before, after, nil
}

// RecipeFigures plots the learning rate over the epochs and the clipped gradient norms.
func RecipeFigures(r Recipe, before, after []float64) ([]*plots.Figure, error) {
	var ex, lr []float64
	for e := 0.0; e <= float64(r.Epochs); e += 0.25 {
		ex = append(ex, e)
		lr = append(lr, r.Schedule.At(e))
	}
	f1, err := plots.Curves(fmt.Sprintf("learning rate: %.3g · %.2f^⌊epoch/%g⌋ (§8)", r.Schedule.LR0, r.Schedule.Factor, r.Schedule.Every),
		"epoch", "learning rate", []plots.Series{{Name: "step decay", X: ex, Y: lr}})
	if err != nil {
		return nil, err
	}
	steps := make([]float64, len(before))
	for i := range steps {
		steps[i] = float64(i)
	}
	f2, err := plots.Curves(fmt.Sprintf("gradient norm before and after clipping at %.1f", r.ClipNorm), "step", "‖g‖",
		[]plots.Series{{Name: "before", X: steps, Y: before}, {Name: "after", X: steps, Y: after}})
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f1, f2}, nil
}

func rngLogNormal(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) }
