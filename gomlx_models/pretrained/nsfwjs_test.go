package pretrained

import (
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/tfjs"
)

// loadReal reads the nsfwjs model and weights, skipping the test when `make data` has not run.
func loadReal(t *testing.T) (*tfjs.Model, []tfjs.Tensor) {
	t.Helper()
	m, ts, err := tfjs.LoadNSFWJS()
	if errors.Is(err, tfjs.ErrNotFetched) {
		t.Skipf("nsfwjs files absent: run `make data` (%v)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m, ts
}

// TestMapInceptionV3Errors: the real weights map with nothing left over; a dropped, a renamed and a reshaped
// tensor, and a topology whose padding differs, are each reported by name in a one-line error.
func TestMapInceptionV3Errors(t *testing.T) {
	m, ts := loadReal(t)
	backend, err := cnbackend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	if err := MapInceptionV3(backend, model.NewStore(), m, ts, models.InceptionV3NSFWJS); err != nil {
		t.Fatalf("real weights: %v", err)
	}
	find := func(name string) int {
		i := slices.IndexFunc(ts, func(x tfjs.Tensor) bool { return x.Name == name })
		if i < 0 {
			t.Fatalf("no tensor %s", name)
		}
		return i
	}
	cases := []struct {
		name  string
		edit  func([]tfjs.Tensor) []tfjs.Tensor
		topo  func(*tfjs.Model)
		words []string
	}{
		{"missing tensor", func(x []tfjs.Tensor) []tfjs.Tensor {
			return slices.Delete(x, find("conv2d_8/kernel"), find("conv2d_8/kernel")+1)
		}, nil,
			[]string{"1 variables without a tensor", "/mixed0/branch5x5/conv2/weights"}},
		{"extra tensor", func(x []tfjs.Tensor) []tfjs.Tensor {
			return append(x, tfjs.Tensor{Name: "conv2d_95/kernel", Shape: []int{1}, Values: []float32{0}})
		}, nil,
			[]string{"1 tensors without a variable", "conv2d_95/kernel"}},
		{"mis-shaped tensor", func(x []tfjs.Tensor) []tfjs.Tensor {
			i := find("dense_3/bias")
			x[i] = tfjs.Tensor{Name: "dense_3/bias", Shape: []int{4}, Values: make([]float32, 4)}
			return x
		}, nil, []string{"1 shapes differ", "dense_3/bias [4] → /predictions/dense/biases [5]"}},
		{"topology padding", nil, func(m *tfjs.Model) {
			for _, l := range m.Layers() {
				if l.Name == "conv2d_4" {
					l.Config["padding"] = "same"
				}
			}
		}, []string{"conv2d_4 (stem/conv4)", "padding=same", "padding=valid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mm, tt := m, slices.Clone(ts)
			if tc.edit != nil {
				tt = tc.edit(tt)
			}
			if tc.topo != nil {
				var err error
				if mm, _, err = tfjs.LoadNSFWJS(); err != nil {
					t.Fatal(err)
				}
				tc.topo(mm)
			}
			err := MapInceptionV3(backend, model.NewStore(), mm, tt, models.InceptionV3NSFWJS)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q: want one line containing %q", err, w)
				}
			}
		})
	}
}

// TestLoadNSFWJSCorrupt: a truncated shard in $CONVNOTES_DATA is named, with `make data` as the remedy.
func TestLoadNSFWJSCorrupt(t *testing.T) {
	dir, err := tfjs.NSFWJSDir()
	if errors.Is(err, tfjs.ErrNotFetched) {
		t.Skipf("nsfwjs files absent: run `make data` (%v)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	sub := filepath.Join(data, "nsfwjs", "inception_v3")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range tfjs.NSFWJSFiles {
		b, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "group1-shard3of6.min.js" {
			b = b[:len(b)/2]
		}
		if err := os.WriteFile(filepath.Join(sub, f.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(tfjs.EnvDataDir, data)
	backend, err := cnbackend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadNSFWJS(backend)
	if err == nil || !strings.Contains(err.Error(), "group1-shard3of6.min.js") || !strings.Contains(err.Error(), "make data") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("truncated shard: error %v, want one line naming group1-shard3of6.min.js and `make data`", err)
	}
}

// TestPreprocess: values are pixel/255, and the align-corners resize keeps the corner pixels and interpolates
// linearly between them (a horizontal ramp stays a ramp).
func TestPreprocess(t *testing.T) {
	const w, h = 10, 4
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 20), 255, 0, 255})
		}
	}
	got, err := Preprocess(img)
	if err != nil {
		t.Fatal(err)
	}
	const size = models.InceptionV3Size
	if len(got) != size*size*3 {
		t.Fatalf("%d values", len(got))
	}
	for _, x := range []int{0, 1, 150, 298} {
		want := float64(x) * float64(w-1) / float64(size-1) * 20 / 255
		for _, y := range []int{0, 200} {
			i := (y*size + x) * 3
			if math.Abs(float64(got[i])-want) > 1e-6 || got[i+1] != 1 || got[i+2] != 0 {
				t.Errorf("(%d, %d): %v, want [%g 1 0]", y, x, got[i:i+3], want)
			}
		}
	}
	if _, err := Preprocess(nil); err == nil {
		t.Error("nil image: no error")
	}
}

// TestPredictionString lists classes by decreasing probability.
func TestPredictionString(t *testing.T) {
	p := Prediction{Top: []ClassProbability{{"Neutral", 0.968}, {"Sexy", 0.015}}}
	if got, want := p.String(), "Neutral 96.8%, Sexy 1.5%"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestSoftmax: sums to 1, ordered like the logits, stable for large logits.
func TestSoftmax(t *testing.T) {
	p := Softmax([]float32{1000, 999, -5})
	if math.Abs(float64(p[0]+p[1]+p[2])-1) > 1e-6 || p[0] <= p[1] || p[1] <= p[2] || math.IsNaN(float64(p[0])) {
		t.Errorf("Softmax = %v", p)
	}
	if want := 1 / (1 + math.Exp(-1)); math.Abs(float64(p[0])-want) > 1e-6 {
		t.Errorf("p[0] = %g, want %g", p[0], want)
	}
}
