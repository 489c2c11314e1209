// Package plots draws the figures used by every convnotes notebook: training
// curves, loss-surface contours with optimizer paths, image grids (samples,
// filters, feature maps), matrix heat maps, histograms and percentile bands.
//
// Every constructor validates its input and returns (*Figure, error); a Figure
// renders to PNG or SVG on demand, and [Show] displays it inline in GoNB or
// saves it under $CONVNOTES_FIGURES elsewhere. Nothing here panics across the
// package boundary: gonum/plot panics while drawing are returned as errors.
//
// Figures are drawn with gonum.org/v1/plot; fonts are the Liberation fonts
// embedded in gonum, so nothing is fetched at run time.
package plots

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default figure geometry: 6.5 x 4 inches at 120 dots per inch, i.e. a
// 780 x 480 pixel PNG.
const (
	DefaultWidth  = 6.5 * vg.Inch
	DefaultHeight = 4 * vg.Inch
	DefaultDPI    = 120
)

// Figure is a drawing ready to be rendered. Create one with a constructor such
// as [Curves] or [ImageGrid]; render it with [Figure.PNG], [Figure.SVG] or
// [Figure.Save], or display it with [Show].
type Figure struct {
	width, height vg.Length
	dpi           int
	render        func(dc draw.Canvas)
}

// Width is the width of the figure.
func (f *Figure) Width() vg.Length { return f.width }

// Height is the height of the figure.
func (f *Figure) Height() vg.Length { return f.height }

// PixelSize is the size in pixels of the PNG rendering, width then height.
func (f *Figure) PixelSize() (w, h int) {
	return toPixels(f.width, f.dpi), toPixels(f.height, f.dpi)
}

// toPixels converts a length to pixels the way vgimg does (rounded).
func toPixels(l vg.Length, dpi int) int {
	return int(l/vg.Inch*vg.Length(dpi) + 0.5)
}

// draw renders the figure on c, turning gonum/plot panics into errors.
func (f *Figure) draw(c vg.CanvasSizer) (err error) {
	if f == nil || f.render == nil {
		return fmt.Errorf("plots: nil figure")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: drawing figure: %v", r)
		}
	}()
	f.render(draw.New(c))
	return nil
}

// Image renders the figure to an in-memory RGBA image (e.g. for a terminal
// image protocol).
func (f *Figure) Image() (image.Image, error) {
	if f == nil {
		return nil, fmt.Errorf("plots: nil figure")
	}
	c := vgimg.NewWith(vgimg.UseWH(f.width, f.height), vgimg.UseDPI(f.dpi),
		vgimg.UseBackgroundColor(color.White))
	if err := f.draw(c); err != nil {
		return nil, err
	}
	return c.Image(), nil
}

// PNG renders the figure as a PNG of [Figure.PixelSize] pixels.
func (f *Figure) PNG() ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("plots: nil figure")
	}
	c := vgimg.NewWith(vgimg.UseWH(f.width, f.height), vgimg.UseDPI(f.dpi),
		vgimg.UseBackgroundColor(color.White))
	if err := f.draw(c); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG renders the figure as an SVG document.
func (f *Figure) SVG() ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("plots: nil figure")
	}
	c := vgsvg.New(f.width, f.height)
	if err := f.draw(c); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encoding SVG: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes the figure to path, as PNG or SVG according to its extension
// (.png or .svg). The parent directory is created if needed and the file is
// written atomically (a temporary file in the same directory, then a rename),
// so a reader never sees a half-written figure.
func (f *Figure) Save(path string) error {
	var (
		data []byte
		err  error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		data, err = f.PNG()
	case ".svg":
		data, err = f.SVG()
	default:
		return fmt.Errorf("plots: saving %q: unsupported extension %q (want .png or .svg)", path, ext)
	}
	if err != nil {
		return fmt.Errorf("plots: saving %q: %w", path, err)
	}
	return writeAtomic(path, data)
}

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plots: creating directory for %q: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("plots: saving %q: %w", path, err)
	}
	tmpName := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmpName, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmpName, path)
	}
	if werr != nil {
		_ = os.Remove(tmpName)
		return fmt.Errorf("plots: saving %q: %w", path, werr)
	}
	return nil
}

