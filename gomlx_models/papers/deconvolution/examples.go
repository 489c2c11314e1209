package deconvolution

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	gtrain "github.com/gomlx/gomlx/ml/train"

	"github.com/convnotes/convnotes/gomlx_models/deconv"
	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/plots"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// IdentityTolerance is the bar for the transposed-convolution identities.
const IdentityTolerance = 1e-5

// StrideTwoInput is notebook 04's 5×5 input for the stride-2 case (3×3 kernel, s=2, p=0 → 2×2).
var StrideTwoInput = [][]float64{
	{4, 5, 8, 7, 2},
	{1, 8, 8, 8, 3},
	{3, 6, 6, 4, 1},
	{6, 5, 7, 8, 5},
	{2, 1, 3, 4, 6},
}

// DeconvExample is one convolution written as a matrix and its transpose, each side computed twice: by the
// matrix and by the engine.
type DeconvExample struct {
	X, Kernel   [][]float64
	Stride, Pad int
	// C is the convolution matrix (outH·outW × inH·inW); CT is Cᵀ.
	C, CT [][]float64
	// YMatrix = C·vec(x) and YEngine = graph.Convolve(x, kernel), both outH×outW.
	YMatrix, YEngine [][]float64
	// XMatrix = Cᵀ·vec(y) with y = YEngine; XEngine is the project's deconv.TransposedConv of y;
	// Dilated is y with stride−1 zeros between its entries, and XFullPad the engine's stride-1 convolution of
	// Dilated, zero-padded by k−1−p on every side, with the kernel rotated by 180°.
	XMatrix, XEngine, Dilated, XFullPad [][]float64
	// XAutodiff is GoMLX's own transposed convolution, the gradient of ⟨conv(z), y⟩ with respect to z (nil
	// where GoMLX's convolution gradient is unreliable: even kernels).
	XAutodiff [][]float64
	// Largest absolute differences: C·x vs engine, Cᵀ·y vs TransposedConv, vs the full-padding form, vs
	// autodiff (NaN when not computed).
	ConvDiff, TransposeDiff, FullPadDiff, AutodiffDiff float64
}

// MaxDiff is the largest of the example's differences (autodiff included when computed).
func (e *DeconvExample) MaxDiff() float64 {
	d := math.Max(e.ConvDiff, math.Max(e.TransposeDiff, e.FullPadDiff))
	if !math.IsNaN(e.AutodiffDiff) {
		d = math.Max(d, e.AutodiffDiff)
	}
	return d
}

