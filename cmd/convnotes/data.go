package main

import (
	"errors"
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
	for _, l := range []loader{{"MNIST", data.SourceMNIST, data.MNIST}, {"Fashion-MNIST", data.SourceFashionMNIST, data.FashionMNIST}} {
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
	if src, err := data.LocateCIFAR10(); err != nil {
		fmt.Printf("%-14s %-5s  absent (optional; experiments use Fashion-MNIST instead)  %v\n", "CIFAR-10", "", err)
	} else {
		for _, split := range []data.Split{data.Train, data.Test} {
			im, err := data.CIFAR10(split)
			if err != nil {
				fmt.Printf("%-14s %-5s  MISSING/BAD  %v\n", "CIFAR-10", split, err)
				failed++
				continue
			}
			fmt.Printf("%-14s %-5s  ok  %d images %dx%dx%d from %s\n", "CIFAR-10", split, im.N, im.H, im.W, im.C, src)
		}
	}
	for _, p := range data.Photos {
		switch im, err := data.LoadPhoto(p.Name, 0); {
		case errors.Is(err, data.ErrNotFound):
			fmt.Printf("%-14s %-5s  absent (optional; notebook 05's figures)  %v\n", "photo", "", err)
		case err != nil:
			fmt.Printf("%-14s %-5s  MISSING/BAD  %v\n", "photo", "", err)
			failed++
		default:
			fmt.Printf("%-14s %-5s  ok  %s %dx%dx3\n", "photo", "", p.Name, im.H, im.W)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d dataset split(s) missing or corrupt (see the remedies above)", failed)
	}
	return nil
}
