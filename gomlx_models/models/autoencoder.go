package models

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// CorruptionKind names a corruption process q_D(x̃|x) of Vincent et al. 2010, §4.2.
type CorruptionKind int

// The corruption processes of §4.2.
const (
	// NoCorruption leaves x unchanged: the denoising autoencoder is then a plain (basic) autoencoder.
	NoCorruption CorruptionKind = iota
	// MaskingNoise forces a fraction ν of the components of x to 0 (MN).
	MaskingNoise
	// GaussianNoise adds isotropic Gaussian noise x̃ = x + ε, ε ~ N(0, σ²I) (GS).
	GaussianNoise
	// SaltAndPepper sets a fraction ν of the components to their minimum (0) or maximum (1) by a fair coin
	// flip (SP).
	SaltAndPepper
)

// String returns the paper's name of the process.
func (k CorruptionKind) String() string {
	switch k {
	case NoCorruption:
		return "none"
	case MaskingNoise:
		return "masking"
	case GaussianNoise:
		return "gaussian"
	case SaltAndPepper:
		return "salt-and-pepper"
	}
	return fmt.Sprintf("CorruptionKind(%d)", int(k))
}

// Corruption is a corruption process and its level: the fraction ν for masking and salt-and-pepper noise, the
// standard deviation σ for Gaussian noise.
type Corruption struct {
	Kind  CorruptionKind
	Level float64
}

// Validate reports an error for an unusable corruption.
func (c Corruption) Validate() error {
	switch c.Kind {
	case NoCorruption:
		return nil
	case MaskingNoise, SaltAndPepper:
		if c.Level < 0 || c.Level > 1 {
			return fmt.Errorf("corruption %s: fraction ν = %g outside [0, 1]", c.Kind, c.Level)
		}
	case GaussianNoise:
		if c.Level < 0 {
			return fmt.Errorf("corruption %s: σ = %g is negative", c.Kind, c.Level)
		}
	default:
		return fmt.Errorf("corruption: unknown kind %d", int(c.Kind))
	}
	return nil
}

// Corrupt applies c to x in the graph with the store's random number generator (seeded by the store's initial
// seed). Masking and salt-and-pepper corrupt each component independently with probability ν, so a fraction ν
// is corrupted on average (the paper picks exactly ν·d components per example).
func Corrupt(scope *model.Scope, x *graph.Node, c Corruption) *graph.Node {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	if c.Kind == NoCorruption || c.Level == 0 {
		return x
	}
	g, dt := x.Graph(), x.DType()
	u := graph.ConvertDType(scope.RandomUniform(g, x.Shape()), dt)
	nu := graph.Scalar(g, dt, c.Level)
	switch c.Kind {
	case MaskingNoise:
		return graph.Where(graph.LessThan(u, nu), graph.ZerosLike(x), x)
	case GaussianNoise:
		eps := graph.ConvertDType(scope.RandomNormal(g, x.Shape()), dt)
		return graph.Add(x, graph.MulScalar(eps, c.Level))
	default: // SaltAndPepper: u < ν/2 → 0 (pepper), ν/2 ≤ u < ν → 1 (salt).
		half := graph.Scalar(g, dt, c.Level/2)
		salted := graph.Where(graph.LessThan(u, half), graph.ZerosLike(x), graph.OnesLike(x))
		return graph.Where(graph.LessThan(u, nu), salted, x)
	}
}

// AutoencoderConfig describes a stacked (denoising) autoencoder of sigmoid units (Vincent et al. 2010, §3–5):
// an input width, the widths of the stacked hidden layers, whether each layer's decoder uses the transposed
// encoder weights (W′ = Wᵀ, §3.2: "tied weights") and the number of classes of the softmax layer added for
// supervised fine-tuning (§5, Fig. 3). Layer k's variables live under "layer_<k>": "encoder/weights" W
// [in, out], "encoder/biases" b, "decoder/biases" b′ and, untied, "decoder/weights" W′ [out, in]; the softmax
// layer's under "softmax".
type AutoencoderConfig struct {
	Input   int
	Hidden  []int
	Tied    bool
	Classes int
}

// SDAEPaperWidth is the hidden-layer width we take for the paper's deep MNIST networks: §7 chooses the layer
// sizes on a validation set, with layers of the order of a thousand units.
const SDAEPaperWidth = 1000

