package models

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	gomlxlayers "github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// Szegedy, Vanhoucke, Ioffe, Shlens & Wojna 2016, "Rethinking the Inception Architecture for Computer Vision":
// Inception v3 (Table 1) as Keras's applications.InceptionV3 builds it, so that weights trained with Keras (the
// nsfwjs model of section 08) load one to one. Every convolution is a "conv2d_bn" unit: a convolution without
// bias, BatchNormalization without γ (scale=False, ε = 0.001) and a ReLU: BN after every convolution, as Keras
// builds it (the paper's Inception-v3 row of Table 3 adds BN to the auxiliary classifier, which Keras omits).
const (
	// InceptionV3Size is the input resolution: 299×299×3 (§6, Table 1).
	InceptionV3Size = 299
	// InceptionV3FeatureWidth is the width of the last 8×8 grid and of the pooled feature vector.
	InceptionV3FeatureWidth = 2048
	// InceptionV3ImageNetClasses is the width of Keras's top (ImageNet's 1000 classes).
	InceptionV3ImageNetClasses = 1000
	// inceptionBNEpsilon is Keras's BatchNormalization epsilon in InceptionV3.
	inceptionBNEpsilon = 1e-3
)

// InceptionConv is one conv2d_bn unit: Filters KH×KW kernels with the given stride and padding, then BN and ReLU.
type InceptionConv struct {
	Filters, KH, KW, Stride int
	Padding                 layers.Padding
}

// InceptionStep is one step of a branch: a unit, a pooling window, or several units applied to the same input
// and concatenated (the 8×8 modules' 1×3 ∥ 3×1 split, Fig. 7).
type InceptionStep struct {
	// Convs holds one unit, or the parallel units of a split.
	Convs []InceptionConv
	// Pool, when Window > 0, replaces the convolutions: max pooling if Max, else average pooling.
	Pool layers.Pool
	Max  bool
}

// InceptionBranch is one tower of a module, its steps applied in order.
type InceptionBranch struct {
	Name  string
	Steps []InceptionStep
}

// InceptionModule is one row of Table 1: its branches, whose outputs are concatenated along the channels, and the
// grid and width it outputs for a 299×299 input (asserted while the graph is built).
type InceptionModule struct {
	Name, Kind     string
	Branches       []InceptionBranch
	Grid, Channels int
}

func unit(filters, kh, kw, stride int, padding layers.Padding) InceptionStep {
	return InceptionStep{Convs: []InceptionConv{{filters, kh, kw, stride, padding}}}
}

// same is a stride-1 'same' unit (Keras's conv2d_bn default).
func same(filters, kh, kw int) InceptionStep { return unit(filters, kh, kw, 1, layers.Same) }

// split is the 8×8 modules' pair of parallel 1×3 and 3×1 units on the same input (Fig. 7).
func split(filters int) InceptionStep {
	return InceptionStep{Convs: []InceptionConv{{filters, 1, 3, 1, layers.Same}, {filters, 3, 1, 1, layers.Same}}}
}

var (
	avgPool3x3 = InceptionStep{Pool: layers.Pool{Window: 3, Stride: 1, Padding: layers.Same}}
	maxPool3x3 = InceptionStep{Pool: layers.Pool{Window: 3, Stride: 2, Padding: layers.Valid}, Max: true}
)

func branch(name string, steps ...InceptionStep) InceptionBranch {
	return InceptionBranch{Name: name, Steps: steps}
}

// InceptionStem is the network before the first Inception module (Table 1's first seven rows, with Keras's
// 1×1 conv before the 3×3×192): 299×299×3 → 35×35×192.
func InceptionStem() InceptionModule {
	return InceptionModule{Name: "stem", Kind: "Stem", Grid: 35, Channels: 192, Branches: []InceptionBranch{
		branch("stem",
			unit(32, 3, 3, 2, layers.Valid), unit(32, 3, 3, 1, layers.Valid), same(64, 3, 3), maxPool3x3,
			unit(80, 1, 1, 1, layers.Valid), unit(192, 3, 3, 1, layers.Valid), maxPool3x3),
	}}
}

