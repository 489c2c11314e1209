package pretrained

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/tfjs"
)

// referenceFile is written by scripts/inception_reference.js: TF.js 4.22.0 (pure-JS CPU backend) running the
// nsfwjs model loaded by nsfwjs's own loader on the inputs this package's Preprocess produced.
const referenceFile = "testdata/nsfwjs_reference.json"

// envWriteInputs names a directory where TestNSFWJSMatchesTFJS writes the preprocessed inputs for the script.
const envWriteInputs = "CONVNOTES_WRITE_INCEPTION_INPUTS"

// reference is the fixture's layout.
type reference struct {
	TFJSVersion   string `json:"tfjs_version"`
	NSFWJSVersion string `json:"nsfwjs_version"`
	Backend       string `json:"backend"`
	Preprocessing string `json:"preprocessing"`
	Images        []struct {
		Name          string    `json:"name"`
		InputSHA256   string    `json:"input_sha256"`
		Logits        []float64 `json:"logits"`
		Probabilities []float64 `json:"probabilities"`
		Taps          []struct {
			Keras  string    `json:"keras"`
			Tap    string    `json:"tap"`
			Shape  []int     `json:"shape"`
			Stride int       `json:"stride"`
			Values []float64 `json:"values"`
		} `json:"taps"`
	} `json:"images"`
}

// photoInputs preprocesses the photos; it skips the test when `make data` has not run.
func photoInputs(t *testing.T) ([][]float32, []string) {
	t.Helper()
	var inputs [][]float32
	var digests []string
	for _, name := range Photos {
		img, err := LoadPhoto(name)
		if err != nil {
			t.Skipf("photos absent (%v)", err)
		}
		x, err := Preprocess(img)
		if err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, 0, 4*len(x))
		for _, v := range x {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		sum := sha256.Sum256(raw)
		inputs = append(inputs, x)
		digests = append(digests, hex.EncodeToString(sum[:]))
		if dir := os.Getenv(envWriteInputs); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, name+".f32"), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return inputs, digests
}

// TestNSFWJSMatchesTFJS runs the project's Inception v3 with the nsfwjs weights on the three photos and compares
// logits, probabilities and samples of the mixed2 (35×35×288), mixed7 (17×17×768), mixed10 (8×8×2048), pooled
// and dense-128 activations with TF.js's, to 1e-3 (relative to the largest |value| of a tap when above 1).
func TestNSFWJSMatchesTFJS(t *testing.T) {
	if _, err := tfjs.NSFWJSDir(); errors.Is(err, tfjs.ErrNotFetched) {
		t.Skipf("nsfwjs files absent: run `make data` (%v)", err)
	}
	inputs, digests := photoInputs(t)
	if os.Getenv(envWriteInputs) != "" {
		t.Skipf("wrote the inputs to $%s", envWriteInputs)
	}
	b, err := os.ReadFile(referenceFile)
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatalf("%s: %v", referenceFile, err)
	}
	if len(ref.Images) != len(Photos) {
		t.Fatalf("%s has %d images, want %d", referenceFile, len(ref.Images), len(Photos))
	}
	var taps []string
	for _, tp := range ref.Images[0].Taps {
		taps = append(taps, tp.Tap)
	}
	backend, err := cnbackend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	clf, err := LoadNSFWJS(backend)
	if err != nil {
		t.Fatal(err)
	}
	var batch []float32
	for i, img := range ref.Images {
		if img.Name != Photos[i] || img.InputSHA256 != digests[i] {
			t.Fatalf("%s: input digest %s, fixture has %s for %s: Preprocess changed; rerun `node scripts/inception_reference.js`",
				Photos[i], digests[i], img.InputSHA256, img.Name)
		}
		batch = append(batch, inputs[i]...)
	}
	const size = models.InceptionV3Size
	start := time.Now()
	logits, outs, err := clf.Forward(tensors.FromFlatDataAndDimensions(batch, len(inputs), size, size, 3), taps...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forward of %d images at %d×%d on the Go backend: %v", len(inputs), size, size, time.Since(start))
	const tol = 1e-3
	check := func(what string, got []float32, want []float64, scale float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d values, fixture %d", what, len(got), len(want))
			return
		}
		var maxDiff float64
		for i := range want {
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-want[i]))
		}
		if maxDiff > tol*scale || math.IsNaN(maxDiff) {
			t.Errorf("%s: max |Go − TF.js| = %.3g > %.0e × %.3g", what, maxDiff, tol, scale)
			return
		}
		t.Logf("%s: max |Go − TF.js| = %.2g (scale %.3g)", what, maxDiff, scale)
	}
	for i, img := range ref.Images {
		check(img.Name+" logits", logits[i], img.Logits, 1)
		check(img.Name+" probabilities", Softmax(logits[i]), img.Probabilities, 1)
		for _, tp := range img.Taps {
			all := tensors.MustCopyFlatData[float32](outs[tp.Tap])
			per := len(all) / len(inputs)
			var sample []float32
			for k := 0; k < per; k += tp.Stride {
				sample = append(sample, all[i*per+k])
			}
			scale := 1.0
			for _, v := range tp.Values {
				scale = math.Max(scale, math.Abs(v))
			}
			check(img.Name+" "+tp.Keras, sample, tp.Values, scale)
		}
	}
}
