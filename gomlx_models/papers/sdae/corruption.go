package sdae

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/models"
)

// NewRand returns the seeded generator the plain-Go corruptions use.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5dae)) }

// pick returns round(ν·d) distinct indices of 0…d−1, uniformly at random (a partial Fisher–Yates shuffle).
func pick(rng *rand.Rand, d int, nu float64) []int {
	idx := make([]int, d)
	for i := range idx {
		idx[i] = i
	}
	n := int(math.Round(nu * float64(d)))
	for i := range n {
		j := i + rng.IntN(d-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx[:n]
}

// Mask is masking noise (Vincent et al. 2010, §4.2, MN): a copy of the example x with a fraction ν of its
// components, chosen at random, forced to 0.
func Mask(rng *rand.Rand, x []float32, nu float64) []float32 {
	out := append([]float32(nil), x...)
	for _, i := range pick(rng, len(x), nu) {
		out[i] = 0
	}
	return out
}

// AddGaussian is additive isotropic Gaussian noise (§4.2, GS): x̃ = x + ε, ε ~ N(0, σ²I).
func AddGaussian(rng *rand.Rand, x []float32, sigma float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = v + float32(sigma*rng.NormFloat64())
	}
	return out
}

// SaltAndPepper is salt-and-pepper noise (§4.2, SP): a fraction ν of the components, chosen at random, set to
// the minimum 0 or the maximum 1 by a fair coin flip.
func SaltAndPepper(rng *rand.Rand, x []float32, nu float64) []float32 {
	out := append([]float32(nil), x...)
	for _, i := range pick(rng, len(x), nu) {
		out[i] = float32(rng.IntN(2))
	}
	return out
}

// CorruptGo applies c to one example x with the plain-Go processes above.
func CorruptGo(rng *rand.Rand, x []float32, c models.Corruption) ([]float32, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Kind {
	case models.MaskingNoise:
		return Mask(rng, x, c.Level), nil
	case models.GaussianNoise:
		return AddGaussian(rng, x, c.Level), nil
	case models.SaltAndPepper:
		return SaltAndPepper(rng, x, c.Level), nil
	}
	return append([]float32(nil), x...), nil
}

// NoiseStats are the statistics of x̃ − x over n examples of d components all equal to 0.5.
type NoiseStats struct {
	Impl       string
	Corruption models.Corruption
	N, D       int
	// Changed, Zero and One are the fractions of components changed, set to 0 and set to 1.
	Changed, Zero, One float64
	// Mean and Std are the mean and standard deviation of x̃ − x.
	Mean, Std float64
	// MinChanged and MaxChanged are the fewest and most components changed in one example.
	MinChanged, MaxChanged int
}

func noiseStats(impl string, c models.Corruption, n, d int, xt []float32) NoiseStats {
	s := NoiseStats{Impl: impl, Corruption: c, N: n, D: d, MinChanged: d}
	var sum, sq float64
	var changed, zero, one int
	for e := range n {
		ch := 0
		for _, v := range xt[e*d : (e+1)*d] {
			diff := float64(v) - 0.5
			sum += diff
			sq += diff * diff
			if v != 0.5 {
				ch++
			}
			if v == 0 {
				zero++
			}
			if v == 1 {
				one++
			}
		}
		changed += ch
		s.MinChanged, s.MaxChanged = min(s.MinChanged, ch), max(s.MaxChanged, ch)
	}
	total := float64(n * d)
	s.Changed, s.Zero, s.One = float64(changed)/total, float64(zero)/total, float64(one)/total
	s.Mean = sum / total
	s.Std = math.Sqrt(max(0, sq/total-s.Mean*s.Mean))
	return s
}

// MeasureNoise corrupts n examples of d components equal to 0.5 with c, once with the plain-Go process
// (seeded by seed) and once with the graph process models.Corrupt that pre-training uses (seeded by the
// store's initial seed), and returns the statistics of both.
func MeasureNoise(backend compute.Backend, c models.Corruption, n, d int, seed uint64) ([]NoiseStats, error) {
	if n < 1 || d < 1 {
		return nil, fmt.Errorf("measure noise: need n, d ≥ 1, got %d, %d", n, d)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("measure noise: %w", err)
	}
	rng := NewRand(seed)
	x := make([]float32, d)
	for i := range x {
		x[i] = 0.5
	}
	goOut := make([]float32, 0, n*d)
	for range n {
		xt, err := CorruptGo(rng, x, c)
		if err != nil {
			return nil, err
		}
		goOut = append(goOut, xt...)
	}
	graphOut, err := corruptGraph(backend, c, n, d, int64(seed))
	if err != nil {
		return nil, fmt.Errorf("measure noise, graph %s: %w", c.Kind, err)
	}
	return []NoiseStats{noiseStats("plain Go (exact fraction)", c, n, d, goOut),
		noiseStats("models.Corrupt (graph)", c, n, d, graphOut)}, nil
}

func corruptGraph(backend compute.Backend, c models.Corruption, n, d int, seed int64) (vals []float32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, seed)
	out, err := model.CallOnce(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return models.Corrupt(scope, x, c)
	}, tensors.FromScalarAndDimensions(float32(0.5), n, d))
	if err != nil {
		return nil, err
	}
	defer out.MustFinalizeAll()
	return tensors.CopyFlatData[float32](out)
}

// WriteNoiseStats prints MeasureNoise's rows.
func WriteNoiseStats(w io.Writer, rows []NoiseStats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "process\tlevel\timplementation\tchanged\tset to 0\tset to 1\tmean(x̃−x)\tstd(x̃−x)\tchanged per example")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%g\t%s\t%.4f\t%.4f\t%.4f\t%+.4f\t%.4f\t%d…%d of %d\n", r.Corruption.Kind, r.Corruption.Level,
			r.Impl, r.Changed, r.Zero, r.One, r.Mean, r.Std, r.MinChanged, r.MaxChanged, r.D)
	}
	return tw.Flush()
}