// InceptionA is the 35×35 module of Fig. 5 (the 5×5 of Inception v1 as Keras keeps it in one branch, and the
// 5×5 factorized into two 3×3 in the other, §3.1), with poolFeatures 1×1 filters after the average pooling.
func InceptionA(name string, poolFeatures int) InceptionModule {
	return InceptionModule{Name: name, Kind: "InceptionA", Grid: 35, Channels: 224 + poolFeatures, Branches: []InceptionBranch{
		branch("branch1x1", same(64, 1, 1)),
		branch("branch5x5", same(48, 1, 1), same(64, 5, 5)),
		branch("branch3x3dbl", same(64, 1, 1), same(96, 3, 3), same(96, 3, 3)),
		branch("branch_pool", avgPool3x3, same(poolFeatures, 1, 1)),
	}}
}

// ReductionA is the 35×35 → 17×17 grid reduction of Fig. 10 (§5): stride-2 convolutions in parallel with a
// stride-2 max pooling, concatenated (torchvision's InceptionB).
func ReductionA(name string) InceptionModule {
	return InceptionModule{Name: name, Kind: "ReductionA", Grid: 17, Channels: 768, Branches: []InceptionBranch{
		branch("branch3x3", unit(384, 3, 3, 2, layers.Valid)),
		branch("branch3x3dbl", same(64, 1, 1), same(96, 3, 3), unit(96, 3, 3, 2, layers.Valid)),
		branch("branch_pool", maxPool3x3),
	}}
}

// InceptionC is the 17×17 module of Fig. 6 with n = 7: each 7×7 factorized into 1×7 and 7×1 (§3.2), c7 filters
// inside the factorized towers.
func InceptionC(name string, c7 int) InceptionModule {
	return InceptionModule{Name: name, Kind: "InceptionC", Grid: 17, Channels: 768, Branches: []InceptionBranch{
		branch("branch1x1", same(192, 1, 1)),
		branch("branch7x7", same(c7, 1, 1), same(c7, 1, 7), same(192, 7, 1)),
		branch("branch7x7dbl", same(c7, 1, 1), same(c7, 7, 1), same(c7, 1, 7), same(c7, 7, 1), same(192, 1, 7)),
		branch("branch_pool", avgPool3x3, same(192, 1, 1)),
	}}
}

// ReductionB is the 17×17 → 8×8 grid reduction (Fig. 10's scheme at the second reduction; torchvision's
// InceptionD).
func ReductionB(name string) InceptionModule {
	return InceptionModule{Name: name, Kind: "ReductionB", Grid: 8, Channels: 1280, Branches: []InceptionBranch{
		branch("branch3x3", same(192, 1, 1), unit(320, 3, 3, 2, layers.Valid)),
		branch("branch7x7x3", same(192, 1, 1), same(192, 1, 7), same(192, 7, 1), unit(192, 3, 3, 2, layers.Valid)),
		branch("branch_pool", maxPool3x3),
	}}
}

// InceptionE is the 8×8 module with expanded filter banks of Fig. 7, used on the coarsest grid "to promote high
// dimensional representations" (§6; principle 2 of §2): the 3×3 outputs split into parallel 1×3 and 3×1
// convolutions.
func InceptionE(name string) InceptionModule {
	return InceptionModule{Name: name, Kind: "InceptionE", Grid: 8, Channels: 2048, Branches: []InceptionBranch{
		branch("branch1x1", same(320, 1, 1)),
		branch("branch3x3", same(384, 1, 1), split(384)),
		branch("branch3x3dbl", same(448, 1, 1), same(384, 3, 3), split(384)),
		branch("branch_pool", avgPool3x3, same(192, 1, 1)),
	}}
}

// InceptionV3Modules is Table 1 of the paper as Keras lays it out: the stem, three 35×35 modules (35×35×288 after
// the last), the grid reduction to 17×17×768, four 17×17 modules, the reduction to 8×8×1280 and two 8×8 modules
// (8×8×2048). Module names are Keras's ("mixed0" … "mixed10").
var InceptionV3Modules = []InceptionModule{
	InceptionStem(),
	InceptionA("mixed0", 32), InceptionA("mixed1", 64), InceptionA("mixed2", 64),
	ReductionA("mixed3"),
	InceptionC("mixed4", 128), InceptionC("mixed5", 160), InceptionC("mixed6", 160), InceptionC("mixed7", 192),
	ReductionB("mixed8"),
	InceptionE("mixed9"), InceptionE("mixed10"),
}

// InceptionV3Config selects the classifier on top of the pooled 2048 features.
type InceptionV3Config struct {
	// Classes is the width of the final (logits) dense layer.
	Classes int
	// Hidden lists the widths of ReLU dense layers between the pooled features and the logits.
	Hidden []int
	// Dropout lists the dropout rate after each hidden layer (applied only while training).
	Dropout []float64
}

