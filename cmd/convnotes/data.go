package main

import (
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/data"
)

func init() {
	commands["data"] = command{"check that the datasets are present and intact (SHA-256); print each file's path", dataCmd}
}

// dataCmd loads every split of every dataset convnotes uses, which verifies checksums and formats, and prints
// the path of each file it read, so a user knows which copy a number comes from.
func dataCmd(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: data takes no arguments", errUsage)
	}
	if dir, err := data.DataDir(); err != nil {
		return err
	} else if dir != "" {
		fmt.Printf("%s=%s (searched first)\n", data.EnvDataDir, dir)
	}
	type loader struct {
		name, dataset string
		load          func(data.Split) (*data.Images, error)
	}
	var failed int
	for _, l := range []loader{{"MNIST", data.DatasetMNIST, data.MNIST}, {"Fashion-MNIST", data.DatasetFashionMNIST, data.FashionMNIST}} {
		for _, split := range []data.Split{data.Train, data.Test} {
			im, err := l.load(split)
			if err != nil {
				fmt.Printf("%-14s %-5s  MISSING/BAD  %v\n", l.name, split, err)
				failed++
				continue
			}
			fmt.Printf("%-14s %-5s  ok  %d images %dx%dx%d\n", l.name, split, im.N, im.H, im.W, im.C)
			if imgs, lbls, err := data.SplitFiles(l.dataset, split); err == nil {
				fmt.Printf("%22s%s\n%22s%s\n", "", imgs, "", lbls)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d dataset split(s) missing or corrupt (see the remedies above)", failed)
	}
	return nil
}
