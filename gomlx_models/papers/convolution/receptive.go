package convolution

import (
	"errors"
	"fmt"
	"math"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/plots"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// RFLayer is one window of a stack whose receptive field is measured (a convolution or a pooling layer).
type RFLayer = models.Window

// ReceptiveField is what one output unit of a layer sees of the input.
type ReceptiveField struct {
	Layer string
	// Size and Jump are the analytic receptive field r_l = r_{l−1} + (k_l−1)·j_{l−1} and the distance between
	// neighbouring units in input pixels j_l = j_{l−1}·s_l (Dumoulin & Visin 2016; Araujo et al. 2019).
	Size, Jump int
	// Row, Col is the output unit (the centre one of the layer's grid).
	Row, Col int
	// Measured is the side of the bounding box of the input pixels that influence the unit, found by pushing a
	// one-hot image for every input pixel through the stack (all-ones kernels, average pooling) on the engine.
	Measured int
	// Top, Left is the bounding box's corner in the input.
	Top, Left int
	// Paths holds, for every input pixel, the number of paths from it to the unit (0 outside the field): the
	// centre pixels are reached by more paths than the border ones.
	Paths [][]float64
}

// ReceptiveFields measures, on backend, the receptive field of the centre unit after each layer of stack for an
// n×n input, and checks it against the analytic size. It returns an error if they differ.
func ReceptiveFields(backend compute.Backend, stack []RFLayer, n int) (fields []ReceptiveField, err error) {
	if backend == nil {
		return nil, errors.New("ReceptiveFields: nil backend")
	}
	if len(stack) == 0 || n < 1 {
		return nil, fmt.Errorf("ReceptiveFields: need layers and n ≥ 1, got %d layers and n=%d", len(stack), n)
	}
	defer func() {
		if r := recover(); r != nil {
			fields, err = nil, fmt.Errorf("ReceptiveFields: %v", r)
		}
	}()
	// A batch of n² one-hot images: image p has a 1 at pixel p.
	onehot := make([]float32, n*n*n*n)
	for p := 0; p < n*n; p++ {
		onehot[p*n*n+p] = 1
	}
	outs, err := graph.CallOnceN(backend, func(x *graph.Node) []*graph.Node {
		var taps []*graph.Node
		for _, l := range stack {
			cfg := layers.Conv{Filters: 1, Kernel: l.Kernel, Stride: l.Stride}
			if l.Pool {
				x = layers.PoolNHWC(x, layers.Pool{Window: l.Kernel, Stride: l.Stride}, false)
			} else {
				ones := graph.OnesLike(graph.Zeros(x.Graph(), shapes.Make(dtypes.Float32, l.Kernel, l.Kernel, 1, 1)))
				x = layers.ConvNHWC(x, ones, nil, cfg)
			}
			taps = append(taps, x)
		}
		return taps
	}, tensors.FromFlatDataAndDimensions(onehot, n*n, n, n, 1))
	if err != nil {
		return nil, fmt.Errorf("ReceptiveFields: %w", err)
	}
	size, jump := 1, 1
	for li, l := range stack {
		size += (l.Kernel - 1) * jump
		jump *= l.Stride
		t := outs[li]
		d := t.Shape().Dimensions // [n², H, W, 1]
		h, w := d[1], d[2]
		vals, err := tensors.CopyFlatData[float32](t)
		t.MustFinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("ReceptiveFields: %w", err)
		}
		rf := ReceptiveField{Layer: l.Name, Size: size, Jump: jump, Row: (h - 1) / 2, Col: (w - 1) / 2}
		rf.Paths = make([][]float64, n)
		top, left, bottom, right := n, n, -1, -1
		// Average pooling divides by k²: undo it so the map counts paths.
		scale := 1.0
		for _, m := range stack[:li+1] {
			if m.Pool {
				scale *= float64(m.Kernel * m.Kernel)
			}
		}
		for r := 0; r < n; r++ {
			rf.Paths[r] = make([]float64, n)
			for c := 0; c < n; c++ {
				v := float64(vals[(r*n+c)*h*w+rf.Row*w+rf.Col]) * scale
				rf.Paths[r][c] = math.Round(v)
				if v > 0.5 {
					top, left, bottom, right = min(top, r), min(left, c), max(bottom, r), max(right, c)
				}
			}
		}
		if bottom >= 0 {
			rf.Top, rf.Left = top, left
			rf.Measured = max(bottom-top+1, right-left+1)
		}
		if rf.Measured != rf.Size {
			return nil, fmt.Errorf("ReceptiveFields: after %s the measured field is %d pixels, the formula says %d",
				l.Name, rf.Measured, rf.Size)
		}
		fields = append(fields, rf)
	}
	return fields, nil
}

// ReceptiveFieldFigures draws the path counts of each layer's centre unit over the input (one panel per layer)
// and, with the values printed, the last layer's field cropped to its bounding box.
func ReceptiveFieldFigures(fields []ReceptiveField) (grid, detail *plots.Figure, err error) {
	if len(fields) == 0 {
		return nil, nil, errors.New("ReceptiveFieldFigures: no field")
	}
	imgs := make([]plots.Image, len(fields))
	for i, f := range fields {
		n := len(f.Paths)
		pix := make([]float32, 0, n*n)
		for _, row := range f.Paths {
			for _, v := range row {
				pix = append(pix, float32(v))
			}
		}
		imgs[i] = plots.Image{Pix: pix, H: n, W: n, C: 1, Label: fmt.Sprintf("%s: %d×%d", f.Layer, f.Size, f.Size)}
	}
	grid, err = plots.ImageGrid("receptive field of the centre unit after each layer (brighter = more paths)", imgs,
		len(imgs), plots.PerImageScale(), plots.SizePixels(220*len(imgs), 300))
	if err != nil {
		return nil, nil, err
	}
	last := fields[len(fields)-1]
	crop := make([][]float64, last.Measured)
	labels := make([]string, last.Measured)
	colLabels := make([]string, last.Measured)
	for i := range crop {
		crop[i] = append([]float64(nil), last.Paths[last.Top+i][last.Left:last.Left+last.Measured]...)
		labels[i] = fmt.Sprint(last.Top + i)
		colLabels[i] = fmt.Sprint(last.Left + i)
	}
	detail, err = plots.Heatmap(fmt.Sprintf("paths from each input pixel to unit (%d,%d) after %s", last.Row, last.Col,
		last.Layer), crop, labels, colLabels, true, plots.AxisLabels("input column", "input row"))
	if err != nil {
		return nil, nil, err
	}
	return grid, detail, nil
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Pooling.
