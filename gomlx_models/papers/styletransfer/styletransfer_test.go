package styletransfer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/reproduce/reprotest"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

func testBackend(t *testing.T) compute.Backend { return reprotest.Backend(t) }

// handF is the 2-filter, 3-position feature matrix F = [[1 2 0] [0 1 3]], stored position by position.
var handF = Features{N: 2, M: 3, Data: []float64{1, 0, 2, 1, 0, 3}}

func TestLossesHandComputed(t *testing.T) {
	g, err := Gram(handF)
	if err != nil {
		t.Fatal(err)
	}
	// G = F Fᵀ = [[1+4+0, 0+2+0], [2, 0+1+9]].
	wantG := []float64{5, 2, 2, 10}
	for i := range wantG {
		if g[i] != wantG[i] {
			t.Fatalf("Gram = %v, want %v", g, wantG)
		}
	}
	zero := Features{N: 2, M: 3, Data: make([]float64, 6)}
	cases := []struct {
		name string
		got  func() (float64, error)
		want float64
	}{
		{"content ½ΣF²", func() (float64, error) { return ContentLoss(handF, zero) }, 7.5},
		{"content F=P", func() (float64, error) { return ContentLoss(handF, handF) }, 0},
		// (25 + 4 + 4 + 100) / (4 · 2² · 3²).
		{"style vs A=0", func() (float64, error) { return LayerStyleLoss(g, make([]float64, 4), 2, 3) }, 133.0 / 144},
		{"style vs A=G", func() (float64, error) { return LayerStyleLoss(g, g, 2, 3) }, 0},
		{"total", func() (float64, error) {
			tot, _, err := TotalLoss(1e-3, 1, 7.5, []float64{0.5, 0.5}, []float64{1, 3})
			return tot, err
		}, 7.5e-3 + 2},
	}
	for _, c := range cases {
		got, err := c.got()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := ContentLoss(handF, Features{N: 3, M: 2, Data: make([]float64, 6)}); err == nil {
		t.Error("content loss of mismatched shapes: no error")
	}
	if _, err := LayerStyleLoss(g, []float64{1}, 2, 3); err == nil {
		t.Error("style loss of mismatched Gram matrices: no error")
	}
}

// plainLoss is eq. 1 + eq. 4 in plain Go on activations [H·W·N] (positions major).
func plainLoss(act, p, a []float64, n, m int) float64 {
	c, _ := ContentLoss(Features{N: n, M: m, Data: act}, Features{N: n, M: m, Data: p})
	g, _ := Gram(Features{N: n, M: m, Data: act})
	s, _ := LayerStyleLoss(g, a, n, m)
	return c + 1e3*s
}

func TestGraphLossesAndGradientsMatchFiniteDifferences(t *testing.T) {
	be := testBackend(t)
	for _, c := range []struct{ h, w, n int }{{1, 3, 2}, {2, 3, 4}, {3, 3, 5}} {
		rng := rand.New(rand.NewPCG(uint64(c.h*100+c.n), 7))
		m := c.h * c.w
		act, p := make([]float64, m*c.n), make([]float64, m*c.n)
		for i := range act {
			act[i], p[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		styleF := make([]float64, m*c.n)
		for i := range styleF {
			styleF[i] = rng.Float64()
		}
		a, _ := Gram(Features{N: c.n, M: m, Data: styleF})
		exec, err := model.NewExec(be, model.NewStore(), func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x := in[0]
			l := graph.Add(ContentLossGraph(x, in[1]), graph.MulScalar(LayerStyleLossGraph(x, in[2]), 1e3))
			return []*graph.Node{l, graph.Gradient(l, x)[0], GramGraph(x)}
		})
		if err != nil {
			t.Fatal(err)
		}
		to32 := func(v []float64, dims ...int) *tensors.Tensor {
			o := make([]float32, len(v))
			for i := range v {
				o[i] = float32(v[i])
			}
			return tensors.FromFlatDataAndDimensions(o, dims...)
		}
		out, err := exec.Exec(to32(act, 1, c.h, c.w, c.n), to32(p, 1, c.h, c.w, c.n), to32(a, c.n, c.n))
		if err != nil {
			t.Fatal(err)
		}
		want := plainLoss(act, p, a, c.n, m)
		if got := float64(tensors.ToScalar[float32](out[0])); math.Abs(got-want) > 1e-4*math.Abs(want) {
			t.Errorf("%v: graph loss %v, plain Go %v", c, got, want)
		}
		gGraph := tensors.MustCopyFlatData[float32](out[2])
		gPlain, _ := Gram(Features{N: c.n, M: m, Data: act})
		for i := range gPlain {
			if math.Abs(float64(gGraph[i])-gPlain[i]) > 1e-4*(1+math.Abs(gPlain[i])) {
				t.Fatalf("%v: Gram[%d] graph %v, plain %v", c, i, gGraph[i], gPlain[i])
			}
		}
		grad := tensors.MustCopyFlatData[float32](out[1])
		const eps = 1e-5
		for i := range act {
			x := append([]float64{}, act...)
			x[i] += eps
			up := plainLoss(x, p, a, c.n, m)
			x[i] -= 2 * eps
			fd := (up - plainLoss(x, p, a, c.n, m)) / (2 * eps)
			if math.Abs(float64(grad[i])-fd) > 1e-3*(1+math.Abs(fd)) {
				t.Errorf("%v: ∂L/∂act[%d] graph %v, finite difference %v", c, i, grad[i], fd)
			}
		}
	}
}

func TestLBFGS(t *testing.T) {
	rosen := func(x, g []float64) (float64, error) {
		a, b := x[0], x[1]
		g[0] = -2*(1-a) - 400*a*(b-a*a)
		g[1] = 200 * (b - a*a)
		return (1-a)*(1-a) + 100*(b-a*a)*(b-a*a), nil
	}
	// An ill-conditioned quadratic ½ Σ cᵢ xᵢ², cᵢ from 1 to 1000.
	quad := func(x, g []float64) (float64, error) {
		var f float64
		for i := range x {
			c := math.Pow(1000, float64(i)/float64(len(x)-1))
			g[i] = c * x[i]
			f += c * x[i] * x[i] / 2
		}
		return f, nil
	}
	cases := []struct {
		name  string
		f     Objective
		x0    []float64
		iters int
		tol   float64
	}{
		{"Rosenbrock", rosen, []float64{-1.2, 1}, 200, 1e-8},
		{"quadratic", quad, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 100, 1e-10},
	}
	for _, c := range cases {
		x := append([]float64{}, c.x0...)
		var calls int
		f, evals, err := LBFGS{MaxIter: c.iters, Tol: 1e-9, OnIter: func(int, float64, int) { calls++ }}.Minimize(c.f, x)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if f > c.tol {
			t.Errorf("%s: f = %g after %d evaluations, want ≤ %g (x = %v)", c.name, f, evals, c.tol, x)
		}
		if calls == 0 || evals < calls {
			t.Errorf("%s: %d iterations reported, %d evaluations", c.name, calls, evals)
		}
	}
	// Gradient descent needs of the order of the condition number (1000) of steps on the quadratic; L-BFGS
	// reaches ‖∇f‖∞ ≤ 1e-9 in a fraction of that.
	x := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	if _, evals, _ := (LBFGS{MaxIter: 100, Tol: 1e-9}).Minimize(quad, x); evals > 200 {
		t.Errorf("quadratic: %d evaluations", evals)
	}
	if _, _, err := (LBFGS{}).Minimize(quad, x); err == nil {
		t.Error("MaxIter 0: no error")
	}
	bad := func(x, g []float64) (float64, error) { return 0, errors.New("boom") }
	if _, _, err := (LBFGS{MaxIter: 3}).Minimize(bad, x); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("objective error: got %v", err)
	}
}

// smallVGG is VGG-19 (configuration E) with a sixteenth of the kernels: 4 … 32 filters.
var smallVGG = models.VGGConfig{Name: "E/16", Layers: models.VGGLayers["E"], WidthDiv: 16}

// writeVGG writes random weights for smallVGG's layers up to conv5_1 into dir.
func writeVGG(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	names := models.VGGLayerNames(smallVGG.Layers)
	in := 3
	for k, l := range smallVGG.Layers {
		if l.Pool {
			continue
		}
		out := l.Filters / 16
		w := make([]byte, 4*9*in*out)
		for i := 0; i < len(w); i += 4 {
			binary.LittleEndian.PutUint32(w[i:], math.Float32bits(float32(rng.NormFloat64()*math.Sqrt(2/float64(9*in)))))
		}
		b := make([]byte, 4*out)
		for i := 0; i < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(0.01))
		}
		if err := os.WriteFile(filepath.Join(dir, names[k]+VGGWeightsSuffix), w, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, names[k]+VGGBiasesSuffix), b, 0o644); err != nil {
			t.Fatal(err)
		}
		in = out
		if names[k] == "conv5_1" {
			break
		}
	}
}

