package deconv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
)

// identityTolerance is the bar for the transposed-convolution identities.
const identityTolerance = 1e-5

// testBackend is the project's backend choice ($GOMLX_BACKEND, else the Go backend as backend.Default),
// created once per process.
func testBackend() (compute.Backend, error) { return cnbackend.New("") }

func backend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := testBackend()
	if err != nil {
		t.Fatalf("creating backend: %v", err)
	}
	return b
}

func assertClose(t *testing.T, what string, got, want [][]float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: row %d has %d values, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if d := math.Abs(got[i][j] - want[i][j]); !(d <= tol*math.Max(1, math.Abs(want[i][j]))) {
				t.Fatalf("%s: [%d][%d] = %g, want %g\n got  %v\n want %v", what, i, j, got[i][j], want[i][j], got, want)
			}
		}
	}
}

// mustImage returns a function that unwraps (image, error) results, failing t on error.
func mustImage(t *testing.T) func([][]float64, error) [][]float64 {
	return func(img [][]float64, err error) [][]float64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
}

func randomImage(rng *rand.Rand, h, w int) [][]float64 {
	img := make([][]float64, h)
	for i := range img {
		img[i] = make([]float64, w)
		for j := range img[i] {
			img[i][j] = math.Round(rng.NormFloat64()*40) / 10
		}
	}
	return img
}

