package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Percentiles returns the ps-th percentiles (0..100) of values with linear
// interpolation between order statistics (numpy's default). NaN values are
// ignored. A percentile outside [0, 100], or any percentile of a slice with no
// non-NaN value, is NaN.
func Percentiles(values []float64, ps ...float64) []float64 {
	sorted := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			sorted = append(sorted, v)
		}
	}
	slices.Sort(sorted)
	out := make([]float64, len(ps))
	for i, p := range ps {
		if len(sorted) == 0 || math.IsNaN(p) || p < 0 || p > 100 {
			out[i] = math.NaN()
			continue
		}
		rank := p / 100 * float64(len(sorted)-1)
		lo := int(math.Floor(rank))
		hi := min(lo+1, len(sorted)-1)
		frac := rank - float64(lo)
		if frac == 0 || sorted[lo] == sorted[hi] {
			out[i] = sorted[lo]
		} else {
			out[i] = sorted[lo] + frac*(sorted[hi]-sorted[lo])
		}
	}
	return out
}

// Histogram draws the distribution of values in bins equal-width bins over
// their finite range (weights, activations, gradients). NaN and ±Inf values
// are left out; it is an error if none is left. Options: [AxisLabels],
// [XRange], [YRange], [Size], [SizePixels], [DPI].
func Histogram(title string, values []float64, bins int, opts ...Option) (*Figure, error) {
	if bins <= 0 || bins > 10000 {
		return nil, fmt.Errorf("plots.Histogram %q: bins %d must be in 1..10000", title, bins)
	}
	o, err := applyOptions(DefaultWidth, DefaultHeight, opts)
	if err != nil {
		return nil, fmt.Errorf("plots.Histogram %q: %w", title, err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for _, v := range values {
		if finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("plots.Histogram %q: no finite value among %d", title, len(values))
	}
	if lo == hi { // a single value: one bin of width 1 around it.
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)
	hbins := make([]plotter.HistogramBin, bins)
	for i := range hbins {
		hbins[i].Min = lo + float64(i)*width
		hbins[i].Max = lo + float64(i+1)*width
	}
	for _, v := range values {
		if !finite(v) {
			continue
		}
		i := min(int((v-lo)/width), bins-1)
		hbins[i].Weight++
	}
	h := &plotter.Histogram{
		Bins:      hbins,
		Width:     width,
		FillColor: seriesColor(0),
		LineStyle: draw.LineStyle{Color: color.White, Width: vg.Points(0.4)},
	}
	p := newPlot(title, o.xLabel, o.yLabel)
	if p.Y.Label.Text == "" {
		p.Y.Label.Text = "count"
	}
	p.Add(plotter.NewGrid())
	p.Add(h)
	if o.xRange != nil {
		p.X.Min, p.X.Max = o.xRange[0], o.xRange[1]
	}
	if o.yRange != nil {
		p.Y.Min, p.Y.Max = o.yRange[0], o.yRange[1]
	}
	return newFigure(o, func(dc draw.Canvas) { p.Draw(dc) }), nil
}

// Band is a median line with a shaded band between a lower and an upper
// percentile, for [MultiBands].
type Band struct {
	// Name labels the median line in the legend.
	Name string
	// X, Lower, Mid and Upper have one entry per step.
	X, Lower, Mid, Upper []float64
}

// Bands draws one percentile band: the mid line (e.g. the median) over a
// shaded area from lower to upper (e.g. the 15th and 85th percentiles, as in
// the figures of the batch-normalization paper, §4.1) against x. See
// [MultiBands] for several bands and for the options.
func Bands(title, xLabel, yLabel string, x []float64, lower, mid, upper []float64, name string, opts ...Option) (*Figure, error) {
	return MultiBands(title, xLabel, yLabel, []Band{{Name: name, X: x, Lower: lower, Mid: mid, Upper: upper}}, opts...)
}

// MultiBands draws several percentile bands, each in its own colour (e.g.
// with and without batch normalization). Steps where any of x, lower, mid or
// upper is NaN/Inf (or non-positive on a log axis) are skipped. Options:
// [LogX], [LogY], [XRange], [YRange], [Size], [SizePixels], [DPI],
// [LegendLeft], [LegendBottom].
func MultiBands(title, xLabel, yLabel string, bands []Band, opts ...Option) (*Figure, error) {
	o, err := applyOptions(DefaultWidth, DefaultHeight, opts)
	if err != nil {
		return nil, fmt.Errorf("plots.Bands %q: %w", title, err)
	}
	if len(bands) == 0 {
		return nil, fmt.Errorf("plots.Bands %q: no bands", title)
	}
	if err := checkLogRanges(o); err != nil {
		return nil, fmt.Errorf("plots.Bands %q: %w", title, err)
	}
	p := newPlot(title, xLabel, yLabel)
	p.Add(plotter.NewGrid())
	legend := &boxedLegend{left: o.legendLeft, bottom: o.legendBottom}
	for bi, b := range bands {
		n := len(b.X)
		if n == 0 || len(b.Lower) != n || len(b.Mid) != n || len(b.Upper) != n {
			return nil, fmt.Errorf("plots.Bands %q: band %q: lengths x=%d lower=%d mid=%d upper=%d must be equal and positive",
				title, b.Name, len(b.X), len(b.Lower), len(b.Mid), len(b.Upper))
		}
		var upper, lower, mid plotter.XYs
		for i := range n {
			x, l, m, u := b.X[i], b.Lower[i], b.Mid[i], b.Upper[i]
			if !finite(x) || !finite(l) || !finite(m) || !finite(u) ||
				(o.logX && x <= 0) || (o.logY && (l <= 0 || m <= 0 || u <= 0)) {
				continue
			}
			upper = append(upper, plotter.XY{X: x, Y: u})
			lower = append(lower, plotter.XY{X: x, Y: l})
			mid = append(mid, plotter.XY{X: x, Y: m})
		}
		if len(mid) == 0 {
			return nil, fmt.Errorf("plots.Bands %q: band %q has no drawable step among %d", title, b.Name, n)
		}
		clr := seriesColor(bi)
		outline := append(slices.Clone(upper), reversed(lower)...)
		poly, err := plotter.NewPolygon(outline)
		if err != nil {
			return nil, fmt.Errorf("plots.Bands %q: band %q: %w", title, b.Name, err)
		}
		poly.Color = color.NRGBA{R: clr.R, G: clr.G, B: clr.B, A: 0x48}
		poly.LineStyle.Width = 0
		line, err := plotter.NewLine(mid)
		if err != nil {
			return nil, fmt.Errorf("plots.Bands %q: band %q: %w", title, b.Name, err)
		}
		line.LineStyle = draw.LineStyle{Color: clr, Width: vg.Points(1.6)}
		p.Add(poly, line)
		legend.add(b.Name, []plot.Thumbnailer{poly, line}...)
	}
	applyAxes(p, o)
	p.Add(legend)
	return newFigure(o, func(dc draw.Canvas) { p.Draw(dc) }), nil
}

// reversed returns a reversed copy of xys.
func reversed(xys plotter.XYs) plotter.XYs {
	out := slices.Clone(xys)
	slices.Reverse(out)
	return out
}
