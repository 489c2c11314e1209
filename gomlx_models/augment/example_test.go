package augment_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/convnotes/convnotes/gomlx_models/augment"
)

// AlexNet §4.1 counts 32·32·2 = 2048 patches; there are in fact 33·33·2 distinct 224×224 windows with
// reflections in a 256×256 image.
func ExamplePaperAugmentationFactor() {
	fmt.Println(augment.PaperAugmentationFactor(256, 224), augment.DistinctCropFlips(256, 224))
	// Output: 2048 2178
}

func ExampleTenCrop() {
	im := augment.NewImage(256, 256, 3)
	crops, err := augment.TenCrop(im, 224)
	if err != nil {
		panic(err)
	}
	specs, _ := augment.TenCropSpecs(256, 256, 224)
	fmt.Println(len(crops), crops[0].H, specs[4], specs[9])
	// Output: 10 224 {16 16 224 false} {16 16 224 true}
}

func ExampleColourPCA_Augment() {
	// Two colours, (0.2, 0.3, 0.4) and (0.6, 0.7, 0.8): all the variance lies along (1, 1, 1)/√3, so the
	// colour shift α₁λ₁p₁ brightens or darkens every channel alike.
	im := augment.Image{H: 1, W: 2, C: 3, Pixels: []float32{0.2, 0.3, 0.4, 0.6, 0.7, 0.8}}
	pca, err := augment.FitColourPCA(im)
	if err != nil {
		panic(err)
	}
	fmt.Printf("λ = %.3f, p₁ = %.3f\n", pca.Eigenvalues, [3]float64{pca.Eigenvectors[0][0], pca.Eigenvectors[1][0], pca.Eigenvectors[2][0]})
	_, alpha, _ := pca.Augment(rand.New(rand.NewPCG(1, 2)), im, augment.PCAColourSigma)
	fmt.Printf("α = %.4f, shift = %.4f\n", alpha, pca.Shift(alpha))
	// Output:
	// λ = [0.240 0.000 0.000], p₁ = [0.577 0.577 0.577]
	// α = [0.0379 0.0075 0.0200], shift = [0.0053 0.0053 0.0053]
}
