package reproduce

import "math"

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