// Autoencoder configurations.
var (
	// SDAE3Paper is Table 3's SDAE-3 on MNIST: 784-1000-1000-1000 sigmoid layers, tied weights, 10 classes.
	SDAE3Paper = AutoencoderConfig{Input: 784, Hidden: []int{SDAEPaperWidth, SDAEPaperWidth, SDAEPaperWidth},
		Tied: true, Classes: 10}
	// SDAE3Small is the scaled-down SDAE-3 this machine pre-trains and fine-tunes in minutes.
	SDAE3Small = AutoencoderConfig{Input: 784, Hidden: []int{256, 256, 256}, Tied: true, Classes: 10}
	// ToyDAE is the one-layer denoising autoencoder of the 2-D manifold picture (§3.3, Fig. 2).
	ToyDAE = AutoencoderConfig{Input: 2, Hidden: []int{64}, Tied: false}
)

// Validate reports an error for an unusable configuration.
func (c AutoencoderConfig) Validate() error {
	if c.Input < 1 {
		return fmt.Errorf("autoencoder: Input must be positive, got %d", c.Input)
	}
	if len(c.Hidden) == 0 {
		return fmt.Errorf("autoencoder: need at least one hidden layer")
	}
	for i, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("autoencoder: hidden layer %d has width %d", i, h)
		}
	}
	if c.Classes < 0 {
		return fmt.Errorf("autoencoder: Classes must not be negative, got %d", c.Classes)
	}
	return nil
}

// LayerInput is the width of layer k's input (the input for k = 0, the previous hidden layer after).
func (c AutoencoderConfig) LayerInput(k int) int {
	if k == 0 {
		return c.Input
	}
	return c.Hidden[k-1]
}

// NumParams is the number of parameters of layer k's autoencoder (encoder and decoder).
func (c AutoencoderConfig) NumParams(k int) int {
	in, out := c.LayerInput(k), c.Hidden[k]
	n := in*out + out + in
	if !c.Tied {
		n += in * out
	}
	return n
}

// ClassifierParams is the number of parameters of the fine-tuned network: the stacked encoders and the softmax.
func (c AutoencoderConfig) ClassifierParams() int {
	n := 0
	for k, h := range c.Hidden {
		n += c.LayerInput(k)*h + h
	}
	return n + c.Hidden[len(c.Hidden)-1]*c.Classes + c.Classes
}

func (c AutoencoderConfig) check(k int) {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	if k < 0 || k >= len(c.Hidden) {
		panic(fmt.Errorf("autoencoder: layer %d outside the %d hidden layers", k, len(c.Hidden)))
	}
}

// weights is the [in, out] weight matrix "name" under scope (Glorot-uniform initialisation, in the dtype and
// graph of like).
func weights(scope *model.Scope, name string, like *graph.Node, in, out int) *graph.Node {
	s := scope.WithInitializer(initializer.XavierUniformFn(scope))
	return s.VariableWithShape(name, shapes.Make(like.DType(), in, out)).ValueGraph(like.Graph())
}

// Encode is layer k's encoder, y = s(x W + b) (eq. 1, §2.2; rows are examples).
func (c AutoencoderConfig) Encode(scope *model.Scope, x *graph.Node, k int) *graph.Node {
	c.check(k)
	in, out := c.LayerInput(k), c.Hidden[k]
	if x.Rank() != 2 || x.Shape().Dim(1) != in {
		panic(fmt.Errorf("autoencoder layer %d: input must be [batch, %d], got %s", k, in, x.Shape()))
	}
	s := scope.At("layer_%d", k).At("encoder")
	w := weights(s, "weights", x, in, out)
	b := s.WithInitializer(initializer.Zero).VariableWithShape("biases", shapes.Make(x.DType(), out)).ValueGraph(x.Graph())
	y := graph.Sigmoid(addBias(graph.MatMul(x, w), b))
	y.AssertDims(x.Shape().Dim(0), out)
	return y
}

