package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// ConstructionSettings size the "solution by construction" check: a network of depth Shallow trained with
// Recipe, then deepened to depth Deep with identity blocks.
type ConstructionSettings struct {
	Shallow, Deep int
	Recipe
}

// Construction is the check per profile. It only has to train the shallow networks a little: the claim is
// about the deeper network's outputs, not its accuracy.
var Construction = train.ByProfile[ConstructionSettings]{
	Quick: ConstructionSettings{Shallow: 8, Deep: 14, Recipe: Recipe{Width: 4, TrainN: 640, TestN: 200, BatchSize: 32,
		Steps: 10, EvalEvery: 10, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4}},
	Full: ConstructionSettings{Shallow: 8, Deep: 20, Recipe: Recipe{Width: 8, TrainN: 9600, TestN: 1000, BatchSize: 64,
		Steps: 150, EvalEvery: 150, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4}},
}

// Constructed is a trained shallow network and the deeper network built from it.
type Constructed struct {
	Shallow, Deep models.ResNetConfig
	// Copied counts the deep network's variables copied from the shallow one, Added those of the added blocks.
	Copied, Added int
	// MaxDiff is max |logits(deep) − logits(shallow)| over the test images; the errors are in %.
	MaxDiff             float64
	ShallowErr, DeepErr float64
	// MaxLogit is the largest |logit| of the shallow network (the scale MaxDiff is measured against).
	MaxLogit float64
	Images   int
	Data     string
	// ShallowLogits and DeepLogits are the two networks' logits on the test images, [Images × classes].
	ShallowLogits, DeepLogits []float32
}

// Construct trains the shallow network of s (plain or residual), builds the deeper one from it — the first
// block of every stage copied, every added block an identity — and compares their outputs on the test images.
//
// An added residual block keeps random convolution weights; only its last BN has γ = β = 0, so F(x) = 0 and
// y = ReLU(0 + x) = x, because x is itself a ReLU output. An added plain block is made the identity the hard
// way: each 3×3 kernel a Dirac delta (1 at the centre from channel c to channel c) and each BN a pass-through
// (μ = 0, σ² = 1 − ε, γ = 1, β = 0).
func Construct(env *reproduce.Env, s ConstructionSettings, plain bool) (*Constructed, error) {
	shallowCfg, err := s.Net(s.Shallow, plain)
	if err != nil {
		return nil, err
	}
	deepCfg, err := s.Net(s.Deep, plain)
	if err != nil {
		return nil, err
	}
	if s.Deep <= s.Shallow {
		return nil, fmt.Errorf("Construct: the deep network (%d) must be deeper than the shallow one (%d)", s.Deep, s.Shallow)
	}
	t, err := s.Fit(env, shallowCfg, 0)
	if err != nil {
		return nil, err
	}
	test := t.Fitted.Test
	deepStore := model.NewStore()
	if _, err := summary.Of(env.Backend, deepStore, models.ResNet(deepCfg), shapes.Make(dtypes.Float32, 1, test.H, test.W, test.C)); err != nil {
		return nil, fmt.Errorf("Construct: %w", err)
	}
	c := &Constructed{Shallow: shallowCfg, Deep: deepCfg, Data: t.Data, Images: test.N}
	shallowVars := map[string]*model.Variable{}
	for v := range t.Fitted.Run.Store.IterVariables() {
		shallowVars[v.Path()] = v
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for v := range deepStore.IterVariables() {
		if src, ok := shallowVars[v.Path()]; ok {
			val, err := src.Value()
			if err != nil {
				return nil, fmt.Errorf("Construct: %s: %w", v.Path(), err)
			}
			flat, err := tensors.CopyFlatData[float32](val)
			if err != nil {
				return nil, fmt.Errorf("Construct: %s: %w", v.Path(), err)
			}
			if err := v.SetValue(tensors.FromFlatDataAndDimensions(flat, val.Shape().Dimensions...)); err != nil {
				return nil, fmt.Errorf("Construct: %s: %w", v.Path(), err)
			}
			c.Copied++
			continue
		}
		if !addedBlock(v.Path()) {
			return nil, fmt.Errorf("Construct: %s is in neither the shallow network nor an added block", v.Path())
		}
		if err := v.SetValue(identityValue(v, plain, rng)); err != nil {
			return nil, fmt.Errorf("Construct: %s: %w", v.Path(), err)
		}
		c.Added++
	}
	shallowOut, k, err := t.Fitted.Run.Logits(test, false)
	if err != nil {
		return nil, err
	}
	deepOut, _, err := train.StoreLogits(env.Backend, deepStore, models.ResNet(deepCfg), test)
	if err != nil {
		return nil, err
	}
	if len(deepOut) != len(shallowOut) {
		return nil, fmt.Errorf("Construct: %d logits from the deep network, %d from the shallow one", len(deepOut), len(shallowOut))
	}
	c.ShallowLogits, c.DeepLogits = shallowOut, deepOut
	for i := range shallowOut {
		c.MaxDiff = math.Max(c.MaxDiff, math.Abs(float64(shallowOut[i]-deepOut[i])))
		c.MaxLogit = math.Max(c.MaxLogit, math.Abs(float64(shallowOut[i])))
	}
	wrongS, wrongD := 0, 0
	predS, predD := train.ArgmaxRows(shallowOut, k), train.ArgmaxRows(deepOut, k)
	for i := range test.N {
		if predS[i] != test.Labels[i] {
			wrongS++
		}
		if predD[i] != test.Labels[i] {
			wrongD++
		}
	}
	c.ShallowErr, c.DeepErr = 100*float64(wrongS)/float64(test.N), 100*float64(wrongD)/float64(test.N)
	return c, nil
}

var blockRE = regexp.MustCompile(`/block(\d+)/`)

// addedBlock reports whether a variable path belongs to a block beyond the first of its stage.
func addedBlock(path string) bool {
	m := blockRE.FindStringSubmatch(path)
	if m == nil {
		return false
	}
	n, err := strconv.Atoi(m[1])
	return err == nil && n > 1
}

// identityValue is the value of a variable of an added block that makes the block the identity (see Construct).
func identityValue(v *model.Variable, plain bool, rng *rand.Rand) *tensors.Tensor {
	shape := v.Shape()
	vals := make([]float32, shape.Size())
	p := v.Path()
	lastBN := strings.Contains(p, "/b"+bnName)
	switch {
	case strings.HasSuffix(p, "/weights") && plain:
		// Dirac kernel [3][3][C][C]: 1 at the centre tap from channel c to channel c.
		d := shape.Dimensions
		kh, kw, cin, cout := d[0], d[1], d[2], d[3]
		for ch := range min(cin, cout) {
			vals[(((kh/2)*kw+kw/2)*cin+ch)*cout+ch] = 1
		}
	case strings.HasSuffix(p, "/weights"):
		fanIn := shape.Dimensions[0] * shape.Dimensions[1] * shape.Dimensions[2]
		for i := range vals {
			vals[i] = float32(rng.NormFloat64() * math.Sqrt(2/float64(fanIn)))
		}
	case strings.HasSuffix(p, "/scale"):
		if plain || !lastBN {
			fill(vals, 1)
		}
	case strings.HasSuffix(p, "/variance"):
		if plain {
			fill(vals, float32(1-layers.BNEpsilon))
		} else {
			fill(vals, 1)
		}
	case strings.HasSuffix(p, "/avg_weight"):
		fill(vals, 1)
	}
	return tensors.FromFlatDataAndDimensions(vals, shape.Dimensions...)
}

func fill(v []float32, x float32) {
	for i := range v {
		v[i] = x
	}
}