func TestVGGLoaderAndSynthesisGradient(t *testing.T) {
	dir := t.TempDir()
	writeVGG(t, dir)
	be := testBackend(t)
	b, err := LoadVGG(dir, smallVGG, true, "conv5_1")
	if err != nil {
		t.Fatal(err)
	}
	side := 32
	rng := rand.New(rand.NewPCG(5, 6))
	img := func() Image {
		px := make([]float32, side*side*3)
		for i := range px {
			px[i] = rng.Float32()
		}
		return Image{H: side, W: side, Pixels: px}
	}
	content, style := img(), img()
	s, err := NewSynthesis(be, b, Problem{Content: &content, ContentLayer: VGG19ContentLayer, Style: &style,
		StyleLayers: VGG19StyleLayers, Alpha: 1, Beta: 1e3, Side: side})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, side*side*3)
	for i := range x {
		x[i] = rng.Float64()
	}
	g := make([]float64, len(x))
	l0, err := s.Eval(x, g)
	if err != nil {
		t.Fatal(err)
	}
	// Directional derivative along a random direction d against a central finite difference.
	d := make([]float64, len(x))
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	const eps = 1e-2
	at := func(sign float64) float64 {
		y := make([]float64, len(x))
		for i := range x {
			y[i] = x[i] + sign*eps*d[i]
		}
		l, err := s.Eval(y, make([]float64, len(x)))
		if err != nil {
			t.Fatal(err)
		}
		return l.Total
	}
	fd := (at(1) - at(-1)) / (2 * eps)
	if an := dot(g, d); math.Abs(an-fd) > 0.02*math.Abs(fd) {
		t.Errorf("directional derivative: autodiff %g, finite difference %g", an, fd)
	}
	if l0.Content <= 0 || l0.Style <= 0 || math.Abs(l0.Total-(l0.Content+1e3*l0.Style)) > 1e-3*l0.Total {
		t.Errorf("losses %+v do not add up as eq. 7", l0)
	}
	run, err := s.Optimize(InitContent, Stop{MaxIter: 5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if run.Decrease() >= 1 || len(run.History) != 6 || run.Flat {
		t.Errorf("L-BFGS on the VGG synthesis: loss %v → %v in %d iterations (flat %v)", run.History[0].Total,
			run.Final().Total, len(run.History)-1, run.Flat)
	}
	// A tolerance no iteration can meet stops the run after its first window.
	run, err = s.Optimize(InitContent, Stop{MaxIter: 50, Window: 2, Tol: 10}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Flat || len(run.History) != 3 {
		t.Errorf("flat stop: %d iterations, flat %v; want 2, true", len(run.History)-1, run.Flat)
	}
	if _, err := s.Optimize(InitContent, Stop{}, 1); err == nil {
		t.Error("no iterations accepted")
	}
}

// TestTradeOffCounts counts the steps between consecutive ratios of each start, not across starts.
func TestTradeOffCounts(t *testing.T) {
	mk := func(content, style float64) Labeled {
		return Labeled{Run: &Run{History: []Losses{{Total: 1}, {Content: content, Style: style, Total: 0.5}}, Flat: content > 2}}
	}
	// Two starts of three ratios: the first rises/falls at both steps, the second breaks each once.
	runs := []Labeled{mk(1, 9), mk(2, 8), mk(3, 7), mk(1, 9), mk(0.5, 8), mk(3, 9)}
	up, down, n := TradeOff(runs, 3)
	if up != 3 || down != 3 || n != 4 {
		t.Errorf("TradeOff = %d up, %d down of %d steps; want 3, 3 of 4", up, down, n)
	}
	if c := Converged(runs); c != 2 {
		t.Errorf("%d runs converged, want 2", c)
	}
	if rows := SweepTable(runs); len(rows) != 7 {
		t.Errorf("sweep table of %d rows", len(rows))
	}
}

// TestTradeOffNeedsConvergence: a sweep whose every step follows the trade-off is *reproduced* only when all of
// its runs went flat; one run stopped at the iteration cap makes it *inconclusive*, and the reason says why.
func TestTradeOffNeedsConvergence(t *testing.T) {
	img := Image{H: 8, W: 8, Pixels: make([]float32, 8*8*3)}
	sweep := func(flat ...bool) []Labeled {
		var runs []Labeled
		for i, f := range flat {
			c, s := float64(1+i), float64(9-i)
			runs = append(runs, Labeled{Label: fmt.Sprint("run ", i), Run: &Run{Image: img, Flat: f,
				History: []Losses{{Content: 10, Style: 10, Total: 20}, {Content: c, Style: s, Total: c + s}}}})
		}
		return runs
	}
	env := &reproduce.Env{OutDir: t.TempDir(), Profile: train.ProfileFull}
	for _, tc := range []struct {
		name string
		runs []Labeled
		want reproduce.Verdict
	}{
		{"all flat", sweep(true, true, true, true), reproduce.Reproduced},
		{"one at the cap", sweep(true, false, true, true), reproduce.Inconclusive},
	} {
		res, err := TradeOffResult(env, &Backbone{Name: "test"}, img, img, tc.runs)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Judgement.Verdict != tc.want {
			t.Errorf("%s: %s (%s), want %s", tc.name, res.Judgement.Verdict, res.Judgement.Reason, tc.want)
		}
		if tc.want == reproduce.Inconclusive && !strings.Contains(res.Judgement.Reason, "1 of 4 runs stopped at the iteration cap") {
			t.Errorf("%s: reason %q does not say which runs did not converge", tc.name, res.Judgement.Reason)
		}
	}
}

func TestVGGLoaderErrors(t *testing.T) {
	if _, err := VGG19("", true); !errors.Is(err, ErrNoVGGWeights) && os.Getenv(VGGWeightsEnv) == "" {
		t.Errorf("no directory: got %v, want ErrNoVGGWeights", err)
	}
	if _, err := VGG19(filepath.Join(t.TempDir(), "absent"), true); !errors.Is(err, ErrNoVGGWeights) {
		t.Errorf("absent directory: got %v", err)
	}
	cases := []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"missing", func(dir string) { os.Remove(filepath.Join(dir, "conv3_1"+VGGBiasesSuffix)) }, "conv3_1.biases.f32"},
		{"truncated", func(dir string) { os.WriteFile(filepath.Join(dir, "conv2_2"+VGGWeightsSuffix), []byte{1, 2, 3}, 0o644) }, "conv2_2.weights.f32 has 3 bytes"},
		{"NaN", func(dir string) {
			b := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
			os.WriteFile(filepath.Join(dir, "conv1_1"+VGGBiasesSuffix), append(b, make([]byte, 12)...), 0o644)
		}, "conv1_1.biases.f32: value 0"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		writeVGG(t, dir)
		c.break_(dir)
		_, err := LoadVGG(dir, smallVGG, true, "conv5_1")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line containing %q", c.name, err, c.want)
		}
	}
}

