// Package augment holds the data augmentation of AlexNet (Krizhevsky, Sutskever & Hinton 2012, §4.1): random
// crops with horizontal reflections, the ten-patch test-time prediction, and PCA colour augmentation ("fancy PCA").
//
// Images are plain HWC float32 arrays ([Image]); every random choice takes a caller-seeded *rand.Rand, so a run
// is reproducible from its seed. Nothing here depends on GoMLX: augmentation happens on the data before batching.
package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// AlexNet §4.1: "extracting random 224×224 patches (and their horizontal reflections) from the 256×256 images".
const (
	// AlexNetImageSide is the side the training images are rescaled and centre-cropped to (§2).
	AlexNetImageSide = 256
	// AlexNetCropSide is the side of the random patches the network is trained on (§4.1).
	AlexNetCropSide = 224
)

// Image is an H×W×C image, values in HWC order.
type Image struct {
	H, W, C int
	Pixels  []float32
}

// NewImage returns a zero image of the given size.
func NewImage(h, w, c int) Image {
	return Image{H: h, W: w, C: c, Pixels: make([]float32, h*w*c)}
}

// Validate reports an error unless the sizes are positive and match len(Pixels).
func (im Image) Validate() error {
	if im.H < 1 || im.W < 1 || im.C < 1 || len(im.Pixels) != im.H*im.W*im.C {
		return fmt.Errorf("augment: image %d×%d×%d with %d values is not a valid HWC image",
			im.H, im.W, im.C, len(im.Pixels))
	}
	return nil
}

// CropSpec is one patch: its top-left corner, its size, and whether it is reflected left–right.
type CropSpec struct {
	Top, Left, Size int
	Flip            bool
}

// Crop returns the patch of im described by s (reflected if s.Flip); the pixels are copied.
func Crop(im Image, s CropSpec) (Image, error) {
	if err := im.Validate(); err != nil {
		return Image{}, err
	}
	if s.Size < 1 || s.Top < 0 || s.Left < 0 || s.Top+s.Size > im.H || s.Left+s.Size > im.W {
		return Image{}, fmt.Errorf("augment: crop %+v does not fit in a %d×%d image", s, im.H, im.W)
	}
	out := NewImage(s.Size, s.Size, im.C)
	c := im.C
	for y := range s.Size {
		src := im.Pixels[((s.Top+y)*im.W+s.Left)*c : ((s.Top+y)*im.W+s.Left+s.Size)*c]
		dst := out.Pixels[y*s.Size*c : (y+1)*s.Size*c]
		if !s.Flip {
			copy(dst, src)
			continue
		}
		for x := range s.Size {
			copy(dst[x*c:(x+1)*c], src[(s.Size-1-x)*c:(s.Size-x)*c])
		}
	}
	return out, nil
}

// FlipHorizontal returns im reflected left–right.
func FlipHorizontal(im Image) (Image, error) {
	if err := im.Validate(); err != nil {
		return Image{}, err
	}
	out := NewImage(im.H, im.W, im.C)
	c := im.C
	for y := range im.H {
		row := im.Pixels[y*im.W*c : (y+1)*im.W*c]
		dst := out.Pixels[y*im.W*c : (y+1)*im.W*c]
		for x := range im.W {
			copy(dst[x*c:(x+1)*c], row[(im.W-1-x)*c:(im.W-x)*c])
		}
	}
	return out, nil
}

// RandomCropSpec draws a size×size patch position uniformly among the (H−size+1)·(W−size+1) positions of an
// H×W image and a reflection with probability 1/2 (§4.1).
func RandomCropSpec(rng *rand.Rand, h, w, size int) (CropSpec, error) {
	if size < 1 || size > h || size > w {
		return CropSpec{}, fmt.Errorf("augment: crop size %d does not fit in a %d×%d image", size, h, w)
	}
	return CropSpec{Top: rng.IntN(h - size + 1), Left: rng.IntN(w - size + 1), Size: size, Flip: rng.IntN(2) == 1}, nil
}

// RandomCropFlip returns a random size×size patch of im, reflected with probability 1/2, and where it came from.
func RandomCropFlip(rng *rand.Rand, im Image, size int) (Image, CropSpec, error) {
	s, err := RandomCropSpec(rng, im.H, im.W, size)
	if err != nil {
		return Image{}, s, err
	}
	out, err := Crop(im, s)
	return out, s, err
}

// RandomCropFlipNHWC applies RandomCropFlip to each of the n images of an NHWC batch (h×w×c each) and returns
// the n×size×size×c batch: the training-time augmentation of a mini-batch, e.g. 28×28 patches of 32×32 images.
func RandomCropFlipNHWC(rng *rand.Rand, pixels []float32, n, h, w, c, size int) ([]float32, error) {
	if n < 0 || len(pixels) != n*h*w*c {
		return nil, fmt.Errorf("augment: batch of %d×%d×%d×%d needs %d values, got %d", n, h, w, c, n*h*w*c, len(pixels))
	}
	out := make([]float32, 0, n*size*size*c)
	for i := range n {
		im := Image{H: h, W: w, C: c, Pixels: pixels[i*h*w*c : (i+1)*h*w*c]}
		p, _, err := RandomCropFlip(rng, im, size)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Pixels...)
	}
	return out, nil
}