// options collects what an [Option] can set. Each constructor reads the
// fields that apply to it and ignores the others.
type options struct {
	width, height vg.Length
	dpi           int
	logX, logY    bool
	xRange        *[2]float64
	yRange        *[2]float64
	logLevels     bool
	gridSize      int
	perImageScale bool
	legendLeft    bool
	legendBottom  bool
	xLabel        string
	yLabel        string
}

// Option changes how a figure is drawn; options that do not apply to a
// constructor are ignored by it.
type Option func(*options) error

// Size sets the figure size (e.g. Size(8*vg.Inch, 5*vg.Inch)).
func Size(w, h vg.Length) Option {
	return func(o *options) error {
		if !(w > 0) || !(h > 0) || math.IsInf(float64(w), 0) || math.IsInf(float64(h), 0) {
			return fmt.Errorf("plots: Size(%v, %v): width and height must be positive", w, h)
		}
		o.width, o.height = w, h
		return nil
	}
}

// SizePixels sets the figure size in pixels of the PNG rendering, at the
// figure's DPI (DefaultDPI unless [DPI] is given; order of the two options
// does not matter).
func SizePixels(w, h int) Option {
	return func(o *options) error {
		if w <= 0 || h <= 0 {
			return fmt.Errorf("plots: SizePixels(%d, %d): width and height must be positive", w, h)
		}
		// Stored as negative "pixel" lengths, resolved once the DPI is known.
		o.width, o.height = -vg.Length(w), -vg.Length(h)
		return nil
	}
}

// DPI sets the resolution of the PNG rendering (dots per inch); fonts and
// line widths scale with it.
func DPI(dpi int) Option {
	return func(o *options) error {
		if dpi <= 0 || dpi > 2400 {
			return fmt.Errorf("plots: DPI(%d): must be in 1..2400", dpi)
		}
		o.dpi = dpi
		return nil
	}
}

// LogX uses a logarithmic x axis; points with x <= 0 are skipped.
func LogX() Option { return func(o *options) error { o.logX = true; return nil } }

// LogY uses a logarithmic y axis; points with y <= 0 are skipped.
func LogY() Option { return func(o *options) error { o.logY = true; return nil } }

// XRange fixes the x axis to [min, max]; what falls outside is clipped.
func XRange(min, max float64) Option {
	return func(o *options) error {
		if !finite(min) || !finite(max) || min >= max {
			return fmt.Errorf("plots: XRange(%g, %g): need finite min < max", min, max)
		}
		o.xRange = &[2]float64{min, max}
		return nil
	}
}

// YRange fixes the y axis to [min, max]; what falls outside is clipped.
func YRange(min, max float64) Option {
	return func(o *options) error {
		if !finite(min) || !finite(max) || min >= max {
			return fmt.Errorf("plots: YRange(%g, %g): need finite min < max", min, max)
		}
		o.yRange = &[2]float64{min, max}
		return nil
	}
}

// LogLevels spaces contour levels geometrically instead of linearly, which
// suits functions spanning decades such as the Rosenbrock valley.
func LogLevels() Option { return func(o *options) error { o.logLevels = true; return nil } }

// GridSize sets how many samples per axis a contour evaluates f at (default
// 120).
func GridSize(n int) Option {
	return func(o *options) error {
		if n < 3 || n > 2000 {
			return fmt.Errorf("plots: GridSize(%d): must be in 3..2000", n)
		}
		o.gridSize = n
		return nil
	}
}

// PerImageScale min-max scales each image of an [ImageGrid] on its own (for
// filters and feature maps) instead of sharing one scale across the grid.
func PerImageScale() Option { return func(o *options) error { o.perImageScale = true; return nil } }

// AxisLabels sets the x and y axis labels of figures whose constructor takes
// none ([Heatmap], [Histogram]); e.g. AxisLabels("predicted", "true").
func AxisLabels(x, y string) Option {
	return func(o *options) error { o.xLabel, o.yLabel = x, y; return nil }
}

// LegendLeft places the legend on the left of the plot area (default right).
func LegendLeft() Option { return func(o *options) error { o.legendLeft = true; return nil } }

// LegendBottom places the legend at the bottom of the plot area (default top).
func LegendBottom() Option { return func(o *options) error { o.legendBottom = true; return nil } }

