// Package deconv holds the Go code behind notebook 04: convolution written as a matrix
// multiplication, y = C·vec(x), and the transposed convolution x' = Cᵀ·y ("deconvolution"),
// both as small pure-Go references on [][]float64 and as a project GoMLX layer with
// gradients (ConvTranspose2D), plus the stride-2 checkerboard artefact.
//
// Conventions: "convolution" is the deep-learning cross-correlation,
//
//	y[i][j] = Σ_{u,v} k[u][v] · x[i·s+u−p][j·s+v−p]      (zero outside x),
//
// with stride s and symmetric zero padding p, so an n×n input and f×f kernel give a
// ⌊(n+2p−f)/s⌋+1 square output; vec(·) flattens row-major. Images are NHWC in the graph code.
package deconv

import (
	"errors"
	"fmt"
)

// ExampleInput is the 4×4 input of notebook 04's worked example, the one of Naoki Shibuya's
// "Up-sampling with Transposed Convolution" (2017), in the notes' set-up (a 4×4 input, a 3×3
// kernel, s=1, p=0): with ExampleKernel it convolves to [[122 148] [126 134]].
var ExampleInput = [][]float64{
	{4, 5, 8, 7},
	{1, 8, 8, 8},
	{3, 6, 6, 4},
	{6, 5, 7, 8},
}

// ExampleKernel is the 3×3 kernel of Shibuya's worked example (see ExampleInput).
var ExampleKernel = [][]float64{
	{1, 4, 1},
	{1, 4, 3},
	{3, 3, 1},
}

// OutputSize is the convolution output length ⌊(n+2p−f)/s⌋+1 for input length n, kernel
// length f, stride s and padding p; it returns an error when the kernel does not fit.
func OutputSize(n, f, stride, pad int) (int, error) {
	if n < 1 || f < 1 || stride < 1 || pad < 0 {
		return 0, fmt.Errorf("deconv: need n, f, stride >= 1 and pad >= 0, got n=%d f=%d stride=%d pad=%d", n, f, stride, pad)
	}
	if n+2*pad < f {
		return 0, fmt.Errorf("deconv: kernel %d does not fit input %d with padding %d", f, n, pad)
	}
	return (n+2*pad-f)/stride + 1, nil
}

// TransposedOutputSize is the output length (m−1)·s − 2p + f of a transposed convolution
// of an input of length m: the input length of the convolution it transposes (when that
// convolution's window tiles its input exactly).
func TransposedOutputSize(m, f, stride, pad int) (int, error) {
	if m < 1 || f < 1 || stride < 1 || pad < 0 {
		return 0, fmt.Errorf("deconv: need m, f, stride >= 1 and pad >= 0, got m=%d f=%d stride=%d pad=%d", m, f, stride, pad)
	}
	n := (m-1)*stride - 2*pad + f
	if n < 1 {
		return 0, fmt.Errorf("deconv: padding %d leaves no output for m=%d f=%d stride=%d", pad, m, f, stride)
	}
	return n, nil
}

// checkKernel validates a rectangular, non-empty kernel and returns its size.
func checkKernel(kernel [][]float64) (kh, kw int, err error) {
	kh = len(kernel)
	if kh == 0 || len(kernel[0]) == 0 {
		return 0, 0, errors.New("deconv: empty kernel")
	}
	kw = len(kernel[0])
	for i, row := range kernel {
		if len(row) != kw {
			return 0, 0, fmt.Errorf("deconv: kernel row %d has %d values, want %d", i, len(row), kw)
		}
	}
	return kh, kw, nil
}

// checkImage validates a rectangular, non-empty image and returns its size.
func checkImage(name string, img [][]float64) (h, w int, err error) {
	h = len(img)
	if h == 0 || len(img[0]) == 0 {
		return 0, 0, fmt.Errorf("deconv: empty %s", name)
	}
	w = len(img[0])
	for i, row := range img {
		if len(row) != w {
			return 0, 0, fmt.Errorf("deconv: %s row %d has %d values, want %d", name, i, len(row), w)
		}
	}
	return h, w, nil
}

// ConvMatrix returns the convolution matrix C, of shape (outH·outW) × (inH·inW), such that
// vec(y) = C·vec(x) is the convolution of an inH×inW image x with kernel (stride, zero
// padding pad). Row r = i·outW + j holds the kernel weights at the input positions that
// output (i, j) sees: it is sparse (only kh·kw non-zeros) and every row holds the same
// weights (weight sharing). For a 4×4 input and a 3×3 kernel (s=1, p=0) it is 4×16.
func ConvMatrix(kernel [][]float64, inH, inW, stride, pad int) ([][]float64, error) {
	kh, kw, err := checkKernel(kernel)
	if err != nil {
		return nil, fmt.Errorf("deconv.ConvMatrix: %w", err)
	}
	outH, err := OutputSize(inH, kh, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.ConvMatrix: height: %w", err)
	}
	outW, err := OutputSize(inW, kw, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.ConvMatrix: width: %w", err)
	}
	c := make([][]float64, outH*outW)
	for i := range outH {
		for j := range outW {
			row := make([]float64, inH*inW)
			for u := range kh {
				for v := range kw {
					r, q := i*stride+u-pad, j*stride+v-pad
					if r >= 0 && r < inH && q >= 0 && q < inW {
						row[r*inW+q] += kernel[u][v]
					}
				}
			}
			c[i*outW+j] = row
		}
	}
	return c, nil
}

