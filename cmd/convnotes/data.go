package main

import (
	"errors"
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/data"
)

func init() {
	commands["data"] = command{"check that the datasets are present and intact (SHA-256)", dataCmd}
}

// dataCmd loads every split of every dataset convnotes uses, which verifies checksums and formats.
func dataCmd(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: data takes no arguments", errUsage)
	}
	type loader struct {
		name string
		load func(data.Split) (*data.Images, error)
	}
	var failed int
	for _, l := range []loader{{"MNIST", data.MNIST}, {"Fashion-MNIST", data.FashionMNIST}} {
		for _, split := range []data.Split{data.Train, data.Test} {
			im, err := l.load(split)
			if err != nil {
				fmt.Printf("%-14s %-5s  MISSING/BAD  %v\n", l.name, split, err)
				failed++
				continue
			}
			fmt.Printf("%-14s %-5s  ok  %d images %dx%dx%d\n", l.name, split, im.N, im.H, im.W, im.C)
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
