package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// PCAColourSigma is the standard deviation of the Gaussian the PCA colour coefficients are drawn from (§4.1:
// "a Gaussian with mean zero and standard deviation 0.1").
const PCAColourSigma = 0.1

// ColourPCA is the principal component analysis of the RGB values of a set of images (§4.1, the second form
// of data augmentation): the eigenvalues λ₁ ≥ λ₂ ≥ λ₃ of the 3×3 covariance of the pixels' colours and the
// unit eigenvectors p₁, p₂, p₃ (columns of Eigenvectors: Eigenvectors[row][i] is component row of p_i).
type ColourPCA struct {
	Mean         [3]float64
	Covariance   [3][3]float64
	Eigenvalues  [3]float64
	Eigenvectors [3][3]float64
}

// FitColourPCA computes the colour PCA of the RGB pixels of images (HWC, C = 3), over every pixel of every image,
// as §4.1 does "throughout the ImageNet training set". Sums are in float64.
func FitColourPCA(images ...Image) (ColourPCA, error) {
	var p ColourPCA
	var n float64
	for _, im := range images {
		if err := im.Validate(); err != nil {
			return p, err
		}
		if im.C != 3 {
			return p, fmt.Errorf("augment: colour PCA needs RGB images, got %d channels", im.C)
		}
		for i := 0; i < len(im.Pixels); i += 3 {
			for c := range 3 {
				p.Mean[c] += float64(im.Pixels[i+c])
			}
		}
		n += float64(im.H * im.W)
	}
	if n < 2 {
		return p, fmt.Errorf("augment: colour PCA needs at least 2 pixels, got %v", n)
	}
	for c := range 3 {
		p.Mean[c] /= n
	}
	for _, im := range images {
		for i := 0; i < len(im.Pixels); i += 3 {
			var d [3]float64
			for c := range 3 {
				d[c] = float64(im.Pixels[i+c]) - p.Mean[c]
			}
			for a := range 3 {
				for b := a; b < 3; b++ {
					p.Covariance[a][b] += d[a] * d[b]
				}
			}
		}
	}
	for a := range 3 {
		for b := a; b < 3; b++ {
			p.Covariance[a][b] /= n - 1
			p.Covariance[b][a] = p.Covariance[a][b]
		}
	}
	p.Eigenvalues, p.Eigenvectors = SymmetricEigen3(p.Covariance)
	for i, v := range p.Eigenvalues { // a covariance is positive semi-definite: below 0 is rounding
		p.Eigenvalues[i] = max(v, 0)
	}
	return p, nil
}

// Shift returns the colour added to every pixel for the coefficients alpha (§4.1):
// [p₁, p₂, p₃][α₁λ₁, α₂λ₂, α₃λ₃]ᵀ.
func (p ColourPCA) Shift(alpha [3]float64) [3]float64 {
	var s [3]float64
	for row := range 3 {
		for i := range 3 {
			s[row] += p.Eigenvectors[row][i] * alpha[i] * p.Eigenvalues[i]
		}
	}
	return s
}

// Augment draws α_i ~ N(0, sigma) (sigma = [PCAColourSigma] in the paper; one draw per image per presentation)
// and returns im with [ColourPCA.Shift] added to every pixel, and the α drawn. Values are not clipped.
func (p ColourPCA) Augment(rng *rand.Rand, im Image, sigma float64) (Image, [3]float64, error) {
	var alpha [3]float64
	if err := im.Validate(); err != nil {
		return Image{}, alpha, err
	}
	if im.C != 3 {
		return Image{}, alpha, fmt.Errorf("augment: colour PCA needs RGB images, got %d channels", im.C)
	}
	for i := range alpha {
		alpha[i] = rng.NormFloat64() * sigma
	}
	s := p.Shift(alpha)
	out := NewImage(im.H, im.W, 3)
	for i := 0; i < len(im.Pixels); i += 3 {
		for c := range 3 {
			out.Pixels[i+c] = im.Pixels[i+c] + float32(s[c])
		}
	}
	return out, alpha, nil
}

// jacobiSweeps bounds the cyclic Jacobi iteration; a 3×3 matrix converges to machine precision in under 10.
const jacobiSweeps = 50

// SymmetricEigen3 returns the eigenvalues of the symmetric 3×3 matrix a in decreasing order and the matching unit
// eigenvectors as the columns of vecs (a·vecs[:,i] = vals[i]·vecs[:,i]), by the cyclic Jacobi method: plane
// rotations that zero each off-diagonal entry in turn until they vanish. Each eigenvector's sign is chosen so
// that its largest-magnitude component is positive. Only the upper triangle of a is read.
func SymmetricEigen3(a [3][3]float64) (vals [3]float64, vecs [3][3]float64) {
	for i := range 3 {
		for j := range i {
			a[i][j] = a[j][i]
		}
	}
	v := [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	for range jacobiSweeps {
		off := a[0][1]*a[0][1] + a[0][2]*a[0][2] + a[1][2]*a[1][2]
		if off == 0 || math.Sqrt(off) <= 1e-15*(math.Abs(a[0][0])+math.Abs(a[1][1])+math.Abs(a[2][2])) {
			break
		}
		for p := range 2 {
			for q := p + 1; q < 3; q++ {
				if a[p][q] == 0 {
					continue
				}
				// Rotation angle θ with tan 2θ = 2a_pq / (a_qq − a_pp) (Golub & Van Loan, §8.5.2).
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range 3 { // a ← a·J
					akp, akq := a[k][p], a[k][q]
					a[k][p], a[k][q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := range 3 { // a ← Jᵀ·a
					apk, aqk := a[p][k], a[q][k]
					a[p][k], a[q][k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := range 3 { // v ← v·J
					vkp, vkq := v[k][p], v[k][q]
					v[k][p], v[k][q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	order := []int{0, 1, 2}
	sort.SliceStable(order, func(i, j int) bool { return a[order[i]][order[i]] > a[order[j]][order[j]] })
	for i, k := range order {
		vals[i] = a[k][k]
		big := 0
		for r := range 3 {
			if math.Abs(v[r][k]) > math.Abs(v[big][k]) {
				big = r
			}
		}
		sign := 1.0
		if v[big][k] < 0 {
			sign = -1
		}
		for r := range 3 {
			vecs[r][i] = sign * v[r][k]
		}
	}
	return vals, vecs
}

// AugmentNHWC applies [ColourPCA.Augment] to each of the n RGB images of an NHWC batch (h×w×3 each), one draw of
// α per image, and returns the new batch: the training-time colour augmentation of a mini-batch.
func (p ColourPCA) AugmentNHWC(rng *rand.Rand, pixels []float32, n, h, w int, sigma float64) ([]float32, error) {
	if n < 0 || h < 1 || w < 1 || len(pixels) != n*h*w*3 {
		return nil, fmt.Errorf("augment: RGB batch of %d×%d×%d×3 needs %d values, got %d", n, h, w, n*h*w*3, len(pixels))
	}
	out := make([]float32, 0, len(pixels))
	size := h * w * 3
	for i := range n {
		im, _, err := p.Augment(rng, Image{H: h, W: w, C: 3, Pixels: pixels[i*size : (i+1)*size]}, sigma)
		if err != nil {
			return nil, err
		}
		out = append(out, im.Pixels...)
	}
	return out, nil
}
