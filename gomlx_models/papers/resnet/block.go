package resnet

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// Image is an H×W×C feature map in row-major (height, width, channel) order; At reads it with zero padding.
type Image = reproduce.FeatureMap

// ConvBN is one convolution without bias followed by batch normalization in inference mode, with its weights:
// y = γ·(conv(x) − μ)/√(σ² + ε) + β per output channel.
type ConvBN struct {
	K, In, Out, Stride int
	// W is the HWIO kernel [K][K][In][Out], flattened.
	W []float64
	// Scale γ, Offset β, Mean μ and Variance σ² per output channel.
	Scale, Offset, Mean, Variance []float64
}

// Apply runs the layer with SAME padding as the project's layers do it, (K−1)/2 zeros before: ⌈H/stride⌉ ×
// ⌈W/stride⌉ outputs, output (i, j) centred on input (i·stride, j·stride).
func (l ConvBN) Apply(x Image) Image {
	oh, ow := (x.H+l.Stride-1)/l.Stride, (x.W+l.Stride-1)/l.Stride
	padY, padX := (l.K-1)/2, (l.K-1)/2
	out := Image{H: oh, W: ow, C: l.Out, Pix: make([]float64, oh*ow*l.Out)}
	for i := range oh {
		for j := range ow {
			for o := range l.Out {
				var s float64
				for dy := range l.K {
					for dx := range l.K {
						for c := range l.In {
							s += x.At(i*l.Stride+dy-padY, j*l.Stride+dx-padX, c) * l.W[((dy*l.K+dx)*l.In+c)*l.Out+o]
						}
					}
				}
				s = l.Scale[o]*(s-l.Mean[o])/math.Sqrt(l.Variance[o]+layers.BNEpsilon) + l.Offset[o]
				out.Pix[(i*ow+j)*l.Out+o] = s
			}
		}
	}
	return out
}

// ReLU returns max(x, 0) element-wise.
func ReLU(x Image) Image {
	out := Image{H: x.H, W: x.W, C: x.C, Pix: make([]float64, len(x.Pix))}
	for i, v := range x.Pix {
		out.Pix[i] = math.Max(v, 0)
	}
	return out
}

// BasicUnit is the residual block of Fig. 5 (left) written out: F(x) = BN(conv3×3(ReLU(BN(conv3×3(x))))) and
// y = ReLU(F(x) + shortcut(x)) (Eq. 1). The shortcut is the identity when the shapes agree; otherwise option A
// — every stride-th pixel with the extra channels zero — unless proj is given, the 1×1 projection W_s of Eq. 2.
func BasicUnit(x Image, a, b ConvBN, proj *ConvBN) Image {
	f := b.Apply(ReLU(a.Apply(x)))
	var s Image
	switch {
	case proj != nil:
		s = proj.Apply(x)
	default:
		s = Image{H: f.H, W: f.W, C: f.C, Pix: make([]float64, len(f.Pix))}
		for i := range f.H {
			for j := range f.W {
				for c := range min(x.C, f.C) {
					s.Pix[(i*f.W+j)*f.C+c] = x.At(i*a.Stride, j*a.Stride, c)
				}
			}
		}
	}
	y := Image{H: f.H, W: f.W, C: f.C, Pix: make([]float64, len(f.Pix))}
	for i := range y.Pix {
		y.Pix[i] = math.Max(f.Pix[i]+s.Pix[i], 0)
	}
	return y
}

// UnitRun is one block of the project's ResNet builder (models.ResNetConfig.Unit) run on a random image in
// inference mode, with its weights read back as ConvBN layers.
type UnitRun struct {
	Config        models.ResNetConfig
	Planes        int
	Stride        int
	Input, Output Image
	// A and B are the block's two 3×3 layers; Projection is its 1×1 shortcut layer, nil without one.
	A, B       ConvBN
	Projection *ConvBN
}

