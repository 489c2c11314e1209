package vgg

import (
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/data"
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

// SmallFC is the width of the small VGGs' two hidden FC layers (d2l keeps 4096; 32×32 inputs leave a 1×1×128
// map at widths ÷ 4, which 256 units cover).
const SmallFC = 256

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
