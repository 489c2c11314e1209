package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// matrixGrid adapts a row-major matrix to plotter.GridXYZ with row 0 drawn at
// the top, as a matrix is printed.
type matrixGrid struct{ m [][]float64 }

// Dims implements plotter.GridXYZ.
func (g matrixGrid) Dims() (c, r int) { return len(g.m[0]), len(g.m) }

// Z implements plotter.GridXYZ.
func (g matrixGrid) Z(c, r int) float64 { return g.m[len(g.m)-1-r][c] }

// X implements plotter.GridXYZ.
func (g matrixGrid) X(c int) float64 { return float64(c) }

// Y implements plotter.GridXYZ.
func (g matrixGrid) Y(r int) float64 { return float64(r) }

// viridisMap is a palette.ColorMap over the viridis colours.
type viridisMap struct{ min, max, alpha float64 }

// At implements palette.ColorMap.
func (v *viridisMap) At(x float64) (color.Color, error) {
	if x < v.min || x > v.max || math.IsNaN(x) {
		return nil, palette.ErrOverflow
	}
	t := 0.0
	if v.max > v.min {
		t = (x - v.min) / (v.max - v.min)
	}
	c := viridisAt(t)
	a := v.alpha
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: uint8(a*255 + 0.5)}, nil
}

// Max implements palette.ColorMap.
func (v *viridisMap) Max() float64 { return v.max }

// SetMax implements palette.ColorMap.
func (v *viridisMap) SetMax(x float64) { v.max = x }

// Min implements palette.ColorMap.
func (v *viridisMap) Min() float64 { return v.min }

// SetMin implements palette.ColorMap.
func (v *viridisMap) SetMin(x float64) { v.min = x }

// Alpha implements palette.ColorMap.
func (v *viridisMap) Alpha() float64 { return v.alpha }

// SetAlpha implements palette.ColorMap.
func (v *viridisMap) SetAlpha(a float64) { v.alpha = math.Max(0, math.Min(1, a)) }

// Palette implements palette.ColorMap.
func (v *viridisMap) Palette(n int) palette.Palette {
	colors := make(colorList, n)
	for i := range colors {
		colors[i] = viridisAt(float64(i) / float64(max(n-1, 1)))
	}
	return colors
}

// colorList is a palette.Palette.
type colorList []color.Color

// Colors implements palette.Palette.
func (c colorList) Colors() []color.Color { return c }

// cellValues is a plotter writing each matrix value at the centre of its cell,
// in black or white depending on the cell's luminance.
type cellValues struct {
	grid    matrixGrid
	cmap    palette.ColorMap
	format  func(float64) string
	maxText int // longest formatted value, in characters.
}

// Plot implements plot.Plotter.
func (cv *cellValues) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	cols, rows := cv.grid.Dims()
	cellW := math.Abs(float64(trX(1) - trX(0)))
	cellH := math.Abs(float64(trY(1) - trY(0)))
	// A font that fits the cell: at most 9 points, about 0.6 em per character.
	size := math.Min(9, math.Min(cellH*0.5, cellW/(0.62*float64(max(cv.maxText, 1)))))
	if size < 4 {
		return // too small to read: the colours have to speak.
	}
	sty := textStyle(vg.Length(size), color.Black)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	for r := range rows {
		for col := range cols {
			v := cv.grid.Z(col, r)
			if math.IsNaN(v) {
				continue
			}
			sty.Color = color.Black
			if clr, err := cv.cmap.At(math.Max(cv.cmap.Min(), math.Min(cv.cmap.Max(), v))); err == nil {
				if luminance(clr) < 0.5 {
					sty.Color = color.White
				}
			}
			c.FillText(sty, vg.Point{X: trX(float64(col)), Y: trY(float64(r))}, cv.format(v))
		}
	}
}

// luminance returns the relative luminance (0 black .. 1 white) of c.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 0xffff
}

// matrixTicks returns tick marks at 0..n-1 labelled with labels (or indices),
// thinned to at most 30 labels. reversed maps tick i to label n-1-i (rows).
func matrixTicks(n int, labels []string, reversed bool) plot.ConstantTicks {
	step := max(1, (n+29)/30)
	ticks := make(plot.ConstantTicks, 0, n)
	for i := range n {
		idx := i
		if reversed {
			idx = n - 1 - i
		}
		label := strconv.Itoa(idx)
		if labels != nil {
			label = labels[idx]
		}
		if idx%step != 0 {
			label = ""
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: label})
	}
	return ticks
}