// TestWorkedExample is notebook 04's worked example (Shibuya's): 4×4 input, 3×3 kernel, s=1, p=0 → 2×2.
func TestWorkedExample(t *testing.T) {
	b := backend(t)
	must := mustImage(t)
	c, err := ConvMatrix(ExampleKernel, 4, 4, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 4 || len(c[0]) != 16 {
		t.Fatalf("C is %d×%d, want 4×16", len(c), len(c[0]))
	}
	for r, row := range c {
		nonZero := 0
		for _, v := range row {
			if v != 0 {
				nonZero++
			}
		}
		if nonZero != 9 {
			t.Errorf("row %d of C has %d non-zeros, want the 9 kernel weights", r, nonZero)
		}
	}
	// Row 0 of C is the kernel laid out on the 4×4 grid: k00 k01 k02 0 | k10 k11 k12 0 | k20 k21 k22 0 | 0 0 0 0.
	wantRow0 := []float64{1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0, 0}
	assertClose(t, "C row 0", [][]float64{c[0]}, [][]float64{wantRow0}, 0)

	// y = C·vec(x) = the known [[122 148] [126 134]] = direct loops = the engine's convolution.
	yVec, err := MatVec(c, Flatten(ExampleInput))
	if err != nil {
		t.Fatal(err)
	}
	y := must(Unflatten(yVec, 2, 2))
	assertClose(t, "C·vec(x)", y, [][]float64{{122, 148}, {126, 134}}, 0)
	assertClose(t, "Conv2D", must(Conv2D(ExampleInput, ExampleKernel, 1, 0)), y, 0)
	assertClose(t, "engine Convolve", must(EngineConv2D(b, ExampleInput, ExampleKernel, 1, 0)), y, identityTolerance)

	// x' = Cᵀ·y (16×4 · 4×1) = our layer = full-padding (p=2) conv with the 180°-rotated kernel.
	y2 := [][]float64{{2, 1}, {4, 4}}
	ctY, err := MatVec(Transpose(c), Flatten(y2))
	if err != nil {
		t.Fatal(err)
	}
	want := must(Unflatten(ctY, 4, 4))
	assertClose(t, "full-padding conv of rot180 kernel", must(Conv2D(y2, Rot180(ExampleKernel), 1, 2)), want, identityTolerance)
	assertClose(t, "ConvTranspose2DRef", must(ConvTranspose2DRef(y2, ExampleKernel, 1, 0)), want, identityTolerance)
	assertClose(t, "TransposedConv layer", must(EngineConvTranspose2D(b, y2, ExampleKernel, 1, 0)), want, identityTolerance)
	assertClose(t, "engine full-padding conv", must(EngineConv2D(b, y2, Rot180(ExampleKernel), 1, 2)), want, identityTolerance)
	assertClose(t, "autodiff of Convolve", must(AutodiffConvTranspose2D(b, y2, ExampleKernel, 1, 0)), want, identityTolerance)
}

// TestTransposedIdentities checks Cᵀ·y = direct scatter = our layer = GoMLX's autodiff
// transposed convolution over strides, paddings, kernel and input shapes.
func TestTransposedIdentities(t *testing.T) {
	tests := []struct {
		name           string
		m, n, kh, kw   int // transposed-conv input m×n, kernel kh×kw
		stride, pad    int
		wantOutH, outW int
	}{
		{"worked example s1 p0", 2, 2, 3, 3, 1, 0, 4, 4},
		{"stride2 k3 p0", 2, 2, 3, 3, 2, 0, 5, 5},
		{"stride2 k3 p1", 3, 3, 3, 3, 2, 1, 5, 5},
		{"stride2 k4 p1 (DCGAN)", 3, 2, 4, 4, 2, 1, 6, 4},
		{"stride3 k2", 2, 3, 2, 2, 3, 0, 5, 8},
		{"pad beyond k-1", 4, 4, 2, 2, 3, 2, 7, 7},
		{"rect kernel", 3, 3, 2, 3, 2, 0, 6, 7},
	}
	b := backend(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			must := mustImage(t)
			y := randomImage(rng, tc.m, tc.n)
			k := randomImage(rng, tc.kh, tc.kw)
			outH, err := TransposedOutputSize(tc.m, tc.kh, tc.stride, tc.pad)
			if err != nil {
				t.Fatal(err)
			}
			outW, err := TransposedOutputSize(tc.n, tc.kw, tc.stride, tc.pad)
			if err != nil {
				t.Fatal(err)
			}
			if outH != tc.wantOutH || outW != tc.outW {
				t.Fatalf("output %d×%d, want %d×%d", outH, outW, tc.wantOutH, tc.outW)
			}
			c, err := ConvMatrix(k, outH, outW, tc.stride, tc.pad)
			if err != nil {
				t.Fatal(err)
			}
			if len(c) != tc.m*tc.n {
				t.Fatalf("the convolution being transposed maps %d×%d to %d values, want %d", outH, outW, len(c), tc.m*tc.n)
			}
			ctY, err := MatVec(Transpose(c), Flatten(y))
			if err != nil {
				t.Fatal(err)
			}
			want := must(Unflatten(ctY, outH, outW))
			assertClose(t, "scatter", must(ConvTranspose2DRef(y, k, tc.stride, tc.pad)), want, identityTolerance)
			assertClose(t, "layer", must(EngineConvTranspose2D(b, y, k, tc.stride, tc.pad)), want, identityTolerance)
			if tc.kh%2 == 1 && tc.kw%2 == 1 && tc.pad <= tc.kh-1 {
				assertClose(t, "autodiff", must(AutodiffConvTranspose2D(b, y, k, tc.stride, tc.pad)), want, identityTolerance)
			} else if _, err := AutodiffConvTranspose2D(b, y, k, tc.stride, tc.pad); err == nil {
				t.Error("AutodiffConvTranspose2D accepted a case where GoMLX's gradient is unreliable")
			}
			if tc.stride == 1 {
				assertClose(t, "rot180 full-padding conv",
					must(Conv2D(y, Rot180(k), 1, tc.kh-1-tc.pad)), want, identityTolerance)
			}
			// And C itself is the engine's convolution.
			x := randomImage(rng, outH, outW)
			cx, err := MatVec(c, Flatten(x))
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "C·vec(x) vs engine", [][]float64{Flatten(must(EngineConv2D(b, x, k, tc.stride, tc.pad)))},
				[][]float64{cx}, identityTolerance)
		})
	}
}

