package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// loadOrSkip loads a real split, skipping the test (with the remedy) when the files are absent.
func loadOrSkip(t *testing.T, load func(Split) (*Images, error), split Split) *Images {
	t.Helper()
	im, err := load(split)
	if errors.Is(err, ErrNotFound) {
		t.Skipf("dataset files absent, skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestRealDatasets(t *testing.T) {
	tests := []struct {
		name        string
		load        func(Split) (*Images, error)
		split       Split
		n           int
		firstLabels []int32
		// Whole-split pixel mean and std: the values commonly quoted for normalisation
		// (MNIST train 0.1307/0.3081, e.g. PyTorch's MNIST example; Fashion-MNIST train 0.2860/0.3530).
		mean, std float64
		class9    string
	}{
		{"mnist-train", MNIST, Train, 60000, []int32{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, 0.1307, 0.3081, "9"},
		{"mnist-test", MNIST, Test, 10000, []int32{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}, 0.1325, 0.3105, "9"},
		{"fashion-mnist-train", FashionMNIST, Train, 60000, []int32{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, 0.2860, 0.3530, "Ankle boot"},
		{"fashion-mnist-test", FashionMNIST, Test, 10000, []int32{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, 0.2868, 0.3524, "Ankle boot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im := loadOrSkip(t, tc.load, tc.split)
			if im.Name != tc.name || im.N != tc.n || im.H != 28 || im.W != 28 || im.C != 1 {
				t.Fatalf("got %s %d×%d×%d×%d, want %s %d×28×28×1", im.Name, im.N, im.H, im.W, im.C, tc.name, tc.n)
			}
			if len(im.Pixels) != tc.n*28*28 || len(im.Labels) != tc.n {
				t.Fatalf("%d pixels, %d labels", len(im.Pixels), len(im.Labels))
			}
			if got := im.Labels[:10]; !slices.Equal(got, tc.firstLabels) {
				t.Errorf("first labels %v, want %v", got, tc.firstLabels)
			}
			if im.Classes[9] != tc.class9 {
				t.Errorf("class 9 = %q, want %q", im.Classes[9], tc.class9)
			}
			if lo, hi := slices.Min(im.Pixels), slices.Max(im.Pixels); lo != 0 || hi != 1 {
				t.Errorf("pixels span [%v, %v], want [0, 1]", lo, hi)
			}
			mean, std := im.MeanStd()
			if math.Abs(float64(mean)-tc.mean) > 5e-4 || math.Abs(float64(std)-tc.std) > 5e-4 {
				t.Errorf("MeanStd = %.4f, %.4f; want %.4f, %.4f", mean, std, tc.mean, tc.std)
			}
			// A second call comes from the cache: same backing arrays, own header.
			again, err := tc.load(tc.split)
			if err != nil {
				t.Fatal(err)
			}
			if again == im || &again.Pixels[0] != &im.Pixels[0] {
				t.Error("second load did not come from the cache (or returned the same header)")
			}
		})
	}
}

// TestRealChecksums recomputes the digests of the files found on this machine and checks the table.
func TestRealChecksums(t *testing.T) {
	for _, k := range KnownFiles {
		t.Run(k.Dataset+"/"+k.File, func(t *testing.T) {
			path, err := locate(k.Dataset, k.File)
			if errors.Is(err, ErrNotFound) {
				t.Skipf("file absent, skipping: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(content)
			got, want := hex.EncodeToString(sum[:]), k.RawSHA256
			if strings.HasSuffix(path, ".gz") {
				want = k.GzSHA256
			}
			if got != want {
				t.Errorf("%s: sha256 %s, table says %s", path, got, want)
			}
		})
	}
}

// TestRealChecksumMismatch copies a real file with one byte changed (or the other dataset's file)
// into $CONVNOTES_DATA/mnist and expects ErrChecksum naming that copy.
func TestRealChecksumMismatch(t *testing.T) {
	mnistLabels, err := locate(mnistName, trainLabelsFile)
	if err != nil {
		t.Skipf("MNIST absent, skipping: %v", err)
	}
	orig, err := os.ReadFile(mnistLabels)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		content  func(t *testing.T) []byte
		wantNote string
	}{
		{"one byte changed", func(t *testing.T) []byte {
			b := slices.Clone(orig)
			b[len(b)/2] ^= 0x01
			return b
		}, "expected 3552534a0a55"},
		{"fashion file in mnist dir", func(t *testing.T) []byte {
			p, err := locate(fashionName, trainLabelsFile)
			if err != nil || !strings.HasSuffix(p, ".gz") {
				t.Skipf("Fashion-MNIST .gz absent, skipping: %v", err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "this is fashion-mnist/train-labels-idx1-ubyte.gz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			content := tc.content(t)
			root := t.TempDir()
			t.Setenv(EnvDataDir, root)
			bad := filepath.Join(root, "mnist", trainLabelsFile+".gz")
			writeFile(t, bad, content)
			_, err := MNIST(Train)
			assertFileError(t, err, ErrChecksum, bad)
			if !strings.Contains(err.Error(), tc.wantNote) {
				t.Errorf("message %q lacks %q", err, tc.wantNote)
			}
		})
	}
}

// TestConcurrentLoad loads one split from several goroutines: all must share one parsed copy.
func TestConcurrentLoad(t *testing.T) {
	// Copies in a fresh directory give a cache key no other test has loaded.
	root := t.TempDir()
	for _, f := range []string{testImagesFile, testLabelsFile} {
		src, err := locate(mnistName, f)
		if err != nil {
			t.Skipf("MNIST absent, skipping: %v", err)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, "mnist", filepath.Base(src)), b)
	}
	t.Setenv(EnvDataDir, root)
	const workers = 4
	results := make([]*Images, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { results[w], errs[w] = MNIST(Test) })
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		if results[w].N != 10000 || &results[w].Pixels[0] != &results[0].Pixels[0] {
			t.Errorf("worker %d got its own copy of the pixels", w)
		}
	}
}
