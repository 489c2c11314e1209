package sdae

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
)

// Table 3 of the paper on MNIST itself (test error, %), context for the variants the study measures.
const (
	PaperSDAE3  = 1.28
	PaperSAE3   = 1.40
	PaperDBN3   = 1.24
	PaperSVMRBF = 1.40
)

// DenoiseError masks a fraction nu of the pixels of the first n images of im (seeded), reconstructs them with
// layer 1 of the autoencoder in store and returns the mean squared error per pixel against the clean images.
func DenoiseError(backend compute.Backend, net models.AutoencoderConfig, store *model.Store, im *data.Images, nu float64, n int) (mse float64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("denoise error: %v", p)
		}
	}()
	n = min(n, im.N)
	d := im.ImageSize()
	rng := NewRand(11)
	noisy := make([]float32, 0, n*d)
	for i := range n {
		noisy = append(noisy, Mask(rng, im.Image(i), nu)...)
	}
	out, err := model.CallOnce(backend, store, net.Reconstruct(0), tensors.FromFlatDataAndDimensions(noisy, n, d))
	if err != nil {
		return 0, fmt.Errorf("denoise error: %w", err)
	}
	defer out.MustFinalizeAll()
	z, err := tensors.CopyFlatData[float32](out)
	if err != nil {
		return 0, fmt.Errorf("denoise error: %w", err)
	}
	clean := im.Pixels[:n*d]
	for i, v := range z {
		e := float64(v - clean[i])
		mse += e * e
	}
	return mse / float64(n*d), nil
}
