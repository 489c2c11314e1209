package regularize

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// Batch normalization settings: GoMLX's norm.BatchNorm defaults, kept so that BatchNorm and norm.BatchNorm
// share their variables and moving averages.
const (
	// BNMomentum is the momentum of the moving averages of the mean and variance.
	BNMomentum = layers.BNMomentum
	// BNEpsilon is the ε added to the variance.
	BNEpsilon = layers.BNEpsilon
)

// BatchNorm is batch normalization as the paper trains it (Ioffe & Szegedy 2015, Alg. 1 and the chain rule
// of §3): while training, x is normalized with the mini-batch mean and (biased) variance over every axis but
// featureAxis, and the gradient flows through both statistics — ∂ℓ/∂x_i collects the terms through μ_B and
// σ²_B, so the normalization cannot be undone by the gradient step (§2 explains why ignoring them makes the
// model blow up). GoMLX's norm.BatchNorm (v0.28) applies StopGradient to the batch statistics instead.
//
// Outside training (and in GoMLX's averages-update phase) it is norm.BatchNorm, with which it shares its
// variables under "batch_normalization" (scale γ, offset β, and the moving averages mean, variance,
// avg_weight, updated with the same debiased momentum BNMomentum): inference uses the moving averages.
// It is the project layer layers.BatchNormAxis, which the convolutional models' BatchNorm also builds on.
func BatchNorm(scope *model.Scope, x *graph.Node, featureAxis int) *graph.Node {
	return layers.BatchNormAxis(scope, x, featureAxis)
}
