package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// decodePNG decodes data and checks it has the figure's pixel size and is
// not blank: several distinct colours and some non-white pixels.
func decodePNG(t *testing.T, fig *Figure, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	w, h := fig.PixelSize()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	colors := map[color.RGBA]bool{}
	nonWhite := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}
			colors[c] = true
			if c != (color.RGBA{255, 255, 255, 255}) {
				nonWhite++
			}
		}
	}
	if len(colors) < 8 {
		t.Errorf("PNG has only %d distinct colours: blank?", len(colors))
	}
	if frac := float64(nonWhite) / float64(w*h); frac < 0.01 {
		t.Errorf("only %.4f of the PNG is non-white: blank?", frac)
	}
	return img
}

// rosenbrock is the classic banana-valley test function, minimum at (1, 1).
func rosenbrock(x, y float64) float64 { return (1-x)*(1-x) + 100*(y-x*x)*(y-x*x) }

func ramp(n int, f func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func grayImage(h, w int, label string, f func(i int) float32) Image {
	pix := make([]float32, h*w)
	for i := range pix {
		pix[i] = f(i)
	}
	return Image{Pix: pix, H: h, W: w, C: 1, Label: label}
}

// validFigures builds one figure of each kind, with the awkward inputs each
// must tolerate (NaN gaps, non-positive values on log axes, odd sizes).
func validFigures() map[string]func() (*Figure, error) {
	steps := ramp(40, func(i int) float64 { return float64(i + 1) })
	loss := ramp(40, func(i int) float64 { return 2 * math.Exp(-float64(i)/8) })
	withNaN := ramp(40, func(i int) float64 { return 1.5 * math.Exp(-float64(i)/10) })
	withNaN[5], withNaN[6], withNaN[39] = math.NaN(), math.Inf(1), -1 // -1 is skipped on the log axis.
	path := Series{Name: "SGD", X: []float64{-1.5, -1, -0.5, 0, 0.5, math.NaN(), 1}, Y: []float64{2, 1, 0.3, 0, 0.2, 0, 1}, Points: true}
	far := Series{Name: "diverged", X: []float64{0, 5, 50}, Y: []float64{0, 5, 50}} // leaves the window: clipped.
	return map[string]func() (*Figure, error){
		"curves": func() (*Figure, error) {
			return Curves("loss", "epoch", "loss", []Series{{Name: "train", X: steps, Y: loss}, {Name: "val", Y: withNaN, Points: true}}, LogY())
		},
		"curves yrange logx": func() (*Figure, error) {
			return Curves("", "step", "", []Series{{Name: "a", X: steps, Y: loss}}, LogX(), YRange(0, 1), SizePixels(333, 222))
		},
		"contour": func() (*Figure, error) {
			return Contour("Rosenbrock", rosenbrock, -2, 2, -1, 3, 15, []Series{path, far}, LogLevels(), GridSize(60))
		},
		"contour default levels": func() (*Figure, error) {
			return Contour("bowl", func(x, y float64) float64 { return x*x + 3*y*y }, -1, 1, -1, 1, 0, nil, GridSize(40))
		},
		"contour grid": func() (*Figure, error) {
			var panels []ContourPanel
			for _, name := range []string{"SGD", "Momentum", "Adam"} {
				panels = append(panels, ContourPanel{Title: name, F: rosenbrock, XMin: -2, XMax: 2, YMin: -1, YMax: 3, LogLevels: true, Paths: []Series{path}})
			}
			return ContourGrid(panels, 2, GridSize(40))
		},
		"image grid": func() (*Figure, error) {
			ims := []Image{
				grayImage(28, 28, "seven", func(i int) float32 { return float32(i%28) / 28 }),
				grayImage(5, 5, "filter", func(i int) float32 { return float32(i) - 12 }),
				{Pix: ramp32(4 * 6 * 3), H: 4, W: 6, C: 3, Label: "rgb"},
				grayImage(3, 3, "", func(i int) float32 { return 1 }), // constant.
			}
			return ImageGrid("samples", ims, 3, PerImageScale())
		},
		"heatmap": func() (*Figure, error) {
			return Heatmap("C", [][]float64{{1, -2, 0.5}, {0, 3.25, math.NaN()}}, []string{"r0", "r1"}, nil, true, AxisLabels("col", "row"))
		},
		"heatmap confusion": func() (*Figure, error) {
			return Heatmap("confusion", [][]float64{{50, 2}, {3, 45}}, nil, []string{"cat", "dog"}, true)
		},
		"histogram": func() (*Figure, error) {
			vals := ramp(500, func(i int) float64 { return math.Sin(float64(i)) })
			vals[0] = math.NaN()
			return Histogram("weights", vals, 30)
		},
		"histogram single value": func() (*Figure, error) {
			return Histogram("const", []float64{2, 2, 2}, 5)
		},
		"bands": func() (*Figure, error) {
			lower := ramp(40, func(i int) float64 { return -1 / float64(i+1) })
			upper := ramp(40, func(i int) float64 { return 1 / float64(i+1) })
			mid := make([]float64, 40)
			mid[3] = math.NaN()
			return Bands("activations", "step", "value", steps, lower, mid, upper, "median")
		},
	}
}

func ramp32(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i % 7)
	}
	return out
}

