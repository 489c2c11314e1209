package models

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/regularize"
)

// VGGLayer is one entry of VGG's configuration table (Simonyan & Zisserman 2015, Table 1): a convolution of
// Filters kernels of side Kernel (3, or 1 in configuration C) with stride 1 and SAME padding followed by a ReLU,
// or a 2×2 stride-2 max-pool (M), or local response normalization (LRN, configuration A-LRN).
type VGGLayer struct {
	Filters, Kernel int
	Pool, LRN       bool
}

// vggConv3, vggConv1, vggPool and vggLRN spell Table 1's entries: "conv3-64", "conv1-256", "maxpool", "LRN".
func vggConv3(f int) VGGLayer { return VGGLayer{Filters: f, Kernel: 3} }
func vggConv1(f int) VGGLayer { return VGGLayer{Filters: f, Kernel: 1} }

var (
	vggPool = VGGLayer{Pool: true}
	vggLRN  = VGGLayer{LRN: true}
)

// VGGConfigNames are the columns of Table 1, in order.
var VGGConfigNames = []string{"A", "A-LRN", "B", "C", "D", "E"}

// VGGLayers is Table 1 of the paper, one row per configuration: A (VGG-11), A-LRN, B (VGG-13), C (VGG-16 with
// three 1×1 convolutions), D (VGG-16) and E (VGG-19).
var VGGLayers = map[string][]VGGLayer{
	"A": {
		vggConv3(64), vggPool,
		vggConv3(128), vggPool,
		vggConv3(256), vggConv3(256), vggPool,
		vggConv3(512), vggConv3(512), vggPool,
		vggConv3(512), vggConv3(512), vggPool,
	},
	"A-LRN": {
		vggConv3(64), vggLRN, vggPool,
		vggConv3(128), vggPool,
		vggConv3(256), vggConv3(256), vggPool,
		vggConv3(512), vggConv3(512), vggPool,
		vggConv3(512), vggConv3(512), vggPool,
	},
	"B": {
		vggConv3(64), vggConv3(64), vggPool,
		vggConv3(128), vggConv3(128), vggPool,
		vggConv3(256), vggConv3(256), vggPool,
		vggConv3(512), vggConv3(512), vggPool,
		vggConv3(512), vggConv3(512), vggPool,
	},
	"C": {
		vggConv3(64), vggConv3(64), vggPool,
		vggConv3(128), vggConv3(128), vggPool,
		vggConv3(256), vggConv3(256), vggConv1(256), vggPool,
		vggConv3(512), vggConv3(512), vggConv1(512), vggPool,
		vggConv3(512), vggConv3(512), vggConv1(512), vggPool,
	},
	"D": {
		vggConv3(64), vggConv3(64), vggPool,
		vggConv3(128), vggConv3(128), vggPool,
		vggConv3(256), vggConv3(256), vggConv3(256), vggPool,
		vggConv3(512), vggConv3(512), vggConv3(512), vggPool,
		vggConv3(512), vggConv3(512), vggConv3(512), vggPool,
	},
	"E": {
		vggConv3(64), vggConv3(64), vggPool,
		vggConv3(128), vggConv3(128), vggPool,
		vggConv3(256), vggConv3(256), vggConv3(256), vggConv3(256), vggPool,
		vggConv3(512), vggConv3(512), vggConv3(512), vggConv3(512), vggPool,
		vggConv3(512), vggConv3(512), vggConv3(512), vggConv3(512), vggPool,
	},
}

// VGG's fixed hyper-parameters.
const (
	// VGGInputSide is the training crop size, 224 (§2.1).
	VGGInputSide = 224
	// VGGFCWidth is the width of the two hidden fully connected layers (§2.1: "4096 channels each").
	VGGFCWidth = 4096
	// VGGDropout is the dropout ratio of the first two FC layers (§3.1).
	VGGDropout = 0.5
)

// VGGConfig is one VGG network: a row of [VGGLayers] and the head.
type VGGConfig struct {
	// Name labels the configuration, e.g. "D".
	Name string
	// Layers is the convolutional trunk, a row of Table 1 (or a variant of it).
	Layers []VGGLayer
	// BatchNorm adds batch normalization after every convolution (torchvision's vgg*_bn; not in the paper).
	BatchNorm bool
	// WidthDiv divides the number of kernels of every convolution (d2l trains VGG-11 with ratio 4); 0 or 1
	// keeps the paper's widths.
	WidthDiv int
	// FC are the widths of the hidden fully connected layers; Classes the output width.
	FC      []int
	Classes int
	// Dropout is applied after each hidden FC layer while training.
	Dropout float64
	// FCInputSide is the side of the trunk's output that the FC head is built for: 7 at 224×224 inputs.
	FCInputSide int
	// DenseEval builds the head as convolutions (§3.2, "dense evaluation"): fc6 becomes an FCInputSide×
	// FCInputSide convolution and fc7, fc8 1×1 convolutions, with the FC layers' own variables reshaped, so a
	// trained FC network can be evaluated densely on larger images. The class-score map is averaged over its
	// positions unless ScoreMap is set.
	DenseEval bool
	// ScoreMap (with DenseEval) returns the class-score map [batch, h, w, Classes] instead of its average.
	ScoreMap bool
	// LRN is the normalization of the A-LRN configuration (§2.1: "the parameters for the LRN layer are those
	// of (Krizhevsky et al., 2012)").
	LRN layers.LRN
}