// InceptionV3ImageNet is Keras's top: global average pooling and a 1000-way dense layer.
var InceptionV3ImageNet = InceptionV3Config{Classes: InceptionV3ImageNetClasses}

// InceptionV3NSFWJS is the head nsfwjs trained on the Keras backbone (its topology: average pooling 8×8,
// flatten, dense 256 ReLU, dropout 0.5, dense 128 ReLU, dropout 0.25, dense 5 softmax).
var InceptionV3NSFWJS = InceptionV3Config{Classes: 5, Hidden: []int{256, 128}, Dropout: []float64{0.5, 0.25}}

// InceptionUnit is one conv2d_bn unit of the network with its scope path (relative to the model's scope) and its
// Keras index: the k-th unit built is Keras's conv2d_k and batch_normalization_k.
type InceptionUnit struct {
	Index int
	Scope string
	Conv  InceptionConv
}

// InceptionV3Units lists the 94 conv2d_bn units in the order the builder (and Keras) creates them.
func InceptionV3Units() []InceptionUnit {
	var units []InceptionUnit
	for _, m := range InceptionV3Modules {
		for _, b := range m.Branches {
			n := 0
			for _, s := range b.Steps {
				for _, c := range s.Convs {
					n++
					units = append(units, InceptionUnit{Index: len(units) + 1, Scope: unitScope(m, b, n), Conv: c})
				}
			}
		}
	}
	return units
}

// unitScope is the scope path of the n-th unit of a branch under the model's scope: "mixed0/branch5x5/conv2".
func unitScope(m InceptionModule, b InceptionBranch, n int) string {
	if m.Name == b.Name {
		return fmt.Sprintf("%s/conv%d", m.Name, n)
	}
	return fmt.Sprintf("%s/%s/conv%d", m.Name, b.Name, n)
}

// InceptionV3 returns the model function of Inception v3 with the given top: images [batch, 299, 299, 3]
// (other sizes from 75×75 work; the grid asserts apply at 299) → logits [batch, cfg.Classes].
func InceptionV3(cfg InceptionV3Config) (func(scope *model.Scope, x *graph.Node) *graph.Node, error) {
	if cfg.Classes < 1 {
		return nil, fmt.Errorf("InceptionV3: Classes must be positive, got %d", cfg.Classes)
	}
	if len(cfg.Dropout) > len(cfg.Hidden) {
		return nil, fmt.Errorf("InceptionV3: %d dropout rates for %d hidden layers", len(cfg.Dropout), len(cfg.Hidden))
	}
	for _, h := range cfg.Hidden {
		if h < 1 {
			return nil, fmt.Errorf("InceptionV3: hidden widths must be positive, got %v", cfg.Hidden)
		}
	}
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		logits, _ := InceptionV3WithTaps(scope, x, cfg)
		return logits
	}, nil
}

// InceptionV3WithTaps builds the network like [InceptionV3] and also returns its intermediate outputs by name:
// every module's ("stem", "mixed0" … "mixed10", as Keras names them), the pooled features ("avg_pool") and each
// hidden dense layer's after its ReLU ("dense1", …). The grid sizes are asserted at 299×299 inputs.
func InceptionV3WithTaps(scope *model.Scope, x *graph.Node, cfg InceptionV3Config) (logits *graph.Node, taps map[string]*graph.Node) {
	if x.Rank() != 4 || x.Shape().Dimensions[3] != 3 {
		panic(fmt.Errorf("InceptionV3: want [batch, height, width, 3] images, got %s", x.Shape()))
	}
	taps = make(map[string]*graph.Node)
	dims := x.Shape().Dimensions
	is299 := dims[1] == InceptionV3Size && dims[2] == InceptionV3Size
	for _, m := range InceptionV3Modules {
		x = InceptionModuleApply(scope, x, m)
		if is299 {
			x.AssertDims(dims[0], m.Grid, m.Grid, m.Channels)
		}
		taps[m.Name] = x
	}
	// Keras's top pools globally; nsfwjs's 8×8 average pooling and flatten are the same at 299×299.
	x = layers.GlobalAvgPool(scope.In("avg_pool"), x)
	taps["avg_pool"] = x
	for i, h := range cfg.Hidden {
		x = layers.ReLU(layers.Dense(scope.In("dense%d", i+1), x, h))
		taps[fmt.Sprintf("dense%d", i+1)] = x
		if i < len(cfg.Dropout) {
			x = gomlxlayers.DropoutStatic(scope.In("dropout%d", i+1), x, cfg.Dropout[i])
		}
	}
	return layers.Dense(scope.In("predictions"), x, cfg.Classes), taps
}

