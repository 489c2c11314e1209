package convolution

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// PoolingInput is notebook 03's own 4×4 example (max pooling 2×2, stride 2 → [[9 2] [6 3]]).
var PoolingInput = [][]float64{
	{1, 3, 2, 1},
	{2, 9, 1, 1},
	{1, 3, 2, 3},
	{5, 6, 1, 2},
}

// PoolingOverlapInput is notebook 03's own 5×5 example for an overlapping 3×3 window at stride 1.
var PoolingOverlapInput = [][]float64{
	{1, 3, 2, 1, 3},
	{2, 9, 1, 1, 5},
	{1, 3, 2, 3, 2},
	{8, 3, 5, 1, 0},
	{5, 6, 1, 2, 9},
}

// PoolingExample is max and average pooling of one image, on the engine and by a loop.
type PoolingExample struct {
	Input          [][]float64
	Window, Stride int
	// Max and Avg are computed by the project's pooling layers on the engine; MaxRef and AvgRef by loops.
	Max, Avg, MaxRef, AvgRef [][]float64
	// Channels is the channel count of a second run on a C-channel copy of the input: pooling acts on each
	// channel alone, so the output has the same C, and it has no parameters.
	Channels            int
	InShape, OutShape   []int
	MaxAbsDiff          float64 // largest |engine − loop| over both poolings.
	PerChannelIdentical bool    // every channel of the C-channel run equals the single-channel result.
}

// Pooling pools input with a window×window window at stride, VALID, with the project's MaxPool2D and AvgPool2D
// (on a 3-channel copy of the input, channel c scaled by c+1) and with plain loops.
func Pooling(backend compute.Backend, input [][]float64, window, stride int) (ex *PoolingExample, err error) {
	if backend == nil {
		return nil, errors.New("Pooling: nil backend")
	}
	h, w, err := reproduce.ImageSize(input)
	if err != nil {
		return nil, fmt.Errorf("Pooling: %w", err)
	}
	oh, ow := layers.ValidSize(h, window, stride), layers.ValidSize(w, window, stride)
	if oh == 0 || ow == 0 {
		return nil, fmt.Errorf("Pooling: window %d does not fit a %d×%d input", window, h, w)
	}
	const channels = 3
	ex = &PoolingExample{Input: input, Window: window, Stride: stride, Channels: channels,
		InShape: []int{1, h, w, channels}, OutShape: []int{1, oh, ow, channels}}
	pix := make([]float32, 0, h*w*channels)
	for _, row := range input {
		for _, v := range row {
			for c := range channels {
				pix = append(pix, float32(v)*float32(c+1))
			}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			ex, err = nil, fmt.Errorf("Pooling: %v", r)
		}
	}()
	store := model.NewStore()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		cfg := layers.Pool{Window: window, Stride: stride}
		return []*graph.Node{layers.MaxPool2D(scope.In("max"), x, cfg), layers.AvgPool2D(scope.In("avg"), x, cfg)}
	})
	if err != nil {
		return nil, fmt.Errorf("Pooling: %w", err)
	}
	defer exec.Finalize()
	outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(pix, 1, h, w, channels))
	if err != nil {
		return nil, fmt.Errorf("Pooling: %w", err)
	}
	ex.PerChannelIdentical = true
	for k, t := range outs {
		if got := t.Shape().Dimensions; !slices.Equal(got, ex.OutShape) {
			return nil, fmt.Errorf("Pooling: output shape %v, want %v", got, ex.OutShape)
		}
		vals, err := tensors.CopyFlatData[float32](t)
		t.MustFinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("Pooling: %w", err)
		}
		img := make([][]float64, oh)
		for i := range img {
			img[i] = make([]float64, ow)
			for j := range img[i] {
				base := (i*ow + j) * channels
				img[i][j] = float64(vals[base])
				for c := 1; c < channels; c++ {
					if math.Abs(float64(vals[base+c])-float64(c+1)*img[i][j]) > 1e-4*math.Max(1, math.Abs(img[i][j])) {
						ex.PerChannelIdentical = false
					}
				}
			}
		}
		if k == 0 {
			ex.Max = img
		} else {
			ex.Avg = img
		}
	}
	ex.MaxRef, ex.AvgRef = poolRef(input, window, stride, true), poolRef(input, window, stride, false)
	ex.MaxAbsDiff = math.Max(reproduce.MaxAbsDiff(ex.Max, ex.MaxRef), reproduce.MaxAbsDiff(ex.Avg, ex.AvgRef))
	return ex, nil
}

// poolRef is the loop definition of VALID pooling.
func poolRef(x [][]float64, k, s int, isMax bool) [][]float64 {
	oh, ow := layers.ValidSize(len(x), k, s), layers.ValidSize(len(x[0]), k, s)
	out := make([][]float64, oh)
	for i := range out {
		out[i] = make([]float64, ow)
		for j := range out[i] {
			acc := math.Inf(-1)
			if !isMax {
				acc = 0
			}
			for u := range k {
				for v := range k {
					val := x[i*s+u][j*s+v]
					if isMax {
						acc = math.Max(acc, val)
					} else {
						acc += val / float64(k*k)
					}
				}
			}
			out[i][j] = acc
		}
	}
	return out
}

// String prints the input and both pooled outputs.
func (ex *PoolingExample) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "input %v, %d×%d window, stride %d → output %v (per channel: %v)\n", ex.InShape, ex.Window,
		ex.Window, ex.Stride, ex.OutShape, ex.PerChannelIdentical)
	fmt.Fprintf(&b, "x =\n%s", reproduce.FormatMatrix(ex.Input))
	fmt.Fprintf(&b, "max pool =\n%s", reproduce.FormatMatrix(ex.Max))
	fmt.Fprintf(&b, "average pool =\n%s", reproduce.FormatMatrix(ex.Avg))
	fmt.Fprintf(&b, "largest |engine − loop| = %g\n", ex.MaxAbsDiff)
	return b.String()
}

// ---------------------------------------------------------------------------------------------------------------
// 4. The conv→pool→conv→pool→FC network.
