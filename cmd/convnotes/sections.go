package main

import (
	"github.com/convnotes/convnotes/gomlx_models/papers/alexnet"
	"github.com/convnotes/convnotes/gomlx_models/papers/convolution"
	"github.com/convnotes/convnotes/gomlx_models/papers/deconvolution"
	"github.com/convnotes/convnotes/gomlx_models/papers/inception"
	"github.com/convnotes/convnotes/gomlx_models/papers/nin"
	"github.com/convnotes/convnotes/gomlx_models/papers/optimization"
	"github.com/convnotes/convnotes/gomlx_models/papers/regularization"
	"github.com/convnotes/convnotes/gomlx_models/papers/resnet"
	"github.com/convnotes/convnotes/gomlx_models/papers/sdae"
	"github.com/convnotes/convnotes/gomlx_models/papers/styletransfer"
	"github.com/convnotes/convnotes/gomlx_models/papers/vgg"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
)

// sections lists the notebooks' reproductions in notebook order: `convnotes reproduce` and `convnotes list` run
// and print exactly these.
func sections() []reproduce.Section {
	return []reproduce.Section{
		optimization.Section(),
		regularization.Section(),
		convolution.Section(),
		deconvolution.Section(),
		alexnet.Section(),
		vgg.Section(),
		nin.Section(),
		inception.Section(),
		resnet.Section(),
		styletransfer.Section(),
		sdae.Section(),
	}
}
