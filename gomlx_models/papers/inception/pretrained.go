package inception

import (
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/pretrained"
	"github.com/convnotes/convnotes/plots"
)

// PhotoNames are the sample photos section 08 classifies (`make data`).
var PhotoNames = []string{"astronaut.png", "chelsea.png", "coffee.png"}

// Classified is one photo with the pretrained network's answer.
type Classified struct {
	Photo      *data.Photo
	Prediction pretrained.Prediction
}

// ClassifyPhotos loads the nsfwjs Inception v3 (every tensor mapped, or an error naming the first mismatch) and
// classifies the sample photos, read with data.LoadPhoto (checksummed).
func ClassifyPhotos(backend compute.Backend, names ...string) ([]Classified, error) {
	if backend == nil {
		return nil, errors.New("inception: nil backend")
	}
	if len(names) == 0 {
		names = PhotoNames
	}
	clf, err := pretrained.LoadNSFWJS(backend)
	if err != nil {
		return nil, err
	}
	photos := make([]*data.Photo, len(names))
	imgs := make([]image.Image, len(names))
	for i, n := range names {
		p, err := data.LoadPhoto(n, 0)
		if err != nil {
			return nil, err
		}
		photos[i], imgs[i] = p, PhotoImage(p)
	}
	preds, err := clf.Classify(imgs...)
	if err != nil {
		return nil, err
	}
	out := make([]Classified, len(preds))
	for i := range preds {
		out[i] = Classified{photos[i], preds[i]}
	}
	return out, nil
}

// PhotoImage converts a photo ([0,1] HWC floats) to an 8-bit RGBA image.
func PhotoImage(p *data.Photo) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, p.W, p.H))
	q := func(v float32) uint8 { return uint8(min(max(v, 0), 1)*255 + 0.5) }
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			o := (y*p.W + x) * 3
			img.SetRGBA(x, y, color.RGBA{q(p.Pixels[o]), q(p.Pixels[o+1]), q(p.Pixels[o+2]), 255})
		}
	}
	return img
}

// PhotosFigure shows the photos with their two most probable classes.
func PhotosFigure(cs []Classified) (*plots.Figure, error) {
	ims := make([]plots.Image, len(cs))
	for i, c := range cs {
		top := c.Prediction.Top
		label := fmt.Sprintf("%s %.0f%%", top[0].Class, 100*top[0].Probability)
		if len(top) > 1 {
			label += fmt.Sprintf(", %s %.0f%%", top[1].Class, 100*top[1].Probability)
		}
		ims[i] = plots.Image{Pix: c.Photo.Pixels, H: c.Photo.H, W: c.Photo.W, C: 3, Label: label}
	}
	return plots.ImageGrid("Inception v3 with the nsfwjs weights: top classes", ims, len(ims))
}