// TestGoMLXEvenKernelInputGradient pins the behaviour of the pinned GoMLX (v0.28.14, first
// seen in v0.28.2) that TransposedConv works around: the input gradient of graph.Convolve
// with an even kernel is shifted by one pixel (here k=2, s=1, p=0 on a 3×3 input), while the
// kernel gradient is right. If this test starts failing, GoMLX was fixed and the zero-row
// trick in TransposedConv can go.
func TestGoMLXEvenKernelInputGradient(t *testing.T) {
	b := backend(t)
	y := [][]float64{{1, 2}, {3, 4}}
	k := [][]float64{{1, 10}, {100, 1000}}
	want, err := ConvTranspose2DRef(y, k, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := EngineConvTranspose2D(b, y, k, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "TransposedConv", ours, want, identityTolerance)
	got, err := graph.CallOnce(b, func(yn, kn *graph.Node) *graph.Node {
		z := graph.BroadcastToDims(graph.ScalarZero(yn.Graph(), yn.DType()), 1, 3, 3, 1)
		return graph.Gradient(graph.ReduceAllSum(graph.Mul(graph.Convolve(z, kn).Done(), yn)), z)[0]
	}, toNHWC(y), toHWIO(k))
	if err != nil {
		t.Fatal(err)
	}
	gomlx, err := fromNHWC(got)
	if err != nil {
		t.Fatal(err)
	}
	if gomlx[0][0] == want[0][0] && gomlx[2][2] == want[2][2] {
		t.Errorf("GoMLX's even-kernel input gradient is now right (%v): drop the workaround", gomlx)
	}
	t.Logf("Cᵀy = %v, GoMLX autodiff = %v", want, gomlx)
}

// randomTensor returns a float64 tensor of the given dims with reproducible values.
func randomTensor(rng *rand.Rand, dims ...int) ([]float64, *tensors.Tensor) {
	size := 1
	for _, d := range dims {
		size *= d
	}
	data := make([]float64, size)
	for i := range data {
		data[i] = rng.NormFloat64()
	}
	return data, tensors.FromFlatDataAndDimensions(data, dims...)
}

// TestGradients checks the layer's gradients, multi-channel and batched, against closed forms:
// for L = Σ TransposedConv(x, K) ⊙ R, ∂L/∂x = Convolve(R, K) with the same stride and padding
// (the adjoint), and ∂L/∂K[u,v,o,c] = Σ_{b,i,j} x[b,i,j,c] · R[b, i·s+u−p, j·s+v−p, o].
func TestGradients(t *testing.T) {
	tests := []struct {
		name                      string
		batch, h, w, inC, outC, k int
		stride, pad               int
	}{
		{"s1 p0", 2, 3, 3, 2, 3, 3, 1, 0},
		{"s2 p1", 2, 3, 2, 3, 2, 3, 2, 1},
		{"s2 k4 p1", 1, 2, 3, 1, 2, 4, 2, 1},
		{"s2 k2 p0", 2, 3, 3, 2, 1, 2, 2, 0},
		{"s1 k2 p1 (pad = k-1)", 1, 3, 3, 1, 2, 2, 1, 1},
		{"s3 k3 p2 (pad = k-1)", 1, 3, 2, 2, 2, 3, 3, 2},
		{"s3 k2 p2 (pad > k-1)", 1, 4, 4, 1, 1, 2, 3, 2},
	}
	b := backend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oh, _ := TransposedOutputSize(tc.h, tc.k, tc.stride, tc.pad)
			ow, _ := TransposedOutputSize(tc.w, tc.k, tc.stride, tc.pad)
			xData, xT := randomTensor(rng, tc.batch, tc.h, tc.w, tc.inC)
			_, kT := randomTensor(rng, tc.k, tc.k, tc.outC, tc.inC)
			rData, rT := randomTensor(rng, tc.batch, oh, ow, tc.outC)
			outs, err := graph.CallOnceN(b, func(x, k, r *graph.Node) []*graph.Node {
				y := TransposedConv(x, k, tc.stride, tc.pad)
				l := graph.ReduceAllSum(graph.Mul(y, r))
				grads := graph.Gradient(l, x, k)
				adjoint := graph.Convolve(r, k).Strides(tc.stride).
					PaddingPerDim([][2]int{{tc.pad, tc.pad}, {tc.pad, tc.pad}}).Done()
				return []*graph.Node{grads[0], grads[1], adjoint}
			}, xT, kT, rT)
			if err != nil {
				t.Fatal(err)
			}
			gx := tensors.MustCopyFlatData[float64](outs[0])
			gk := tensors.MustCopyFlatData[float64](outs[1])
			adj := tensors.MustCopyFlatData[float64](outs[2])
			assertClose(t, "∂L/∂x vs adjoint convolution", [][]float64{gx}, [][]float64{adj}, identityTolerance)

			want := make([]float64, len(gk))
			at4 := func(d1, d2, d3 int, i0, i1, i2, i3 int) int { return ((i0*d1+i1)*d2+i2)*d3 + i3 }
			for u := range tc.k {
				for v := range tc.k {
					for o := range tc.outC {
						for c := range tc.inC {
							var s float64
							for bb := range tc.batch {
								for i := range tc.h {
									for j := range tc.w {
										r, q := i*tc.stride+u-tc.pad, j*tc.stride+v-tc.pad
										if r < 0 || r >= oh || q < 0 || q >= ow {
											continue
										}
										s += xData[at4(tc.h, tc.w, tc.inC, bb, i, j, c)] * rData[at4(oh, ow, tc.outC, bb, r, q, o)]
									}
								}
							}
							want[at4(tc.k, tc.outC, tc.inC, u, v, o, c)] = s
						}
					}
				}
			}
			assertClose(t, "∂L/∂K vs closed form", [][]float64{gk}, [][]float64{want}, identityTolerance)
		})
	}
}

