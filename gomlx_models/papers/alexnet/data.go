package alexnet

import (
	"fmt"
	"math"

	"github.com/convnotes/convnotes/gomlx_models/data"
)

// Data is a train/test pair at 32×32: CIFAR-10 when the user has it, else Fashion-MNIST centred in 32×32 fields
// (as d2l trains AlexNet on Fashion-MNIST), normalized by the training split's mean and standard deviation.
type Data struct {
	// Name is the data set the numbers come from: "CIFAR-10" or "Fashion-MNIST".
	Name        string
	Train, Test *data.Images
}

// LoadData loads CIFAR-10 or, without it, Fashion-MNIST, pads the images to side×side, keeps the first trainN
// training and testN test images (0: all) and normalizes both splits with the training split's statistics.
func LoadData(side, trainN, testN int) (*Data, error) {
	tr, name, err := data.CIFAR10OrFashionMNIST(data.Train)
	if err != nil {
		return nil, fmt.Errorf("alexnet: training images: %w", err)
	}
	te, _, err := data.CIFAR10OrFashionMNIST(data.Test)
	if err != nil {
		return nil, fmt.Errorf("alexnet: test images: %w", err)
	}
	if trainN > 0 {
		tr = tr.Subset(trainN)
	}
	if testN > 0 {
		te = te.Subset(testN)
	}
	if tr, err = tr.PadTo(side); err != nil {
		return nil, fmt.Errorf("alexnet: %w", err)
	}
	if te, err = te.PadTo(side); err != nil {
		return nil, fmt.Errorf("alexnet: %w", err)
	}
	mean, std := tr.MeanStd()
	if !(std > 0) || math.IsNaN(float64(mean)) {
		return nil, fmt.Errorf("alexnet: %s training images have standard deviation %g", name, std)
	}
	return &Data{Name: name, Train: tr.Normalize(mean, std), Test: te.Normalize(mean, std)}, nil
}

// split returns d's training or test images (the Dataset function of a train.Classification).
func (d *Data) split(s data.Split) (*data.Images, error) {
	if s == data.Train {
		return d.Train, nil
	}
	return d.Test, nil
}