// PaperAugmentationFactor is the enlargement of the training set that §4.1 states, "a factor of 2048": (n−s)²
// translations times 2 reflections, with n = 256 and s = 224, 32·32·2. The exact number of distinct patches
// is [DistinctCropFlips]; the paper counts offsets 0..31 rather than 0..32.
func PaperAugmentationFactor(n, s int) int {
	if s > n || s < 1 {
		return 0
	}
	return (n - s) * (n - s) * 2
}

// DistinctCropFlips is the number of distinct s×s patches, with and without reflection, of an n×n image:
// (n−s+1)²·2 (2,178 for AlexNet's 224 of 256).
func DistinctCropFlips(n, s int) int {
	if s > n || s < 1 {
		return 0
	}
	return (n - s + 1) * (n - s + 1) * 2
}

// TenCropSpecs returns the ten test-time patches of §4.1 — "the four corner patches and the center patch as
// well as their horizontal reflections (hence ten patches in all)" — for an h×w image: top-left, top-right,
// bottom-left, bottom-right, centre, then the same five reflected.
func TenCropSpecs(h, w, size int) ([]CropSpec, error) {
	if size < 1 || size > h || size > w {
		return nil, fmt.Errorf("augment: crop size %d does not fit in a %d×%d image", size, h, w)
	}
	five := []CropSpec{
		{Top: 0, Left: 0, Size: size},
		{Top: 0, Left: w - size, Size: size},
		{Top: h - size, Left: 0, Size: size},
		{Top: h - size, Left: w - size, Size: size},
		{Top: (h - size) / 2, Left: (w - size) / 2, Size: size},
	}
	out := append([]CropSpec{}, five...)
	for _, s := range five {
		s.Flip = true
		out = append(out, s)
	}
	return out, nil
}

// TenCrop returns the ten test-time patches of im (see [TenCropSpecs]).
func TenCrop(im Image, size int) ([]Image, error) {
	specs, err := TenCropSpecs(im.H, im.W, size)
	if err != nil {
		return nil, err
	}
	out := make([]Image, len(specs))
	for i, s := range specs {
		if out[i], err = Crop(im, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AverageSoftmax turns each row of logits into softmax probabilities and averages them: §4.1's prediction from
// the ten patches ("averaging the predictions made by the network's softmax layer on the ten patches").
func AverageSoftmax(logits [][]float32) ([]float32, error) {
	if len(logits) == 0 || len(logits[0]) == 0 {
		return nil, fmt.Errorf("augment: AverageSoftmax needs at least one non-empty row of logits")
	}
	k := len(logits[0])
	sum := make([]float64, k)
	for i, row := range logits {
		if len(row) != k {
			return nil, fmt.Errorf("augment: AverageSoftmax: row %d has %d logits, row 0 has %d", i, len(row), k)
		}
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v) - m)
		}
		for j, v := range row {
			sum[j] += math.Exp(float64(v)-m) / z
		}
	}
	out := make([]float32, k)
	for j, s := range sum {
		out[j] = float32(s / float64(len(logits)))
	}
	return out, nil
}

// PadCropFlipNHWC is the CIFAR-10 augmentation of He et al. 2016 (§4.2), in place on an NHWC batch of n h×w×c
// images: each image is padded with pad zero pixels on every side, an h×w window is taken at a random offset
// (0…2·pad in each direction) and, with probability ½, flipped horizontally.
func PadCropFlipNHWC(rng *rand.Rand, pixels []float32, n, h, w, c, pad int) error {
	if n < 0 || h < 1 || w < 1 || c < 1 || len(pixels) != n*h*w*c {
		return fmt.Errorf("augment: batch of %d×%d×%d×%d needs %d values, got %d", n, h, w, c, n*h*w*c, len(pixels))
	}
	if pad < 0 {
		return fmt.Errorf("augment: padding must be ≥ 0, got %d", pad)
	}
	src := make([]float32, h*w*c)
	for i := range n {
		im := pixels[i*h*w*c : (i+1)*h*w*c]
		copy(src, im)
		dy, dx := rng.IntN(2*pad+1)-pad, rng.IntN(2*pad+1)-pad
		flip := rng.IntN(2) == 1
		for y := range h {
			for x := range w {
				sy, sx := y+dy, x+dx
				if flip {
					sx = w - 1 - x + dx
				}
				out := im[(y*w+x)*c : (y*w+x+1)*c]
				if sy < 0 || sy >= h || sx < 0 || sx >= w {
					clear(out)
					continue
				}
				copy(out, src[(sy*w+sx)*c:(sy*w+sx+1)*c])
			}
		}
	}
	return nil
}
