package models_test

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// The parameter counts of VGG's Table 2, from the graph each configuration builds.
func ExampleVGGPaper() {
	b, err := backend.New("")
	if err != nil {
		panic(err)
	}
	for _, name := range models.VGGConfigNames {
		cfg, err := models.VGGPaper(name, false)
		if err != nil {
			panic(err)
		}
		fn, err := models.VGG(cfg)
		if err != nil {
			panic(err)
		}
		t, err := summary.Of(b, nil, fn, shapes.Make(dtypes.Float32, 1, 224, 224, 3))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-5s %11s  %.0fM\n", name, summary.Thousands(int64(t.TotalParams)), float64(t.TotalParams)/1e6)
	}
	// Output:
	// A     132,863,336  133M
	// A-LRN 132,863,336  133M
	// B     133,047,848  133M
	// C     133,638,952  134M
	// D     138,357,544  138M
	// E     143,667,240  144M
}

// AlexNet on two GPUs (the paper, 227×227 inputs) and on one (torchvision, 224×224): parameters and
// multiply-adds per image.
func ExampleAlexNet() {
	b, err := backend.New("")
	if err != nil {
		panic(err)
	}
	for _, c := range []struct {
		cfg  models.AlexNetConfig
		side int
	}{{models.AlexNetPaper, 227}, {models.AlexNetTorchvision, 224}} {
		fn, err := models.AlexNet(c.cfg)
		if err != nil {
			panic(err)
		}
		t, err := summary.Of(b, nil, fn, shapes.Make(dtypes.Float32, 1, c.side, c.side, 3))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %s parameters, %s MACs\n", c.cfg.Name, summary.Thousands(int64(t.TotalParams)),
			summary.Thousands(t.TotalMACs))
	}
	// Output:
	// AlexNet (paper, two towers): 60,965,224 parameters, 724,406,816 MACs
	// AlexNet (torchvision, one tower): 61,100,840 parameters, 714,188,480 MACs
}