// TestLayerTrains trains a ConvTranspose2D layer with train.Trainer to reproduce the output
// of a fixed transposed convolution: its gradients flow on the Go backend and the loss falls.
func TestLayerTrains(t *testing.T) {
	b := backend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	_, xT := randomTensor(rng, 4, 3, 3, 2)
	cfg := Config{Filters: 1, KernelSize: 3, Stride: 2, Padding: 1, UseBias: true}
	// Target: TransposedConv with a Laplacian-like kernel on channel 0 plus a box on channel 1,
	// and bias 0.5: exactly representable by the layer.
	target, err := graph.CallOnce(b, func(x *graph.Node) *graph.Node {
		k := graph.Const(x.Graph(), [][][][]float64{
			{{{0, 1}}, {{1, 1}}, {{0, 1}}},
			{{{1, 1}}, {{-2, 1}}, {{1, 1}}},
			{{{0, 1}}, {{1, 1}}, {{0, 1}}},
		})
		return graph.AddScalar(TransposedConv(x, k, 2, 1), 0.5)
	}, xT)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	modelFn := func(scope *model.Scope, x *graph.Node) *graph.Node {
		y := ConvTranspose2D(scope.In("deconv"), x, cfg)
		y.AssertDims(4, 5, 5, 1)
		return y
	}
	trainer := train.NewTrainer(b, store, modelFn, loss.MeanSquaredError,
		optimizer.StochasticGradientDescent().WithDecay(false).WithLearningRate(0.1).Done(), nil, nil)
	var first, last float64
	for step := range 200 {
		xCopy := tensors.FromShape(xT.Shape())
		tensors.MustMutableFlatData[float64](xCopy, func(flat []float64) {
			copy(flat, tensors.MustCopyFlatData[float64](xT))
		})
		yCopy := tensors.FromShape(target.Shape())
		tensors.MustMutableFlatData[float64](yCopy, func(flat []float64) {
			copy(flat, tensors.MustCopyFlatData[float64](target))
		})
		metrics, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{xCopy}, Labels: []*tensors.Tensor{yCopy}})
		if err != nil {
			t.Fatalf("TrainStep %d: %v", step, err)
		}
		l := tensors.ToScalar[float64](metrics[0])
		if step == 0 {
			first = l
		}
		last = l
	}
	if w := store.GetVariable("/deconv/weights"); w == nil || !w.Shape().Equal(shapes.Make(dtypes.Float64, 3, 3, 1, 2)) {
		t.Fatalf("weights variable missing or misshapen: %v", w)
	}
	if !(last < first/100) {
		t.Errorf("loss %g -> %g after 200 SGD steps, want a 100× drop", first, last)
	}
	t.Logf("ConvTranspose2D fit: loss %.3g -> %.3g", first, last)
}

