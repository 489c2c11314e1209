package models

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

type sec05ModelFn = func(*model.Scope, *graph.Node) *graph.Node

// mustFor returns a function that passes a builder's model function through, failing t on its error.
func mustFor(t *testing.T) func(sec05ModelFn, error) sec05ModelFn {
	return func(fn sec05ModelFn, err error) sec05ModelFn {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return fn
	}
}

// summarize builds the summary of fn for one image of the given size.
func summaryAt(t *testing.T, b compute.Backend, fn sec05ModelFn, side, channels int) *summary.Table {
	t.Helper()
	table, err := summary.Of(b, nil, fn, shapes.Make(dtypes.Float32, 1, side, side, channels))
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// rowShape returns the output shape of the summary row of layer, or fails.
func rowShape(t *testing.T, table *summary.Table, layer string) []int {
	t.Helper()
	for _, r := range table.Rows {
		if r.Layer == layer {
			return r.OutputShape.Dimensions
		}
	}
	t.Fatalf("no row %q in\n%s", layer, table)
	return nil
}

// convMACs is the textbook multiply-add count of a convolution: out² · filters · k² · inputs per group.
func convMACs(out, filters, k, in, groups int) int64 {
	return int64(out) * int64(out) * int64(filters) * int64(k*k) * int64(in/groups)
}

func TestAlexNetSummaries(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	fc := int64(9216*4096 + 4096*4096 + 4096*1000)
	tests := []struct {
		name      string
		cfg       AlexNetConfig
		side      int
		params    int
		macs      int64
		conv1Side int
	}{
		// Abstract: "60 million parameters". Per layer:
		// 34,944 + 307,456 + 885,120 + 663,936 + 442,624 + 37,752,832 + 16,781,312 + 4,097,000.
		{"paper at 227", AlexNetPaper, 227, 60965224,
			convMACs(55, 96, 11, 3, 1) + convMACs(27, 256, 5, 96, 2) + convMACs(13, 384, 3, 256, 1) +
				convMACs(13, 384, 3, 384, 2) + convMACs(13, 256, 3, 384, 2) + fc, 55},
		// torchvision's alexnet(): 61,100,840 parameters.
		{"torchvision at 224", AlexNetTorchvision, 224, 61100840,
			convMACs(55, 64, 11, 3, 1) + convMACs(27, 192, 5, 64, 1) + convMACs(13, 384, 3, 192, 1) +
				convMACs(13, 256, 3, 384, 1) + convMACs(13, 256, 3, 256, 1) + fc, 55},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := summaryAt(t, b, mustFor(t)(AlexNet(tc.cfg)), tc.side, 3)
			if table.TotalParams != tc.params || table.TotalMACs != tc.macs {
				t.Errorf("params %d, MACs %d; want %d, %d\n%s", table.TotalParams, table.TotalMACs, tc.params, tc.macs, table)
			}
			if got := rowShape(t, table, "/conv1"); got[1] != tc.conv1Side || got[3] != tc.cfg.Convs[0].Filters {
				t.Errorf("conv1 output %v, want %d×%d×%d", got, tc.conv1Side, tc.conv1Side, tc.cfg.Convs[0].Filters)
			}
			if got := table.OutputShape.Dimensions; got[0] != 1 || got[1] != 1000 {
				t.Errorf("output %v", got)
			}
		})
	}
	// Abstract: "650,000 neurons": the units of the five convolutional and three FC layers at 227, 55²·96 + 27²·256 +
	// 2·13²·384 + 13²·256 + 4096 + 4096 + 1000 = 659,272.
	paper := summaryAt(t, b, mustFor(t)(AlexNet(AlexNetPaper)), 227, 3)
	var neurons int
	for _, layer := range []string{"/conv1", "/conv2", "/conv3", "/conv4", "/conv5", "/fc6", "/fc7", "/fc8"} {
		neurons += shapes.Make(dtypes.Float32, rowShape(t, paper, layer)...).Size()
	}
	if neurons != 659272 {
		t.Errorf("paper net: %d neurons, want 659,272", neurons)
	}
	// The paper's 224: conv1 gives ⌊(224 − 11)/4⌋ + 1 = 54, not the 55 of Fig. 2, and fc6 sees 5×5×256.
	table := summaryAt(t, b, mustFor(t)(AlexNet(AlexNetPaper)), 224, 3)
	if got := rowShape(t, table, "/conv1"); got[1] != 54 {
		t.Errorf("paper net at 224: conv1 side %d, want 54", got[1])
	}
	if got := rowShape(t, table, "/conv5/pool"); got[1] != 5 {
		t.Errorf("paper net at 224: pool5 side %d, want 5", got[1])
	}
}

