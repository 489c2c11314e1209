package inception

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/plots"
)

// Table 3 of the paper builds Inception-v3 from Inception-v2 in four cumulative steps, each row with the
// single-crop ILSVRC-2012 errors and the cost in billions of operations:
//
//	Inception-v2                 23.4%   —     3.8
//	+ RMSProp                    23.1%   6.3%  3.8
//	+ Label Smoothing            22.8%   6.1%  3.8
//	+ Factorized 7×7             21.6%   5.8%  4.8
//	+ BN-auxiliary               21.2%   5.6%  4.8  (= Inception-v3)
//
// "Factorized 7×7 includes a change that factorizes the first 7×7 convolutional layer into a sequence of 3×3
// convolutional layers. BN-auxiliary refers to the version in which the fully connected layer of the auxiliary
// classifier is also batch-normalized, not just the convolutions."

// V3Step is one row of Table 3 with what it changes in the network, measured.
type V3Step struct {
	Name, Change string
	// PaperTop1 and PaperCost are Table 3's top-1 error (%) and cost (billions of operations).
	PaperTop1, PaperCost float64
	// Params and MACs are the change in parameters (trainable and not) and in multiply-adds the step makes,
	// measured on the part of the network it touches.
	Params int
	MACs   int64
}

// stem7x7 is the first layer before "Factorized 7×7": one 7×7 convolution at stride 2 to 64 channels (then BN and
// ReLU), 299×299×3 → 147×147×64.
func stem7x7(scope *model.Scope, x *graph.Node) *graph.Node {
	return models.InceptionModuleApply(scope, x, models.InceptionModule{Name: "stem7x7", Kind: "Stem", Grid: 147, Channels: 64,
		Branches: []models.InceptionBranch{{Name: "conv", Steps: []models.InceptionStep{
			{Convs: []models.InceptionConv{{Filters: 64, KH: 7, KW: 7, Stride: 2, Padding: layers.Valid}}}}}}})
}

// stem3x3 is Table 1's factorized beginning, as the network builds it: 3×3/2 to 32, 3×3 to 32, 3×3 'same' to 64,
// 299×299×3 → 147×147×64 (the first three units of models.InceptionStem).
func stem3x3(scope *model.Scope, x *graph.Node) *graph.Node {
	stem := models.InceptionStem()
	steps := stem.Branches[0].Steps[:3]
	return models.InceptionModuleApply(scope, x, models.InceptionModule{Name: "stem3x3", Kind: "Stem", Grid: 147, Channels: 64,
		Branches: []models.InceptionBranch{{Name: "stem", Steps: steps}}})
}

// auxHead is the auxiliary classifier on the last 17×17×768 layer (Fig. 8): 5×5/3 average pooling, a 1×1
// convolution to 128 (BN, ReLU), a fully connected layer of 768 units and the 1000 logits; bn puts batch
// normalization on the 768-unit layer (BN-auxiliary) instead of its bias.
func auxHead(bn bool) func(scope *model.Scope, x *graph.Node) *graph.Node {
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		x = layers.AvgPool2D(scope.In("pool"), x, layers.Pool{Window: 5, Stride: 3})
		x = models.InceptionModuleApply(scope, x, models.InceptionModule{Name: "aux", Kind: "Aux", Grid: 5, Channels: 128,
			Branches: []models.InceptionBranch{{Name: "conv", Steps: []models.InceptionStep{
				{Convs: []models.InceptionConv{{Filters: 128, KH: 1, KW: 1, Stride: 1, Padding: layers.Same}}}}}}})
		fc := scope.In("fc")
		if bn {
			x = layers.ReLU(layers.BatchNorm(fc, layers.DenseNoBias(fc, x, 768)))
		} else {
			x = layers.ReLU(layers.Dense(fc, x, 768))
		}
		return layers.Dense(scope.In("logits"), x, models.InceptionV3ImageNetClasses)
	}
}

