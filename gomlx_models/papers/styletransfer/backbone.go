package styletransfer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/pretrained"
)

// Backbone is a pretrained network read as a feature extractor: images [1, H, W, 3] with values in [0, 1] →
// the activations of named layers.
type Backbone struct {
	// Name says which network and weights, e.g. "Inception v3 (nsfwjs weights)".
	Name string
	// Store holds the weights.
	Store *model.Store
	// AvgPool replaces every max pooling by an average pooling (Gatys et al. 2016, §2).
	AvgPool bool
	// ContentLayer and StyleLayers are the defaults chosen by the paper's logic (see [InceptionLayers],
	// [VGG19Layers]); Scales lists one layer per scale, shallow to deep (Fig. 1's rows).
	ContentLayer string
	StyleLayers  []string
	// MinSide is the smallest input side the network accepts.
	MinSide int

	features func(scope *model.Scope, x *graph.Node, avgPool bool, names ...string) (map[string]*graph.Node, error)
}

// Features builds the network on x ([1, H, W, 3] in [0, 1]) and returns the named layers' activations.
func (b *Backbone) Features(scope *model.Scope, x *graph.Node, names ...string) (map[string]*graph.Node, error) {
	return b.features(scope, x, b.AvgPool, names...)
}

// The paper's choice in VGG-19 (§2, Figs. 1–2): content from conv4_2, the second layer of the fourth of five
// scales; style from conv1_1, conv2_1, conv3_1, conv4_1 and conv5_1, the first layer of every scale.
var (
	VGG19ContentLayer = "conv4_2"
	VGG19StyleLayers  = []string{"conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"}
)

// The same logic applied to Inception v3, whose five scales are 1/2 (the stem's 149×149 convolutions at 299),
// 1/4 (73×73, after the stem's first pooling), 1/8 (35×35, modules mixed0–2), 1/16 (17×17, mixed3–7) and 1/32
// (8×8, mixed8–10): style from the first unit or module of every scale — stem/conv1, stem/conv4, mixed0, mixed3,
// mixed8 — and content from the second layer of the 1/8 scale, mixed1 (the counterpart of conv4_2, the second
// layer of VGG's 1/8 scale).
var (
	InceptionContentLayer = "mixed1"
	InceptionStyleLayers  = []string{"stem/conv1", "stem/conv4", "mixed0", "mixed3", "mixed8"}
)

// Inception returns the Inception v3 of section 08 with the nsfwjs weights (`make data`) as a backbone, with
// average pooling in place of max pooling when avgPool is set.
func Inception(backend compute.Backend, avgPool bool) (*Backbone, error) {
	clf, err := pretrained.LoadNSFWJS(backend)
	if err != nil {
		return nil, err
	}
	return &Backbone{Name: "Inception v3 (nsfwjs weights)", Store: clf.Store, AvgPool: avgPool,
		ContentLayer: InceptionContentLayer, StyleLayers: slices.Clone(InceptionStyleLayers), MinSide: 75,
		features: func(scope *model.Scope, x *graph.Node, avg bool, names ...string) (map[string]*graph.Node, error) {
			// nsfwjs feeds pixel values in [0, 1] (pretrained.Preprocess).
			return models.InceptionV3Features(scope, x, avg, names...)
		}}, nil
}

// VGG weights a user brings. The format, one directory with two files per convolution, named after the layers of
// models.VGG (conv1_1 … conv5_4):
//
//	<layer>.weights.f32   kernel, 3×3×C_in×C_out (HWIO: height, width, input channel, output channel)
//	<layer>.biases.f32    C_out biases
//
// each the raw little-endian float32 values in that order, no header. The network takes RGB images scaled to
// [0, 255] with the ImageNet mean [VGGMeanRGB] subtracted (Caffe's VGG-19 takes BGR: swap conv1_1's input
// channels when converting its weights). Only the layers up to the deepest one used need to be present.
const (
	VGGWeightsSuffix = ".weights.f32"
	VGGBiasesSuffix  = ".biases.f32"
)

// VGGMeanRGB is the ImageNet mean pixel the VGG weights expect subtracted (Simonyan & Zisserman 2015, §2.1), in
// [0, 255].
var VGGMeanRGB = [3]float32{123.68, 116.779, 103.939}