func TestVGGParameterCounts(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		bn       bool
		params   int
		millions int // Table 2
	}{
		{"A", false, 132863336, 133}, // torchvision vgg11
		{"A-LRN", false, 132863336, 133},
		{"B", false, 133047848, 133}, // vgg13
		{"C", false, 133638952, 134},
		{"D", false, 138357544, 138}, // vgg16
		{"E", false, 143667240, 144}, // vgg19
		{"A", true, 132868840, 133},  // vgg11_bn: + γ, β of 2,752 channels (trainable parameters)
		{"D", true, 138365992, 138},  // vgg16_bn
	}
	for _, tc := range tests {
		name := tc.name
		if tc.bn {
			name += "-BN"
		}
		t.Run(name, func(t *testing.T) {
			cfg, err := VGGPaper(tc.name, tc.bn)
			if err != nil {
				t.Fatal(err)
			}
			table := summaryAt(t, b, mustFor(t)(VGG(cfg)), VGGInputSide, 3)
			if table.TrainableParams != tc.params {
				t.Errorf("trainable params %d, want %d", table.TrainableParams, tc.params)
			}
			if m := int(math.Round(float64(table.TrainableParams) / 1e6)); m != tc.millions {
				t.Errorf("%d million parameters, Table 2 says %d", m, tc.millions)
			}
			if !tc.bn && table.TotalParams != table.TrainableParams {
				t.Errorf("non-trainable parameters without BN: %d of %d", table.TotalParams-table.TrainableParams, table.TotalParams)
			}
			if got := rowShape(t, table, "/pool5"); got[1] != 7 || got[3] != 512 {
				t.Errorf("pool5 output %v, want 7×7×512", got)
			}
		})
	}
	if _, err := VGGPaper("F", false); err == nil {
		t.Error("unknown configuration: no error")
	}
}

// TestVGGDenseEvaluation checks §3.2's conversion on a small VGG: with the FC layers' own weights, the fully
// convolutional head gives the FC network's outputs at the training size, and a class-score map at larger inputs
// whose average is the densely evaluated output.
func TestVGGDenseEvaluation(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := VGGConfig{Name: "A/16", Layers: VGGLayers["A"], WidthDiv: 16, FC: []int{24, 16}, Classes: 5, Dropout: 0.5,
		FCInputSide: 2}
	dense, mapCfg := cfg, cfg
	dense.DenseEval = true
	mapCfg.DenseEval, mapCfg.ScoreMap = true, true
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(2))
	run := func(c VGGConfig, x *tensors.Tensor) []float64 {
		t.Helper()
		exec, err := model.NewExec(b, store, mustFor(t)(VGG(c)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x)
		if err != nil {
			t.Fatal(err)
		}
		return logitsF64(out[0])
	}
	rng := rand.New(rand.NewSource(3))
	img := func(n, side int) *tensors.Tensor {
		d := make([]float32, n*side*side*3)
		for i := range d {
			d[i] = float32(rng.Float64())
		}
		return tensors.FromFlatDataAndDimensions(d, n, side, side, 3)
	}
	x64 := img(2, 64)
	fcOut := run(cfg, x64)
	denseOut := run(dense, x64)
	if len(fcOut) != 10 || len(denseOut) != 10 {
		t.Fatalf("outputs of %d and %d values, want 2×5", len(fcOut), len(denseOut))
	}
	if e := maxRelDiffF64(denseOut, fcOut); e > 1e-5 {
		t.Errorf("dense evaluation at the training size differs from the FC net: %.3g\nFC    %v\ndense %v", e, fcOut, denseOut)
	}
	x128 := img(1, 128)
	scoreMap := run(mapCfg, x128) // 128/32 = 4 → a 3×3 map of 5 scores
	if len(scoreMap) != 3*3*5 {
		t.Fatalf("score map of %d values, want 3×3×5", len(scoreMap))
	}
	avg := run(dense, x128)
	for k := range 5 {
		var s float64
		for p := range 9 {
			s += scoreMap[p*5+k]
		}
		if math.Abs(s/9-avg[k]) > 1e-5*math.Max(1, math.Abs(avg[k])) {
			t.Errorf("class %d: map mean %v, dense output %v", k, s/9, avg[k])
		}
	}
}

func TestNINSummaries(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	// 5·5·3·192+192 + 192·160+160 + 160·96+96 + 5·5·96·192+192 + 2·(192·192+192) + 3·3·192·192+192 + 192·192+192
	// + 192·10+10.
	const trunk = 966986
	tests := []struct {
		name      string
		cfg       NINConfig
		side, ch  int
		params    int
		lastSide  int
		hiddenFCs int
	}{
		{"GAP", NINCIFAR10, 32, 3, trunk, 8, 0},
		{"FC head", NINCIFAR10.WithFCHead(), 32, 3, trunk + 8*8*10*10 + 10, 8, 0},
		{"FC head with hidden layer", NINCIFAR10.WithFCHead(100), 32, 3, trunk + 640*100 + 100 + 100*10 + 10, 8, 1},
		{"GAP on 28×28 grey", NINCIFAR10, 28, 1, trunk - 2*5*5*192, 7, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := summaryAt(t, b, mustFor(t)(NIN(tc.cfg)), tc.side, tc.ch)
			if table.TotalParams != tc.params {
				t.Errorf("params %d, want %d\n%s", table.TotalParams, tc.params, table)
			}
			if got := rowShape(t, table, "/mlpconv3/cccp2"); got[1] != tc.lastSide || got[3] != 10 {
				t.Errorf("category maps %v, want %d×%d×10", got, tc.lastSide, tc.lastSide)
			}
			if got := table.OutputShape.Dimensions; got[1] != 10 {
				t.Errorf("output %v", got)
			}
		})
	}
}

