package deconv

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// toNHWC turns a single-channel image into a [1, H, W, 1] float64 tensor.
func toNHWC(img [][]float64) *tensors.Tensor {
	h, w := len(img), len(img[0])
	return tensors.FromFlatDataAndDimensions(Flatten(img), 1, h, w, 1)
}

// toHWIO turns a single-channel kernel into a [kh, kw, 1, 1] float64 tensor.
func toHWIO(kernel [][]float64) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(Flatten(kernel), len(kernel), len(kernel[0]), 1, 1)
}

// fromNHWC reads a [1, H, W, 1] float64 tensor back into an image.
func fromNHWC(t *tensors.Tensor) ([][]float64, error) {
	dims := t.Shape().Dimensions
	if len(dims) != 4 || dims[0] != 1 || dims[3] != 1 {
		return nil, fmt.Errorf("expected a [1, H, W, 1] result, got %s", t.Shape())
	}
	flat, err := tensors.CopyFlatData[float64](t)
	if err != nil {
		return nil, err
	}
	return Unflatten(flat, dims[1], dims[2])
}

// runImageGraph validates the image and kernel, executes fn on the backend with them as
// [1,H,W,1] and [kh,kw,1,1] float64 tensors, and returns the single-channel result,
// turning GoMLX panics into errors.
func runImageGraph(backend compute.Backend, what string, img, kernel [][]float64,
	fn func(x, k *graph.Node) *graph.Node) (out [][]float64, err error) {
	if backend == nil {
		return nil, fmt.Errorf("deconv.%s: nil backend", what)
	}
	if _, _, err := checkImage("input", img); err != nil {
		return nil, fmt.Errorf("deconv.%s: %w", what, err)
	}
	if _, _, err := checkKernel(kernel); err != nil {
		return nil, fmt.Errorf("deconv.%s: %w", what, err)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("deconv.%s: %v", what, r)
		}
	}()
	t, err := graph.CallOnce(backend, fn, toNHWC(img), toHWIO(kernel))
	if err != nil {
		return nil, fmt.Errorf("deconv.%s: %w", what, err)
	}
	defer t.MustFinalizeAll()
	out, err = fromNHWC(t)
	if err != nil {
		return nil, fmt.Errorf("deconv.%s: %w", what, err)
	}
	return out, nil
}

// EngineConv2D runs GoMLX's own convolution (graph.Convolve) of a single-channel image x
// with kernel (stride, zero padding pad) on backend: the "engine" side of y = C·vec(x).
func EngineConv2D(backend compute.Backend, x, kernel [][]float64, stride, pad int) ([][]float64, error) {
	return runImageGraph(backend, "EngineConv2D", x, kernel, func(xn, kn *graph.Node) *graph.Node {
		return graph.Convolve(xn, kn).Strides(stride).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
	})
}

// EngineConvTranspose2D runs the project's TransposedConv layer op on a single-channel y
// with kernel (stride, padding pad) on backend: the "engine" side of x' = Cᵀ·vec(y).
func EngineConvTranspose2D(backend compute.Backend, y, kernel [][]float64, stride, pad int) ([][]float64, error) {
	return runImageGraph(backend, "EngineConvTranspose2D", y, kernel, func(yn, kn *graph.Node) *graph.Node {
		return TransposedConv(yn, kn, stride, pad)
	})
}

// AutodiffConvTranspose2D is GoMLX's built-in transposed convolution, obtained by automatic
// differentiation: the gradient with respect to z of ⟨Convolve(z, kernel), y⟩, evaluated
// for a z of the transposed output size. Since that inner product is linear in z, its
// gradient is Cᵀ·y, an independent check of TransposedConv (GoMLX has no ConvTranspose op).
//
// The input gradient of a convolution in the pinned GoMLX (v0.28.14, as in v0.28.2; the
// reverse convolution set up in core/graph/ops_convolve.go) is only right for odd kernel
// sizes with pad <= k−1: for even kernels it comes out shifted by one pixel (or fails to
// build, e.g. k=2 with p=1), and larger paddings fail to build ("failed to set up reverse
// Convolve() for gradient"); see TestGoMLXEvenKernelInputGradient. Those cases return an
// error here rather than a wrong image; TransposedConv itself handles them.
func AutodiffConvTranspose2D(backend compute.Backend, y, kernel [][]float64, stride, pad int) ([][]float64, error) {
	m, n, err := checkImage("input", y)
	if err != nil {
		return nil, fmt.Errorf("deconv.AutodiffConvTranspose2D: %w", err)
	}
	kh, kw, err := checkKernel(kernel)
	if err != nil {
		return nil, fmt.Errorf("deconv.AutodiffConvTranspose2D: %w", err)
	}
	if kh%2 == 0 || kw%2 == 0 || pad > kh-1 || pad > kw-1 {
		return nil, fmt.Errorf("deconv.AutodiffConvTranspose2D: GoMLX's convolution gradient is only reliable for odd "+
			"kernels with pad <= k-1, got %d×%d kernel and pad %d", kh, kw, pad)
	}
	outH, err := TransposedOutputSize(m, kh, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.AutodiffConvTranspose2D: %w", err)
	}
	outW, err := TransposedOutputSize(n, kw, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.AutodiffConvTranspose2D: %w", err)
	}
	return runImageGraph(backend, "AutodiffConvTranspose2D", y, kernel, func(yn, kn *graph.Node) *graph.Node {
		z := graph.BroadcastToDims(graph.ScalarZero(yn.Graph(), yn.DType()), 1, outH, outW, 1)
		conv := graph.Convolve(z, kn).Strides(stride).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
		return graph.Gradient(graph.ReduceAllSum(graph.Mul(conv, yn)), z)[0]
	})
}

// Checkerboard returns the image that a stride-s transposed convolution with an all-ones
// f×f kernel (padding pad) makes of an all-ones n×n image: when f is not a multiple of s,
// output pixels receive different numbers of kernel overlaps, so a constant image comes out
// periodic but not constant — the checkerboard artefact of Odena et al. (2016), "Deconvolution
// and Checkerboard Artifacts". E.g. n=4, f=3, s=2, pad=1 gives a 7×7 image with period 2 and
// values 1, 2 and 4. It runs the project's TransposedConv on backend.
func Checkerboard(backend compute.Backend, n, kernelSize, stride, pad int) ([][]float64, error) {
	if n < 1 || kernelSize < 1 {
		return nil, fmt.Errorf("deconv.Checkerboard: need n, kernelSize >= 1, got %d and %d", n, kernelSize)
	}
	ones := func(h, w int) [][]float64 {
		img := make([][]float64, h)
		for i := range img {
			img[i] = make([]float64, w)
			for j := range img[i] {
				img[i][j] = 1
			}
		}
		return img
	}
	out, err := EngineConvTranspose2D(backend, ones(n, n), ones(kernelSize, kernelSize), stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.Checkerboard: %w", err)
	}
	return out, nil
}
