package resnet

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Count is a network's (or block's) trainable parameters and multiply-adds per example.
type Count struct {
	Params int
	MACs   int64
}

// Measure builds fn once for an h×w×c input with the Native layers (so the multiply-adds are the textbook
// ones, not those of the im2col fast path) and counts it. Nothing is executed.
func Measure(backend compute.Backend, fn func(scope *model.Scope, x *graph.Node) *graph.Node, h, w, c int) (Count, error) {
	t, err := summary.Of(backend, nil, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.SetParam(layers.ParamImpl, layers.Native)
		return fn(scope, x)
	}, shapes.Make(dtypes.Float32, 1, h, w, c))
	if err != nil {
		return Count{}, err
	}
	return Count{Params: t.TrainableParams, MACs: t.TotalMACs}, nil
}

// ImageNetRow is one column of Table 1: the paper's FLOPs (multiply-adds) and torchvision's parameter count
// beside the project's.
type ImageNetRow struct {
	Config models.ResNetConfig
	// PaperGFLOPs is Table 1's "FLOPs" row (multiply-adds, ×10⁹); TorchvisionParams torchvision's count.
	PaperGFLOPs       float64
	TorchvisionParams int
	// Paper is the network as the paper built it (the stride of a bottleneck on its first 1×1 convolution);
	// V15 the torchvision variant the table holds (stride on the 3×3). Equal for the basic-block nets.
	Paper, V15 Count
}

// ImageNetNets are Table 1's five networks with their published numbers.
var ImageNetNets = []struct {
	Config            models.ResNetConfig
	PaperGFLOPs       float64
	TorchvisionParams int
}{
	{models.ResNet18, 1.8, 11_689_512},
	{models.ResNet34, 3.6, 21_797_672},
	{models.ResNet50, 3.8, 25_557_032},
	{models.ResNet101, 7.6, 44_549_160},
	{models.ResNet152, 11.3, 60_192_808},
}

// ImageNetTable counts every network of Table 1 on a 224×224×3 image.
func ImageNetTable(backend compute.Backend) ([]ImageNetRow, error) {
	var rows []ImageNetRow
	for _, n := range ImageNetNets {
		row := ImageNetRow{Config: n.Config, PaperGFLOPs: n.PaperGFLOPs, TorchvisionParams: n.TorchvisionParams}
		var err error
		if row.V15, err = Measure(backend, models.ResNet(n.Config), 224, 224, 3); err != nil {
			return nil, fmt.Errorf("%s: %w", n.Config.Name, err)
		}
		row.Paper = row.V15
		if n.Config.Block.Expansion == 4 {
			v1 := n.Config
			v1.Block = models.BottleneckV1
			if row.Paper, err = Measure(backend, models.ResNet(v1), 224, 224, 3); err != nil {
				return nil, fmt.Errorf("%s (v1): %w", n.Config.Name, err)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// BlockCosts are the two blocks of Fig. 5 on conv2_x's 56×56 grid: a basic block on 64 channels and a
// bottleneck block (64 planes) on 256 channels, identity shortcuts.
type BlockCosts struct {
	Basic, Bottleneck Count
}

// CompareBlocks counts the two blocks of Fig. 5 ("similar time complexity", §4.1).
func CompareBlocks(backend compute.Backend) (BlockCosts, error) {
	var bc BlockCosts
	for _, b := range []struct {
		cfg  models.ResNetConfig
		in   int
		dest *Count
	}{{models.ResNet34, 64, &bc.Basic}, {models.ResNet50, 256, &bc.Bottleneck}} {
		cfg := b.cfg
		c, err := Measure(backend, func(scope *model.Scope, x *graph.Node) *graph.Node {
			return cfg.Unit(scope, x, 64, 1)
		}, 56, 56, b.in)
		if err != nil {
			return bc, fmt.Errorf("%s block: %w", cfg.Block.Name, err)
		}
		*b.dest = c
	}
	return bc, nil
}

// ShortcutRow is one network counted with each shortcut option.
type ShortcutRow struct {
	Name    string
	A, B, C Count
}

// CompareShortcuts counts ResNet-34 (224×224×3) and the CIFAR ResNet-20 (32×32×3) with options A, B and C
// (§3.3, Table 3).
func CompareShortcuts(backend compute.Backend) ([]ShortcutRow, error) {
	r20, err := models.CIFARResNet(20, models.ShortcutA)
	if err != nil {
		return nil, err
	}
	var rows []ShortcutRow
	for _, n := range []struct {
		cfg  models.ResNetConfig
		size int
	}{{models.ResNet34, 224}, {r20, 32}} {
		row := ShortcutRow{Name: n.cfg.Name}
		for _, s := range []struct {
			opt  models.Shortcut
			dest *Count
		}{{models.ShortcutA, &row.A}, {models.ShortcutB, &row.B}, {models.ShortcutC, &row.C}} {
			cfg := n.cfg
			cfg.Shortcut = s.opt
			if *s.dest, err = Measure(backend, models.ResNet(cfg), n.size, n.size, 3); err != nil {
				return nil, fmt.Errorf("%s option %s: %w", cfg.Name, s.opt, err)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