// TestCheckerboard: a stride-2 transposed convolution of a constant image is periodic and
// non-constant when the kernel size is not a multiple of the stride, constant otherwise.
func TestCheckerboard(t *testing.T) {
	tests := []struct {
		n, k, s, pad int
		size         int
		values       map[float64]bool // set of values seen in the interior
	}{
		{4, 3, 2, 1, 7, map[float64]bool{1: true, 2: true, 4: true}},
		{5, 3, 2, 0, 11, map[float64]bool{1: true, 2: true, 4: true}},
		{4, 4, 2, 1, 8, map[float64]bool{4: true}},
		{4, 2, 2, 0, 8, map[float64]bool{1: true}},
	}
	b := backend(t)
	for _, tc := range tests {
		img, err := Checkerboard(b, tc.n, tc.k, tc.s, tc.pad)
		if err != nil {
			t.Fatal(err)
		}
		if len(img) != tc.size || len(img[0]) != tc.size {
			t.Fatalf("n=%d k=%d s=%d p=%d: got %d×%d, want %d×%d", tc.n, tc.k, tc.s, tc.pad, len(img), len(img[0]), tc.size, tc.size)
		}
		// Interior: away from the borders that the (non-overlapping) first/last windows reach.
		lo, hi := tc.k-1-tc.pad, tc.size-(tc.k-1-tc.pad)
		if lo < 1 {
			lo = 1
		}
		if hi > tc.size-1 {
			hi = tc.size - 1
		}
		seen := map[float64]bool{}
		for i := lo; i < hi; i++ {
			for j := lo; j < hi; j++ {
				seen[img[i][j]] = true
				if i+tc.s < hi && img[i+tc.s][j] != img[i][j] || j+tc.s < hi && img[i][j+tc.s] != img[i][j] {
					t.Errorf("n=%d k=%d s=%d: not periodic with period %d at (%d,%d)", tc.n, tc.k, tc.s, tc.s, i, j)
				}
			}
		}
		for v := range tc.values {
			if !seen[v] {
				t.Errorf("n=%d k=%d s=%d p=%d: interior values %v, missing %g", tc.n, tc.k, tc.s, tc.pad, seen, v)
			}
		}
		if len(seen) != len(tc.values) {
			t.Errorf("n=%d k=%d s=%d p=%d: interior values %v, want %v\n%v", tc.n, tc.k, tc.s, tc.pad, seen, tc.values, img)
		}
	}
}

func TestErrors(t *testing.T) {
	b := backend(t)
	tests := []struct {
		name string
		err  error
	}{
		{"ragged kernel", func() error { _, err := ConvMatrix([][]float64{{1, 2}, {3}}, 4, 4, 1, 0); return err }()},
		{"kernel too big", func() error { _, err := ConvMatrix(ExampleKernel, 2, 2, 1, 0); return err }()},
		{"zero stride", func() error { _, err := Conv2D(ExampleInput, ExampleKernel, 0, 0); return err }()},
		{"engine zero stride", func() error { _, err := EngineConvTranspose2D(b, ExampleInput, ExampleKernel, 0, 0); return err }()},
		{"padding eats output", func() error { _, err := EngineConvTranspose2D(b, [][]float64{{1}}, [][]float64{{1}}, 1, 1); return err }()},
		{"unflatten", func() error { _, err := Unflatten([]float64{1, 2, 3}, 2, 2); return err }()},
		{"matvec", func() error { _, err := MatVec([][]float64{{1, 2}}, []float64{1}); return err }()},
		{"nil backend", func() error { _, err := Checkerboard(nil, 4, 3, 2, 1); return err }()},
	}
	for _, tc := range tests {
		if tc.err == nil {
			t.Errorf("%s: expected an error", tc.name)
		}
	}
}