func TestFiguresRender(t *testing.T) {
	dir := t.TempDir()
	for name, build := range validFigures() {
		t.Run(name, func(t *testing.T) {
			fig, err := build()
			if err != nil {
				t.Fatalf("constructor: %v", err)
			}
			data, err := fig.PNG()
			if err != nil {
				t.Fatalf("PNG: %v", err)
			}
			decodePNG(t, fig, data)
			svg, err := fig.SVG()
			if err != nil {
				t.Fatalf("SVG: %v", err)
			}
			if !bytes.HasPrefix(svg, []byte("<?xml")) && !bytes.HasPrefix(svg, []byte("<svg")) {
				t.Errorf("SVG starts with %q", svg[:min(len(svg), 20)])
			}
			base := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			if err := fig.Save(base + ".png"); err != nil {
				t.Fatalf("Save png: %v", err)
			}
			saved, err := os.ReadFile(base + ".png")
			if err != nil {
				t.Fatalf("reading saved PNG: %v", err)
			}
			decodePNG(t, fig, saved)
			if err := fig.Save(base + ".svg"); err != nil {
				t.Fatalf("Save svg: %v", err)
			}
		})
	}
	// Atomic writes leave no temporary files behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestSizeOptions(t *testing.T) {
	series := []Series{{Name: "s", Y: []float64{1, 2, 3}}}
	tests := []struct {
		name string
		opts []Option
		w, h int
	}{
		{"default", nil, 780, 480},
		{"pixels", []Option{SizePixels(400, 300)}, 400, 300},
		{"pixels then dpi", []Option{SizePixels(400, 300), DPI(200)}, 400, 300},
		{"inches", []Option{Size(5*vg.Inch, 2*vg.Inch)}, 600, 240},
		{"inches at 96 dpi", []Option{Size(5*vg.Inch, 2*vg.Inch), DPI(96)}, 480, 192},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fig, err := Curves("t", "x", "y", series, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if w, h := fig.PixelSize(); w != tc.w || h != tc.h {
				t.Fatalf("PixelSize = %dx%d, want %dx%d", w, h, tc.w, tc.h)
			}
			data, err := fig.PNG()
			if err != nil {
				t.Fatal(err)
			}
			decodePNG(t, fig, data)
		})
	}
}

