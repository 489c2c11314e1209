package summary

import (
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

func newBackend(t *testing.T) compute.Backend {
	t.Helper()
	backend, err := compute.New()
	if err != nil {
		t.Fatalf("compute.New: %v", err)
	}
	return backend
}

// mlp is the 784-256-10 perceptron, marked per layer.
func mlp(scope *model.Scope, x *graph.Node) *graph.Node {
	s1 := scope.In("fc1")
	h := Mark(s1, "Dense", activation.Relu(layers.DenseWithBias(s1, x, 256)))
	s2 := scope.In("fc2")
	return Mark(s2, "Dense", layers.DenseWithBias(s2, h, 10))
}

// conv2D is a SAME 3x3 convolution with bias, written with graph.Convolve so
// the test does not depend on the project's layers package.
func conv2D(scope *model.Scope, x *graph.Node, outChannels, stride, groups int) *graph.Node {
	inChannels := x.Shape().Dimensions[3]
	kernel := scope.VariableWithShape("weights",
		shapes.Make(dtypes.Float32, 3, 3, inChannels/groups, outChannels)).NodeValue(x.Graph())
	bias := scope.VariableWithShape("biases", shapes.Make(dtypes.Float32, outChannels)).NodeValue(x.Graph())
	conv := graph.Convolve(x, kernel).PadSame().Strides(stride)
	if groups > 1 {
		conv = conv.ChannelGroupCount(groups)
	}
	y := graph.Add(conv.Done(), graph.Reshape(bias, 1, 1, 1, outChannels))
	return Mark(scope, "Conv2D", activation.Relu(y))
}

// smallCNN: conv3x3x32 SAME on 28x28x1, maxpool 2, conv3x3x64, maxpool 2,
// dense 10.
func smallCNN(scope *model.Scope, x *graph.Node) *graph.Node {
	x = conv2D(scope.In("conv1"), x, 32, 1, 1)
	x = Mark(scope.In("pool1"), "MaxPool", graph.MaxPool(x).Window(2).Done())
	x = conv2D(scope.In("conv2"), x, 64, 1, 1)
	x = Mark(scope.In("pool2"), "MaxPool", graph.MaxPool(x).Window(2).Done())
	x = graph.Reshape(x, x.Shape().Dimensions[0], -1)
	s := scope.In("fc")
	return Mark(s, "Dense", layers.DenseWithBias(s, x, 10))
}

// groupedStrided: a grouped (4 groups) convolution followed by a strided one,
// then an unmarked dense layer that must land in the "(other)" row.
func groupedStrided(scope *model.Scope, x *graph.Node) *graph.Node {
	x = conv2D(scope.In("grouped"), x, 8, 1, 4)
	x = conv2D(scope.In("strided"), x, 16, 2, 1)
	x = graph.Reshape(x, x.Shape().Dimensions[0], -1)
	return layers.DenseWithBias(scope.In("head"), x, 3)
}

func TestOf(t *testing.T) {
	backend := newBackend(t)
	type wantRow struct {
		layer, kind string
		dims        []int
		params      int
		macs        int64
	}
	tests := []struct {
		name    string
		fn      func(*model.Scope, *graph.Node) *graph.Node
		input   shapes.Shape
		fusion  string // value of GOMLX_FUSION-like env (graph.FusionEnv); "" leaves it unset.
		rows    []wantRow
		params  int
		macs    int64
		outDims []int
	}{
		{
			name:  "mlp 784-256-10",
			fn:    mlp,
			input: shapes.Make(dtypes.Float32, 1, 784),
			rows: []wantRow{
				{"/fc1", "Dense", []int{1, 256}, 784*256 + 256, 784 * 256},
				{"/fc2", "Dense", []int{1, 10}, 256*10 + 10, 256 * 10},
			},
			params:  784*256 + 256 + 256*10 + 10,
			macs:    784*256 + 256*10,
			outDims: []int{1, 10},
		},
		{
			// Without fused ops the dense layer is a plain DotGeneral.
			name:   "mlp without fusion",
			fn:     mlp,
			input:  shapes.Make(dtypes.Float32, 1, 784),
			fusion: "false",
			rows: []wantRow{
				{"/fc1", "Dense", []int{1, 256}, 784*256 + 256, 784 * 256},
				{"/fc2", "Dense", []int{1, 10}, 256*10 + 10, 256 * 10},
			},
			params:  784*256 + 256 + 256*10 + 10,
			macs:    784*256 + 256*10,
			outDims: []int{1, 10},
		},
		{
			// Batch 4: MACs are still reported per example.
			name:  "mlp batch 4 per example",
			fn:    mlp,
			input: shapes.Make(dtypes.Float32, 4, 784),
			rows: []wantRow{
				{"/fc1", "Dense", []int{4, 256}, 784*256 + 256, 784 * 256},
				{"/fc2", "Dense", []int{4, 10}, 256*10 + 10, 256 * 10},
			},
			params:  784*256 + 256 + 256*10 + 10,
			macs:    784*256 + 256*10,
			outDims: []int{4, 10},
		},
		{
			name:  "small cnn",
			fn:    smallCNN,
			input: shapes.Make(dtypes.Float32, 1, 28, 28, 1),
			rows: []wantRow{
				// 3*3*1*32 + 32; 28*28*32 outputs * 3*3*1.
				{"/conv1", "Conv2D", []int{1, 28, 28, 32}, 3*3*1*32 + 32, 28 * 28 * 32 * 3 * 3 * 1},
				{"/pool1", "MaxPool", []int{1, 14, 14, 32}, 0, 0},
				// 3*3*32*64 + 64; 14*14*64 outputs * 3*3*32.
				{"/conv2", "Conv2D", []int{1, 14, 14, 64}, 3*3*32*64 + 64, 14 * 14 * 64 * 3 * 3 * 32},
				{"/pool2", "MaxPool", []int{1, 7, 7, 64}, 0, 0},
				{"/fc", "Dense", []int{1, 10}, 7*7*64*10 + 10, 7 * 7 * 64 * 10},
			},
			params:  320 + 18496 + 31370,
			macs:    225792 + 3612672 + 31360,
			outDims: []int{1, 10},
		},
		{
			name:  "grouped and strided conv, unmarked head",
			fn:    groupedStrided,
			input: shapes.Make(dtypes.Float32, 1, 8, 8, 8),
			rows: []wantRow{
				// 4 groups: each output sees 8/4 = 2 input channels.
				{"/grouped", "Conv2D", []int{1, 8, 8, 8}, 3*3*2*8 + 8, 8 * 8 * 8 * 3 * 3 * 2},
				// Stride 2: 4x4 outputs.
				{"/strided", "Conv2D", []int{1, 4, 4, 16}, 3*3*8*16 + 16, 4 * 4 * 16 * 3 * 3 * 8},
				{OtherLayer, "", []int{1, 3}, 256*3 + 3, 256 * 3},
			},
			params:  3*3*2*8 + 8 + 3*3*8*16 + 16 + 256*3 + 3,
			macs:    8*8*8*3*3*2 + 4*4*16*3*3*8 + 256*3,
			outDims: []int{1, 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fusion != "" {
				t.Setenv(graph.FusionEnv, tc.fusion)
			}
			table, err := Of(backend, nil, tc.fn, tc.input)
			if err != nil {
				t.Fatalf("Of: %v", err)
			}
			if len(table.Rows) != len(tc.rows) {
				t.Fatalf("got %d rows, want %d:\n%s", len(table.Rows), len(tc.rows), table)
			}
			for i, want := range tc.rows {
				got := table.Rows[i]
				if got.Layer != want.layer || got.Kind != want.kind {
					t.Errorf("row %d: got %s/%s, want %s/%s", i, got.Layer, got.Kind, want.layer, want.kind)
				}
				if !equalInts(got.OutputShape.Dimensions, want.dims) {
					t.Errorf("row %d (%s): output dims %v, want %v", i, want.layer, got.OutputShape.Dimensions, want.dims)
				}
				if got.Params != want.params {
					t.Errorf("row %d (%s): params %d, want %d", i, want.layer, got.Params, want.params)
				}
				if got.TrainableParams != want.params {
					t.Errorf("row %d (%s): trainable params %d, want %d", i, want.layer, got.TrainableParams, want.params)
				}
				if got.MACs != want.macs {
					t.Errorf("row %d (%s): MACs %d, want %d", i, want.layer, got.MACs, want.macs)
				}
			}
			if table.TotalParams != tc.params || table.TrainableParams != tc.params {
				t.Errorf("total params %d (trainable %d), want %d", table.TotalParams, table.TrainableParams, tc.params)
			}
			if table.TotalMACs != tc.macs {
				t.Errorf("total MACs %d, want %d", table.TotalMACs, tc.macs)
			}
			if !equalInts(table.OutputShape.Dimensions, tc.outDims) {
				t.Errorf("output dims %v, want %v", table.OutputShape.Dimensions, tc.outDims)
			}
		})
	}
}

func TestOfNonTrainableAndReusedStore(t *testing.T) {
	backend := newBackend(t)
	store := model.NewStore()
	// A variable the model does not use (e.g. an optimizer slot) must not count.
	store.VariableWithShape("/optimizer/step", shapes.Make(dtypes.Int64), nil)
	fn := func(scope *model.Scope, x *graph.Node) *graph.Node {
		s := scope.In("norm")
		mean := s.VariableWithShape("mean", shapes.Make(dtypes.Float32, 784))
		mean.SetTrainable(false)
		x = graph.Sub(x, graph.Reshape(mean.NodeValue(x.Graph()), 1, 784))
		x = Mark(s, "Normalize", x)
		return mlp(scope, x)
	}
	table, err := Of(backend, store, fn, shapes.Make(dtypes.Float32, 1, 784))
	if err != nil {
		t.Fatalf("Of: %v", err)
	}
	wantTotal := 784 + 784*256 + 256 + 256*10 + 10
	if table.TotalParams != wantTotal {
		t.Errorf("TotalParams = %d, want %d", table.TotalParams, wantTotal)
	}
	if table.TrainableParams != wantTotal-784 {
		t.Errorf("TrainableParams = %d, want %d", table.TrainableParams, wantTotal-784)
	}
	if got := table.Rows[0]; got.Params != 784 || got.TrainableParams != 0 {
		t.Errorf("norm row params=%d trainable=%d, want 784 and 0", got.Params, got.TrainableParams)
	}
	// Building created the model's variables in the given store.
	if store.GetVariable("/fc1/dense/weights") == nil {
		t.Errorf("variables were not created in the given store")
	}
}

func TestOfErrors(t *testing.T) {
	backend := newBackend(t)
	tests := []struct {
		name    string
		backend compute.Backend
		fn      func(*model.Scope, *graph.Node) *graph.Node
		input   shapes.Shape
		want    string
	}{
		{"panic in model", backend, func(scope *model.Scope, x *graph.Node) *graph.Node {
			panic("boom")
		}, shapes.Make(dtypes.Float32, 1, 4), "boom"},
		{"gomlx shape panic", backend, func(scope *model.Scope, x *graph.Node) *graph.Node {
			return graph.Add(x, graph.Reshape(x, 2, 2)) // incompatible shapes
		}, shapes.Make(dtypes.Float32, 1, 4), "summary.Of"},
		{"scope re-use panic", backend, func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.In("a")
			scope.In("a")
			return x
		}, shapes.Make(dtypes.Float32, 1, 4), "already visited"},
		{"nil output", backend, func(scope *model.Scope, x *graph.Node) *graph.Node { return nil },
			shapes.Make(dtypes.Float32, 1, 4), "nil node"},
		{"nil backend", nil, mlp, shapes.Make(dtypes.Float32, 1, 784), "nil backend"},
		{"nil model", backend, nil, shapes.Make(dtypes.Float32, 1, 784), "nil model"},
		{"scalar input", backend, mlp, shapes.Make(dtypes.Float32), "batch axis"},
		{"zero batch", backend, mlp, shapes.Make(dtypes.Float32, 0, 784), "positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table, err := Of(tc.backend, nil, tc.fn, tc.input)
			if err == nil {
				t.Fatalf("Of returned no error, table:\n%s", table)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestMarkIsNoOpOutsideOf(t *testing.T) {
	backend := newBackend(t)
	g := graph.NewGraph(backend, "plain")
	defer g.Finalize()
	x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, 2))
	store := model.NewStore()
	if got := Mark(store.RootScope(), "Identity", x); got != x {
		t.Errorf("Mark changed its output")
	}
	if g.State(collectorKey{}) != nil {
		t.Errorf("Mark attached state to a graph that is not being summarised")
	}
	if got := Mark(nil, "X", x); got != x {
		t.Errorf("Mark(nil scope) changed its output")
	}
	if got := Mark(store.RootScope(), "X", nil); got != nil {
		t.Errorf("Mark(nil node) = %v, want nil", got)
	}
}

func TestFormat(t *testing.T) {
	thousands := []struct {
		in   int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {203530, "203,530"},
		{1234567, "1,234,567"}, {-1234, "-1,234"},
	}
	for _, tc := range thousands {
		if got := Thousands(tc.in); got != tc.want {
			t.Errorf("Thousands(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}

	table, err := Of(newBackend(t), nil, mlp, shapes.Make(dtypes.Float32, 1, 784))
	if err != nil {
		t.Fatalf("Of: %v", err)
	}
	text := table.String()
	for _, want := range []string{"/fc1", "Dense", "(1, 256)", "200,960", "203,530", "Total params: 203,530",
		"Multiply-adds per example: 203,264", "Non-trainable params: 0"} {
		if !strings.Contains(text, want) {
			t.Errorf("String() lacks %q:\n%s", want, text)
		}
	}
	// Every table line has the same width as the rule lines (alignment).
	lines := strings.Split(text, "\n")
	rule := len(lines[0])
	for _, l := range lines[1:5] {
		if len(l) > rule {
			t.Errorf("line %q wider than rule (%d)", l, rule)
		}
	}
	md := table.Markdown()
	for _, want := range []string{"| Layer | Kind |", "|:--|", "| `/fc1` | `Dense` | `(1, 256)` | 200,960 | 200,704 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown() lacks %q:\n%s", want, md)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
