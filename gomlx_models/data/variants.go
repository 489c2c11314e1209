package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The MNIST variations of Larochelle, Erhan, Courville, Bergstra & Bengio 2007 ("An empirical evaluation of
// deep architectures on problems with many factors of variation", §4.1), on which Vincent et al. 2010 compare
// stacked denoising autoencoders (Table 3), are synthesized here from MNIST, offline and seeded, instead of
// read from the files the authors published.

// Rotated returns a copy of im (one channel) in which every image is rotated about its centre by an angle
// drawn uniformly from [0, 2π) — mnist-rot — with bilinear interpolation and zeros outside the source image.
// The angles come from a generator seeded by seed, image by image, so the same seed gives the same data set.
func Rotated(im *Images, seed uint64) (*Images, error) {
	if im.C != 1 {
		return nil, fmt.Errorf("rotated %s: want one channel, got %d", im.Name, im.C)
	}
	rng := rand.New(rand.NewPCG(seed, 0x20c7))
	out := copyOf(im, fmt.Sprintf("%s/rot(seed %d)", im.Name, seed))
	for i := range im.N {
		RotateImage(im.Image(i), out.Image(i), im.H, im.W, 2*math.Pi*rng.Float64())
	}
	return out, nil
}

// RotateImage writes src (h×w, one channel) rotated by angle (radians, counter-clockwise on screen) about
// its centre ((h−1)/2, (w−1)/2) into dst: each output pixel p takes the bilinear interpolation of src at
// the point that the rotation maps onto p, zero outside src.
func RotateImage(src, dst []float32, h, w int, angle float64) {
	cy, cx := float64(h-1)/2, float64(w-1)/2
	sin, cos := math.Sincos(angle)
	at := func(y, x int) float64 {
		if y < 0 || y >= h || x < 0 || x >= w {
			return 0
		}
		return float64(src[y*w+x])
	}
	for y := range h {
		for x := range w {
			// The source point of the output pixel: the inverse rotation, with y pointing down the screen.
			dy, dx := float64(y)-cy, float64(x)-cx
			sy, sx := cy+sin*dx+cos*dy, cx+cos*dx-sin*dy
			y0, x0 := math.Floor(sy), math.Floor(sx)
			fy, fx := sy-y0, sx-x0
			iy, ix := int(y0), int(x0)
			v := (1-fy)*((1-fx)*at(iy, ix)+fx*at(iy, ix+1)) + fy*((1-fx)*at(iy+1, ix)+fx*at(iy+1, ix+1))
			dst[y*w+x] = float32(v)
		}
	}
}

// RandomBackground returns a copy of im in which every background pixel (value 0) is replaced by a value drawn
// uniformly from [0, 1) — mnist-back-rand: "each pixel value of the background was generated uniformly between
// 0 and 255". Pixels of the digit keep their value. Seeded like Rotated.
func RandomBackground(im *Images, seed uint64) *Images {
	rng := rand.New(rand.NewPCG(seed, 0xb9d))
	out := copyOf(im, fmt.Sprintf("%s/bg-rand(seed %d)", im.Name, seed))
	for i, v := range out.Pixels {
		if v == 0 {
			out.Pixels[i] = rng.Float32()
		}
	}
	return out
}

// copyOf is im with its own copy of the pixels and labels, renamed.
func copyOf(im *Images, name string) *Images {
	out := *im
	out.Name = name
	out.Pixels = append([]float32(nil), im.Pixels...)
	out.Labels = append([]int32(nil), im.Labels...)
	return &out
}