// V3Steps measures what each of Table 3's steps changes: RMSProp and label smoothing change the training only
// (RMSProp keeps one mean square per parameter where SGD with momentum keeps one velocity, so the state is the
// same size); the factorized 7×7 is measured on the stem (the rest of the network sees the same 147×147×64 either
// way); BN-auxiliary on the auxiliary head, which runs only while training (it adds nothing at inference).
func V3Steps(backend compute.Backend) ([]V3Step, error) {
	if backend == nil {
		return nil, errors.New("inception: nil backend")
	}
	measure := func(fn func(*model.Scope, *graph.Node) *graph.Node, in shapes.Shape) (*summary.Table, error) {
		t, err := summary.Of(backend, nil, fn, in)
		if err != nil {
			return nil, fmt.Errorf("inception: Table 3 steps: %w", err)
		}
		return t, nil
	}
	img := shapes.Make(dtypes.Float32, 1, models.InceptionV3Size, models.InceptionV3Size, 3)
	s7, err := measure(stem7x7, img)
	if err != nil {
		return nil, err
	}
	s3, err := measure(stem3x3, img)
	if err != nil {
		return nil, err
	}
	grid17 := shapes.Make(dtypes.Float32, 1, 17, 17, 768)
	a0, err := measure(auxHead(false), grid17)
	if err != nil {
		return nil, err
	}
	a1, err := measure(auxHead(true), grid17)
	if err != nil {
		return nil, err
	}
	if d := s3.OutputShape.Dimensions; d[1] != 147 || d[3] != 64 || !s7.OutputShape.Equal(s3.OutputShape) {
		return nil, fmt.Errorf("inception: the two stems give %v and %v", s7.OutputShape, s3.OutputShape)
	}
	return []V3Step{
		{Name: "Inception-v2", Change: "the network of Table 1 with a 7×7/2 first layer, SGD with momentum", PaperTop1: 23.4, PaperCost: 3.8},
		{Name: "+ RMSProp", Change: "optimizer: RMSProp (decay 0.9, ε = 1.0) instead of momentum", PaperTop1: 23.1, PaperCost: 3.8},
		{Name: "+ Label Smoothing", Change: "loss: targets (1 − ε)δ + ε/K, ε = 0.1", PaperTop1: 22.8, PaperCost: 3.8},
		{Name: "+ Factorized 7×7", Change: "first layer: 7×7/2 → 3×3/2 (32), 3×3 (32), 3×3 (64)", PaperTop1: 21.6, PaperCost: 4.8,
			Params: s3.TotalParams - s7.TotalParams, MACs: s3.TotalMACs - s7.TotalMACs},
		{Name: "+ BN-auxiliary", Change: "auxiliary head: batch normalization on its 768-unit FC layer (training only)", PaperTop1: 21.2,
			PaperCost: 4.8, Params: a1.TotalParams - a0.TotalParams},
	}, nil
}

// V3StepsFigure draws Table 3's cost column and the cost the steps add as measured here (billions), against the
// step, with Table 3's top-1 error.
func V3StepsFigure(steps []V3Step) (*plots.Figure, error) {
	cost := plots.Series{Name: "Table 3: cost (Bn ops)", Points: true}
	ours := plots.Series{Name: "measured: 3.8 + multiply-adds added (×10⁹)", Points: true}
	top1 := plots.Series{Name: "Table 3: top-1 error (%) / 10", Points: true}
	added := 0.0
	for i, s := range steps {
		x := float64(i)
		added += float64(s.MACs) / 1e9
		cost.X, cost.Y = append(cost.X, x), append(cost.Y, s.PaperCost)
		ours.X, ours.Y = append(ours.X, x), append(ours.Y, steps[0].PaperCost+added)
		top1.X, top1.Y = append(top1.X, x), append(top1.Y, s.PaperTop1/10)
	}
	return plots.Curves("Table 3's steps (0 = Inception-v2, then + RMSProp, + label smoothing, + factorized 7×7, + BN-auxiliary)",
		"step", "billions / (% ÷ 10)", []plots.Series{cost, ours, top1})
}