// VGGPaper returns configuration name ("A", "A-LRN", "B", "C", "D" or "E") of Table 1 at the paper's scale:
// 224×224 inputs, FC 4096-4096-1000, dropout 0.5; bn adds batch normalization after each convolution.
func VGGPaper(name string, bn bool) (VGGConfig, error) {
	l, ok := VGGLayers[name]
	if !ok {
		return VGGConfig{}, fmt.Errorf("VGG: unknown configuration %q, want one of %v", name, VGGConfigNames)
	}
	return VGGConfig{Name: name, Layers: l, BatchNorm: bn, FC: []int{VGGFCWidth, VGGFCWidth}, Classes: 1000,
		Dropout: VGGDropout, FCInputSide: VGGInputSide / 32, LRN: layers.AlexNetLRN}, nil
}

// VGGSmall is d2l's small VGG-11 for small images: configuration A with WidthDiv 4, on 32×32 inputs (five
// pools leave 1×1), FC layers of fc units and ten classes.
func VGGSmall(fc int) VGGConfig {
	return VGGConfig{Name: "A/4 (32×32)", Layers: VGGLayers["A"], WidthDiv: 4, FC: []int{fc, fc}, Classes: 10,
		Dropout: VGGDropout, FCInputSide: 1, LRN: layers.AlexNetLRN}
}

// Validate reports an error for an unusable configuration.
func (c VGGConfig) Validate() error {
	if len(c.Layers) == 0 || c.Classes < 1 || c.FCInputSide < 1 {
		return fmt.Errorf("VGG %q: need layers, classes and FCInputSide ≥ 1", c.Name)
	}
	for i, l := range c.Layers {
		if !l.Pool && !l.LRN && (l.Filters < 1 || l.Kernel < 1) {
			return fmt.Errorf("VGG %q: layer %d %+v is invalid", c.Name, i, l)
		}
		if l.LRN && c.LRN.Size < 1 {
			return fmt.Errorf("VGG %q: layer %d is LRN but the config has no LRN constants", c.Name, i)
		}
	}
	for _, w := range c.FC {
		if w < 1 {
			return fmt.Errorf("VGG %q: FC width %d", c.Name, w)
		}
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("VGG %q: dropout %g outside [0, 1)", c.Name, c.Dropout)
	}
	if c.ScoreMap && !c.DenseEval {
		return fmt.Errorf("VGG %q: ScoreMap needs DenseEval", c.Name)
	}
	return nil
}

// VGG returns the model function of c: x [batch, H, W, C] → logits [batch, Classes] (or the class-score map, see
// ScoreMap). Layer scopes are conv<stage>_<i> (Table 1's stages are separated by the pools), pool<stage>, lrn
// and fc6, fc7, fc8, so a DenseEval model uses the variables of the FC model with the same config. After each
// pool the side H/2^stage is asserted (112, 56, 28, 14, 7 at 224); the FC head asserts FCInputSide.
func VGG(c VGGConfig) (func(scope *model.Scope, x *graph.Node) *graph.Node, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	div := max(1, c.WidthDiv)
	return func(scope *model.Scope, x *graph.Node) *graph.Node {
		if x.Rank() != 4 {
			panic(fmt.Errorf("VGG: want [batch, height, width, channels] images, got %s", x.Shape()))
		}
		batch, h, w := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
		stage, i := 1, 1
		for _, l := range c.Layers {
			switch {
			case l.Pool:
				x = layers.MaxPool2D(scope.In("pool%d", stage), x, layers.Pool{Window: 2})
				h, w = h/2, w/2
				x.AssertDims(batch, h, w, x.Shape().Dimensions[3])
				stage, i = stage+1, 1
			case l.LRN:
				x = layers.LocalResponseNorm(scope.In("lrn%d_%d", stage, i), x, c.LRN)
			default:
				s := scope.In("conv%d_%d", stage, i)
				x = layers.Conv2D(s, x, layers.Conv{Filters: max(1, l.Filters/div), Kernel: l.Kernel,
					Padding: layers.Same, UseBias: true})
				if c.BatchNorm {
					x = layers.BatchNorm(s, x)
				}
				x = layers.ReLU(x)
				i++
			}
		}
		if c.DenseEval {
			return vggDenseHead(scope, x, c)
		}
		x.AssertDims(batch, c.FCInputSide, c.FCInputSide, x.Shape().Dimensions[3])
		for j, width := range c.FC {
			s := scope.In("fc%d", 6+j)
			x = layers.ReLU(layers.Dense(s, x, width))
			if c.Dropout > 0 {
				x = regularize.InvertedDropout(s.In("dropout"), x, 1-c.Dropout)
			}
		}
		return layers.Dense(scope.In("fc%d", 6+len(c.FC)), x, c.Classes)
	}, nil
}