func TestLoadImage(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "painting.png")
	os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	unsupported := filepath.Join(dir, "painting.gif")
	os.WriteFile(unsupported, []byte("GIF89a"), 0o644)
	for _, path := range []string{filepath.Join(dir, "missing.jpg"), corrupt, unsupported} {
		_, err := LoadImage(path, 64)
		if err == nil || !strings.Contains(err.Error(), filepath.Base(path)) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want a one-line error naming it", path, err)
		}
	}
	// A sample photo larger than the side is scaled down to side×side (its central square).
	img, err := LoadImage("chelsea.png", 40)
	if err != nil {
		t.Skipf("sample photos absent (make data): %v", err)
	}
	if img.H != 40 || img.W != 40 || len(img.Pixels) != 40*40*3 {
		t.Errorf("chelsea at 40: %d×%d, %d values", img.H, img.W, len(img.Pixels))
	}
}

func TestInceptionLayersExist(t *testing.T) {
	be := testBackend(t)
	b, err := Inception(be, true)
	if err != nil {
		t.Skipf("nsfwjs weights absent (make data): %v", err)
	}
	exec, err := model.NewExec(be, b.Store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		f, err := b.Features(scope, x, append([]string{b.ContentLayer}, b.StyleLayers...)...)
		if err != nil {
			panic(err)
		}
		var out []*graph.Node
		for _, n := range append([]string{b.ContentLayer}, b.StyleLayers...) {
			out = append(out, f[n])
		}
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(make([]float32, 299*299*3), 1, 299, 299, 3))
	if err != nil {
		t.Fatal(err)
	}
	// At 299×299: mixed1 35×35×288; stem/conv1 149×149×32, stem/conv4 73×73×80, mixed0 35×35×256,
	// mixed3 17×17×768, mixed8 8×8×1280 — one layer per scale 1/2 … 1/32.
	want := [][]int{{1, 35, 35, 288}, {1, 149, 149, 32}, {1, 73, 73, 80}, {1, 35, 35, 256}, {1, 17, 17, 768}, {1, 8, 8, 1280}}
	for i, o := range out {
		d := o.Shape().Dimensions
		for j := range d {
			if d[j] != want[i][j] {
				t.Errorf("layer %d: %v, want %v", i, d, want[i])
				break
			}
		}
	}
}

func TestQuickProfile(t *testing.T) { reprotest.QuickProfile(t, Section()) }