// DecodeLogits is layer k's decoder before its sigmoid: a = y W′ + b′, so that z = s(a) (eq. 2). With tied
// weights W′ = Wᵀ, the encoder's weights transposed (§3.2).
func (c AutoencoderConfig) DecodeLogits(scope *model.Scope, y *graph.Node, k int) *graph.Node {
	c.check(k)
	in, out := c.LayerInput(k), c.Hidden[k]
	ls := scope.At("layer_%d", k)
	var wT *graph.Node
	if c.Tied {
		wT = graph.Transpose(weights(ls.At("encoder"), "weights", y, in, out), 0, 1)
	} else {
		wT = weights(ls.At("decoder"), "weights", y, out, in)
	}
	d := ls.At("decoder")
	b := d.WithInitializer(initializer.Zero).VariableWithShape("biases", shapes.Make(y.DType(), in)).ValueGraph(y.Graph())
	return addBias(graph.MatMul(y, wT), b)
}

// addBias adds the bias vector b [units] to every row of x [batch, units].
func addBias(x, b *graph.Node) *graph.Node {
	return graph.Add(x, graph.ExpandDims(b, 0))
}

// EncodeStack maps x through the encoders of layers 0 … depth−1 (depth 0 returns x flattened).
func (c AutoencoderConfig) EncodeStack(scope *model.Scope, x *graph.Node, depth int) *graph.Node {
	if x.Rank() > 2 {
		x = graph.Reshape(x, x.Shape().Dim(0), -1)
	}
	for k := range depth {
		x = c.Encode(scope, x, k)
	}
	return x
}

// ReconstructionCrossEntropy is the loss of §3.1 for inputs in [0, 1] (eq. "L_H"), per example:
// L_H(x, z) = −Σ_j [x_j log z_j + (1 − x_j) log(1 − z_j)] with z = s(a), computed stably as
// Σ_j softplus(a_j) − x_j a_j. x is the UNcorrupted input.
func ReconstructionCrossEntropy(x, logits *graph.Node) *graph.Node {
	return graph.ReduceSum(graph.Sub(graph.Softplus(logits), graph.Mul(x, logits)), -1)
}

// DAE returns the model function that pre-trains layer k as a denoising autoencoder (§3.3 and §5, Fig. 3): the
// clean input x is mapped through the (fixed) encoders below k, the result h is corrupted by noise in training
// only — only the input of the layer being trained is corrupted —, encoded and decoded, and the output is the
// per-example reconstruction cross-entropy of the uncorrupted h, [batch] (use [ReconstructionLoss] as the
// training loss).
func (c AutoencoderConfig) DAE(k int, noise Corruption) func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		c.check(k)
		h := graph.StopGradient(c.EncodeStack(scope, x, k))
		hTilde := h
		if scope.IsTraining(x.Graph()) {
			hTilde = Corrupt(scope.At("corruption"), h, noise)
		}
		logits := c.DecodeLogits(scope, c.Encode(scope, hTilde, k), k)
		return ReconstructionCrossEntropy(h, logits)
	}
}

// ReconstructionLoss is the training loss of [AutoencoderConfig.DAE]: the mean of its per-example
// reconstruction cross-entropy (the labels are ignored).
func ReconstructionLoss(_, predictions []*graph.Node) *graph.Node {
	return graph.ReduceAllMean(predictions[0])
}

// Reconstruct returns layer k's deterministic reconstruction z = g(f(x)) of an input x of that layer,
// [batch, LayerInput(k)] → [batch, LayerInput(k)], without corruption.
func (c AutoencoderConfig) Reconstruct(k int) func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		return graph.Sigmoid(c.DecodeLogits(scope, c.Encode(scope, x, k), k))
	}
}

// Classifier returns the fine-tuning network (§5, Fig. 3 right): the stacked encoders followed by a softmax
// layer, x [batch, Input] (or images, flattened) → logits [batch, Classes].
func (c AutoencoderConfig) Classifier() func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		if err := c.Validate(); err != nil {
			panic(err)
		}
		if c.Classes < 1 {
			panic(fmt.Errorf("autoencoder classifier: Classes must be positive"))
		}
		h := c.EncodeStack(scope, x, len(c.Hidden))
		s := scope.At("softmax")
		w := weights(s, "weights", h, c.Hidden[len(c.Hidden)-1], c.Classes)
		b := s.WithInitializer(initializer.Zero).VariableWithShape("biases", shapes.Make(h.DType(), c.Classes)).ValueGraph(h.Graph())
		return addBias(graph.MatMul(h, w), b)
	}
}
