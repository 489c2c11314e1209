// Package inception is notebook 08: Szegedy, Vanhoucke, Ioffe, Shlens & Wojna 2016, "Rethinking the Inception
// Architecture for Computer Vision" (Inception v3). The network is models.InceptionV3 (Keras's layout, as tables of
// its module types); this package measures its size and cost, runs it with the pretrained nsfwjs weights, measures
// the factorizations of §3 and the grid reduction of §5 from the project's own layers, checks label smoothing
// (§7) and shows the training recipe of §8.
package inception

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// Paper's numbers (abstract, §6 and Table 3).
const (
	// PaperMACs is the abstract's "computational cost of 5 billion multiply-adds per inference".
	PaperMACs = 5e9
	// PaperLayers is §6's "the network is 42 layers deep".
	PaperLayers = 42
	// KerasParams is Keras's InceptionV3 with the 1000-class top (model.summary()).
	KerasParams = 23_851_784
)

// Size is the measured size of Inception v3 with the ImageNet top at 299×299.
type Size struct {
	Params, Trainable int
	MACs              int64
	// Units is the number of conv2d_bn units (Keras: 94).
	Units int
	// Depth counts the weight layers on the longest input-to-output path: convolutions, plus the dense layers.
	Depth, DepthConvs int
	// ModuleDepths is each module's longest branch, in convolutions (Table 1's rows as Keras builds them).
	ModuleDepths []ModuleDepth
	Table        *summary.Table
}

// ModuleDepth is one module's longest branch.
type ModuleDepth struct {
	Name, Kind string
	Convs      int
}

// Depth counts the weight layers on the longest path through modules: per module, the branch with the most
// convolution steps (a 1×3 ∥ 3×1 split is one step: both read the same input), summed, plus the hidden and output
// dense layers of cfg.
func Depth(modules []models.InceptionModule, cfg models.InceptionV3Config) (total, convs int, per []ModuleDepth) {
	for _, m := range modules {
		longest := 0
		for _, b := range m.Branches {
			n := 0
			for _, s := range b.Steps {
				if len(s.Convs) > 0 {
					n++
				}
			}
			longest = max(longest, n)
		}
		per = append(per, ModuleDepth{m.Name, m.Kind, longest})
		convs += longest
	}
	return convs + len(cfg.Hidden) + 1, convs, per
}

// MeasureSize builds Inception v3 with the ImageNet top on backend and counts its parameters, multiply-adds
// (summary.Of, one 299×299×3 image) and depth.
func MeasureSize(backend compute.Backend) (*Size, error) {
	if backend == nil {
		return nil, errors.New("inception: nil backend")
	}
	fn, err := models.InceptionV3(models.InceptionV3ImageNet)
	if err != nil {
		return nil, err
	}
	table, err := summary.Of(backend, nil, fn, shapes.Make(dtypes.Float32, 1, models.InceptionV3Size, models.InceptionV3Size, 3))
	if err != nil {
		return nil, fmt.Errorf("inception: summary: %w", err)
	}
	d, dc, per := Depth(models.InceptionV3Modules, models.InceptionV3ImageNet)
	return &Size{Params: table.TotalParams, Trainable: table.TrainableParams, MACs: table.TotalMACs,
		Units: len(models.InceptionV3Units()), Depth: d, DepthConvs: dc, ModuleDepths: per, Table: table}, nil
}