// applyOptions returns the options with defaults filled in.
func applyOptions(defW, defH vg.Length, opts []Option) (*options, error) {
	o := &options{dpi: DefaultDPI, gridSize: 120}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if o.width < 0 { // SizePixels.
		o.width = -o.width / vg.Length(o.dpi) * vg.Inch
		o.height = -o.height / vg.Length(o.dpi) * vg.Inch
	}
	if o.width == 0 {
		o.width, o.height = defW, defH
	}
	return o, nil
}

// newFigure wraps a render function with the size from o.
func newFigure(o *options, render func(dc draw.Canvas)) *Figure {
	return &Figure{width: o.width, height: o.height, dpi: o.dpi, render: render}
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// seriesColors is the Tableau-10 palette (matplotlib's default cycle): well
// separated hues that stay distinguishable for most colour-blind readers.
var seriesColors = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// seriesColor returns the i-th colour of the cycle.
func seriesColor(i int) color.RGBA { return seriesColors[i%len(seriesColors)] }

// seriesDashes returns a solid line for the first cycle of colours, then
// dashed and dotted ones so that more than 10 series stay distinct.
func seriesDashes(i int) []vg.Length {
	switch (i / len(seriesColors)) % 3 {
	case 1:
		return []vg.Length{vg.Points(6), vg.Points(3)}
	case 2:
		return []vg.Length{vg.Points(1.5), vg.Points(2)}
	}
	return nil
}

// Font sizes, in points.
const (
	titleFontSize  = 13
	labelFontSize  = 11
	tickFontSize   = 9
	legendFontSize = 9.5
)

// textStyle returns a plain text style of the default gonum font.
func textStyle(size vg.Length, clr color.Color) text.Style {
	return text.Style{
		Color:   clr,
		Font:    font.From(plot.DefaultFont, size),
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot with convnotes' fonts, title and axis labels.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(plot.DefaultFont, titleFontSize)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(plot.DefaultFont, labelFontSize)
		ax.Tick.Label.Font = font.From(plot.DefaultFont, tickFontSize)
		ax.Padding = vg.Points(2)
		ax.Tick.Marker = niceTicks{}
	}
	return p
}

// legendEntry is one line of a boxedLegend.
type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// boxedLegend is a plot.Plotter that draws the legend inside the data area
// on a translucent white box, so that curves under it do not make it
// unreadable (gonum's own legend has no background).
type boxedLegend struct {
	entries      []legendEntry
	left, bottom bool
}

// add appends an entry; entries with an empty name are skipped.
func (b *boxedLegend) add(name string, thumbs ...plot.Thumbnailer) {
	if name == "" {
		return
	}
	b.entries = append(b.entries, legendEntry{name: name, thumbs: thumbs})
}

// Plot implements plot.Plotter.
func (b *boxedLegend) Plot(c draw.Canvas, _ *plot.Plot) {
	if len(b.entries) == 0 {
		return
	}
	l := plot.NewLegend()
	l.TextStyle = textStyle(legendFontSize, color.Black)
	l.ThumbnailWidth = vg.Points(18)
	l.Padding = vg.Points(1)
	l.Left, l.Top = true, true
	var textW, entryH vg.Length
	for _, e := range b.entries {
		l.Add(e.name, e.thumbs...)
		r := l.TextStyle.Rectangle(e.name)
		textW = max(textW, r.Size().X)
		entryH = max(entryH, r.Max.Y)
	}
	em := l.TextStyle.Rectangle(" ").Max.X
	pad := vg.Points(4)
	margin := vg.Points(5)
	n := vg.Length(len(b.entries))
	w := l.ThumbnailWidth + em + textW + 2*pad
	h := n*entryH + (n-1)*l.Padding + 2*pad

	var box vg.Rectangle
	if b.left {
		box.Min.X = c.Min.X + margin
	} else {
		box.Min.X = c.Max.X - margin - w
	}
	if b.bottom {
		box.Min.Y = c.Min.Y + margin
	} else {
		box.Min.Y = c.Max.Y - margin - h
	}
	box.Max = vg.Point{X: box.Min.X + w, Y: box.Min.Y + h}

	c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 215}, []vg.Point{
		box.Min, {X: box.Max.X, Y: box.Min.Y}, box.Max, {X: box.Min.X, Y: box.Max.Y}})
	border := draw.LineStyle{Color: color.Gray{Y: 190}, Width: vg.Points(0.6)}
	c.StrokeLines(border, []vg.Point{
		box.Min, {X: box.Max.X, Y: box.Min.Y}, box.Max, {X: box.Min.X, Y: box.Max.Y}, box.Min})

	inner := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: box.Min.X + pad, Y: box.Min.Y + pad},
		Max: vg.Point{X: box.Max.X - pad, Y: box.Max.Y - pad},
	}}
	l.Draw(inner)
}

