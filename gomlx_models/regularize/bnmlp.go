package regularize

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Hyper-parameters of the BN paper's MNIST experiment (Ioffe & Szegedy 2015, §4.1).
const (
	// BNPaperHiddenLayers is the number of fully connected hidden layers (§4.1: "3").
	BNPaperHiddenLayers = 3
	// BNPaperHiddenUnits is the width of each hidden layer (§4.1: "100 activations each").
	BNPaperHiddenUnits = 100
	// BNPaperClasses is the size of the softmax output (10 digits).
	BNPaperClasses = 10
	// BNPaperBatchSize is the mini-batch size (§4.1: "60 examples per mini-batch").
	BNPaperBatchSize = 60
	// BNPaperSteps is the training length (§4.1: "50000 steps").
	BNPaperSteps = 50000
	// BNPaperInitStddev is our choice for the "small random Gaussian values" the paper
	// initialises weights with (it gives no number).
	BNPaperInitStddev = 0.1
)

// BNPaperPercentiles are the percentiles of the sigmoid input tracked in Fig. 1(b, c).
var BNPaperPercentiles = []float64{15, 50, 85}

// MLPConfig configures BNPaperMLP. The zero value is not valid; start from BNPaperConfig.
type MLPConfig struct {
	// Hidden is the width of each hidden layer.
	Hidden []int
	// Classes is the number of output logits.
	Classes int
	// BatchNorm inserts batch normalization between each hidden layer's linear transform and
	// its sigmoid (§3.2: "BN(Wu)", the bias dropped since BN's β replaces it).
	BatchNorm bool
	// InitStddev is the standard deviation of the Gaussian weight initialisation.
	InitStddev float64
	// ProbeLayer and ProbeUnit select which sigmoid's input BNPaperMLP returns as the probe
	// (0-based; Fig. 1(b, c) track "a typical sigmoid" — we default to the last hidden layer,
	// unit 0).
	ProbeLayer, ProbeUnit int
}

// BNPaperConfig returns the §4.1 network: 3 hidden layers of 100 sigmoid units and a
// 10-way softmax, with or without batch normalization.
func BNPaperConfig(batchNorm bool) MLPConfig {
	return MLPConfig{
		Hidden:     slices.Repeat([]int{BNPaperHiddenUnits}, BNPaperHiddenLayers),
		Classes:    BNPaperClasses,
		BatchNorm:  batchNorm,
		InitStddev: BNPaperInitStddev,
		ProbeLayer: BNPaperHiddenLayers - 1,
	}
}

// Validate reports an unusable configuration.
func (c MLPConfig) Validate() error {
	if len(c.Hidden) == 0 || c.Classes < 2 || !(c.InitStddev > 0) {
		return fmt.Errorf("regularize.MLPConfig: need hidden layers, >= 2 classes and InitStddev > 0, got %+v", c)
	}
	for i, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("regularize.MLPConfig: hidden layer %d has width %d", i, h)
		}
	}
	if c.ProbeLayer < 0 || c.ProbeLayer >= len(c.Hidden) || c.ProbeUnit < 0 || c.ProbeUnit >= c.Hidden[c.ProbeLayer] {
		return fmt.Errorf("regularize.MLPConfig: probe (layer %d, unit %d) is outside the network %v",
			c.ProbeLayer, c.ProbeUnit, c.Hidden)
	}
	return nil
}

// BNPaperMLP builds the BN paper's §4.1 MNIST network on x (shaped [batch, ...], flattened
// to [batch, features]) and returns the logits [batch, Classes] and the probe: the input of
// sigmoid unit ProbeUnit of hidden layer ProbeLayer, shaped [batch] — the value whose
// 15/50/85th percentiles Fig. 1(b) (without BN) and 1(c) (with BN) follow over training.
//
// Batch normalization is this package's BatchNorm: batch statistics while training, with the
// gradient flowing through them as in the paper (GoMLX's norm.BatchNorm stops it), and GoMLX's
// moving averages in evaluation.
// Variables live under scope "hidden_<i>" and "logits".
//
// It is a graph-building function and panics (GoMLX style) on an invalid configuration.
func BNPaperMLP(scope *model.Scope, x *graph.Node, cfg MLPConfig) (logits, probe *graph.Node) {
	if err := cfg.Validate(); err != nil {
		exceptions.Panicf("%v", err)
	}
	if x.Rank() < 2 {
		exceptions.Panicf("regularize.BNPaperMLP: x must be [batch, features...], got %s", x.Shape())
	}
	batch := x.Shape().Dim(0)
	h := graph.Reshape(x, batch, -1)
	for i, width := range cfg.Hidden {
		layerScope := scope.In("hidden_%d", i)
		wScope := layerScope.WithInitializer(initializer.RandomNormalFn(layerScope, cfg.InitStddev))
		z := layers.Dense(wScope, h, !cfg.BatchNorm, width) // u = Wh (+ b without BN)
		if cfg.BatchNorm {
			z = BatchNorm(layerScope, z, -1) // BN(Wh), gradient through the batch statistics (§3)
		}
		if i == cfg.ProbeLayer {
			probe = graph.Reshape(graph.SliceAxis(z, 1, graph.AxisElem(cfg.ProbeUnit)), batch)
		}
		h = graph.Sigmoid(z)
	}
	outScope := scope.In("logits")
	outScope = outScope.WithInitializer(initializer.RandomNormalFn(outScope, cfg.InitStddev))
	logits = layers.Dense(outScope, h, true, cfg.Classes)
	return logits, probe
}

// ModelFn returns BNPaperMLP as a train.Trainer model function with two outputs, the logits
// and the probe. GoMLX's classification losses and accuracy metrics read only the first
// output, so it can be passed to train.NewTrainer as is.
func (c MLPConfig) ModelFn() func(scope *model.Scope, x *graph.Node) []*graph.Node {
	return func(scope *model.Scope, x *graph.Node) []*graph.Node {
		logits, probe := BNPaperMLP(scope, x, c)
		return []*graph.Node{logits, probe}
	}
}

// Percentiles returns the requested percentiles (0..100) of values with linear
// interpolation between order statistics (numpy's default); it returns an error for no
// values or a percentile out of range.
func Percentiles(values []float64, ps ...float64) ([]float64, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("regularize.Percentiles: no values")
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	out := make([]float64, len(ps))
	for i, p := range ps {
		if !(p >= 0 && p <= 100) {
			return nil, fmt.Errorf("regularize.Percentiles: percentile %g outside [0, 100]", p)
		}
		pos := p / 100 * float64(len(sorted)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(sorted)-1)
		frac := pos - float64(lo)
		out[i] = sorted[lo]*(1-frac) + sorted[hi]*frac
	}
	return out, nil
}