// TransposedConvExample builds C for the convolution of x with kernel (stride, pad), checks C·vec(x) against the
// engine, then transposes: Cᵀ·vec(y) against the project's TransposedConv, the full-padding convolution with the
// rotated kernel and GoMLX's autodiff. The window must tile the padded input exactly ((n+2p−f) divisible by
// the stride), otherwise the transposed convolution is smaller than x and needs an "output padding".
func TransposedConvExample(backend compute.Backend, x, kernel [][]float64, stride, pad int) (*DeconvExample, error) {
	if backend == nil {
		return nil, errors.New("TransposedConvExample: nil backend")
	}
	h, w, err := reproduce.ImageSize(x)
	if err != nil {
		return nil, fmt.Errorf("TransposedConvExample: input: %w", err)
	}
	kh, kw, err := reproduce.ImageSize(kernel)
	if err != nil {
		return nil, fmt.Errorf("TransposedConvExample: kernel: %w", err)
	}
	if stride < 1 || pad < 0 || pad > kh-1 || pad > kw-1 {
		return nil, fmt.Errorf("TransposedConvExample: need stride ≥ 1 and 0 ≤ pad ≤ k−1, got stride %d, pad %d", stride, pad)
	}
	if h+2*pad < kh || w+2*pad < kw || (h+2*pad-kh)%stride != 0 || (w+2*pad-kw)%stride != 0 {
		return nil, fmt.Errorf("TransposedConvExample: a %d×%d kernel at stride %d does not tile the %d×%d input padded by %d",
			kh, kw, stride, h, w, pad)
	}
	e := &DeconvExample{X: x, Kernel: kernel, Stride: stride, Pad: pad, AutodiffDiff: math.NaN()}
	if e.C, err = deconv.ConvMatrix(kernel, h, w, stride, pad); err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	e.CT = deconv.Transpose(e.C)
	oh, ow := layers.PaddedSize(h, kh, stride, pad, pad), layers.PaddedSize(w, kw, stride, pad, pad)
	yv, err := deconv.MatVec(e.C, deconv.Flatten(x))
	if err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	if e.YMatrix, err = deconv.Unflatten(yv, oh, ow); err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	if e.YEngine, err = deconv.EngineConv2D(backend, x, kernel, stride, pad); err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	e.ConvDiff = reproduce.MaxAbsDiff(e.YMatrix, e.YEngine)

	xv, err := deconv.MatVec(e.CT, deconv.Flatten(e.YEngine))
	if err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	if e.XMatrix, err = deconv.Unflatten(xv, h, w); err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	if e.XEngine, err = deconv.EngineConvTranspose2D(backend, e.YEngine, kernel, stride, pad); err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	e.TransposeDiff = reproduce.MaxAbsDiff(e.XMatrix, e.XEngine)
	e.Dilated = Dilate(e.YEngine, stride)
	if e.XFullPad, err = fullPadConv(backend, e.Dilated, deconv.Rot180(kernel), kh-1-pad, kw-1-pad); err != nil {
		return nil, fmt.Errorf("TransposedConvExample: %w", err)
	}
	e.FullPadDiff = reproduce.MaxAbsDiff(e.XMatrix, e.XFullPad)
	if kh%2 == 1 && kw%2 == 1 {
		if e.XAutodiff, err = deconv.AutodiffConvTranspose2D(backend, e.YEngine, kernel, stride, pad); err != nil {
			return nil, fmt.Errorf("TransposedConvExample: %w", err)
		}
		e.AutodiffDiff = reproduce.MaxAbsDiff(e.XMatrix, e.XAutodiff)
	}
	return e, nil
}

// fullPadConv is the engine's stride-1 convolution of x with kernel, zero-padded by padH rows and padW columns
// on each side.
func fullPadConv(backend compute.Backend, x, kernel [][]float64, padH, padW int) ([][]float64, error) {
	if padH == padW {
		return deconv.EngineConv2D(backend, x, kernel, 1, padH)
	}
	// Rectangular kernels: pad explicitly with zeros, then convolve without padding.
	h, w := len(x), len(x[0])
	padded := make([][]float64, h+2*padH)
	for i := range padded {
		padded[i] = make([]float64, w+2*padW)
		if i >= padH && i < padH+h {
			copy(padded[i][padW:], x[i-padH])
		}
	}
	return deconv.EngineConv2D(backend, padded, kernel, 1, 0)
}

// Dilate inserts stride−1 zeros between neighbouring entries of y (rows and columns): an m×n image becomes
// ((m−1)·s+1)×((n−1)·s+1). It is the first step of a stride-s transposed convolution.
func Dilate(y [][]float64, stride int) [][]float64 {
	if stride <= 1 || len(y) == 0 {
		return y
	}
	m, n := len(y), len(y[0])
	out := make([][]float64, (m-1)*stride+1)
	for i := range out {
		out[i] = make([]float64, (n-1)*stride+1)
	}
	for i := range m {
		for j := range n {
			out[i*stride][j*stride] = y[i][j]
		}
	}
	return out
}

// String prints every matrix of the example and the differences: [DeconvExample.Forward] then
// [DeconvExample.Transposed].
func (e *DeconvExample) String() string { return e.Forward() + e.Transposed() }