// RunUnit builds one basic block of cfg (planes outputs, the given stride) on a random h×w×c image, sets every
// BN variable (γ, β, moving mean and variance) to seeded random values so that no layer is the identity, runs it
// in inference mode and returns input, output and weights.
func RunUnit(backend compute.Backend, cfg models.ResNetConfig, h, w, c, planes, stride int, seed uint64) (run *UnitRun, err error) {
	if backend == nil {
		return nil, errors.New("RunUnit: nil backend")
	}
	if cfg.Block.Expansion != 1 || cfg.Plain {
		return nil, fmt.Errorf("RunUnit: %s (plain %v): only the basic residual block is written out in Go", cfg.Block.Name, cfg.Plain)
	}
	if h < 1 || w < 1 || c < 1 || planes < 1 || stride < 1 {
		return nil, fmt.Errorf("RunUnit: bad sizes %d×%d×%d, %d planes, stride %d", h, w, c, planes, stride)
	}
	defer func() {
		if r := recover(); r != nil {
			run, err = nil, fmt.Errorf("RunUnit: %v", r)
		}
	}()
	rng := rand.New(rand.NewPCG(seed, 7))
	in, input := reproduce.RandomFeatureMap(rng, h, w, c)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(seed))
	e, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return cfg.Unit(scope.In("unit"), x, planes, stride)
	})
	if err != nil {
		return nil, fmt.Errorf("RunUnit: %w", err)
	}
	defer e.Finalize()
	if _, err := execImage(e, input); err != nil { // creates the variables.
		return nil, fmt.Errorf("RunUnit: %w", err)
	}
	if err := randomizeBN(store, rng); err != nil {
		return nil, fmt.Errorf("RunUnit: %w", err)
	}
	out, err := execImage(e, input)
	if err != nil {
		return nil, fmt.Errorf("RunUnit: %w", err)
	}
	run = &UnitRun{Config: cfg, Planes: planes, Stride: stride, Input: in, Output: out}
	if run.A, err = readConvBN(store, "/unit/a", 3, c, planes, stride); err != nil {
		return nil, fmt.Errorf("RunUnit: %w", err)
	}
	if run.B, err = readConvBN(store, "/unit/b", 3, planes, planes, 1); err != nil {
		return nil, fmt.Errorf("RunUnit: %w", err)
	}
	if hasVariable(store, "/unit/projection/weights") {
		p, err := readConvBN(store, "/unit/projection", 1, c, planes, stride)
		if err != nil {
			return nil, fmt.Errorf("RunUnit: %w", err)
		}
		run.Projection = &p
	}
	return run, nil
}

// execImage runs e on input and returns its first output as an Image (batch 1).
func execImage(e *model.Exec, input *tensors.Tensor) (Image, error) {
	outs, err := e.Exec(input)
	if err != nil {
		return Image{}, err
	}
	defer func() {
		for _, o := range outs {
			o.MustFinalizeAll()
		}
	}()
	return reproduce.FeatureMapOf(outs[0])
}

// bnName is the scope layers.BatchNorm keeps its variables in.
const bnName = "/batch_normalization/"

// randomizeBN sets every BN variable of store to random values: γ ∈ [0.5, 1.5), β and μ ~ N(0, 0.3²),
// σ² ∈ [0.5, 1.5).
func randomizeBN(store *model.Store, rng *rand.Rand) error {
	for v := range store.IterVariables() {
		p := v.Path()
		positive := strings.HasSuffix(p, "/scale") || strings.HasSuffix(p, "/variance")
		centred := strings.HasSuffix(p, "/offset") || strings.HasSuffix(p, "/mean")
		if !strings.Contains(p, bnName) || !positive && !centred {
			continue
		}
		vals := make([]float32, v.Shape().Size())
		for i := range vals {
			if positive {
				vals[i] = float32(0.5 + rng.Float64())
			} else {
				vals[i] = float32(0.3 * rng.NormFloat64())
			}
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...)); err != nil {
			return fmt.Errorf("setting %s: %w", p, err)
		}
	}
	return nil
}

func hasVariable(store *model.Store, suffix string) bool {
	for v := range store.IterVariables() {
		if strings.HasSuffix(v.Path(), suffix) {
			return true
		}
	}
	return false
}

// readConvBN reads the convolution and BN variables under scope path prefix.
func readConvBN(store *model.Store, prefix string, k, in, out, stride int) (ConvBN, error) {
	l := ConvBN{K: k, In: in, Out: out, Stride: stride}
	for _, f := range []struct {
		name string
		dst  *[]float64
		n    int
	}{
		{"/weights", &l.W, k * k * in * out},
		{bnName + "scale", &l.Scale, out}, {bnName + "offset", &l.Offset, out},
		{bnName + "mean", &l.Mean, out}, {bnName + "variance", &l.Variance, out},
	} {
		vals, err := train.VariableValues(store, prefix+f.name)
		if err != nil {
			return ConvBN{}, err
		}
		if len(vals) != f.n {
			return ConvBN{}, fmt.Errorf("variable %s%s: %d values, want %d", prefix, f.name, len(vals), f.n)
		}
		*f.dst = vals
	}
	return l, nil
}

// MaxAbsDiff returns max |a − b| over two maps of the same size (+Inf when the sizes differ).
func MaxAbsDiff(a, b Image) float64 { return reproduce.MaxAbsDiffMaps(a, b) }
