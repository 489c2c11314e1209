package vgg

import (
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Side32 loads a split of CIFAR-10 when the user has it, else Fashion-MNIST zero-padded to 32×32 (five 2×2
// poolings need a multiple of 32), and the name of the data set it read.
func Side32(split data.Split) (*data.Images, string, error) {
	im, name, err := data.CIFAR10OrFashionMNIST(split)
	if err != nil {
		return nil, "", fmt.Errorf("VGG data: %w", err)
	}
	padded, err := im.PadTo(32)
	if err != nil {
		return nil, "", fmt.Errorf("VGG data: %w", err)
	}
	return padded, name, nil
}

func side32(split data.Split) (*data.Images, error) {
	im, _, err := Side32(split)
	return im, err
}

// SmallFC is the width of the small VGG's two hidden FC layers (d2l keeps 4096; 32×32 inputs leave a 1×1×128
// map, which 256 units cover).
const SmallFC = 256

// SmallVGG is the configuration trained in the notebook: Table 1's configuration A with every width divided by
// 4 (d2l's "ratio 4" VGG-11), 32×32 inputs, FC 256-256-10, dropout 0.5.
var SmallVGG = models.VGGSmall(SmallFC)

// SmallClassification is the recipe of the small VGG per profile: Adam 1e-3, batch 64, 160 steps on 9,600 images
// (about one epoch; quick: 30 steps on 960), evaluated on the test split and on the first training images. The
// paper trains 74 epochs with SGD; on 2 cores one step of this net takes about a second.
var SmallClassification = train.ByProfile[train.Classification]{
	Quick: train.Classification{Name: "vgg-small", Model: mustModel(SmallVGG), Dataset: side32, BatchSize: 64,
		TrainN: 960, TestN: 300, Steps: 30, LR: 1e-3, EvalEvery: 15, EvalTrainN: 300},
	Full: train.Classification{Name: "vgg-small", Model: mustModel(SmallVGG), Dataset: side32, BatchSize: 64,
		TrainN: 9600, TestN: 1000, Steps: 160, LR: 1e-3, EvalEvery: 40, EvalTrainN: 1000},
}

// mustModel is the model function of a configuration the package defines (and its tests build).
func mustModel(c models.VGGConfig) train.ModelFn {
	fn, err := models.VGG(c)
	if err != nil {
		panic(err)
	}
	return fn
}

// Curves draws a run's training loss and its accuracy on the "test" and "train" evaluation sets against steps.
func Curves(run *train.Run, title string) (loss, accuracy *plots.Figure, err error) {
	xs, ys, err := run.History.Series("step", "loss")
	if err != nil {
		return nil, nil, err
	}
	if loss, err = plots.Curves(title+": training loss", "step", "cross-entropy",
		[]plots.Series{{Name: "batch loss", X: xs, Y: ys}}, plots.LogY()); err != nil {
		return nil, nil, err
	}
	var series []plots.Series
	for _, set := range []string{"train", "test"} {
		ex, ey, err := run.History.EvalSeries(set, "step", "accuracy")
		if err != nil {
			return nil, nil, err
		}
		if len(ex) > 0 {
			series = append(series, plots.Series{Name: set, X: ex, Y: ey, Points: true})
		}
	}
	if accuracy, err = plots.Curves(title+": accuracy", "step", "accuracy", series); err != nil {
		return nil, nil, err
	}
	return loss, accuracy, nil
}
