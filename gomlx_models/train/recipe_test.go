package train

import (
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/data"
	plbn "github.com/convnotes/convnotes/gomlx_models/layers"
)

// tinyImages is a two-class 2×2×1 image set: class c has pixels around 2c−1.
func tinyImages(n int, seed uint64) *data.Images {
	r := rand.New(rand.NewPCG(seed, 3))
	im := &data.Images{Name: "tiny", N: n, H: 2, W: 2, C: 1, Classes: []string{"a", "b"}}
	for i := range n {
		c := int32(i % 2)
		for range 4 {
			im.Pixels = append(im.Pixels, float32(2*c-1)+0.7*float32(r.NormFloat64()))
		}
		im.Labels = append(im.Labels, c)
	}
	return im
}

func tinyClassification(seed int64) Classification {
	return Classification{Name: "tiny", Flatten: true, BatchSize: 8, Steps: 12, LR: 1e-2, Seed: seed,
		Model: func(scope *model.Scope, x *graph.Node) *graph.Node {
			h := layers.DenseWithBias(scope.In("hidden"), x, 6)
			h = layers.DropoutStatic(scope.In("dropout"), graph.Tanh(h), 0.3)
			return layers.DenseWithBias(scope.In("logits"), h, 2)
		},
		Dataset: func(s data.Split) (*data.Images, error) { return tinyImages(64, uint64(s)+1), nil }}
}

// TestClassificationSeed: the same seed gives the same run, another seed another; OnStep sees every step.
func TestClassificationSeed(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	losses := func(seed int64) []float64 {
		t.Helper()
		c := tinyClassification(seed)
		seen := 0
		c.OnStep = func(r *Run, rec StepRecord) error {
			seen++
			if r.Step() != rec.Step {
				t.Errorf("OnStep: run at step %d, record %d", r.Step(), rec.Step)
			}
			return nil
		}
		f, err := c.Fit(b, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if seen != c.Steps {
			t.Errorf("OnStep called %d times in %d steps", seen, c.Steps)
		}
		var out []float64
		for _, s := range f.Run.History.Steps {
			out = append(out, s.Loss)
		}
		return out
	}
	same := func(a, b []float64) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return len(a) == len(b)
	}
	a, a2, other, dflt, dflt2 := losses(5), losses(5), losses(6), losses(0), losses(0)
	if !same(a, a2) || !same(dflt, dflt2) {
		t.Error("two runs with the same seed differ")
	}
	if same(a, other) || same(a, dflt) {
		t.Error("runs with different seeds are identical")
	}
}

// TestReestimateBatchNorm: after training, re-estimation sets the moving mean and variance of a batch
// normalization to the averages of the batch means and (1/m) variances of its input over the dataset.
func TestReestimateBatchNorm(t *testing.T) {
	o := opts(t, 6)
	o.Model = func(scope *model.Scope, x *graph.Node) *graph.Node {
		z := layers.DenseWithBias(scope.In("proj"), x, 3)
		z = plbn.BatchNormAxis(scope.In("bn"), z, -1)
		return layers.DenseWithBias(scope.In("logits"), graph.Tanh(z), 2)
	}
	run, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	ds := &blobs{x: newBlobs(64, 16, 9).x, y: newBlobs(64, 16, 9).y, n: 64, bs: 16}
	if err := run.ReestimateBatchNorm(ds); err != nil {
		t.Fatal(err)
	}
	w, err1 := VariableValues(run.Store, "/proj/dense/weights")
	bias, err2 := VariableValues(run.Store, "/proj/dense/biases")
	mean, err3 := VariableValues(run.Store, "/bn/batch_normalization/mean")
	variance, err4 := VariableValues(run.Store, "/bn/batch_normalization/variance")
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for j := range 3 {
		var sumMean, sumVar float64
		for batch := 0; batch < 4; batch++ {
			z := make([]float64, 16)
			var m float64
			for i := range z {
				k := batch*16 + i
				z[i] = float64(ds.x[2*k])*w[j] + float64(ds.x[2*k+1])*w[3+j] + bias[j]
				m += z[i] / 16
			}
			var v float64
			for _, x := range z {
				v += (x - m) * (x - m) / 16
			}
			sumMean, sumVar = sumMean+m, sumVar+v
		}
		if math.Abs(mean[j]-sumMean/4) > 1e-4 || math.Abs(variance[j]-sumVar/4) > 1e-4 {
			t.Errorf("feature %d: moving mean %.5f, variance %.5f; want %.5f, %.5f", j, mean[j], variance[j],
				sumMean/4, sumVar/4)
		}
	}
	if err := run.ReestimateBatchNorm(nil); err == nil {
		t.Error("a nil dataset was accepted")
	}
}