// Heatmap draws matrix m (row 0 at the top) as coloured cells with a colour
// bar, and with showValues the value printed in each cell (e.g. the matrix C
// of a convolution written as a matrix product, or a confusion matrix).
// rowLabels and colLabels may be nil (indices are used). Matrices with both
// signs use a diverging blue-red scale centred on 0; others use viridis.
// NaN cells are drawn light grey. Options: [AxisLabels], [Size],
// [SizePixels], [DPI].
func Heatmap(title string, m [][]float64, rowLabels, colLabels []string, showValues bool, opts ...Option) (*Figure, error) {
	if len(m) == 0 || len(m[0]) == 0 {
		return nil, fmt.Errorf("plots.Heatmap %q: empty matrix", title)
	}
	rows, cols := len(m), len(m[0])
	lo, hi := math.Inf(1), math.Inf(-1)
	allInts := true
	maxText := 0
	for r, row := range m {
		if len(row) != cols {
			return nil, fmt.Errorf("plots.Heatmap %q: ragged matrix: row %d has %d columns, row 0 has %d", title, r, len(row), cols)
		}
		for _, v := range row {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("plots.Heatmap %q: infinite value in row %d", title, r)
			}
			if math.IsNaN(v) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			allInts = allInts && v == math.Trunc(v) && math.Abs(v) < 1e15
		}
	}
	if lo > hi {
		return nil, fmt.Errorf("plots.Heatmap %q: no finite value", title)
	}
	if rowLabels != nil && len(rowLabels) != rows {
		return nil, fmt.Errorf("plots.Heatmap %q: %d row labels for %d rows", title, len(rowLabels), rows)
	}
	if colLabels != nil && len(colLabels) != cols {
		return nil, fmt.Errorf("plots.Heatmap %q: %d column labels for %d columns", title, len(colLabels), cols)
	}
	defW := min(10*vg.Inch, max(4*vg.Inch, vg.Length(cols)*0.45*vg.Inch+2*vg.Inch))
	defH := min(8*vg.Inch, max(3*vg.Inch, vg.Length(rows)*0.45*vg.Inch+1.3*vg.Inch))
	o, err := applyOptions(defW, defH, opts)
	if err != nil {
		return nil, fmt.Errorf("plots.Heatmap %q: %w", title, err)
	}

	var cmap palette.ColorMap
	if lo < 0 && hi > 0 {
		a := math.Max(-lo, hi)
		div := moreland.SmoothBlueRed()
		div.SetMin(-a)
		div.SetMax(a)
		div.SetConvergePoint(0)
		cmap = div
	} else {
		if lo == hi { // constant matrix: any non-empty range will do.
			lo, hi = lo-0.5, hi+0.5
		}
		cmap = &viridisMap{min: lo, max: hi, alpha: 1}
	}

	grid := matrixGrid{m: m}
	h := plotter.NewHeatMap(grid, cmap.Palette(256))
	h.Min, h.Max = cmap.Min(), cmap.Max()
	h.NaN = color.Gray{Y: 225}
	p := newPlot(title, o.xLabel, o.yLabel)
	p.Add(h)
	p.X.Tick.Marker = matrixTicks(cols, colLabels, false)
	p.Y.Tick.Marker = matrixTicks(rows, rowLabels, true)
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Min, p.X.Max = -0.5, float64(cols)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	if showValues {
		format := func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
		if allInts {
			format = func(v float64) string { return strconv.FormatInt(int64(v), 10) }
		}
		for _, row := range m {
			for _, v := range row {
				if !math.IsNaN(v) {
					maxText = max(maxText, len(format(v)))
				}
			}
		}
		p.Add(&cellValues{grid: grid, cmap: cmap, format: format, maxText: maxText})
	}

	bar := plot.New()
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	bar.HideX()
	bar.Y.Tick.Label.Font = font.From(plot.DefaultFont, tickFontSize)
	bar.Y.Padding = 0
	barWidth := vg.Points(14)
	barSpace := vg.Points(14) + bar.Y.Tick.Label.Width("-0.000") + barWidth

	return newFigure(o, func(dc draw.Canvas) {
		main := draw.Crop(dc, 0, -barSpace, 0, 0)
		p.Draw(main)
		data := p.DataCanvas(main)
		barC := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: dc.Max.X - barSpace + vg.Points(10), Y: data.Min.Y},
			Max: vg.Point{X: dc.Max.X - vg.Points(2), Y: data.Max.Y},
		}}
		// The bar's own axis sits on its left; give it the room it needs.
		barData := bar.DataCanvas(barC)
		barC.Max.X -= (barData.Max.X - barData.Min.X) - barWidth
		bar.Draw(barC)
	}), nil
}
