package data

import (
	"math"
	"slices"
	"testing"
)

// TestRotateImage: angle 0 and 2π are the identity; a quarter turn moves the top-centre pixel of a 5×5 image
// to the left centre (counter-clockwise on screen) and a half turn to the bottom centre.
func TestRotateImage(t *testing.T) {
	src := make([]float32, 25)
	src[0*5+2] = 1 // top centre
	src[3*5+4] = 0.5
	for _, tc := range []struct {
		angle float64
		at    [][3]float64 // y, x, value
	}{
		{0, [][3]float64{{0, 2, 1}, {3, 4, 0.5}}},
		{2 * math.Pi, [][3]float64{{0, 2, 1}, {3, 4, 0.5}}},
		{math.Pi / 2, [][3]float64{{2, 0, 1}, {0, 3, 0.5}}},
		{math.Pi, [][3]float64{{4, 2, 1}, {1, 0, 0.5}}},
	} {
		dst := make([]float32, 25)
		RotateImage(src, dst, 5, 5, tc.angle)
		var sum float64
		for _, v := range dst {
			sum += float64(v)
		}
		for _, a := range tc.at {
			if got := dst[int(a[0])*5+int(a[1])]; math.Abs(float64(got)-a[2]) > 1e-5 {
				t.Errorf("angle %.3f: pixel (%g, %g) = %g, want %g", tc.angle, a[0], a[1], got, a[2])
			}
		}
		if math.Abs(sum-1.5) > 1e-4 {
			t.Errorf("angle %.3f: total %g, want 1.5 (nothing leaves a 5×5 image turned by a multiple of π/2)", tc.angle, sum)
		}
	}
}

func tinyDigits() *Images {
	im := &Images{Name: "digits", N: 3, H: 4, W: 4, C: 1, Labels: []int32{7, 1, 4}}
	for i := range 3 * 16 {
		if i%3 == 0 {
			im.Pixels = append(im.Pixels, 0.25+float32(i%5)/10)
		} else {
			im.Pixels = append(im.Pixels, 0)
		}
	}
	return im
}

// TestVariants: both variants are seeded, keep the labels and leave the input unchanged; the random
// background keeps the digit's pixels and fills the others from [0, 1); more than one channel is an error.
func TestVariants(t *testing.T) {
	im := tinyDigits()
	orig := slices.Clone(im.Pixels)
	r1, err := Rotated(im, 3)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Rotated(im, 3)
	r3, _ := Rotated(im, 4)
	if !slices.Equal(r1.Pixels, r2.Pixels) || slices.Equal(r1.Pixels, r3.Pixels) || !slices.Equal(r1.Labels, im.Labels) {
		t.Error("Rotated: not seeded, or labels changed")
	}
	b1, b2, b3 := RandomBackground(im, 3), RandomBackground(im, 3), RandomBackground(im, 4)
	if !slices.Equal(b1.Pixels, b2.Pixels) || slices.Equal(b1.Pixels, b3.Pixels) || !slices.Equal(b1.Labels, im.Labels) {
		t.Error("RandomBackground: not seeded, or labels changed")
	}
	for i, v := range orig {
		if v != 0 && b1.Pixels[i] != v || v == 0 && (b1.Pixels[i] < 0 || b1.Pixels[i] >= 1) {
			t.Errorf("pixel %d: %g became %g", i, v, b1.Pixels[i])
		}
	}
	if !slices.Equal(im.Pixels, orig) {
		t.Error("the input images were changed")
	}
	if _, err := Rotated(&Images{N: 1, H: 2, W: 2, C: 3, Pixels: make([]float32, 12), Labels: []int32{0}}, 1); err == nil {
		t.Error("a 3-channel image was accepted")
	}
}