// InceptionModuleApply builds one module under scope.In(m.Name): each branch's steps in order, then the
// concatenation of the branches along the channels (a single-branch module, the stem, is its branch).
func InceptionModuleApply(scope *model.Scope, x *graph.Node, m InceptionModule) *graph.Node {
	return inceptionModuleApply(scope, x, m, false, nil)
}

// inceptionModuleApply is [InceptionModuleApply]; avgPool turns every max pooling into an average pooling of the
// same window (Gatys et al. 2016, §2), and onUnit, if not nil, sees the output of every unit and pooling step by
// its scope path relative to the model's scope ("stem/conv1", "stem/pool4").
func inceptionModuleApply(scope *model.Scope, x *graph.Node, m InceptionModule, avgPool bool, onUnit func(name string, y *graph.Node)) *graph.Node {
	ms := scope.In("%s", m.Name)
	outs := make([]*graph.Node, len(m.Branches))
	for bi, b := range m.Branches {
		bs := ms
		if b.Name != m.Name {
			bs = ms.In("%s", b.Name)
		}
		y := x
		n := 0
		for si, s := range b.Steps {
			if s.Pool.Window > 0 {
				if s.Max && !avgPool {
					y = layers.MaxPool2D(bs.In("pool%d", si+1), y, s.Pool)
				} else {
					y = layers.AvgPool2D(bs.In("pool%d", si+1), y, s.Pool)
				}
				if onUnit != nil {
					onUnit(strings.TrimSuffix(unitScope(m, b, 0), "conv0")+fmt.Sprintf("pool%d", si+1), y)
				}
				continue
			}
			parts := make([]*graph.Node, len(s.Convs))
			for ci, c := range s.Convs {
				n++
				parts[ci] = inceptionUnit(bs.In("conv%d", n), y, c)
				if onUnit != nil {
					onUnit(unitScope(m, b, n), parts[ci])
				}
			}
			y = layers.ConcatChannels(parts...)
		}
		outs[bi] = y
	}
	return layers.ConcatChannels(outs...)
}

// inceptionUnit is conv2d_bn: convolution without bias, BN without γ (ε = 0.001), ReLU.
func inceptionUnit(scope *model.Scope, x *graph.Node, c InceptionConv) *graph.Node {
	x = layers.Conv2D(scope, x, layers.Conv{Filters: c.Filters, KernelH: c.KH, KernelW: c.KW, Stride: c.Stride, Padding: c.Padding})
	x = layers.FrozenBatchNorm(scope.In("bn"), x, layers.FrozenBN{Epsilon: inceptionBNEpsilon})
	return layers.ReLU(x)
}

// InceptionV3Features builds Inception v3 (the variables of [InceptionV3WithTaps], same scopes) only as far as the
// deepest of the named outputs and returns them: module outputs ("stem", "mixed0" … "mixed10") or single units and
// poolings by their scope ("stem/conv1" … "stem/conv5", "stem/pool4", "mixed0/branch5x5/conv2"). With avgPool,
// every max pooling (the stem's two and the grid reductions' pooling branches) averages its window instead, as
// Gatys et al. (2016, §2) do in VGG-19 for image synthesis. Inputs from 75×75 work; the grids are not asserted.
func InceptionV3Features(scope *model.Scope, x *graph.Node, avgPool bool, names ...string) (map[string]*graph.Node, error) {
	if x.Rank() != 4 || x.Shape().Dimensions[3] != 3 {
		return nil, fmt.Errorf("InceptionV3Features: want [batch, height, width, 3] images, got %s", x.Shape())
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	out := make(map[string]*graph.Node, len(names))
	keep := func(name string, y *graph.Node) {
		if want[name] {
			out[name] = y
		}
	}
	for _, m := range InceptionV3Modules {
		if len(out) == len(want) {
			break
		}
		x = inceptionModuleApply(scope, x, m, avgPool, keep)
		keep(m.Name, x)
	}
	if len(out) != len(want) {
		var missing []string
		for _, n := range names {
			if out[n] == nil {
				missing = append(missing, n)
			}
		}
		return nil, fmt.Errorf("InceptionV3Features: no output named %s (modules are stem, mixed0 … mixed10; units "+
			"are named by scope, e.g. stem/conv1)", strings.Join(missing, ", "))
	}
	return out, nil
}
