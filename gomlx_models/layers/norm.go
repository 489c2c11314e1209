package layers

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// BatchNorm normalizes each channel of x with the batch statistics while training and their moving averages
// otherwise, then scales and shifts it (Ioffe & Szegedy 2015, Algorithm 1; used after every convolution of
// He et al. 2016, §3.4). It is GoMLX's norm.BatchNorm (variables under "batch_normalization": scale, offset,
// mean, variance, avg_weight), on the channel axis of whichever layout the images are in, with the backend's
// fused inference op switched off on the Go backend, which lacks it. Like GoMLX's, the gradient does not flow
// through the batch mean and variance.
func BatchNorm(scope *model.Scope, x *graph.Node) *graph.Node {
	useBackend := !isGoBackend(x.Graph())
	var y *graph.Node
	if x.Rank() == 4 && (hasCNHW(x) || ImplFor(scope, x.Graph()) == Fast) {
		y = fromCNHW(norm.BatchNorm(scope, toCNHW(x), 0).UseBackendInference(useBackend).Done())
	} else {
		y = norm.BatchNorm(scope, x, -1).UseBackendInference(useBackend).Done()
	}
	return summary.Mark(scope, "BatchNorm", y)
}