func TestBadInputs(t *testing.T) {
	nan := math.NaN()
	ok := []Series{{Name: "ok", Y: []float64{1, 2}}}
	bowl := func(x, y float64) float64 { return x*x + y*y }
	gray := grayImage(2, 2, "", func(int) float32 { return 0 })
	tests := []struct {
		name  string
		build func() (*Figure, error)
		want  string
	}{
		{"curves no series", func() (*Figure, error) { return Curves("t", "", "", nil) }, "no series"},
		{"curves empty series", func() (*Figure, error) { return Curves("t", "", "", []Series{{Name: "e"}}) }, "no finite points"},
		{"curves NaN-only", func() (*Figure, error) {
			return Curves("t", "", "", []Series{{Name: "n", Y: []float64{nan, math.Inf(1)}}})
		}, "no finite points"},
		{"curves X/Y mismatch", func() (*Figure, error) {
			return Curves("t", "", "", []Series{{Name: "m", X: []float64{1}, Y: []float64{1, 2}}})
		}, "len(X)=1"},
		{"curves log non-positive", func() (*Figure, error) {
			return Curves("t", "", "", []Series{{Name: "neg", Y: []float64{0, -1}}}, LogY())
		}, "log-axis-positive"},
		{"curves log yrange", func() (*Figure, error) { return Curves("t", "", "", ok, LogY(), YRange(0, 1)) }, "must be > 0"},
		{"bad yrange", func() (*Figure, error) { return Curves("t", "", "", ok, YRange(1, 1)) }, "min < max"},
		{"bad size", func() (*Figure, error) { return Curves("t", "", "", ok, Size(-1, 10)) }, "positive"},
		{"bad pixels", func() (*Figure, error) { return Curves("t", "", "", ok, SizePixels(0, 10)) }, "positive"},
		{"bad dpi", func() (*Figure, error) { return Curves("t", "", "", ok, DPI(0)) }, "DPI"},
		{"contour nil f", func() (*Figure, error) { return Contour("c", nil, 0, 1, 0, 1, 5, nil) }, "nil function"},
		{"contour empty window", func() (*Figure, error) { return Contour("c", bowl, 1, 1, 0, 1, 5, nil) }, "empty window"},
		{"contour NaN window", func() (*Figure, error) { return Contour("c", bowl, nan, 1, 0, 1, 5, nil) }, "finite"},
		{"contour negative levels", func() (*Figure, error) { return Contour("c", bowl, 0, 1, 0, 1, -3, nil) }, "levels"},
		{"contour constant f", func() (*Figure, error) {
			return Contour("c", func(x, y float64) float64 { return 2 }, 0, 1, 0, 1, 5, nil)
		}, "constant"},
		{"contour NaN f", func() (*Figure, error) {
			return Contour("c", func(x, y float64) float64 { return nan }, 0, 1, 0, 1, 5, nil)
		}, "no finite value"},
		{"contour panicking f", func() (*Figure, error) {
			return Contour("c", func(x, y float64) float64 { panic("kaboom") }, 0, 1, 0, 1, 5, nil)
		}, "kaboom"},
		{"contour NaN path", func() (*Figure, error) {
			return Contour("c", bowl, 0, 1, 0, 1, 5, []Series{{Name: "p", X: []float64{nan}, Y: []float64{1}}})
		}, "no finite points"},
		{"contour grid empty", func() (*Figure, error) { return ContourGrid(nil, 2) }, "no panels"},
		{"contour grid cols", func() (*Figure, error) {
			return ContourGrid([]ContourPanel{{F: bowl, XMax: 1, YMax: 1}}, 0)
		}, "cols"},
		{"contour grid bad panel", func() (*Figure, error) {
			return ContourGrid([]ContourPanel{{F: bowl, XMax: 1, YMax: 1}, {Title: "bad", XMax: 1, YMax: 1}}, 2)
		}, "panel 1"},
		{"images empty", func() (*Figure, error) { return ImageGrid("i", nil, 2) }, "no images"},
		{"images cols", func() (*Figure, error) { return ImageGrid("i", []Image{gray}, 0) }, "cols"},
		{"images channels", func() (*Figure, error) {
			return ImageGrid("i", []Image{{Pix: make([]float32, 8), H: 2, W: 2, C: 2}}, 1)
		}, "channels"},
		{"images wrong length", func() (*Figure, error) {
			return ImageGrid("i", []Image{gray, {Pix: make([]float32, 5), H: 2, W: 2, C: 1}}, 1)
		}, "image 1: len(Pix)=5"},
		{"images zero size", func() (*Figure, error) { return ImageGrid("i", []Image{{C: 1}}, 1) }, "positive"},
		{"images NaN-only", func() (*Figure, error) {
			return ImageGrid("i", []Image{grayImage(2, 2, "", func(int) float32 { return float32(nan) })}, 1)
		}, "no finite pixel"},
		{"heatmap empty", func() (*Figure, error) { return Heatmap("h", nil, nil, nil, false) }, "empty"},
		{"heatmap empty row", func() (*Figure, error) { return Heatmap("h", [][]float64{{}}, nil, nil, false) }, "empty"},
		{"heatmap ragged", func() (*Figure, error) {
			return Heatmap("h", [][]float64{{1, 2}, {3}}, nil, nil, false)
		}, "ragged"},
		{"heatmap NaN-only", func() (*Figure, error) { return Heatmap("h", [][]float64{{nan}}, nil, nil, false) }, "no finite"},
		{"heatmap Inf", func() (*Figure, error) { return Heatmap("h", [][]float64{{math.Inf(-1)}}, nil, nil, false) }, "infinite"},
		{"heatmap row labels", func() (*Figure, error) {
			return Heatmap("h", [][]float64{{1}}, []string{"a", "b"}, nil, false)
		}, "row labels"},
		{"heatmap col labels", func() (*Figure, error) {
			return Heatmap("h", [][]float64{{1}}, nil, []string{}, false)
		}, "column labels"},
		{"histogram NaN-only", func() (*Figure, error) { return Histogram("h", []float64{nan}, 10) }, "no finite"},
		{"histogram empty", func() (*Figure, error) { return Histogram("h", nil, 10) }, "no finite"},
		{"histogram bins", func() (*Figure, error) { return Histogram("h", []float64{1}, 0) }, "bins"},
		{"bands none", func() (*Figure, error) { return MultiBands("b", "", "", nil) }, "no bands"},
		{"bands lengths", func() (*Figure, error) {
			return Bands("b", "", "", []float64{1, 2}, []float64{1}, []float64{1, 2}, []float64{1, 2}, "m")
		}, "lengths"},
		{"bands empty", func() (*Figure, error) { return Bands("b", "", "", nil, nil, nil, nil, "m") }, "lengths"},
		{"bands NaN-only", func() (*Figure, error) {
			return Bands("b", "", "", []float64{1}, []float64{nan}, []float64{0}, []float64{1}, "m")
		}, "no drawable step"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fig, err := tc.build()
			if err == nil {
				t.Fatalf("no error (figure %v)", fig)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	panicking := &Figure{width: vg.Inch, height: vg.Inch, dpi: 72, render: func(draw.Canvas) { panic("gonum blew up") }}
	if _, err := panicking.PNG(); err == nil || !strings.Contains(err.Error(), "gonum blew up") {
		t.Errorf("PNG of panicking figure: err = %v", err)
	}
	if _, err := panicking.SVG(); err == nil {
		t.Errorf("SVG of panicking figure: no error")
	}
	var nilFig *Figure
	if _, err := nilFig.PNG(); err == nil {
		t.Errorf("nil figure PNG: no error")
	}
	fig, err := Curves("t", "", "", []Series{{Y: []float64{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fig.Save(filepath.Join(t.TempDir(), "x.jpg")); err == nil || !strings.Contains(err.Error(), "extension") {
		t.Errorf("Save .jpg: err = %v", err)
	}
}

// near reports whether c is within tol of want in every channel.
func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) int { return abs(int(x>>8) - int(y)) }
	return d(r, want.R) <= tol && d(g, want.G) <= tol && d(b, want.B) <= tol
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func countNear(img image.Image, want color.RGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.At(x, y), want, tol) {
				n++
			}
		}
	}
	return n
}

func TestCurvesDrawEachSeriesInItsColour(t *testing.T) {
	fig, err := Curves("", "", "", []Series{
		{Name: "first", Y: []float64{0, 1, 2, 3}},
		{Name: "second", Y: []float64{3, 2, 1, 0}},
		{Name: "third", Y: []float64{1, 1, 1, 1}},
	}, SizePixels(300, 200))
	if err != nil {
		t.Fatal(err)
	}
	data, err := fig.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, fig, data)
	for i := range 3 {
		if n := countNear(img, seriesColor(i), 20); n < 50 {
			t.Errorf("series %d: only %d pixels of its colour %v", i, n, seriesColor(i))
		}
	}
	if n := countNear(img, seriesColor(3), 20); n > 5 {
		t.Errorf("%d pixels of the unused 4th colour", n)
	}
}

func TestImageGridScaling(t *testing.T) {
	// Image a spans [0, 1] (mostly 1); image b spans [0, 2]. With one shared
	// scale a's bright area is mid grey; scaled on its own it is white.
	a := grayImage(4, 4, "", func(i int) float32 {
		if i == 0 {
			return 0
		}
		return 1
	})
	b := grayImage(4, 4, "", func(i int) float32 { return float32(i%3) * 1 })
	tests := []struct {
		name string
		opts []Option
		want uint8
	}{
		{"shared scale", nil, 128},
		{"per image", []Option{PerImageScale()}, 255},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fig, err := ImageGrid("", []Image{a, b}, 2, append(tc.opts, SizePixels(200, 100))...)
			if err != nil {
				t.Fatal(err)
			}
			data, err := fig.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			// Centre of the first cell: the bottom-right part of image a.
			r, _, _, _ := img.At(60, 60).RGBA()
			if got := uint8(r >> 8); abs(int(got)-int(tc.want)) > 3 {
				t.Errorf("pixel value %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	nan := math.NaN()
	oneToTen := ramp(10, func(i int) float64 { return float64(i + 1) })
	tests := []struct {
		name   string
		values []float64
		ps     []float64
		want   []float64
	}{
		{"quartiles", []float64{5, 1, 4, 2, 3}, []float64{0, 25, 50, 75, 100}, []float64{1, 2, 3, 4, 5}},
		{"interpolated", []float64{1, 2}, []float64{50}, []float64{1.5}},
		{"bn bands 15/50/85", oneToTen, []float64{15, 50, 85}, []float64{2.35, 5.5, 8.65}},
		{"NaN ignored", []float64{nan, 3, nan, 1}, []float64{50}, []float64{2}},
		{"empty", nil, []float64{50}, []float64{nan}},
		{"all NaN", []float64{nan}, []float64{10}, []float64{nan}},
		{"out of range", []float64{1, 2}, []float64{-1, 101, nan}, []float64{nan, nan, nan}},
		{"single", []float64{7}, []float64{0, 50, 100}, []float64{7, 7, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Percentiles(tc.values, tc.ps...)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d values, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if math.IsNaN(tc.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && math.Abs(got[i]-tc.want[i]) > 1e-9) {
					t.Errorf("p%g = %g, want %g", tc.ps[i], got[i], tc.want[i])
				}
			}
		})
	}
}

func TestTickers(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		log    bool
		want   []string
	}{
		{"unit", 0, 1, false, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{"hundreds", 0, 270, false, []string{"0", "50", "100", "150", "200", "250"}},
		{"steps of 250", 0, 1500, false, []string{"0", "250", "500", "750", "1000", "1250", "1500"}},
		{"steps of 2.5", 0, 15, false, []string{"0.0", "2.5", "5.0", "7.5", "10.0", "12.5", "15.0"}},
		{"negative", -1, 1, false, []string{"-1.0", "-0.5", "0.0", "0.5", "1.0"}},
		{"log few decades", 0.15, 2.5, true, []string{"0.2", "0.5", "1", "2"}},
		{"log many decades", 1e-3, 10, true, []string{"0.001", "0.01", "0.1", "1", "10"}},
		{"log within a decade", 2.1, 7.5, true, []string{"3", "4", "5", "6", "7"}},
		{"log 38 decades", 1e-30, 1e8, true, []string{"1e-30", "1e-25", "1e-20", "1e-15", "1e-10", "1e-05", "1", "1e+05"}},
		{"log 10 decades", 3e-9, 2e1, true, []string{"1e-08", "1e-06", "0.0001", "0.01", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got, ticks []string
			if tc.log {
				for _, tk := range (logTicks{}).Ticks(tc.lo, tc.hi) {
					ticks = append(ticks, tk.Label)
				}
			} else {
				for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
					ticks = append(ticks, tk.Label)
				}
			}
			for _, l := range ticks {
				if l != "" {
					got = append(got, l)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("labels %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSafeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"loss", "loss"},
		{"fig 1: SGD vs Adam", "fig_1__SGD_vs_Adam"},
		{"../../etc/passwd", "etc_passwd"},
		{"curves.png", "curves"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := SafeName(tc.in); got != tc.want {
			t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
