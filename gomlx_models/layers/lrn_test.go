package layers

import (
	"math"
	"math/rand"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
)

// goBackendForTest returns the project's Go backend.
func goBackendForTest(t *testing.T) compute.Backend {
	t.Helper()
	b, err := cnbackend.New("go")
	if err != nil {
		t.Fatalf("creating Go backend: %v", err)
	}
	return b
}

// flat returns a float32 or float64 tensor's values as float64.
func flatValues(t *testing.T, x *tensors.Tensor) []float64 {
	t.Helper()
	if x.DType() == dtypes.Float32 {
		f := tensors.MustCopyFlatData[float32](x)
		out := make([]float64, len(f))
		for i, v := range f {
			out[i] = float64(v)
		}
		return out
	}
	return tensors.MustCopyFlatData[float64](x)
}

// maxRelDiff is max|a−b| / max|b| (max|a−b| if b is all zero).
func maxRelDiff(t *testing.T, a, b []float64) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("lengths differ: %d vs %d", len(a), len(b))
	}
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// lrnReference is §3.3's formula in plain Go on NHWC data (channels last).
func lrnReference(x []float64, c int, cfg LRN) []float64 {
	before, after := cfg.window()
	out := make([]float64, len(x))
	for p := 0; p < len(x); p += c {
		for i := range c {
			var s float64
			for j := max(0, i-before); j <= min(c-1, i+after); j++ {
				s += x[p+j] * x[p+j]
			}
			out[p+i] = x[p+i] / math.Pow(cfg.K+cfg.Alpha*s, cfg.Beta)
		}
	}
	return out
}

func TestLocalResponseNorm(t *testing.T) {
	backend := goBackendForTest(t)
	tests := []struct {
		name       string
		n, h, w, c int
		cfg        LRN
		scale      float64 // inputs uniform in [-scale, scale]
	}{
		{"AlexNet constants", 2, 3, 3, 7, AlexNetLRN, 60},
		{"strong normalization", 1, 2, 3, 6, LRN{K: 1, Alpha: 0.5, Beta: 0.75, Size: 3}, 2},
		{"even window", 1, 2, 2, 5, LRN{K: 1, Alpha: 0.3, Beta: 0.5, Size: 4}, 2},
		{"window wider than the channels", 2, 1, 2, 2, LRN{K: 2, Alpha: 0.2, Beta: 1, Size: 5}, 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(40 + i)))
			size := tc.n * tc.h * tc.w * tc.c
			x, v := make([]float64, size), make([]float64, size)
			for j := range x {
				x[j] = (2*rng.Float64() - 1) * tc.scale
				v[j] = 2*rng.Float64() - 1
			}
			// Forward and gradient of L = Σ v·LRN(x), channels last (NHWC) and channels first (the Fast layout).
			exec, err := graph.NewExec(backend, func(x, v *graph.Node) []*graph.Node {
				y := LocalResponseNorm(nil, x, tc.cfg)
				yFast := LocalResponseNorm(nil, fromCNHW(toCNHW(x)), tc.cfg)
				loss := graph.ReduceAllSum(graph.Mul(y, v))
				lossFast := graph.ReduceAllSum(graph.Mul(yFast, v))
				return []*graph.Node{y, yFast, graph.Gradient(loss, x)[0], graph.Gradient(lossFast, x)[0]}
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, tc.n, tc.h, tc.w, tc.c),
				tensors.FromFlatDataAndDimensions(v, tc.n, tc.h, tc.w, tc.c))
			if err != nil {
				t.Fatal(err)
			}
			want := lrnReference(x, tc.c, tc.cfg)
			for k, name := range []string{"NHWC", "CNHW"} {
				if e := maxRelDiff(t, flatValues(t, out[k]), want); e > 1e-12 {
					t.Errorf("%s forward: relative error %.3g against the formula", name, e)
				}
			}
			// Central finite differences of the reference loss.
			const h = 1e-5
			fd := make([]float64, size)
			loss := func(x []float64) float64 {
				var s float64
				for j, y := range lrnReference(x, tc.c, tc.cfg) {
					s += v[j] * y
				}
				return s
			}
			for j := range x {
				xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
				xp[j] += h
				xm[j] -= h
				fd[j] = (loss(xp) - loss(xm)) / (2 * h)
			}
			for k, name := range []string{"NHWC", "CNHW"} {
				if e := maxRelDiff(t, flatValues(t, out[2+k]), fd); e > 1e-7 {
					t.Errorf("%s gradient: relative error %.3g against finite differences", name, e)
				}
			}
			// The normalization must matter for the test to mean anything.
			if e := maxRelDiff(t, want, x); e < 1e-3 && tc.cfg != AlexNetLRN {
				t.Errorf("LRN is nearly the identity here (%.3g): the test checks nothing", e)
			}
		})
	}
}

func TestLRNConstants(t *testing.T) {
	if AlexNetLRN.K != 2 || AlexNetLRN.Size != 5 || AlexNetLRN.Alpha != 1e-4 || AlexNetLRN.Beta != 0.75 {
		t.Errorf("AlexNetLRN = %+v, want §3.3's k=2, n=5, α=1e-4, β=0.75", AlexNetLRN)
	}
	if a := AlexNetLRN.PyTorchAlpha(); math.Abs(a-5e-4) > 1e-18 {
		t.Errorf("PyTorchAlpha = %v, want 5e-4 (PyTorch divides α by n)", a)
	}
	// At the paper's constants and a = 1 everywhere, b = 1/(2 + 5e-4)^0.75 away from the edges.
	x := make([]float64, 9)
	for i := range x {
		x[i] = 1
	}
	got := lrnReference(x, 9, AlexNetLRN)[4]
	if want := 1 / math.Pow(2.0005, 0.75); math.Abs(got-want) > 1e-15 {
		t.Errorf("b = %v, want %v", got, want)
	}
}
