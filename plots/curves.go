package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named curve: Y against X. If X is nil, Y is plotted against
// its index 0, 1, 2, ... (handy for per-step losses).
type Series struct {
	// Name is shown in the legend; an empty name has no legend entry.
	Name string
	// X and Y are the coordinates; they must have the same length unless X is
	// nil.
	X, Y []float64
	// Points draws a marker at each point in addition to the line.
	Points bool
	// MarkersOnly draws the markers without the line (a scatter plot).
	MarkersOnly bool
}

// points returns the finite points of s, skipping NaN/Inf and, on log axes,
// non-positive coordinates.
func (s Series) points(logX, logY bool) (plotter.XYs, error) {
	if s.X != nil && len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("series %q: len(X)=%d != len(Y)=%d", s.Name, len(s.X), len(s.Y))
	}
	xys := make(plotter.XYs, 0, len(s.Y))
	for i, y := range s.Y {
		x := float64(i)
		if s.X != nil {
			x = s.X[i]
		}
		if !finite(x) || !finite(y) || (logX && x <= 0) || (logY && y <= 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: x, Y: y})
	}
	if len(xys) == 0 {
		what := "finite"
		if logX || logY {
			what = "finite, log-axis-positive"
		}
		return nil, fmt.Errorf("series %q: no %s points among %d", s.Name, what, len(s.Y))
	}
	return xys, nil
}

// addSeries adds the lines (and markers) of series to p with the colour
// cycle starting at colorOffset, and their entries to legend.
func addSeries(p *plot.Plot, legend *boxedLegend, series []Series, colorOffset int, logX, logY bool) error {
	for i, s := range series {
		xys, err := s.points(logX, logY)
		if err != nil {
			return err
		}
		clr := seriesColor(i + colorOffset)
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("series %q: %w", s.Name, err)
		}
		line.LineStyle = draw.LineStyle{Color: clr, Width: vg.Points(1.6), Dashes: seriesDashes(i + colorOffset)}
		var thumbs []plot.Thumbnailer
		if !s.MarkersOnly {
			p.Add(line)
			thumbs = append(thumbs, line)
		}
		if s.Points || s.MarkersOnly || len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return fmt.Errorf("series %q: %w", s.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		legend.add(s.Name, thumbs...)
	}
	return nil
}

// Curves draws one line per series, e.g. training and validation loss
// against epochs. Options: [LogX], [LogY], [XRange], [YRange], [Size],
// [SizePixels], [DPI], [LegendLeft], [LegendBottom].
//
// NaN and ±Inf points are skipped (a diverged run still plots up to where it
// diverged), as are non-positive values on a log axis. It is an error to pass
// no series, or a series with no drawable point.
func Curves(title, xLabel, yLabel string, series []Series, opts ...Option) (*Figure, error) {
	o, err := applyOptions(DefaultWidth, DefaultHeight, opts)
	if err != nil {
		return nil, fmt.Errorf("plots.Curves %q: %w", title, err)
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("plots.Curves %q: no series", title)
	}
	if err := checkLogRanges(o); err != nil {
		return nil, fmt.Errorf("plots.Curves %q: %w", title, err)
	}
	p := newPlot(title, xLabel, yLabel)
	p.Add(plotter.NewGrid())
	legend := &boxedLegend{left: o.legendLeft, bottom: o.legendBottom}
	if err := addSeries(p, legend, series, 0, o.logX, o.logY); err != nil {
		return nil, fmt.Errorf("plots.Curves %q: %w", title, err)
	}
	applyAxes(p, o)
	p.Add(legend)
	return newFigure(o, func(dc draw.Canvas) { p.Draw(dc) }), nil
}