// ErrNoVGGWeights says the VGG weights directory is not set or does not exist.
var ErrNoVGGWeights = errors.New("no VGG-19 weights")

// VGGWeightsEnv names the environment variable with the directory of VGG-19 weights (see [VGGWeightsSuffix]).
const VGGWeightsEnv = "CONVNOTES_VGG19"

// VGG19 reads VGG-19 weights (configuration E of models.VGGLayers) from dir, or from $CONVNOTES_VGG19 when dir is
// empty, for the layers up to conv5_1. It returns an error wrapping [ErrNoVGGWeights] when no directory is
// given or it does not exist, and a one-line error naming the file for a missing or misshaped one.
func VGG19(dir string, avgPool bool) (*Backbone, error) {
	return LoadVGG(dir, models.VGGConfig{Name: "E", Layers: models.VGGLayers["E"]}, avgPool, "conv5_1")
}

// LoadVGG reads the weights of the trunk of cfg (its WidthDiv applies) up to and including layer upTo, in the
// format of [VGGWeightsSuffix], from dir (or $CONVNOTES_VGG19).
func LoadVGG(dir string, cfg models.VGGConfig, avgPool bool, upTo string) (*Backbone, error) {
	if dir == "" {
		dir = os.Getenv(VGGWeightsEnv)
	}
	if dir == "" {
		return nil, fmt.Errorf("styletransfer: %w: set $%s to a directory of %s/%s files", ErrNoVGGWeights, VGGWeightsEnv, VGGWeightsSuffix, VGGBiasesSuffix)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("styletransfer: %w: %s is not a directory", ErrNoVGGWeights, dir)
	}
	names := models.VGGLayerNames(cfg.Layers)
	last := slices.Index(names, upTo)
	if last < 0 {
		return nil, fmt.Errorf("styletransfer: VGG %q has no layer %q", cfg.Name, upTo)
	}
	store := model.NewStore()
	root := store.RootScope()
	div := max(1, cfg.WidthDiv)
	inC := 3
	for k, l := range cfg.Layers[:last+1] {
		if l.Pool || l.LRN {
			continue
		}
		out := max(1, l.Filters/div)
		w, err := readFloat32s(filepath.Join(dir, names[k]+VGGWeightsSuffix), l.Kernel*l.Kernel*inC*out)
		if err != nil {
			return nil, err
		}
		b, err := readFloat32s(filepath.Join(dir, names[k]+VGGBiasesSuffix), out)
		if err != nil {
			return nil, err
		}
		s := root.In("%s", names[k])
		s.VariableWithValue("weights", tensors.FromFlatDataAndDimensions(w, l.Kernel, l.Kernel, inC, out))
		s.VariableWithValue("biases", tensors.FromFlatDataAndDimensions(b, out))
		inC = out
	}
	content, style := VGG19ContentLayer, slices.Clone(VGG19StyleLayers)
	return &Backbone{Name: fmt.Sprintf("VGG %s (weights from %s)", cfg.Name, dir), Store: store, AvgPool: avgPool,
		ContentLayer: content, StyleLayers: style, MinSide: 16,
		features: func(scope *model.Scope, x *graph.Node, avg bool, names ...string) (map[string]*graph.Node, error) {
			mean := graph.Const(x.Graph(), []float32{VGGMeanRGB[0], VGGMeanRGB[1], VGGMeanRGB[2]})
			x = graph.Sub(graph.MulScalar(x, 255), graph.Reshape(mean, 1, 1, 1, 3))
			return models.VGGFeatures(scope, x, cfg, avg, names...)
		}}, nil
}

// readFloat32s reads exactly n little-endian float32 values from path.
func readFloat32s(path string, n int) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("styletransfer: VGG weights: %w", err)
	}
	if len(raw) != 4*n {
		return nil, fmt.Errorf("styletransfer: VGG weights: %s has %d bytes, want %d (%d float32 values)", path, len(raw), 4*n, n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		if f := float64(out[i]); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("styletransfer: VGG weights: %s: value %d is %v", path, i, out[i])
		}
	}
	return out, nil
}
