package nin

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// DenseLayer is one layer of the MLP an mlpconv layer slides over the patches: y = ReLU(Wᵀx + b), W [In][Out].
type DenseLayer struct {
	In, Out int
	W       [][]float64
	B       []float64
}

// Image is an H×W×C image in row-major (height, width, channel) order; At reads it with zero (SAME) padding.
type Image = reproduce.FeatureMap

// MLPConvRun is the project's mlpconv layer (models.MLPConv.Apply) run on one image, with its weights read back as
// the layers of the patch MLP: the k×k×C convolution kernel becomes the first layer's [k·k·C][F₁] matrix.
type MLPConvRun struct {
	Block  models.MLPConv
	Input  Image
	Output Image
	Layers []DenseLayer
}

// RunMLPConv builds block with seeded random weights, applies it to a random h×w×c image and returns the input,
// the output and the weights.
func RunMLPConv(backend compute.Backend, block models.MLPConv, h, w, c int, seed uint64) (run *MLPConvRun, err error) {
	if backend == nil {
		return nil, errors.New("RunMLPConv: nil backend")
	}
	if h < 1 || w < 1 || c < 1 {
		return nil, fmt.Errorf("RunMLPConv: bad image size %d×%d×%d", h, w, c)
	}
	defer func() {
		if r := recover(); r != nil {
			run, err = nil, fmt.Errorf("RunMLPConv: %v", r)
		}
	}()
	in, input := reproduce.RandomFeatureMap(rand.New(rand.NewPCG(seed, 2)), h, w, c)
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(seed))
	e, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return block.Apply(scope.In("mlpconv"), x)
	})
	if err != nil {
		return nil, fmt.Errorf("RunMLPConv: %w", err)
	}
	defer e.Finalize()
	outs, err := e.Exec(input)
	if err != nil {
		return nil, fmt.Errorf("RunMLPConv: %w", err)
	}
	output, err := reproduce.FeatureMapOf(outs[0])
	outs[0].MustFinalizeAll()
	if err != nil {
		return nil, fmt.Errorf("RunMLPConv: %w", err)
	}
	run = &MLPConvRun{Block: block, Input: in, Output: output}
	inWidth := block.Kernel * block.Kernel * c
	for li, out := range block.Filters {
		name := "conv"
		if li > 0 {
			name = fmt.Sprintf("cccp%d", li)
		}
		wv, err := train.VariableValues(store, "/mlpconv/"+name+"/weights")
		if err != nil {
			return nil, err
		}
		bv, err := train.VariableValues(store, "/mlpconv/"+name+"/biases")
		if err != nil {
			return nil, err
		}
		if len(wv) != inWidth*out || len(bv) != out {
			return nil, fmt.Errorf("RunMLPConv: %s has %d weights and %d biases, want %d×%d and %d", name, len(wv),
				len(bv), inWidth, out, out)
		}
		// The HWIO kernel [k, k, C, F] flattened is exactly the [k·k·C][F] matrix of a patch read row by row.
		l := DenseLayer{In: inWidth, Out: out, W: make([][]float64, inWidth), B: bv}
		for i := range inWidth {
			l.W[i] = wv[i*out : (i+1)*out]
		}
		run.Layers = append(run.Layers, l)
		inWidth = out
	}
	return run, nil
}

// PatchMLP is eq. 2 of §3.1 written out: for every output position (i, j), the k×k×C patch around it (zero
// padded, SAME) is read into a vector and passed through the MLP layers, each y = max(Wᵀx + b, 0).
func PatchMLP(in Image, k int, mlp []DenseLayer) Image {
	out := Image{H: in.H, W: in.W, C: mlp[len(mlp)-1].Out}
	out.Pix = make([]float64, 0, out.H*out.W*out.C)
	before := (k - 1) / 2
	for i := range in.H {
		for j := range in.W {
			patch := make([]float64, 0, k*k*in.C)
			for dy := range k {
				for dx := range k {
					for c := range in.C {
						patch = append(patch, in.At(i+dy-before, j+dx-before, c))
					}
				}
			}
			h := patch
			for _, l := range mlp {
				next := make([]float64, l.Out)
				for o := range l.Out {
					s := l.B[o]
					for p := range l.In {
						s += l.W[p][o] * h[p]
					}
					next[o] = math.Max(s, 0)
				}
				h = next
			}
			out.Pix = append(out.Pix, h...)
		}
	}
	return out
}

// MaxAbsDiff returns max |a − b| over two images of the same size (+Inf when the sizes differ).
func MaxAbsDiff(a, b Image) float64 { return reproduce.MaxAbsDiffMaps(a, b) }
