package models

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// ConvStage is one stage of a [ConvNet]: a convolution with bias, a ReLU and (if Pool > 0) a Pool×Pool max-pool
// with stride Pool.
type ConvStage struct {
	Filters, Kernel int
	Padding         layers.Padding
	Pool            int
}

// ConvNet is the LeNet pattern (LeCun et al. 1998, §II.B, with ReLU and max-pooling) written as data:
// conv→ReLU→pool stages, then fully connected ReLU layers and the class logits.
type ConvNet struct {
	Stages  []ConvStage
	Hidden  []int // widths of the hidden fully connected layers.
	Classes int
	// Tanh replaces every ReLU by tanh (the saturating unit of Krizhevsky et al. 2012, §3.1 and Fig. 1).
	Tanh bool
	// Input is the image shape (height, width, channels) a flat [batch, H·W·C] input is reshaped to; zero
	// means the network takes NHWC images only.
	Input [3]int
	// InitStd, when positive, draws every weight from N(0, InitStd²) and sets the biases to 0 (Krizhevsky et al.
	// 2012, §5: "from a zero-mean Gaussian distribution with standard deviation 0.01"); 0 keeps GoMLX's He
	// initialization.
	InitStd float64
}

// The ConvNet table.
var (
	// SmallCNN is the benchmark's small convolutional network, the same as scripts/torch_bench.py's "lenet":
	// conv 3×3×32 + ReLU + max-pool 2, conv 3×3×64 + ReLU + max-pool 2, dense 10, on 28×28×1 images
	// (26×26×32 → 13×13×32 → 11×11×64 → 5×5×64 → 10; 34,826 parameters).
	SmallCNN = ConvNet{
		Stages:  []ConvStage{{Filters: 32, Kernel: 3, Pool: 2}, {Filters: 64, Kernel: 3, Pool: 2}},
		Classes: 10,
		Input:   [3]int{28, 28, 1},
	}
	// DevNet is notebook 03's network for 28×28×1 images, the notes' "general development process":
	// conv 5×5×8 → pool 2 → conv 3×3×16 → pool 2 → FC 64 → FC 10 (24×24×8, 12×12×8, 10×10×16, 5×5×16, 400, 64,
	// 10; 27,690 parameters, 0.26M multiply-adds), small enough to train in minutes on two CPU cores.
	DevNet = ConvNet{
		Stages:  []ConvStage{{Filters: 8, Kernel: 5, Pool: 2}, {Filters: 16, Kernel: 3, Pool: 2}},
		Hidden:  []int{64},
		Classes: 10,
		Input:   [3]int{28, 28, 1},
	}
	// LeNet5 is LeCun et al. 1998's LeNet-5 (§II.B, Fig. 2) on 32×32×1 images (MNIST's 28×28 digits centred in a
	// 32×32 field, §III.A): C1 6@5×5 → 28×28×6, S2 → 14×14×6, C3 16@5×5 → 10×10×16, S4 → 5×5×16, C5 120@5×5 →
	// 1×1×120, F6 84, 10 outputs; tanh units; 61,706 parameters. Where it differs from the paper: C3 sees all six
	// S2 maps (Table I connects each to three or four), S2 and S4 are 2×2 max-pools (the paper's subsampling
	// averages with a trained coefficient and bias), the units are tanh (the paper's 1.7159·tanh(2a/3)), and the
	// outputs are logits for a softmax (the paper's are Euclidean RBF units).
	LeNet5 = ConvNet{
		Stages: []ConvStage{
			{Filters: 6, Kernel: 5, Pool: 2},
			{Filters: 16, Kernel: 5, Pool: 2},
			{Filters: 120, Kernel: 5},
		},
		Hidden:  []int{84},
		Classes: 10,
		Tanh:    true,
		Input:   [3]int{32, 32, 1},
	}
)

// Tap is an intermediate activation of a [ConvNet] with its layer name.
type Tap struct {
	Name string
	Node *graph.Node
}

// Model returns the network as a model function: x → logits [batch, Classes].
func (n ConvNet) Model() func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		taps := n.Taps(scope, x)
		return taps[len(taps)-1].Node
	}
}

// Taps builds the network on NHWC images x and returns every layer's output in order: "stageK/conv" (after the
// ReLU), "stageK/pool", "fcK" and finally "logits". Variables live in the scopes of the same names (the first
// convolution's kernel is "/stage1/conv/weights"). Each output's shape is asserted against
// [layers.ValidSize] / [layers.SameSize]. Like every GoMLX model function it panics on invalid input.
func (n ConvNet) Taps(scope *model.Scope, x *graph.Node) []Tap { return n.TapsUpTo(scope, x, "") }

