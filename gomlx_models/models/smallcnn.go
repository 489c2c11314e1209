package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// SmallCNNClasses is the number of outputs of [SmallCNN] (the ten MNIST digits).
const SmallCNNClasses = 10

// smallCNNConvs is the convolutional trunk of [SmallCNN]: 3×3 VALID convolutions with bias, each followed by a
// ReLU and a 2×2 max-pool (the LeNet pattern of LeCun et al. 1998, §II.B, with ReLU and max-pooling).
var smallCNNConvs = []struct {
	name    string
	filters int
	out     [2]int // spatial size after the pool, for 28×28 inputs
}{
	{"conv1", 32, [2]int{13, 13}},
	{"conv2", 64, [2]int{5, 5}},
}

// SmallCNN is the benchmark's small convolutional network, the same as scripts/torch_bench.py's "lenet":
// conv3×3×32+ReLU+maxpool2, conv3×3×64+ReLU+maxpool2, dense 10. x is [batch, 28, 28, 1] (or [batch, 784],
// reshaped); it returns logits [batch, 10]. Shapes are asserted after each block for 28×28 inputs.
func SmallCNN(scope *model.Scope, x *graph.Node) *graph.Node {
	if x.Rank() == 2 && x.Shape().Dimensions[1] == 28*28 {
		x = graph.Reshape(x, x.Shape().Dimensions[0], 28, 28, 1)
	}
	if x.Rank() != 4 {
		panic(fmt.Errorf("SmallCNN: want [batch, 28, 28, 1] images, got %s", x.Shape()))
	}
	batch := x.Shape().Dimensions[0]
	is28 := x.Shape().Dimensions[1] == 28 && x.Shape().Dimensions[2] == 28
	for _, c := range smallCNNConvs {
		s := scope.In("%s", c.name)
		x = layers.Conv2D(s, x, layers.Conv{Filters: c.filters, Kernel: 3, Padding: layers.Valid, UseBias: true})
		x = layers.ReLU(x)
		x = layers.MaxPool2D(s.In("pool"), x, layers.Pool{Window: 2})
		if is28 {
			x.AssertDims(batch, c.out[0], c.out[1], c.filters)
		}
	}
	return layers.Dense(scope.In("logits"), x, SmallCNNClasses)
}
