package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DefaultContourLevels is the number of contour levels used when levels is 0.
const DefaultContourLevels = 14

// ContourPanel is one loss surface with optimizer paths, for [ContourGrid].
type ContourPanel struct {
	// Title of the panel, typically the optimizer name.
	Title string
	// F is the function whose contours are drawn.
	F func(x, y float64) float64
	// XMin, XMax, YMin, YMax bound the window; paths are clipped to it.
	XMin, XMax, YMin, YMax float64
	// Levels is the number of contour levels (0: DefaultContourLevels).
	Levels int
	// LogLevels spaces the levels geometrically above the minimum.
	LogLevels bool
	// Paths are optimizer trajectories drawn over the contours.
	Paths []Series
}

// surface is f sampled on a regular grid; it implements plotter.GridXYZ.
type surface struct {
	xs, ys []float64
	z      [][]float64 // z[row][col], row along y.
}

// Dims implements plotter.GridXYZ.
func (s *surface) Dims() (c, r int) { return len(s.xs), len(s.ys) }

// Z implements plotter.GridXYZ.
func (s *surface) Z(c, r int) float64 { return s.z[r][c] }

// X implements plotter.GridXYZ.
func (s *surface) X(c int) float64 { return s.xs[c] }

// Y implements plotter.GridXYZ.
func (s *surface) Y(r int) float64 { return s.ys[r] }

// sample evaluates f on an n x n grid over the window. Non-finite values
// (overflow far from the minimum) are replaced by the largest finite value, so
// no contour runs through them.
func sample(f func(x, y float64) float64, xMin, xMax, yMin, yMax float64, n int) (s *surface, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("function panicked: %v", r)
		}
	}()
	s = &surface{xs: make([]float64, n), ys: make([]float64, n), z: make([][]float64, n)}
	for i := range n {
		t := float64(i) / float64(n-1)
		s.xs[i] = xMin + t*(xMax-xMin)
		s.ys[i] = yMin + t*(yMax-yMin)
	}
	hi := math.Inf(-1)
	for r := range n {
		s.z[r] = make([]float64, n)
		for c := range n {
			v := f(s.xs[c], s.ys[r])
			s.z[r][c] = v
			if finite(v) {
				hi = math.Max(hi, v)
			}
		}
	}
	if math.IsInf(hi, -1) {
		return nil, fmt.Errorf("function has no finite value in the window")
	}
	for r := range n {
		for c := range n {
			if !finite(s.z[r][c]) {
				s.z[r][c] = hi
			}
		}
	}
	return s, nil
}

// zRange returns the minimum and maximum of the surface.
func (s *surface) zRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range s.z {
		for _, v := range row {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}

// contourLevels returns n levels strictly between lo and hi: evenly spaced,
// or, with logLevels, lo + d with d spaced geometrically over four decades
// of (hi - lo), so that the bottom of a narrow valley gets most of the lines.
func contourLevels(lo, hi float64, n int, logLevels bool) []float64 {
	levels := make([]float64, n)
	span := hi - lo
	for i := range levels {
		if logLevels {
			// Exponents from -4 to just below 0 (the top level would only
			// touch the window's corner).
			e := -4 + 3.9*float64(i)/float64(max(n-1, 1))
			levels[i] = lo + span*math.Pow(10, e)
		} else {
			levels[i] = lo + span*float64(i+1)/float64(n+1)
		}
	}
	return levels
}

// viridis anchors, interpolated linearly for contour colours (low = dark
// purple, high = yellow).
var viridis = []color.RGBA{
	{0x44, 0x01, 0x54, 0xff}, {0x48, 0x28, 0x78, 0xff}, {0x3e, 0x49, 0x89, 0xff},
	{0x31, 0x68, 0x8e, 0xff}, {0x26, 0x82, 0x8e, 0xff}, {0x1f, 0x9e, 0x89, 0xff},
	{0x35, 0xb7, 0x79, 0xff}, {0x6e, 0xce, 0x58, 0xff}, {0xb5, 0xde, 0x2b, 0xff},
	{0xfd, 0xe7, 0x25, 0xff},
}

// viridisAt returns the viridis colour at t in [0, 1].
func viridisAt(t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t))
	f := t * float64(len(viridis)-1)
	i := int(f)
	if i >= len(viridis)-1 {
		return viridis[len(viridis)-1]
	}
	a, b, w := viridis[i], viridis[i+1], f-float64(i)
	mix := func(x, y uint8) uint8 { return uint8(float64(x)*(1-w) + float64(y)*w + 0.5) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// validate checks a panel and returns its level count.
func (cp *ContourPanel) validate() (int, error) {
	if cp.F == nil {
		return 0, fmt.Errorf("nil function")
	}
	for _, v := range []float64{cp.XMin, cp.XMax, cp.YMin, cp.YMax} {
		if !finite(v) {
			return 0, fmt.Errorf("window bounds must be finite, got x [%g, %g], y [%g, %g]", cp.XMin, cp.XMax, cp.YMin, cp.YMax)
		}
	}
	if cp.XMin >= cp.XMax || cp.YMin >= cp.YMax {
		return 0, fmt.Errorf("empty window x [%g, %g], y [%g, %g]", cp.XMin, cp.XMax, cp.YMin, cp.YMax)
	}
	switch {
	case cp.Levels < 0 || cp.Levels > 200:
		return 0, fmt.Errorf("levels %d must be in 0..200", cp.Levels)
	case cp.Levels == 0:
		return DefaultContourLevels, nil
	}
	return cp.Levels, nil
}

// contourPlot builds the plot of one panel.
func contourPlot(cp ContourPanel, o *options) (*plot.Plot, error) {
	levelCount, err := cp.validate()
	if err != nil {
		return nil, err
	}
	s, err := sample(cp.F, cp.XMin, cp.XMax, cp.YMin, cp.YMax, o.gridSize)
	if err != nil {
		return nil, err
	}
	lo, hi := s.zRange()
	if !(hi > lo) {
		return nil, fmt.Errorf("function is constant (%g) over the window", lo)
	}
	levels := contourLevels(lo, hi, levelCount, cp.LogLevels || o.logLevels)

	p := newPlot(cp.Title, "x", "y")
	c := plotter.NewContour(s, levels, nil)
	c.LineStyles = make([]draw.LineStyle, len(levels))
	for i := range levels {
		v := viridisAt(float64(i) / float64(max(len(levels)-1, 1)) * 0.92) // skip the palest yellow.
		clr := color.NRGBA{R: v.R, G: v.G, B: v.B, A: 0xd0}                // NRGBA: not premultiplied.
		c.LineStyles[i] = draw.LineStyle{Color: clr, Width: vg.Points(0.9)}
	}
	p.Add(c)

	legend := &boxedLegend{left: o.legendLeft, bottom: o.legendBottom}
	for i, path := range cp.Paths {
		xys, err := path.points(false, false)
		if err != nil {
			return nil, err
		}
		clr := pathColor(i)
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", path.Name, err)
		}
		line.LineStyle = draw.LineStyle{Color: clr, Width: vg.Points(1.8)}
		p.Add(line)
		thumbs := []plot.Thumbnailer{line}
		if path.Points {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", path.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		// The start of the path: a ring, so the direction of travel is clear.
		start, err := plotter.NewScatter(xys[:1])
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", path.Name, err)
		}
		start.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(4), Shape: draw.RingGlyph{}}
		p.Add(start)
		legend.add(path.Name, thumbs...)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = cp.XMin, cp.XMax, cp.YMin, cp.YMax
	p.X.Padding, p.Y.Padding = 0, 0
	p.Add(legend)
	return p, nil
}