// applyAxes sets log scales and fixed ranges on p from o.
func applyAxes(p *plot.Plot, o *options) {
	if o.logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if o.logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	if o.xRange != nil {
		p.X.Min, p.X.Max = o.xRange[0], o.xRange[1]
	}
	if o.yRange != nil {
		p.Y.Min, p.Y.Max = o.yRange[0], o.yRange[1]
	}
}

// checkLogRanges rejects fixed ranges that a log axis cannot show.
func checkLogRanges(o *options) error {
	if o.logX && o.xRange != nil && o.xRange[0] <= 0 {
		return fmt.Errorf("plots: XRange min %g must be > 0 on a log x axis", o.xRange[0])
	}
	if o.logY && o.yRange != nil && o.yRange[0] <= 0 {
		return fmt.Errorf("plots: YRange min %g must be > 0 on a log y axis", o.yRange[0])
	}
	return nil
}

// logTicks marks a log axis with labelled ticks at 1, 2, 5 (or every digit)
// times powers of ten when the axis spans few decades, where gonum's
// plot.LogTicks would label a single tick or none; on wide ranges it labels
// the powers of ten only.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || !finite(lo) || !finite(hi) {
		return nil
	}
	if math.Log10(hi/lo) > 8 {
		return wideLogTicks(lo, hi)
	}
	for _, labelled := range [][]int{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var ticks []plot.Tick
		count := 0
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			for m := 1; m <= 9; m++ {
				v := float64(m) * math.Pow(10, e)
				if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
					continue
				}
				t := plot.Tick{Value: v}
				if slices.Contains(labelled, m) {
					t.Label = strconv.FormatFloat(v, 'g', 3, 64)
					count++
				}
				ticks = append(ticks, t)
			}
		}
		if count >= 3 || len(labelled) == 9 {
			return ticks
		}
	}
	return nil
}

// wideLogTicks ticks every power of ten in [lo, hi] and labels every k-th one ("1e-08", "0.01", "1e+04"),
// with k chosen so that at most about eight are labelled.
func wideLogTicks(lo, hi float64) []plot.Tick {
	first, last := int(math.Ceil(math.Log10(lo)-1e-9)), int(math.Floor(math.Log10(hi)+1e-9))
	k := max(1, int(math.Ceil(float64(last-first+1)/8)))
	var ticks []plot.Tick
	for e := first; e <= last; e++ {
		t := plot.Tick{Value: math.Pow(10, float64(e))}
		if ((e%k)+k)%k == 0 {
			t.Label = strconv.FormatFloat(t.Value, 'g', 3, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// niceTicks labels a linear axis every 1, 2, 2.5 or 5 times a power of ten,
// aiming at about six labels (gonum's default ticker often labels only two or
// three), with an unlabelled minor tick halfway between labels.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !finite(lo) || !finite(hi) || hi <= lo {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 6
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * pow
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if exp := math.Floor(math.Log10(step) + 1e-9); exp <= 0 && math.Abs(step/math.Pow(10, exp)-2.5) < 1e-9 {
		decimals++ // 0.25, 2.5: one more digit; 25, 250 need none.
	}
	useExp := math.Max(math.Abs(lo), math.Abs(hi)) >= 1e6 || step < 1e-4
	var ticks []plot.Tick
	start := math.Ceil(lo/step-1e-9) * step
	for i := 0; ; i++ {
		v := start + float64(i)*step
		if v > hi+step*1e-9 || i > 1000 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		label := strconv.FormatFloat(v, 'f', decimals, 64)
		if useExp {
			label = strconv.FormatFloat(v, 'g', 3, 64)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
		if minor := v + step/2; minor <= hi {
			ticks = append(ticks, plot.Tick{Value: minor})
		}
	}
	if minor := start - step/2; minor >= lo {
		ticks = append(ticks, plot.Tick{Value: minor})
	}
	return ticks
}