// Forward prints x, the kernel, y = C·vec(x) and the engine's convolution.
func (e *DeconvExample) Forward() string {
	var b strings.Builder
	fmt.Fprintf(&b, "x (%d×%d) =\n%s", len(e.X), len(e.X[0]), reproduce.FormatMatrix(e.X))
	fmt.Fprintf(&b, "kernel k (%d×%d), stride %d, padding %d =\n%s", len(e.Kernel), len(e.Kernel[0]), e.Stride, e.Pad,
		reproduce.FormatMatrix(e.Kernel))
	fmt.Fprintf(&b, "C is %d×%d; y = C·vec(x), reshaped %d×%d =\n%s", len(e.C), len(e.C[0]), len(e.YMatrix),
		len(e.YMatrix[0]), reproduce.FormatMatrix(e.YMatrix))
	fmt.Fprintf(&b, "graph.Convolve(x, k) =\n%s", reproduce.FormatMatrix(e.YEngine))
	fmt.Fprintf(&b, "max |C·vec(x) − graph.Convolve| = %.3g\n", e.ConvDiff)
	return b.String()
}

// Transposed prints x' = Cᵀ·vec(y) and its three other computations, with the differences.
func (e *DeconvExample) Transposed() string {
	var b strings.Builder
	fmt.Fprintf(&b, "x' = Cᵀ·vec(y) (%d×%d · %d×1), reshaped %d×%d =\n%s", len(e.CT), len(e.CT[0]), len(e.CT[0]),
		len(e.XMatrix), len(e.XMatrix[0]), reproduce.FormatMatrix(e.XMatrix))
	fmt.Fprintf(&b, "deconv.TransposedConv(y, k, stride %d, padding %d) =\n%s", e.Stride, e.Pad, reproduce.FormatMatrix(e.XEngine))
	input := "y"
	if e.Stride > 1 {
		fmt.Fprintf(&b, "y dilated by %d (zeros inserted) =\n%s", e.Stride, reproduce.FormatMatrix(e.Dilated))
		input = "y dilated"
	}
	fmt.Fprintf(&b, "graph.Convolve(%s, rot180(k), padding %d) =\n%s", input, len(e.Kernel)-1-e.Pad,
		reproduce.FormatMatrix(e.XFullPad))
	fmt.Fprintf(&b, "max |Cᵀy − TransposedConv| = %.3g, |Cᵀy − full-padding conv| = %.3g", e.TransposeDiff, e.FullPadDiff)
	if !math.IsNaN(e.AutodiffDiff) {
		fmt.Fprintf(&b, ", |Cᵀy − GoMLX autodiff| = %.3g", e.AutodiffDiff)
	}
	b.WriteString("\n")
	return b.String()
}

// Heatmaps draws C and Cᵀ with their values: the rows of C are the kernel slid over the flattened input (the
// zeros are the sparse connections, the repeated values the shared weights).
func (e *DeconvExample) Heatmaps() (c, ct *plots.Figure, err error) {
	h, w := len(e.X), len(e.X[0])
	inLabels := make([]string, h*w)
	for i := range inLabels {
		inLabels[i] = fmt.Sprintf("x%d%d", i/w, i%w)
	}
	ow := len(e.YMatrix[0])
	outLabels := make([]string, len(e.C))
	for i := range outLabels {
		outLabels[i] = fmt.Sprintf("y%d%d", i/ow, i%ow)
	}
	cellW := 42
	c, err = plots.Heatmap(fmt.Sprintf("C (%d×%d): y = C·vec(x), %d×%d kernel, stride %d", len(e.C), len(e.C[0]),
		len(e.Kernel), len(e.Kernel[0]), e.Stride), e.C, outLabels, inLabels, true,
		plots.SizePixels(max(640, cellW*len(e.C[0])+200), 110+45*len(e.C)))
	if err != nil {
		return nil, nil, fmt.Errorf("DeconvExample.Heatmaps: %w", err)
	}
	ct, err = plots.Heatmap(fmt.Sprintf("Cᵀ (%d×%d): x' = Cᵀ·vec(y)", len(e.CT), len(e.CT[0])), e.CT, inLabels,
		outLabels, true, plots.SizePixels(max(420, 70*len(e.CT[0])+200), 110+24*len(e.CT)))
	if err != nil {
		return nil, nil, fmt.Errorf("DeconvExample.Heatmaps: %w", err)
	}
	return c, ct, nil
}

// IdentityCase is one (input size, kernel size, stride, padding) of the identity sweep.
type IdentityCase struct {
	N, F, S, P int
	MaxDiff    float64
}