// vggDenseHead is §3.2's fully convolutional head: "the first FC layer is converted to a 7×7 conv. layer, the
// last two FC layers to 1×1 conv. layers", using the FC layers' variables (Dense weights [s·s·C, units], in the
// (height, width, channel) order Flatten uses, are exactly an s×s×C×units HWIO kernel).
func vggDenseHead(scope *model.Scope, x *graph.Node, c VGGConfig) *graph.Node {
	k := c.FCInputSide
	widths := append(append([]int{}, c.FC...), c.Classes)
	for j, units := range widths {
		s := scope.In("fc%d", 6+j)
		side := 1
		if j == 0 {
			side = k
		}
		inC := x.Shape().Dimensions[3]
		d := s.In("dense")
		g, dt := x.Graph(), x.DType()
		weights := d.VariableWithShape("weights", shapes.Make(dt, side*side*inC, units)).NodeValue(g)
		biases := d.VariableWithShape("biases", shapes.Make(dt, units)).NodeValue(g)
		kernel := graph.Reshape(weights, side, side, inC, units)
		x = layers.ConvWithKernel(s.In("conv"), x, kernel, biases, layers.Conv{})
		if j < len(c.FC) {
			x = layers.ReLU(x)
			if c.Dropout > 0 {
				x = regularize.InvertedDropout(s.In("dropout"), x, 1-c.Dropout)
			}
		}
	}
	if c.ScoreMap {
		return x
	}
	// §3.2: "the class score map is spatially averaged (sum-pooled)".
	return graph.ReduceMean(x, 1, 2)
}

// VGGLayerNames returns the names [VGG] gives the layers of a trunk, in order: conv<stage>_<i> for convolutions
// (Table 1's stages are separated by the pools), pool<stage> for poolings and lrn<stage>_<i>.
func VGGLayerNames(trunk []VGGLayer) []string {
	names := make([]string, len(trunk))
	stage, i := 1, 1
	for k, l := range trunk {
		switch {
		case l.Pool:
			names[k] = fmt.Sprintf("pool%d", stage)
			stage, i = stage+1, 1
		case l.LRN:
			names[k] = fmt.Sprintf("lrn%d_%d", stage, i)
		default:
			names[k] = fmt.Sprintf("conv%d_%d", stage, i)
			i++
		}
	}
	return names
}

// VGGFeatures builds the convolutional trunk of c (the variables and scopes of [VGG]) only as far as the deepest
// of the named layers and returns their outputs, convolutions after their ReLU: e.g. conv1_1 … conv5_1 and
// conv4_2, the layers Gatys et al. (2016, §2) read from VGG-19 (configuration E). With avgPool every 2×2 max
// pooling averages its window instead (ibid.: "replacing the max-pooling operation by average pooling improves
// the gradient flow"). Any input side works; the head is not built.
func VGGFeatures(scope *model.Scope, x *graph.Node, c VGGConfig, avgPool bool, names ...string) (map[string]*graph.Node, error) {
	if len(c.Layers) == 0 {
		return nil, fmt.Errorf("VGGFeatures %q: no layers", c.Name)
	}
	if x.Rank() != 4 {
		return nil, fmt.Errorf("VGGFeatures: want [batch, height, width, channels] images, got %s", x.Shape())
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	out := make(map[string]*graph.Node, len(names))
	div := max(1, c.WidthDiv)
	for k, name := range VGGLayerNames(c.Layers) {
		if len(out) == len(want) {
			break
		}
		l := c.Layers[k]
		switch {
		case l.Pool && avgPool:
			x = layers.AvgPool2D(scope.In("%s", name), x, layers.Pool{Window: 2})
		case l.Pool:
			x = layers.MaxPool2D(scope.In("%s", name), x, layers.Pool{Window: 2})
		case l.LRN:
			x = layers.LocalResponseNorm(scope.In("%s", name), x, c.LRN)
		default:
			s := scope.In("%s", name)
			x = layers.Conv2D(s, x, layers.Conv{Filters: max(1, l.Filters/div), Kernel: l.Kernel,
				Padding: layers.Same, UseBias: true})
			if c.BatchNorm {
				x = layers.BatchNorm(s, x)
			}
			x = layers.ReLU(x)
		}
		if want[name] {
			out[name] = x
		}
	}
	if len(out) != len(want) {
		var missing []string
		for _, n := range names {
			if out[n] == nil {
				missing = append(missing, n)
			}
		}
		return nil, fmt.Errorf("VGGFeatures %q: no layer named %v (layers: %v)", c.Name, missing, VGGLayerNames(c.Layers))
	}
	return out, nil
}
