package models

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// MLPConfig describes a fully connected classifier on flattened inputs: hidden layer widths, activation and
// the number of classes. With no hidden layers it is softmax (multinomial logistic) regression.
type MLPConfig struct {
	Hidden     []int
	Activation activation.Type
	Classes    int
}

// MLP configurations used by the experiments, named after LeCun et al. 1998 ("Gradient-based learning applied
// to document recognition", §III.C, Fig. 9), which reports MNIST test errors for these shapes.
var (
	// SoftmaxRegression is the "linear classifier" of §III.C.1 (12.0% test error in the paper).
	SoftmaxRegression = MLPConfig{Classes: 10}
	// MLP300x100 is the "3-layer NN, 300+100 hidden units" of §III.C (3.05% test error in the paper).
	MLP300x100 = MLPConfig{Hidden: []int{300, 100}, Activation: activation.TypeRelu, Classes: 10}
)

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
	return nil
}

// MLP returns the model function of c: x [batch, features] (higher ranks are flattened) → logits [batch, classes].
func MLP(c MLPConfig) func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		for i, width := range c.Hidden {
			s := scope.In("dense_%d", i)
			x = layers.Dense(s, x, width)
			x = summary.Mark(s.In("act"), c.Activation.String(), activation.Apply(c.Activation, x))
		}
		return layers.Dense(scope.In("logits"), x, c.Classes)
	}
}