// IdentitySweep checks the identities of [TransposedConvExample] on random integer images for several sizes,
// strides and paddings, even kernels included, and returns each case's largest difference.
func IdentitySweep(backend compute.Backend, seed uint64) ([]IdentityCase, error) {
	cases := []IdentityCase{
		{N: 4, F: 3, S: 1, P: 0}, {N: 5, F: 3, S: 2, P: 0}, {N: 7, F: 3, S: 2, P: 1}, {N: 6, F: 4, S: 2, P: 1},
		{N: 5, F: 2, S: 1, P: 0}, {N: 7, F: 5, S: 2, P: 2}, {N: 7, F: 3, S: 3, P: 1}, {N: 8, F: 4, S: 4, P: 0},
	}
	rng := rand.New(rand.NewPCG(seed, seed+1))
	randomImage := func(h, w int) [][]float64 {
		img := make([][]float64, h)
		for i := range img {
			img[i] = make([]float64, w)
			for j := range img[i] {
				img[i][j] = float64(rng.IntN(19) - 9)
			}
		}
		return img
	}
	for i, c := range cases {
		e, err := TransposedConvExample(backend, randomImage(c.N, c.N), randomImage(c.F, c.F), c.S, c.P)
		if err != nil {
			return nil, fmt.Errorf("IdentitySweep n=%d f=%d s=%d p=%d: %w", c.N, c.F, c.S, c.P, err)
		}
		cases[i].MaxDiff = e.MaxDiff()
	}
	return cases, nil
}

// CheckerboardCase is the stride-s transposed convolution of a constant n×n image with an all-ones k×k kernel.
type CheckerboardCase struct {
	N, Kernel, Stride int
	Image             [][]float64
	// Interior is the sorted set of values away from the borders (rows and columns k−1 … size−k), where every
	// output pixel has its full share of input windows: one value when the overlap is even.
	Interior []float64
	// Ratio is the largest interior value over the smallest (1 when even).
	Ratio float64
}

// Checkerboards runs deconv.Checkerboard (the project's TransposedConv, padding 0) for each kernel size at
// the given stride on an n×n image of ones.
func Checkerboards(backend compute.Backend, n, stride int, kernels ...int) ([]CheckerboardCase, error) {
	var out []CheckerboardCase
	for _, k := range kernels {
		img, err := deconv.Checkerboard(backend, n, k, stride, 0)
		if err != nil {
			return nil, fmt.Errorf("Checkerboards: %w", err)
		}
		c := CheckerboardCase{N: n, Kernel: k, Stride: stride, Image: img}
		size := len(img)
		seen := map[float64]bool{}
		for i := k - 1; i <= size-k; i++ {
			for j := k - 1; j <= size-k; j++ {
				seen[img[i][j]] = true
			}
		}
		if len(seen) == 0 {
			return nil, fmt.Errorf("Checkerboards: a %d×%d image is too small to have an interior for k=%d", n, n, k)
		}
		for v := range seen {
			c.Interior = append(c.Interior, v)
		}
		slices.Sort(c.Interior)
		c.Ratio = c.Interior[len(c.Interior)-1] / c.Interior[0]
		out = append(out, c)
	}
	return out, nil
}

// Figure draws the up-sampled constant image with its values.
func (c CheckerboardCase) Figure() (*plots.Figure, error) {
	size := len(c.Image)
	even := "even overlap"
	if c.Kernel%c.Stride != 0 {
		even = "uneven overlap: checkerboard"
	}
	return plots.Heatmap(fmt.Sprintf("k=%d, s=%d on %d×%d ones: %s", c.Kernel, c.Stride, c.N, c.N, even), c.Image,
		nil, nil, true, plots.SizePixels(40*size+220, 40*size+110))
}

// KernelFit is the result of learning a transposed convolution's kernel by gradient descent.
type KernelFit struct {
	Target, Learned [][]float64
	Loss            []float64 // mean squared error per step.
	MaxError        float64   // max |learned − target|.
}