// Transpose returns mᵀ (nil for an empty matrix).
func Transpose(m [][]float64) [][]float64 {
	if len(m) == 0 {
		return nil
	}
	t := make([][]float64, len(m[0]))
	for j := range t {
		t[j] = make([]float64, len(m))
		for i := range m {
			t[j][i] = m[i][j]
		}
	}
	return t
}

// MatVec returns m·v; it returns an error if the sizes do not match.
func MatVec(m [][]float64, v []float64) ([]float64, error) {
	out := make([]float64, len(m))
	for i, row := range m {
		if len(row) != len(v) {
			return nil, fmt.Errorf("deconv.MatVec: row %d has %d values, vector has %d", i, len(row), len(v))
		}
		var s float64
		for j, x := range row {
			s += x * v[j]
		}
		out[i] = s
	}
	return out, nil
}

// Flatten returns vec(img), the row-major flattening used by ConvMatrix.
func Flatten(img [][]float64) []float64 {
	var out []float64
	for _, row := range img {
		out = append(out, row...)
	}
	return out
}

// Unflatten reshapes a row-major vector into an h×w image; it returns an error if the
// length is not h·w.
func Unflatten(v []float64, h, w int) ([][]float64, error) {
	if h < 1 || w < 1 || len(v) != h*w {
		return nil, fmt.Errorf("deconv.Unflatten: %d values cannot be shaped %d×%d", len(v), h, w)
	}
	img := make([][]float64, h)
	for i := range img {
		img[i] = append([]float64(nil), v[i*w:(i+1)*w]...)
	}
	return img, nil
}

// Rot180 returns the kernel rotated by 180°, k'[u][v] = k[kh−1−u][kw−1−v].
func Rot180(kernel [][]float64) [][]float64 {
	kh := len(kernel)
	out := make([][]float64, kh)
	for u := range kernel {
		kw := len(kernel[u])
		out[kh-1-u] = make([]float64, kw)
		for v := range kernel[u] {
			out[kh-1-u][kw-1-v] = kernel[u][v]
		}
	}
	return out
}

// Conv2D is the direct (loop) single-channel convolution of x with kernel, stride and
// zero padding pad: the reference for ConvMatrix and for the engine's convolution.
func Conv2D(x, kernel [][]float64, stride, pad int) ([][]float64, error) {
	inH, inW, err := checkImage("input", x)
	if err != nil {
		return nil, fmt.Errorf("deconv.Conv2D: %w", err)
	}
	kh, kw, err := checkKernel(kernel)
	if err != nil {
		return nil, fmt.Errorf("deconv.Conv2D: %w", err)
	}
	outH, err := OutputSize(inH, kh, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.Conv2D: height: %w", err)
	}
	outW, err := OutputSize(inW, kw, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.Conv2D: width: %w", err)
	}
	y := make([][]float64, outH)
	for i := range y {
		y[i] = make([]float64, outW)
		for j := range y[i] {
			for u := range kh {
				for v := range kw {
					r, q := i*stride+u-pad, j*stride+v-pad
					if r >= 0 && r < inH && q >= 0 && q < inW {
						y[i][j] += kernel[u][v] * x[r][q]
					}
				}
			}
		}
	}
	return y, nil
}

// ConvTranspose2DRef is the direct (scatter) single-channel transposed convolution: every
// input value y[i][j] adds y[i][j]·kernel into the output window at (i·s−p, j·s−p),
//
//	x'[i·s+u−p][j·s+v−p] += y[i][j] · k[u][v],
//
// which is exactly Cᵀ·vec(y) for the C = ConvMatrix of the convolution being transposed.
// The output is TransposedOutputSize(m, f, stride, pad) on each axis.
func ConvTranspose2DRef(y, kernel [][]float64, stride, pad int) ([][]float64, error) {
	m, n, err := checkImage("input", y)
	if err != nil {
		return nil, fmt.Errorf("deconv.ConvTranspose2DRef: %w", err)
	}
	kh, kw, err := checkKernel(kernel)
	if err != nil {
		return nil, fmt.Errorf("deconv.ConvTranspose2DRef: %w", err)
	}
	outH, err := TransposedOutputSize(m, kh, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.ConvTranspose2DRef: height: %w", err)
	}
	outW, err := TransposedOutputSize(n, kw, stride, pad)
	if err != nil {
		return nil, fmt.Errorf("deconv.ConvTranspose2DRef: width: %w", err)
	}
	x := make([][]float64, outH)
	for r := range x {
		x[r] = make([]float64, outW)
	}
	for i := range m {
		for j := range n {
			for u := range kh {
				for v := range kw {
					r, q := i*stride+u-pad, j*stride+v-pad
					if r >= 0 && r < outH && q >= 0 && q < outW {
						x[r][q] += y[i][j] * kernel[u][v]
					}
				}
			}
		}
	}
	return x, nil
}
