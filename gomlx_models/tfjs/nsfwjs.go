package tfjs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The pretrained network of section 08: the Keras InceptionV3 that the npm package nsfwjs@4.4.0 ships converted
// to TensorFlow.js (dist/models/inception_v3/: model.min.js and six weight shards, uint8-quantized, with its own
// 5-class head). `make data` (scripts/fetch_nsfwjs.sh) fetches it with `npm pack` into .cache/data/nsfwjs/.
const (
	// NSFWJSVersion is the npm version the digests below belong to.
	NSFWJSVersion = "4.4.0"
	// NSFWJSModelFile is the model file inside the inception_v3 directory.
	NSFWJSModelFile = "model.min.js"
	// EnvDataDir names the environment variable of a directory searched first: $CONVNOTES_DATA/nsfwjs/inception_v3/.
	EnvDataDir = "CONVNOTES_DATA"
	// nsfwjsSubdir is the directory of the files under $CONVNOTES_DATA or the checkout's .cache/data.
	nsfwjsSubdir = "nsfwjs/inception_v3"
	// remedy is what every missing-or-corrupt message tells the user to do.
	remedy = "run `make data` (npm pack nsfwjs@" + NSFWJSVersion + ") or set " + EnvDataDir +
		" to a directory holding " + nsfwjsSubdir + "/"
)

// NSFWJSFile is one file of the nsfwjs Inception v3 with its SHA-256 (the same digests as scripts/fetch_nsfwjs.sh).
type NSFWJSFile struct {
	Name   string
	SHA256 string
}

// NSFWJSFiles lists the model file and its six weight shards, as published in nsfwjs@4.4.0.
var NSFWJSFiles = []NSFWJSFile{
	{"model.min.js", "8c2b793b9d277840fc757725bf3b135c96d5a54ec020e2b4ab569fc3df6b3848"},
	{"group1-shard1of6.min.js", "e9316ac20ff634f990e483062050afe9a4826885c3a212d676ce2cfda93a4884"},
	{"group1-shard2of6.min.js", "467b33d62b4c470edf8acd3da554e331f2d49f3f93ddd718f944f595c516cd82"},
	{"group1-shard3of6.min.js", "075300e057ca7e9fd2e282afbc3a6596a0404288c94bf781e9b20658cbeee664"},
	{"group1-shard4of6.min.js", "b51ee46e062e752e81c28761a56369432671bfb3d59f4f062f5bd4dd58ff5303"},
	{"group1-shard5of6.min.js", "d4149969b3c61e0d4dde1d4f555f5b00f4fc87f6bab1a4cd4967b24f62725de6"},
	{"group1-shard6of6.min.js", "b684762a7d7c39b80183d260bdab6f072321349300f9f2ff144a085a382acfc4"},
}

// ErrNotFetched is returned (wrapped) when the nsfwjs files are not present at all: `make data` has not run.
var ErrNotFetched = errors.New("nsfwjs model not fetched")

// ErrCorrupt is returned (wrapped) when a file is present but truncated or altered.
var ErrCorrupt = errors.New("corrupt file")

// NSFWJSDir returns the directory holding the nsfwjs Inception v3 files, each checked against its SHA-256:
// $CONVNOTES_DATA/nsfwjs/inception_v3 if $CONVNOTES_DATA is set, else .cache/data/nsfwjs/inception_v3 in the
// convnotes checkout containing the working directory. Errors are one line naming the file and the remedy; a
// directory without any of the files gives [ErrNotFetched], a missing or altered file [ErrCorrupt].
func NSFWJSDir() (string, error) {
	var dir string
	if d := os.Getenv(EnvDataDir); d != "" {
		dir = filepath.Join(d, nsfwjsSubdir)
	} else {
		root, err := moduleRoot()
		if err != nil {
			return "", fmt.Errorf("nsfwjs: %w: %v; %s", ErrNotFetched, err, remedy)
		}
		dir = filepath.Join(root, ".cache", "data", nsfwjsSubdir)
	}
	return dir, VerifyNSFWJS(dir)
}

// VerifyNSFWJS checks that dir holds every file of [NSFWJSFiles] with its published SHA-256.
func VerifyNSFWJS(dir string) error {
	present := 0
	for _, f := range NSFWJSFiles {
		if _, err := os.Stat(filepath.Join(dir, f.Name)); err == nil {
			present++
		}
	}
	if present == 0 {
		return fmt.Errorf("nsfwjs: %w: %s missing; %s", ErrNotFetched, filepath.Join(dir, NSFWJSModelFile), remedy)
	}
	for _, f := range NSFWJSFiles {
		p := filepath.Join(dir, f.Name)
		got, err := fileSHA256(p)
		if err != nil {
			return fmt.Errorf("nsfwjs: %w: %s missing or unreadable; %s", ErrCorrupt, p, remedy)
		}
		if got != f.SHA256 {
			return fmt.Errorf("nsfwjs: %w: %s has SHA-256 %s, want %s (truncated or altered); %s",
				ErrCorrupt, p, got, f.SHA256, remedy)
		}
	}
	return nil
}

// LoadNSFWJS locates, verifies and reads the nsfwjs Inception v3: its topology and its 382 weights, dequantized.
func LoadNSFWJS() (*Model, []Tensor, error) {
	dir, err := NSFWJSDir()
	if err != nil {
		return nil, nil, err
	}
	return Load(filepath.Join(dir, NSFWJSModelFile))
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// moduleRoot returns the directory of the convnotes go.mod containing the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/convnotes/convnotes")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the convnotes checkout (no go.mod of github.com/convnotes/convnotes above the working directory)")
		}
		dir = parent
	}
}