// TestSmallModelsRun executes the small variants on the Go backend (the Fast layers): finite logits of the
// right shape, and the same logits from the Native layers with the same weights.
func TestSmallModelsRun(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	small := NINCIFAR10
	small.WidthDiv = 8
	tests := []struct {
		name     string
		fn       sec05ModelFn
		side, ch int
	}{
		{"AlexNetSmall/8", mustFor(t)(AlexNet(AlexNetSmall.Scaled(8))), 32, 3},
		{"AlexNetSmall/16 grey", mustFor(t)(AlexNet(AlexNetSmall.Scaled(16))), 32, 1},
		{"VGGSmall", mustFor(t)(VGG(VGGSmall(64))), 32, 3},
		{"NIN/8", mustFor(t)(NIN(small)), 28, 1},
	}
	rng := rand.New(rand.NewSource(8))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := make([]float32, 2*tc.side*tc.side*tc.ch)
			for i := range d {
				d[i] = float32(rng.Float64())
			}
			x := tensors.FromFlatDataAndDimensions(d, 2, tc.side, tc.side, tc.ch)
			store := model.NewStore()
			store.SetParam(model.ParamInitialSeed, int64(9))
			var outs [][]float64
			for _, impl := range []string{"fast", "native"} {
				store.RootScope().SetParam("convnotes_layers_impl", impl)
				exec, err := model.NewExec(b, store, tc.fn)
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Exec(x)
				if err != nil {
					t.Fatal(err)
				}
				if got := out[0].Shape().Dimensions; len(got) != 2 || got[0] != 2 || got[1] != 10 {
					t.Fatalf("%s: output shape %v, want [2 10]", impl, got)
				}
				outs = append(outs, logitsF64(out[0]))
			}
			for _, v := range outs[0] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("non-finite logits %v", outs[0])
				}
			}
			if e := maxRelDiffF64(outs[0], outs[1]); e > 1e-4 {
				t.Errorf("fast and native layers differ by %.3g", e)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	badAlex := AlexNetSmall
	badAlex.Convs = append([]AlexNetConv{{Filters: 3, Kernel: 3, Stride: 1, Groups: 2}}, badAlex.Convs[1:]...)
	badVGG := VGGSmall(8)
	badVGG.ScoreMap = true
	badNIN := NINCIFAR10
	badNIN.Blocks = nil
	for name, err := range map[string]error{
		"AlexNet odd filters in 2 groups": badAlex.Validate(),
		"AlexNet no classes":              AlexNetConfig{Convs: AlexNetSmall.Convs}.Validate(),
		"VGG score map without dense":     badVGG.Validate(),
		"NIN no blocks":                   badNIN.Validate(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// §3.4: with z = s = 2 the paper net's maps are 55 → 27 → 13 → 6, the same as with z = 3, s = 2.
	for _, tc := range []struct {
		cfg  AlexNetConfig
		pool layers.Pool
		outs []int
	}{
		{AlexNetPaper, layers.Pool{Window: 2}, []int{55, 27, 13, 13, 13}},
		{AlexNetSmall, layers.Pool{Window: 2}, []int{32, 16, 8, 8, 8}},
		{AlexNetSmall, layers.Pool{Window: 3, Stride: 2}, []int{32, 15, 7, 7, 7}},
	} {
		c := tc.cfg.WithPool(tc.pool)
		for i, l := range c.Convs {
			if l.Out != tc.outs[i] {
				t.Errorf("%s: conv%d out %d, want %d", c.Name, i+1, l.Out, tc.outs[i])
			}
		}
	}
	if s := AlexNetPaper.Scaled(4); s.Convs[1].Filters != 64 || s.Convs[3].Filters != 96 || s.FC[0] != 1024 {
		t.Errorf("Scaled(4): %+v", s)
	}
}

func logitsF64(x *tensors.Tensor) []float64 {
	f := tensors.MustCopyFlatData[float32](x)
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// relDiff is max|a−b| / max|b|.
func maxRelDiffF64(a, b []float64) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// TestNINLinearMaps: the class maps are ReLU outputs (never negative) unless LinearMaps leaves the ReLU out.
func TestNINLinearMaps(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	d := make([]float32, 2*28*28)
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	x := tensors.FromFlatDataAndDimensions(d, 2, 28, 28, 1)
	for _, linear := range []bool{false, true} {
		cfg := NINCIFAR10
		cfg.WidthDiv, cfg.Maps, cfg.LinearMaps = 8, true, linear
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(4))
		exec, err := model.NewExec(b, store, mustFor(t)(NIN(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x)
		if err != nil {
			t.Fatal(err)
		}
		negative := 0
		for _, v := range logitsF64(out[0]) {
			if v < 0 {
				negative++
			}
		}
		if linear != (negative > 0) {
			t.Errorf("LinearMaps %v: %d negative map values", linear, negative)
		}
	}
}
