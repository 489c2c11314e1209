package pretrained

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/convnotes/convnotes/gomlx_models/models"
)

// Preprocess turns an image into the network's input as nsfwjs's infer does (core.js): pixel values divided by
// 255 (to [0, 1]; no mean subtraction, no [-1, 1] scaling — the nsfwjs head was trained on [0, 1] inputs), then a
// bilinear resize to 299×299 with align_corners=true (tf.image.resizeBilinear(x, [299, 299], true)). The result
// is [299, 299, 3] row-major (NHWC without the batch axis); alpha is ignored.
func Preprocess(img image.Image) ([]float32, error) {
	if img == nil {
		return nil, errors.New("nil image")
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("empty image %v", b)
	}
	src := make([]float32, h*w*3)
	for y := range h {
		for x := range w {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := (y*w + x) * 3
			// RGBA() returns 16-bit channels; >>8 recovers the 8-bit value of 8-bit images exactly.
			src[i], src[i+1], src[i+2] = float32(r>>8)/255, float32(g>>8)/255, float32(bl>>8)/255
		}
	}
	const size = models.InceptionV3Size
	if h == size && w == size {
		return src, nil
	}
	return ResizeBilinearAlignCorners(src, h, w, 3, size, size), nil
}

// ResizeBilinearAlignCorners resizes an HWC image as tf.image.resizeBilinear with alignCorners=true: output pixel
// (y, x) samples the input at (y·(h−1)/(oh−1), x·(w−1)/(ow−1)), interpolating the four neighbours.
func ResizeBilinearAlignCorners(src []float32, h, w, c, oh, ow int) []float32 {
	out := make([]float32, oh*ow*c)
	scale := func(in, o int) float64 {
		if o > 1 {
			return float64(in-1) / float64(o-1)
		}
		return 0
	}
	sy, sx := scale(h, oh), scale(w, ow)
	for y := range oh {
		fy := float64(y) * sy
		y0 := int(fy)
		y1 := min(y0+1, h-1)
		dy := fy - float64(y0)
		for x := range ow {
			fx := float64(x) * sx
			x0 := int(fx)
			x1 := min(x0+1, w-1)
			dx := fx - float64(x0)
			for ch := range c {
				tl, tr := float64(src[(y0*w+x0)*c+ch]), float64(src[(y0*w+x1)*c+ch])
				bl, br := float64(src[(y1*w+x0)*c+ch]), float64(src[(y1*w+x1)*c+ch])
				top := tl + (tr-tl)*dx
				bottom := bl + (br-bl)*dx
				out[(y*ow+x)*c+ch] = float32(top + (bottom-top)*dy)
			}
		}
	}
	return out
}

// Photos are the scikit-image sample photos section 08 classifies, fetched by `make data`
// (scripts/fetch_nsfwjs.sh) into $CONVNOTES_DATA/photos or the checkout's .cache/data/photos.
// The reference fixture was made from these decoded images as they are (no resizing), which is why the tests
// read them here; notebooks and experiments use data.LoadPhoto, which also checks each file's SHA-256.
var Photos = []string{"astronaut.png", "chelsea.png", "coffee.png"}

// LoadPhoto decodes one of [Photos] (any PNG in the photo directory).
func LoadPhoto(name string) (image.Image, error) {
	dir, err := photoDir()
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, name)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("pretrained: photo %s missing: run `make data` (python3-skimage's sample photos)", p)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("pretrained: photo %s: %v; run `make data` again", p, err)
	}
	return img, nil
}

func photoDir() (string, error) {
	if d := os.Getenv("CONVNOTES_DATA"); d != "" {
		return filepath.Join(d, "photos"), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "data", "photos"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("pretrained: not inside the convnotes checkout: set CONVNOTES_DATA to a directory holding photos/")
		}
		dir = parent
	}
}
