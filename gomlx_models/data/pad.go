package data

import "fmt"

// PadTo returns a copy of the images zero-padded to side×side, the original centred (the extra row or column,
// if any, goes after): LeCun et al. 1998 (§III.A) centre the 28×28 MNIST digits in 32×32 fields the same way.
// It lets Fashion-MNIST feed networks built for CIFAR-10's 32×32 (five 2×2 poolings of VGG need a multiple of
// 32). Images already side×side are returned as they are; larger ones are an error.
func (im *Images) PadTo(side int) (*Images, error) {
	if im.H == side && im.W == side {
		return im, nil
	}
	if im.H > side || im.W > side {
		return nil, fmt.Errorf("data: %s: cannot pad %d×%d images to %d×%d", im.Name, im.H, im.W, side, side)
	}
	top, left := (side-im.H)/2, (side-im.W)/2
	out := &Images{Name: fmt.Sprintf("%s/pad%d", im.Name, side), N: im.N, H: side, W: side, C: im.C,
		Labels: im.Labels, Classes: im.Classes, Pixels: make([]float32, im.N*side*side*im.C)}
	row := im.W * im.C
	for i := range im.N {
		src := im.Image(i)
		dst := out.Pixels[i*side*side*im.C : (i+1)*side*side*im.C]
		for y := range im.H {
			copy(dst[((top+y)*side+left)*im.C:], src[y*row:(y+1)*row])
		}
	}
	return out, nil
}
