package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSymmetricEigen3(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	mats := [][3][3]float64{
		{{1, 0, 0}, {0, 3, 0}, {0, 0, 2}},
		{{2, 1, 0}, {1, 2, 0}, {0, 0, 3}}, // eigenvalues 3 (twice) and 1
		{{4, 4, 4}, {4, 4, 4}, {4, 4, 4}}, // rank one: 12, 0, 0
		{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
		{{1e-6, 2e-7, 0}, {2e-7, 3e-6, 1e-7}, {0, 1e-7, 2e-6}},
	}
	for range 20 {
		var m [3][3]float64
		for i := range 3 {
			for j := i; j < 3; j++ {
				m[i][j] = rng.NormFloat64()
				m[j][i] = m[i][j]
			}
		}
		mats = append(mats, m)
	}
	wantVals := map[int][3]float64{0: {3, 2, 1}, 1: {3, 3, 1}, 2: {12, 0, 0}, 3: {0, 0, 0}}
	for n, a := range mats {
		vals, vecs := SymmetricEigen3(a)
		var scale float64
		for i := range 3 {
			for j := i; j < 3; j++ {
				scale += math.Abs(a[i][j])
			}
		}
		scale = math.Max(1e-300, scale)
		tol := 1e-12 * scale
		if w, ok := wantVals[n]; ok {
			for i := range 3 {
				if math.Abs(vals[i]-w[i]) > 1e-12*math.Max(1, scale) {
					t.Errorf("matrix %d: eigenvalues %v, want %v", n, vals, w)
				}
			}
		}
		if vals[0] < vals[1] || vals[1] < vals[2] {
			t.Errorf("matrix %d: eigenvalues %v not in decreasing order", n, vals)
		}
		if tr := a[0][0] + a[1][1] + a[2][2]; math.Abs(tr-(vals[0]+vals[1]+vals[2])) > 10*tol {
			t.Errorf("matrix %d: trace %v, eigenvalue sum %v", n, tr, vals[0]+vals[1]+vals[2])
		}
		for i := range 3 {
			for j := range 3 { // orthonormal columns
				var dot float64
				for r := range 3 {
					dot += vecs[r][i] * vecs[r][j]
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(dot-want) > 1e-12 {
					t.Errorf("matrix %d: p%d·p%d = %v", n, i, j, dot)
				}
			}
			for r := range 3 { // a·p_i = λ_i·p_i
				var av float64
				for k := range 3 {
					av += a[r][k] * vecs[k][i]
				}
				if math.Abs(av-vals[i]*vecs[r][i]) > 10*tol {
					t.Errorf("matrix %d: (a·p%d)[%d] = %v, λ·p = %v", n, i, r, av, vals[i]*vecs[r][i])
				}
			}
		}
	}
}

// TestFitColourPCA builds pixels spread along known directions and checks that the PCA finds them.
func TestFitColourPCA(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	u := [3]float64{2 / 3.0, 2 / 3.0, 1 / 3.0}
	w := [3]float64{1 / math.Sqrt2, -1 / math.Sqrt2, 0}
	const n = 20000
	im := NewImage(100, n/100, 3)
	for i := range n {
		a, b := rng.NormFloat64()*0.2, rng.NormFloat64()*0.05
		for c := range 3 {
			im.Pixels[3*i+c] = float32(0.5 + a*u[c] + b*w[c])
		}
	}
	p, err := FitColourPCA(im)
	if err != nil {
		t.Fatal(err)
	}
	wantVals := [3]float64{0.04, 0.0025, 0}
	for i, tol := range []float64{0.002, 2e-4, 1e-6} {
		if math.Abs(p.Eigenvalues[i]-wantVals[i]) > tol {
			t.Errorf("eigenvalues %v, want ≈ %v", p.Eigenvalues, wantVals)
		}
	}
	for c := range 3 {
		if math.Abs(p.Eigenvectors[c][0]-u[c]) > 0.01 || math.Abs(math.Abs(p.Eigenvectors[c][1])-math.Abs(w[c])) > 0.02 {
			t.Errorf("eigenvectors %v, want p1 ≈ %v and p2 ≈ ±%v", p.Eigenvectors, u, w)
			break
		}
		if math.Abs(p.Mean[c]-0.5) > 0.01 {
			t.Errorf("mean %v", p.Mean)
		}
	}
	// Shift along one component is α·λ·p.
	s := p.Shift([3]float64{1, 0, 0})
	for c := range 3 {
		if math.Abs(s[c]-p.Eigenvalues[0]*p.Eigenvectors[c][0]) > 1e-15 {
			t.Errorf("Shift(e1) = %v", s)
		}
	}
	for _, bad := range []Image{NewImage(2, 2, 1), {H: 1, W: 1, C: 3}} {
		if _, err := FitColourPCA(bad); err == nil {
			t.Errorf("FitColourPCA(%d×%d×%d): no error", bad.H, bad.W, bad.C)
		}
	}
}

func TestColourPCAAugment(t *testing.T) {
	p := ColourPCA{Eigenvalues: [3]float64{0.04, 0.01, 0.001},
		Eigenvectors: [3][3]float64{{1, 0, 0}, {0, 0.6, 0.8}, {0, 0.8, -0.6}}}
	im := ramp(4, 5, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	var sum, sumSq float64
	const draws = 3000
	for d := range draws {
		out, alpha, err := p.Augment(rng, im, PCAColourSigma)
		if err != nil {
			t.Fatal(err)
		}
		s := p.Shift(alpha)
		for i := 0; i < len(im.Pixels); i += 3 {
			for c := range 3 {
				if math.Abs(float64(out.Pixels[i+c]-im.Pixels[i+c])-s[c]) > 1e-4 {
					t.Fatalf("draw %d: pixel %d channel %d shifted by %v, want %v", d, i/3, c, out.Pixels[i+c]-im.Pixels[i+c], s[c])
				}
			}
		}
		for _, a := range alpha {
			sum += a
			sumSq += a * a
		}
	}
	m := sum / (3 * draws)
	sd := math.Sqrt(sumSq/(3*draws) - m*m)
	if math.Abs(m) > 0.006 || math.Abs(sd-PCAColourSigma) > 0.005 {
		t.Errorf("α mean %v sd %v, want 0 and %v", m, sd, PCAColourSigma)
	}
	a1, al1, _ := p.Augment(rand.New(rand.NewPCG(1, 1)), im, PCAColourSigma)
	a2, al2, _ := p.Augment(rand.New(rand.NewPCG(1, 1)), im, PCAColourSigma)
	if al1 != al2 || a1.Pixels[7] != a2.Pixels[7] {
		t.Error("same seed, different augmentation")
	}
	if _, _, err := p.Augment(rng, NewImage(2, 2, 1), PCAColourSigma); err == nil {
		t.Error("grey image: no error")
	}
}

func TestColourPCAAugmentNHWC(t *testing.T) {
	p := ColourPCA{Eigenvalues: [3]float64{0.04, 0.01, 0.001},
		Eigenvectors: [3][3]float64{{1, 0, 0}, {0, 0.6, 0.8}, {0, 0.8, -0.6}}}
	const n, h, w = 3, 2, 4
	batch := make([]float32, 0, n*h*w*3)
	for range n {
		batch = append(batch, ramp(h, w, 3).Pixels...)
	}
	got, err := p.AugmentNHWC(rand.New(rand.NewPCG(4, 4)), batch, n, h, w, PCAColourSigma)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range n {
		want, _, _ := p.Augment(rng, ramp(h, w, 3), PCAColourSigma)
		for j, v := range want.Pixels {
			if got[i*h*w*3+j] != v {
				t.Fatalf("image %d value %d: %v, want %v", i, j, got[i*h*w*3+j], v)
			}
		}
	}
	if got[0]-batch[0] == got[h*w*3]-batch[h*w*3] {
		t.Error("two images got the same colour shift")
	}
	if _, err := p.AugmentNHWC(rng, batch[1:], n, h, w, PCAColourSigma); err == nil {
		t.Error("wrong batch length: no error")
	}
}
