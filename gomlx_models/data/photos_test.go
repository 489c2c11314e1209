package data

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestAreaWeights(t *testing.T) {
	for _, tc := range [][2]int{{10, 3}, {451, 385}, {7, 7}, {3, 10}, {600, 256}, {5, 1}} {
		n, m := tc[0], tc[1]
		ws := areaWeights(n, m)
		covered := make([]float64, n)
		for j, taps := range ws {
			var sum float64
			for _, tp := range taps {
				sum += float64(tp.w)
				covered[tp.i] += float64(tp.w) * float64(n) / float64(m)
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("%d→%d: output %d weights sum to %v", n, m, j, sum)
			}
		}
		for i, c := range covered { // every input cell contributes its whole area once
			if math.Abs(c-1) > 1e-4 {
				t.Errorf("%d→%d: input %d covered %v times", n, m, i, c)
			}
		}
	}
}

func TestPhotoResize(t *testing.T) {
	// 4×4 image whose red channel is x + 4y: 2×2 blocks average to known values.
	p := &Photo{H: 4, W: 4, Pixels: make([]float32, 48)}
	for y := range 4 {
		for x := range 4 {
			p.Pixels[(y*4+x)*3] = float32(x + 4*y)
			p.Pixels[(y*4+x)*3+1] = 0.5
		}
	}
	tests := []struct {
		h, w int
		red  []float32
	}{
		{2, 2, []float32{2.5, 4.5, 10.5, 12.5}},
		{1, 1, []float32{7.5}},
		{1, 4, []float32{6, 7, 8, 9}},
		{4, 4, nil},
	}
	for _, tc := range tests {
		r := p.Resize(tc.h, tc.w)
		if r.H != tc.h || r.W != tc.w || len(r.Pixels) != tc.h*tc.w*3 {
			t.Fatalf("Resize(%d,%d): got %dx%d with %d values", tc.h, tc.w, r.H, r.W, len(r.Pixels))
		}
		for i := range tc.h * tc.w {
			if tc.red != nil && math.Abs(float64(r.Pixels[3*i]-tc.red[i])) > 1e-5 {
				t.Errorf("Resize(%d,%d): red[%d] = %v, want %v", tc.h, tc.w, i, r.Pixels[3*i], tc.red[i])
			}
			if math.Abs(float64(r.Pixels[3*i+1]-0.5)) > 1e-6 {
				t.Errorf("Resize(%d,%d): constant green became %v", tc.h, tc.w, r.Pixels[3*i+1])
			}
		}
	}
}

// pngBytes encodes a w×h image with pixel (x, y) = (x·10, y·10, 200).
func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 10), uint8(y * 10), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadPhotoFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "small.png")
	writeFile(t, good, pngBytes(t, 20, 10))
	corrupt := filepath.Join(dir, "corrupt.png")
	writeFile(t, corrupt, pngBytes(t, 20, 10)[:60])
	text := filepath.Join(dir, "notes.png")
	writeFile(t, text, []byte("not an image"))
	tests := []struct {
		desc        string
		path        string
		shorterSide int
		h, w        int
		want        error
	}{
		{"as is", good, 0, 10, 20, nil},
		{"smaller than the size: kept", good, 16, 10, 20, nil},
		{"scaled down", good, 5, 5, 10, nil},
		{"truncated PNG", corrupt, 0, 0, 0, ErrBadImage},
		{"not an image", text, 0, 0, 0, ErrBadImage},
		{"missing", filepath.Join(dir, "nothing.png"), 0, 0, 0, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p, err := LoadPhotoFile(tc.path, tc.shorterSide)
			if tc.want != nil {
				assertFileError(t, err, tc.want, tc.path)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.H != tc.h || p.W != tc.w || len(p.Pixels) != tc.h*tc.w*3 {
				t.Fatalf("got %dx%d with %d values, want %dx%d", p.H, p.W, len(p.Pixels), tc.h, tc.w)
			}
			if tc.h == 10 { // exact values: (x·10, y·10, 200)/255 at (y, x) = (3, 7)
				got := p.Pixels[(3*20+7)*3 : (3*20+7)*3+3]
				want := []float32{70.0 / 255, 30.0 / 255, 200.0 / 255}
				for c := range 3 {
					if math.Abs(float64(got[c]-want[c])) > 1e-6 {
						t.Errorf("pixel (3,7) = %v, want %v", got, want)
					}
				}
			}
		})
	}
}

func TestLoadPhotoErrors(t *testing.T) {
	root := hermetic(t)
	old := photoSearchDirs
	photoSearchDirs = func() []string { return []string{filepath.Join(root, "photos")} }
	t.Cleanup(func() { photoSearchDirs = old })

	_, err := LoadPhoto("astronaut.png", 0)
	assertFileError(t, err, ErrNotFound, "astronaut.png")
	if !strings.Contains(err.Error(), "make data") {
		t.Errorf("message %q does not say `make data`", err)
	}
	bad := filepath.Join(root, "photos", "chelsea.png")
	writeFile(t, bad, pngBytes(t, 4, 4))
	_, err = LoadPhoto("chelsea.png", 0)
	assertFileError(t, err, ErrChecksum, bad)
	if !strings.Contains(err.Error(), "make data") {
		t.Errorf("message %q does not say `make data`", err)
	}
	if _, err := LoadPhoto("lena.png", 0); err == nil || !strings.Contains(err.Error(), "astronaut.png") {
		t.Errorf("unknown photo: got %v, want an error listing the photos", err)
	}
}

// TestRealPhotos loads the photos fetched by `make data`, skipping when they are absent.
func TestRealPhotos(t *testing.T) {
	tests := []struct {
		name       string
		h, w       int // original size
		h256, w256 int // shorter side scaled to 256
	}{
		{"astronaut.png", 512, 512, 256, 256},
		{"chelsea.png", 300, 451, 256, 385},
		{"coffee.png", 400, 600, 256, 384},
		{"starry_night.jpg", 600, 752, 256, 321},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			full, err := LoadPhoto(tc.name, 0)
			if errors.Is(err, ErrNotFound) {
				t.Skipf("photos absent, skipping: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			small, err := LoadPhoto(tc.name, 256)
			if err != nil {
				t.Fatal(err)
			}
			if full.H != tc.h || full.W != tc.w || small.H != tc.h256 || small.W != tc.w256 {
				t.Fatalf("sizes %dx%d and %dx%d, want %dx%d and %dx%d", full.H, full.W, small.H, small.W,
					tc.h, tc.w, tc.h256, tc.w256)
			}
			// Area averaging keeps the mean colour.
			for c := range 3 {
				mf, ms := channelMean(full, c), channelMean(small, c)
				if mf <= 0.05 || mf >= 0.95 || math.Abs(mf-ms) > 2e-3 {
					t.Errorf("channel %d mean %.4f full, %.4f scaled", c, mf, ms)
				}
			}
		})
	}
}

func channelMean(p *Photo, c int) float64 {
	var s float64
	for i := c; i < len(p.Pixels); i += 3 {
		s += float64(p.Pixels[i])
	}
	return s / float64(p.H*p.W)
}
