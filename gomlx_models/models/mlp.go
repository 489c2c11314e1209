package models

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/regularize"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// MLPConfig describes a fully connected classifier on flattened inputs: hidden layer widths, their activation,
// the number of classes, and the options the papers add — batch normalization before each activation
// (Ioffe & Szegedy 2015, §3.2), inverted dropout on the input and hidden units (Srivastava et al. 2014, §4) and
// a Gaussian initialisation. With no hidden layers it is softmax (multinomial logistic) regression.
type MLPConfig struct {
	Hidden     []int
	Activation activation.Type
	Classes    int
	// BatchNorm computes BN(W·h) before each hidden activation, without the bias that BN's β replaces (§3.2).
	BatchNorm bool
	// KeepInput and KeepHidden are inverted-dropout keep probabilities for the input and for every hidden
	// layer's output; 0 (or 1) means no dropout.
	KeepInput, KeepHidden float64
	// InitStddev, when > 0, initialises the weights from N(0, InitStddev²); 0 keeps GoMLX's default.
	InitStddev float64
	// ProbeLayer and ProbeUnit select the pre-activation that [MLPWithProbe] returns (0-based hidden layer and
	// unit).
	ProbeLayer, ProbeUnit int
}

// MLP configurations of the papers. Each hidden layer's variables live under "hidden_<i>", the output layer's
// under "logits".
var (
	// SoftmaxRegression is the "linear classifier" of LeCun et al. 1998, §III.C.1 (12.0% test error on MNIST).
	SoftmaxRegression = MLPConfig{Classes: 10}
	// MLP300x100 is LeCun et al. 1998's "3-layer NN, 300+100 hidden units" (§III.C, Fig. 9: 3.05% test error).
	MLP300x100 = MLPConfig{Hidden: []int{300, 100}, Activation: activation.TypeRelu, Classes: 10}
	// BNPaperMLP is the network of the BN paper's MNIST experiment (§4.1): "3 fully-connected hidden layers with
	// 100 activations each", sigmoid non-linearity, weights "initialized to small random Gaussian values" (the
	// paper gives no scale: we use 0.1), with batch normalization switched on by [MLPConfig.WithBatchNorm]. The
	// probe is the last hidden layer's unit 0, "a typical sigmoid" of Fig. 1(b, c).
	BNPaperMLP = MLPConfig{Hidden: slices.Repeat([]int{BNPaperHiddenUnits}, 3), Activation: activation.TypeSigmoid,
		Classes: 10, InitStddev: 0.1, ProbeLayer: 2}
	// DropoutMLP is the over-fitting study's wide ReLU network, with the notes' keep probability 0.8 on its
	// input and hidden units (use [MLPConfig.WithoutDropout] for the plain one).
	DropoutMLP = MLPConfig{Hidden: []int{256, 256}, Activation: activation.TypeRelu, Classes: 10,
		KeepInput: regularize.DefaultKeepProb, KeepHidden: regularize.DefaultKeepProb}
)

// BNPaperHiddenUnits is the width of the BN paper's hidden layers (§4.1: "100 activations each").
const BNPaperHiddenUnits = 100

// WithBatchNorm returns c with batch normalization on or off.
func (c MLPConfig) WithBatchNorm(on bool) MLPConfig { c.BatchNorm = on; return c }

// WithoutDropout returns c with dropout off.
func (c MLPConfig) WithoutDropout() MLPConfig { c.KeepInput, c.KeepHidden = 0, 0; return c }

// Validate reports an error for an unusable configuration.
func (c MLPConfig) Validate() error {
	if c.Classes < 1 {
		return fmt.Errorf("mlp: Classes must be positive, got %d", c.Classes)
	}
	for i, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("mlp: hidden layer %d has width %d", i, h)
		}
	}
	for _, k := range []float64{c.KeepInput, c.KeepHidden} {
		if k < 0 || k > 1 {
			return fmt.Errorf("mlp: keep probability %g outside [0, 1]", k)
		}
	}
	if c.InitStddev < 0 {
		return fmt.Errorf("mlp: InitStddev must not be negative, got %g", c.InitStddev)
	}
	if len(c.Hidden) > 0 && (c.ProbeLayer < 0 || c.ProbeLayer >= len(c.Hidden) || c.ProbeUnit < 0 ||
		c.ProbeUnit >= c.Hidden[c.ProbeLayer]) {
		return fmt.Errorf("mlp: probe (layer %d, unit %d) is outside the network %v", c.ProbeLayer, c.ProbeUnit, c.Hidden)
	}
	return nil
}

// MLP returns the model function of c: x [batch, features] (higher ranks are flattened) → logits [batch, classes].
func MLP(c MLPConfig) func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		logits, _ := c.build(scope, x)
		return logits
	}
}

// MLPWithProbe returns the model function of c with two outputs: the logits and the probe, the pre-activation of
// unit ProbeUnit of hidden layer ProbeLayer, shaped [batch] (the value whose percentiles the BN paper's
// Fig. 1(b, c) follow). It can serve as a [train.Probe]'s activation.
func MLPWithProbe(c MLPConfig) func(scope *model.Scope, x *graph.Node) []*graph.Node {
	return func(scope *model.Scope, x *graph.Node) []*graph.Node {
		logits, probe := c.build(scope, x)
		return []*graph.Node{probe, logits}
	}
}

func keep(p float64) float64 {
	if p == 0 {
		return 1
	}
	return p
}

func (c MLPConfig) build(scope *model.Scope, x *graph.Node) (logits, probe *graph.Node) {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	if x.Rank() < 2 {
		panic(fmt.Errorf("mlp: x must be [batch, features...], got %s", x.Shape()))
	}
	batch := x.Shape().Dim(0)
	h := layers.Flatten(x)
	h = regularize.InvertedDropout(scope.In("input"), h, keep(c.KeepInput))
	init := func(s *model.Scope) *model.Scope {
		if c.InitStddev > 0 {
			return s.WithInitializer(initializer.RandomNormalFn(s, c.InitStddev))
		}
		return s
	}
	for i, width := range c.Hidden {
		s := scope.In("hidden_%d", i)
		var z *graph.Node
		if c.BatchNorm {
			z = layers.DenseNoBias(init(s), h, width) // u = W·h
			z = layers.BatchNormAxis(s, z, -1)        // BN(W·h), gradient through the batch statistics (§3)
		} else {
			z = layers.Dense(init(s), h, width) // u = W·h + b
		}
		if i == c.ProbeLayer {
			probe = graph.Reshape(graph.SliceAxis(z, 1, graph.AxisElem(c.ProbeUnit)), batch)
		}
		h = summary.Mark(s.In("act"), c.Activation.String(), activation.Apply(c.Activation, z))
		h = regularize.InvertedDropout(s, h, keep(c.KeepHidden))
	}
	logits = layers.Dense(init(scope.In("logits")), h, c.Classes)
	if probe == nil {
		probe = graph.Reshape(graph.SliceAxis(logits, 1, graph.AxisElem(0)), batch)
	}
	return logits, probe
}