// FitTransposedKernel learns the kernel of a stride-2 deconv.ConvTranspose2D layer (3×3, one channel, no bias,
// zero initial weights) from 16 random 3×3 inputs and their up-sampled outputs under deconv.ExampleKernel, with
// Adam for the given steps: the gradients flow through the project's layer on the Go backend, and the kernel
// is recovered.
func FitTransposedKernel(backend compute.Backend, steps int) (fit *KernelFit, err error) {
	if backend == nil {
		return nil, errors.New("FitTransposedKernel: nil backend")
	}
	if steps < 1 {
		return nil, fmt.Errorf("FitTransposedKernel: need at least one step, got %d", steps)
	}
	defer func() {
		if r := recover(); r != nil {
			fit, err = nil, fmt.Errorf("FitTransposedKernel: %v", r)
		}
	}()
	const batch, m, stride = 16, 3, 2
	rng := rand.New(rand.NewPCG(7, 8))
	in := make([]float32, batch*m*m)
	for i := range in {
		in[i] = float32(rng.NormFloat64())
	}
	x := tensors.FromFlatDataAndDimensions(in, batch, m, m, 1)
	target, err := graph.CallOnce(backend, func(x *graph.Node) *graph.Node {
		k := graph.ConvertDType(graph.Const(x.Graph(), deconv.Flatten(deconv.ExampleKernel)), dtypes.Float32)
		return deconv.TransposedConv(x, graph.Reshape(k, 3, 3, 1, 1), stride, 0)
	}, x)
	if err != nil {
		return nil, fmt.Errorf("FitTransposedKernel: target: %w", err)
	}
	store := model.NewStore()
	store.RootScope().SetParam(model.ParamInitialSeed, int64(1))
	modelFn := func(scope *model.Scope, x *graph.Node) *graph.Node {
		return deconv.ConvTranspose2D(scope.In("deconv").WithInitializer(initializer.Zero), x,
			deconv.Config{Filters: 1, KernelSize: 3, Stride: stride})
	}
	trainer := gtrain.NewTrainer(backend, store, modelFn, loss.MeanSquaredError,
		optimizer.Adam().LearningRate(0.1).Done(), nil, nil)
	targetFlat, err := tensors.CopyFlatData[float32](target)
	if err != nil {
		return nil, fmt.Errorf("FitTransposedKernel: target: %w", err)
	}
	targetDims := target.Shape().Dimensions
	target.MustFinalizeAll()
	fit = &KernelFit{Target: deconv.ExampleKernel}
	for range steps {
		// TrainStep consumes its batch tensors: give it fresh ones each step.
		b := gtrain.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(slices.Clone(in), batch, m, m, 1)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(slices.Clone(targetFlat), targetDims...)}}
		metrics, err := trainer.TrainStep(b)
		if err != nil {
			return nil, fmt.Errorf("FitTransposedKernel: %w", err)
		}
		fit.Loss = append(fit.Loss, float64(tensors.ToScalar[float32](metrics[0])))
	}
	v := store.GetVariable("/deconv/weights")
	if v == nil || !v.Shape().Equal(shapes.Make(dtypes.Float32, 3, 3, 1, 1)) {
		return nil, errors.New("FitTransposedKernel: the layer's weights variable is missing or misshapen")
	}
	t, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("FitTransposedKernel: %w", err)
	}
	flat, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, fmt.Errorf("FitTransposedKernel: %w", err)
	}
	learned := make([]float64, len(flat))
	for i, f := range flat {
		learned[i] = float64(f)
	}
	if fit.Learned, err = deconv.Unflatten(learned, 3, 3); err != nil {
		return nil, fmt.Errorf("FitTransposedKernel: %w", err)
	}
	fit.MaxError = reproduce.MaxAbsDiff(fit.Learned, fit.Target)
	return fit, nil
}

// Figure draws the loss against steps on a log scale.
func (f *KernelFit) Figure() (*plots.Figure, error) {
	return plots.Curves(fmt.Sprintf("learning the kernel through ConvTranspose2D: max |k − k*| = %.2g", f.MaxError),
		"Adam step", "mean squared error", []plots.Series{{Name: "training loss", Y: f.Loss}}, plots.LogY())
}
