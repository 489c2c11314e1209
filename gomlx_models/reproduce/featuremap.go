package reproduce

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
)

// FeatureMap is an H×W×C map of float64 values in row-major (height, width, channel) order: the plain-Go side of
// a mechanism check (an mlpconv layer as a patch MLP, a residual block written out) compared with the engine's
// output.
type FeatureMap struct {
	H, W, C int
	Pix     []float64
}

// At returns value (y, x, c), 0 outside the map (zero padding).
func (m FeatureMap) At(y, x, c int) float64 {
	if y < 0 || y >= m.H || x < 0 || x >= m.W {
		return 0
	}
	return m.Pix[(y*m.W+x)*m.C+c]
}

// MaxAbsDiffMaps returns max |a − b| over two maps of the same size (+Inf when the sizes differ).
func MaxAbsDiffMaps(a, b FeatureMap) float64 {
	if a.H != b.H || a.W != b.W || a.C != b.C || len(a.Pix) != len(b.Pix) {
		return math.Inf(1)
	}
	var d float64
	for i := range a.Pix {
		d = math.Max(d, math.Abs(a.Pix[i]-b.Pix[i]))
	}
	return d
}

// RandomFeatureMap draws an h×w×c map of standard normal values from rng and returns it together with the same
// values as a [1, h, w, c] float32 tensor: the map holds the float32-rounded values, so the plain-Go check and
// the engine see identical inputs.
func RandomFeatureMap(rng *rand.Rand, h, w, c int) (FeatureMap, *tensors.Tensor) {
	m := FeatureMap{H: h, W: w, C: c, Pix: make([]float64, h*w*c)}
	pix := make([]float32, len(m.Pix))
	for i := range pix {
		pix[i] = float32(rng.NormFloat64())
		m.Pix[i] = float64(pix[i])
	}
	return m, tensors.FromFlatDataAndDimensions(pix, 1, h, w, c)
}

// FeatureMapOf returns the first image of an NHWC float32 tensor as a FeatureMap.
func FeatureMapOf(t *tensors.Tensor) (FeatureMap, error) {
	d := t.Shape().Dimensions
	if len(d) != 4 || d[0] < 1 {
		return FeatureMap{}, fmt.Errorf("feature map: want an NHWC tensor, got shape %s", t.Shape())
	}
	vals, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return FeatureMap{}, fmt.Errorf("feature map: %w", err)
	}
	m := FeatureMap{H: d[1], W: d[2], C: d[3], Pix: make([]float64, d[1]*d[2]*d[3])}
	for i := range m.Pix {
		m.Pix[i] = float64(vals[i])
	}
	return m, nil
}
