package alexnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/augment"
	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/plots"
)

// PaperFactor is §4.1's "increases the size of our training set by a factor of 2048".
const PaperFactor = 2048

// AugmentationDemo is §4.1's two forms of data augmentation applied to the sample photos.
type AugmentationDemo struct {
	// Photos are the sample photos rescaled to a shorter side of 256 and centre-cropped to 256×256 (§2).
	Photos []augment.Image
	Names  []string
	// Crops are random 224×224 patches (some reflected) of the first photo, with their specs.
	Crops     []augment.Image
	CropSpecs []augment.CropSpec
	// TenCrop are the ten test patches of the first photo.
	TenCrop []augment.Image
	// PCA is the colour PCA over every pixel of every photo; Residual the largest |Σp − λp| over the three
	// eigenpairs (how exactly the eigen-decomposition holds).
	PCA      augment.ColourPCA
	Residual float64
	// Coloured are the first photo with PCA colour noise: Alphas[i] drawn with Sigmas[i].
	Coloured []augment.Image
	Alphas   [][3]float64
	Sigmas   []float64
	// Factor is (256 − 224)²·2, Distinct the number of distinct patches (257 − 224)²·2.
	Factor, Distinct int
}

// AugmentationPhotos are the photos used, in order (the first is the one cropped and coloured).
var AugmentationPhotos = []string{"chelsea.png", "astronaut.png", "coffee.png", "starry_night.jpg"}

// Augmentation loads the sample photos (`make data`) and applies §4.1's augmentations with the given seed.
func Augmentation(seed uint64) (*AugmentationDemo, error) {
	d := &AugmentationDemo{
		Factor:   augment.PaperAugmentationFactor(augment.AlexNetImageSide, augment.AlexNetCropSide),
		Distinct: augment.DistinctCropFlips(augment.AlexNetImageSide, augment.AlexNetCropSide),
	}
	const side = augment.AlexNetImageSide
	for _, name := range AugmentationPhotos {
		p, err := data.LoadPhoto(name, side)
		if err != nil {
			return nil, err
		}
		im := augment.Image{H: p.H, W: p.W, C: 3, Pixels: p.Pixels}
		c, err := augment.Crop(im, augment.CropSpec{Top: (p.H - side) / 2, Left: (p.W - side) / 2, Size: side})
		if err != nil {
			return nil, fmt.Errorf("alexnet: %s: %w", name, err)
		}
		d.Photos = append(d.Photos, c)
		d.Names = append(d.Names, name)
	}
	rng := rand.New(rand.NewPCG(seed, 2012))
	for range 8 {
		c, spec, err := augment.RandomCropFlip(rng, d.Photos[0], augment.AlexNetCropSide)
		if err != nil {
			return nil, err
		}
		d.Crops = append(d.Crops, c)
		d.CropSpecs = append(d.CropSpecs, spec)
	}
	var err error
	if d.TenCrop, err = augment.TenCrop(d.Photos[0], augment.AlexNetCropSide); err != nil {
		return nil, err
	}
	if d.PCA, err = augment.FitColourPCA(d.Photos...); err != nil {
		return nil, err
	}
	for i := range 3 {
		for r := range 3 {
			var av float64
			for c := range 3 {
				av += d.PCA.Covariance[r][c] * d.PCA.Eigenvectors[c][i]
			}
			d.Residual = math.Max(d.Residual, math.Abs(av-d.PCA.Eigenvalues[i]*d.PCA.Eigenvectors[r][i]))
		}
	}
	for _, sigma := range []float64{augment.PCAColourSigma, augment.PCAColourSigma, augment.PCAColourSigma, 1, 1, 1} {
		im, alpha, err := d.PCA.Augment(rng, d.Photos[0], sigma)
		if err != nil {
			return nil, err
		}
		d.Coloured = append(d.Coloured, im)
		d.Alphas = append(d.Alphas, alpha)
		d.Sigmas = append(d.Sigmas, sigma)
	}
	return d, nil
}

// PCAText prints the eigenvalues and eigenvectors.
func (d *AugmentationDemo) PCAText() string {
	var b strings.Builder
	p := d.PCA
	fmt.Fprintf(&b, "RGB mean %.4f %.4f %.4f over %d photos of 256×256 (values in [0, 1])\n", p.Mean[0], p.Mean[1], p.Mean[2], len(d.Photos))
	for i := range 3 {
		fmt.Fprintf(&b, "λ%d = %.6f   p%d = (%+.4f, %+.4f, %+.4f)\n", i+1, p.Eigenvalues[i], i+1,
			p.Eigenvectors[0][i], p.Eigenvectors[1][i], p.Eigenvectors[2][i])
	}
	fmt.Fprintf(&b, "max |Σp − λp| = %.1e\n", d.Residual)
	return b.String()
}

// gridImage converts an augmented image for display, clipped to [0, 1] (so a colour shift is not undone by
// the grid's min-max scaling).
func gridImage(im augment.Image, label string) plots.Image {
	px := make([]float32, len(im.Pixels))
	for i, v := range im.Pixels {
		px[i] = min(1, max(0, v))
	}
	return plots.Image{Pix: px, H: im.H, W: im.W, C: im.C, Label: label}
}

// AugmentationFigureNames name the figures of [AugmentationDemo.Figures].
var AugmentationFigureNames = []string{"photos", "random_crops", "ten_crop", "pca_colour"}

// Figures are four image grids: the 256×256 photos, random 224 crops with flips, the ten test patches, and
// colour-augmented copies.
func (d *AugmentationDemo) Figures() ([]*plots.Figure, error) {
	var photos, crops, ten, col []plots.Image
	for i, p := range d.Photos {
		photos = append(photos, gridImage(p, d.Names[i]))
	}
	for i, c := range d.Crops {
		s := d.CropSpecs[i]
		label := fmt.Sprintf("(%d,%d)", s.Top, s.Left)
		if s.Flip {
			label += " flip"
		}
		crops = append(crops, gridImage(c, label))
	}
	tenNames := []string{"top-left", "top-right", "bottom-left", "bottom-right", "centre"}
	for i, c := range d.TenCrop {
		label := tenNames[i%5]
		if i >= 5 {
			label += " flip"
		}
		ten = append(ten, gridImage(c, label))
	}
	col = append(col, gridImage(d.Photos[0], "original"))
	for i, c := range d.Coloured {
		a := d.Alphas[i]
		col = append(col, gridImage(c, fmt.Sprintf("σ=%g α=(%.2f,%.2f,%.2f)", d.Sigmas[i], a[0], a[1], a[2])))
	}
	var figs []*plots.Figure
	for _, g := range []struct {
		title string
		ims   []plots.Image
		cols  int
	}{
		{"Sample photos, shorter side 256, centre 256×256 (§2)", photos, 4},
		{fmt.Sprintf("Random 224×224 patches and reflections of %s (§4.1: %d = 32²·2)", d.Names[0], d.Factor), crops, 4},
		{"Ten test patches: four corners, centre, and their reflections (§4.1)", ten, 5},
		{"PCA colour augmentation (§4.1, σ = 0.1; σ = 1 to make it visible)", col, 4},
	} {
		f, err := plots.ImageGrid(g.title, g.ims, g.cols)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}
