package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Image is one picture of an [ImageGrid]: H x W pixels of C channels, stored
// row-major with the channels last (HWC, the layout of GoMLX image tensors),
// C = 1 for grayscale and C = 3 for RGB.
type Image struct {
	// Pix holds H*W*C values, any range: they are min-max scaled for display.
	Pix []float32
	// H, W, C are the height, width and channel count.
	H, W, C int
	// Label is written under the image (may be empty).
	Label string
}

// validate checks the image's geometry and returns its finite value range.
func (im *Image) validate() (lo, hi float64, err error) {
	if im.H <= 0 || im.W <= 0 {
		return 0, 0, fmt.Errorf("size %dx%d must be positive", im.H, im.W)
	}
	if im.C != 1 && im.C != 3 {
		return 0, 0, fmt.Errorf("%d channels, want 1 (grayscale) or 3 (RGB)", im.C)
	}
	if len(im.Pix) != im.H*im.W*im.C {
		return 0, 0, fmt.Errorf("len(Pix)=%d, want H*W*C=%d*%d*%d=%d", len(im.Pix), im.H, im.W, im.C, im.H*im.W*im.C)
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range im.Pix {
		f := float64(v)
		if finite(f) {
			lo, hi = math.Min(lo, f), math.Max(hi, f)
		}
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("no finite pixel value")
	}
	return lo, hi, nil
}

// rgba converts the image to 8-bit RGBA with values scaled from [lo, hi] to
// [0, 255] (a constant image becomes mid grey, non-finite pixels black),
// magnified by an integer factor with nearest-neighbour sampling so that
// pixels stay crisp once the rasterizer scales the image into its cell.
func (im *Image) rgba(lo, hi float64, magnify int) *image.RGBA {
	scale := func(v float32) uint8 {
		f := float64(v)
		if !finite(f) {
			return 0
		}
		if hi <= lo {
			return 128
		}
		t := (f - lo) / (hi - lo)
		return uint8(math.Max(0, math.Min(255, t*255+0.5)))
	}
	out := image.NewRGBA(image.Rect(0, 0, im.W*magnify, im.H*magnify))
	for y := range im.H {
		for x := range im.W {
			base := (y*im.W + x) * im.C
			var c color.RGBA
			if im.C == 1 {
				g := scale(im.Pix[base])
				c = color.RGBA{g, g, g, 0xff}
			} else {
				c = color.RGBA{scale(im.Pix[base]), scale(im.Pix[base+1]), scale(im.Pix[base+2]), 0xff}
			}
			for dy := range magnify {
				row := (y*magnify + dy) * out.Stride
				for dx := range magnify {
					i := row + (x*magnify+dx)*4
					out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = c.R, c.G, c.B, c.A
				}
			}
		}
	}
	return out
}

// Layout constants of ImageGrid.
const (
	imageLabelFontSize = 8
	imageGap           = 4 // points between cells.
	imagePad           = 4 // points around the grid.
)

// ImageGrid draws images in a grid of cols columns with their labels
// underneath: input samples, learned filters, feature maps.
//
// By default every image shares one min-max scale (brightness is comparable
// across the grid); [PerImageScale] scales each image on its own, as is usual
// for filters and feature maps. RGB images are scaled jointly over their
// three channels, so colours keep their balance. Each image keeps its aspect
// ratio. The default size is about 0.9 inch per cell (capped at 10 inches
// wide); [Size] or [SizePixels] fit the grid into a given size.
func ImageGrid(title string, images []Image, cols int, opts ...Option) (*Figure, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("plots.ImageGrid %q: no images", title)
	}
	if cols <= 0 {
		return nil, fmt.Errorf("plots.ImageGrid %q: cols %d must be positive", title, cols)
	}
	cols = min(cols, len(images))
	rows := (len(images) + cols - 1) / cols

	lows, highs := make([]float64, len(images)), make([]float64, len(images))
	globalLo, globalHi := math.Inf(1), math.Inf(-1)
	maxAspect := 0.0
	hasLabels := false
	for i := range images {
		lo, hi, err := images[i].validate()
		if err != nil {
			return nil, fmt.Errorf("plots.ImageGrid %q: image %d: %w", title, i, err)
		}
		lows[i], highs[i] = lo, hi
		globalLo, globalHi = math.Min(globalLo, lo), math.Max(globalHi, hi)
		maxAspect = math.Max(maxAspect, float64(images[i].H)/float64(images[i].W))
		hasLabels = hasLabels || images[i].Label != ""
	}

	titleStyle := textStyle(titleFontSize, color.Black)
	titleStyle.XAlign, titleStyle.YAlign = draw.XCenter, draw.YTop
	labelStyle := textStyle(imageLabelFontSize, color.Black)
	labelStyle.XAlign, labelStyle.YAlign = draw.XCenter, draw.YTop
	var titleH, labelH vg.Length
	if title != "" {
		titleH = titleStyle.Height(title) + vg.Points(6)
	}
	if hasLabels {
		labelH = labelStyle.Height("Ag") + vg.Points(2)
	}

	cell := min(0.9*vg.Inch, 10*vg.Inch/vg.Length(cols))
	defW := vg.Length(cols)*cell + vg.Length(cols-1)*vg.Points(imageGap) + 2*vg.Points(imagePad)
	defH := vg.Length(rows)*(cell*vg.Length(maxAspect)+labelH) + vg.Length(rows-1)*vg.Points(imageGap) +
		2*vg.Points(imagePad) + titleH
	o, err := applyOptions(defW, defH, opts)
	if err != nil {
		return nil, fmt.Errorf("plots.ImageGrid %q: %w", title, err)
	}

	// Magnify small images so each is rasterized at >= its on-screen size.
	cellPixels := float64(defW) / float64(cols) / float64(vg.Inch) * float64(o.dpi)
	cellPixels = math.Max(cellPixels, float64(o.width)/float64(cols)/float64(vg.Inch)*float64(o.dpi))
	rasters := make([]*image.RGBA, len(images))
	for i := range images {
		lo, hi := globalLo, globalHi
		if o.perImageScale {
			lo, hi = lows[i], highs[i]
		}
		magnify := max(1, int(math.Ceil(cellPixels/float64(images[i].W))))
		magnify = min(magnify, max(1, 1024/images[i].W))
		rasters[i] = images[i].rgba(lo, hi, magnify)
	}

	render := func(dc draw.Canvas) {
		pad, gap := vg.Points(imagePad), vg.Points(imageGap)
		top := dc.Max.Y - pad
		if title != "" {
			dc.FillText(titleStyle, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: top}, title)
			top -= titleH
		}
		cellW := (dc.Max.X - dc.Min.X - 2*pad - vg.Length(cols-1)*gap) / vg.Length(cols)
		cellH := (top - dc.Min.Y - pad - vg.Length(rows-1)*gap) / vg.Length(rows)
		for i, im := range images {
			r, c := i/cols, i%cols
			x0 := dc.Min.X + pad + vg.Length(c)*(cellW+gap)
			yTop := top - vg.Length(r)*(cellH+gap)
			boxH := cellH - labelH
			// Fit the image in cellW x boxH, keeping its aspect ratio.
			w, h := cellW, cellW*vg.Length(im.H)/vg.Length(im.W)
			if h > boxH {
				w, h = boxH*vg.Length(im.W)/vg.Length(im.H), boxH
			}
			if w <= 0 || h <= 0 {
				continue
			}
			xImg := x0 + (cellW-w)/2
			rect := vg.Rectangle{Min: vg.Point{X: xImg, Y: yTop - h}, Max: vg.Point{X: xImg + w, Y: yTop}}
			dc.DrawImage(rect, rasters[i])
			if im.Label != "" {
				drawLabel(dc, labelStyle, vg.Point{X: x0 + cellW/2, Y: yTop - h - vg.Points(1)}, im.Label, cellW)
			}
		}
	}
	return newFigure(o, render), nil
}

// drawLabel writes txt centred at pt, shrinking the font (down to 5 points)
// so that it fits in width.
func drawLabel(dc draw.Canvas, sty text.Style, pt vg.Point, txt string, width vg.Length) {
	if w := sty.Width(txt); w > width && w > 0 {
		size := sty.Font.Size * width / w
		if size < vg.Points(5) {
			size = vg.Points(5)
		}
		sty.Font.Size = size
	}
	dc.FillText(sty, pt, txt)
}