// pathColors are saturated colours that stand out against viridis contours.
var pathColors = []color.RGBA{
	{0xd6, 0x27, 0x28, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0xff, 0x7f, 0x0e, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x1f, 0x77, 0xb4, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0x7f, 0x7f, 0x7f, 0xff},
}

// pathColor returns the colour of the i-th optimizer path.
func pathColor(i int) color.RGBA { return pathColors[i%len(pathColors)] }

// Contour draws the contours of f over [xMin, xMax] x [yMin, yMax] with
// optimizer trajectories as lines (markers at every point when a path's
// Points is set, a ring at each start) and a legend. levels is the number of
// contour levels, 0 for DefaultContourLevels. Options: [LogLevels] (for the
// Rosenbrock function), [GridSize], [Size], [SizePixels], [DPI],
// [LegendLeft], [LegendBottom].
//
// Non-finite values of f are treated as the largest finite value in the
// window; NaN/Inf points of a path are skipped and points outside the window
// are clipped.
func Contour(title string, f func(x, y float64) float64, xMin, xMax, yMin, yMax float64, levels int,
	paths []Series, opts ...Option) (*Figure, error) {
	o, err := applyOptions(5.5*vg.Inch, 4.5*vg.Inch, opts)
	if err != nil {
		return nil, fmt.Errorf("plots.Contour %q: %w", title, err)
	}
	p, err := contourPlot(ContourPanel{Title: title, F: f, XMin: xMin, XMax: xMax, YMin: yMin, YMax: yMax,
		Levels: levels, Paths: paths}, o)
	if err != nil {
		return nil, fmt.Errorf("plots.Contour %q: %w", title, err)
	}
	return newFigure(o, func(dc draw.Canvas) { p.Draw(dc) }), nil
}

// ContourGrid draws one contour panel per entry (typically one optimizer per
// panel on the same surface) in a grid of cols columns, aligned with
// plot.Align so the data areas line up. The default size is 3.3 x 3 inches
// per panel; options as for [Contour] ([LogLevels] applies to every panel).
func ContourGrid(panels []ContourPanel, cols int, opts ...Option) (*Figure, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("plots.ContourGrid: no panels")
	}
	if cols <= 0 {
		return nil, fmt.Errorf("plots.ContourGrid: cols %d must be positive", cols)
	}
	cols = min(cols, len(panels))
	rows := (len(panels) + cols - 1) / cols
	o, err := applyOptions(vg.Length(cols)*3.3*vg.Inch, vg.Length(rows)*3*vg.Inch, opts)
	if err != nil {
		return nil, fmt.Errorf("plots.ContourGrid: %w", err)
	}
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, cp := range panels {
		p, err := contourPlot(cp, o)
		if err != nil {
			return nil, fmt.Errorf("plots.ContourGrid: panel %d (%q): %w", i, cp.Title, err)
		}
		grid[i/cols][i%cols] = p
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols,
		PadX: vg.Points(10), PadY: vg.Points(10),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	return newFigure(o, func(dc draw.Canvas) {
		canvases := plot.Align(grid, tiles, dc)
		for r := range grid {
			for c, p := range grid[r] {
				if p != nil {
					p.Draw(canvases[r][c])
				}
			}
		}
	}), nil
}