// TapsUpTo is [ConvNet.Taps] stopped after the layer named last ("" for the whole network). A graph that
// should output early layers only must not build the later ones: GoMLX's model.Exec rejects graphs that read
// variables whose values reach no output.
func (n ConvNet) TapsUpTo(scope *model.Scope, x *graph.Node, last string) []Tap {
	if x.Rank() == 2 && n.Input[0] > 0 && x.Shape().Dimensions[1] == n.Input[0]*n.Input[1]*n.Input[2] {
		x = graph.Reshape(x, x.Shape().Dimensions[0], n.Input[0], n.Input[1], n.Input[2])
	}
	if x.Rank() != 4 {
		panic(fmt.Errorf("ConvNet: want NHWC images, got shape %s", x.Shape()))
	}
	batch, h, w := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
	if n.InitStd > 0 {
		scope = scope.WithInitializer(gaussianWeights(scope, n.InitStd))
	}
	var taps []Tap
	done := func(name string, node *graph.Node) bool {
		taps = append(taps, Tap{name, node})
		return name == last
	}
	for i, st := range n.Stages {
		s := scope.In("stage%d", i+1)
		x = n.activation(layers.Conv2D(s.In("conv"), x, layers.Conv{Filters: st.Filters, Kernel: st.Kernel,
			Padding: st.Padding, UseBias: true}))
		if st.Padding == layers.Same {
			h, w = layers.SameSize(h, 1), layers.SameSize(w, 1)
		} else {
			h, w = layers.ValidSize(h, st.Kernel, 1), layers.ValidSize(w, st.Kernel, 1)
		}
		x.AssertDims(batch, h, w, st.Filters)
		if done(fmt.Sprintf("stage%d/conv", i+1), x) {
			return taps
		}
		if st.Pool > 0 {
			x = layers.MaxPool2D(s.In("pool"), x, layers.Pool{Window: st.Pool})
			h, w = layers.ValidSize(h, st.Pool, st.Pool), layers.ValidSize(w, st.Pool, st.Pool)
			x.AssertDims(batch, h, w, st.Filters)
			if done(fmt.Sprintf("stage%d/pool", i+1), x) {
				return taps
			}
		}
	}
	for i, units := range n.Hidden {
		name := fmt.Sprintf("fc%d", i+1)
		x = n.activation(layers.Dense(scope.In("%s", name), x, units))
		if done(name, x) {
			return taps
		}
	}
	x = layers.Dense(scope.In("logits"), x, n.Classes)
	done("logits", x)
	if last != "" && last != "logits" {
		panic(fmt.Errorf("ConvNet: no layer named %q", last))
	}
	return taps
}

// gaussianWeights initializes weights (rank ≥ 2) from N(0, std²) with the store's seeded generator and biases
// (rank ≤ 1) to zero.
func gaussianWeights(scope *model.Scope, std float64) model.VariableInitializer {
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		if shape.Rank() <= 1 || !shape.DType.IsFloat() {
			return graph.Zeros(g, shape)
		}
		return graph.MulScalar(scope.RandomNormal(g, shape), std)
	}
}

// activation is ReLU, or tanh when n.Tanh.
func (n ConvNet) activation(x *graph.Node) *graph.Node {
	if n.Tanh {
		return layers.Tanh(x)
	}
	return layers.ReLU(x)
}

// LayerNames lists the names [ConvNet.Taps] gives its outputs, in order.
func (n ConvNet) LayerNames() []string {
	var names []string
	for i, st := range n.Stages {
		names = append(names, fmt.Sprintf("stage%d/conv", i+1))
		if st.Pool > 0 {
			names = append(names, fmt.Sprintf("stage%d/pool", i+1))
		}
	}
	for i := range n.Hidden {
		names = append(names, fmt.Sprintf("fc%d", i+1))
	}
	return append(names, "logits")
}

// Windows lists the network's convolution and pooling windows in order, as (name, kernel, stride, pool):
// what a receptive-field computation needs.
func (n ConvNet) Windows() []Window {
	var out []Window
	for i, st := range n.Stages {
		out = append(out, Window{Name: fmt.Sprintf("conv%d", i+1), Kernel: st.Kernel, Stride: 1})
		if st.Pool > 0 {
			out = append(out, Window{Name: fmt.Sprintf("pool%d", i+1), Kernel: st.Pool, Stride: st.Pool, Pool: true})
		}
	}
	return out
}

// Window is one sliding window of a network: a convolution or a pooling layer.
type Window struct {
	Name           string
	Kernel, Stride int
	Pool           bool
}
