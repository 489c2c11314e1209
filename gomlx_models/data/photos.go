package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decodes starry_night.jpg
	_ "image/png"  // decodes the skimage photos
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// PhotoFile is a sample photograph shipped by a Debian package, fetched by `make data` (scripts/fetch_photos.sh)
// into .cache/data/photos of the checkout.
type PhotoFile struct {
	// Name is the file name, e.g. "astronaut.png".
	Name string
	// Package is the Debian package that ships it; Member its path inside the package.
	Package, Member string
	// SHA256 is the digest of the file.
	SHA256 string
}

// Photos are the sample photographs: three of scikit-image's test images and the OpenCV samples' copy of van
// Gogh's "The Starry Night".
var Photos = []PhotoFile{
	{"astronaut.png", "python3-skimage", "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
		"88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"},
	{"chelsea.png", "python3-skimage", "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
		"596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"},
	{"coffee.png", "python3-skimage", "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
		"cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"},
	{"starry_night.jpg", "opencv-doc", "/usr/share/doc/opencv-doc/examples/data/starry_night.jpg",
		"accda7a19a90f22a4a922fdc8c230167d7abf5f80882171e2cee125c5f12481d"},
}

// PhotosCacheDir is where `make data` puts the photos, relative to the root of the convnotes checkout.
const PhotosCacheDir = ".cache/data/photos"

// ErrBadImage: a file is not a PNG or JPEG image, or is damaged.
var ErrBadImage = errors.New("unsupported or corrupt image")

// remedyPhotos tells how to get the photos.
const remedyPhotos = "run `make data` in the convnotes checkout (scripts/fetch_photos.sh extracts the photos " +
	"from the Debian packages python3-skimage and opencv-doc into " + PhotosCacheDir + ")"

// Photo is a colour image held in memory: H×W×3 values in [0,1], HWC order (red, green, blue).
type Photo struct {
	// Name is the file the photo was read from.
	Name string
	// H and W are the height and width in pixels.
	H, W int
	// Pixels holds H*W*3 values in HWC order.
	Pixels []float32
}

// LoadPhoto reads one of [Photos] by file name (e.g. "chelsea.png"), checks its SHA-256 and decodes it. If
// shorterSide > 0 and the image's shorter side is longer, the image is scaled down (area averaging, aspect ratio
// kept) so that its shorter side is shorterSide: AlexNet's pre-processing (Krizhevsky et al. 2012, §2) rescales
// to a shorter side of 256. Smaller images are returned as they are.
//
// The photos are looked for in $CONVNOTES_DATA/photos, then in .cache/data/photos of the convnotes checkout
// (found from the working directory upwards, then from this source file). Errors are one-line *FileError
// values naming the file and saying `make data`.
func LoadPhoto(name string, shorterSide int) (*Photo, error) {
	var known *PhotoFile
	for i := range Photos {
		if Photos[i].Name == name {
			known = &Photos[i]
		}
	}
	if known == nil {
		names := make([]string, len(Photos))
		for i, p := range Photos {
			names[i] = p.Name
		}
		return nil, fmt.Errorf("data: LoadPhoto: unknown photo %q, want one of %s", name, strings.Join(names, ", "))
	}
	dirs := photoSearchDirs()
	var path string
	for _, d := range dirs {
		if p := filepath.Join(d, name); isRegular(p) {
			path = p
			break
		}
	}
	if path == "" {
		return nil, &FileError{Path: name, Op: "locate",
			Err: fmt.Errorf("%w: searched %s", ErrNotFound, strings.Join(dirs, ", ")), Remedy: remedyPhotos}
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Path: path, Op: "read", Err: err, Remedy: remedyPhotos}
	}
	sum := sha256.Sum256(content)
	if got := hex.EncodeToString(sum[:]); got != known.SHA256 {
		return nil, &FileError{Path: path, Op: "verify checksum",
			Err: &wrapped{fmt.Sprintf("%s: expected %s…, got %s…", ErrChecksum, known.SHA256[:12], got[:12]),
				ErrChecksum},
			Remedy: "delete it and " + remedyPhotos}
	}
	return decodePhoto(path, content, shorterSide, remedyPhotos)
}

// LoadPhotoFile reads any PNG or JPEG file (no checksum), scaled down as in [LoadPhoto].
func LoadPhotoFile(path string, shorterSide int) (*Photo, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, openError(path, err)
	}
	return decodePhoto(path, content, shorterSide, "pass a PNG or JPEG file")
}

// decodePhoto decodes content and scales it.
func decodePhoto(path string, content []byte, shorterSide int, remedy string) (*Photo, error) {
	img, _, err := image.Decode(bufio.NewReader(bytes.NewReader(content)))
	if err != nil {
		return nil, &FileError{Path: path, Op: "decode image", Err: fmt.Errorf("%w: %w", ErrBadImage, err), Remedy: remedy}
	}
	p := toPhoto(filepath.Base(path), img)
	if shorterSide > 0 && min(p.H, p.W) > shorterSide {
		h, w := shorterSide, shorterSide
		if p.H > p.W {
			h = (p.H*shorterSide + p.W/2) / p.W
		} else {
			w = (p.W*shorterSide + p.H/2) / p.H
		}
		p = p.Resize(h, w)
	}
	return p, nil
}

// toPhoto converts any decoded image to RGB floats in [0,1] (alpha ignored: the photos are opaque).
func toPhoto(name string, img image.Image) *Photo {
	b := img.Bounds()
	p := &Photo{Name: name, H: b.Dy(), W: b.Dx(), Pixels: make([]float32, b.Dx()*b.Dy()*3)}
	if rgba, ok := img.(*image.RGBA); ok {
		for y := range p.H {
			row := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*p.W]
			for x := range p.W {
				for c := range 3 {
					p.Pixels[(y*p.W+x)*3+c] = byteToUnit[row[4*x+c]]
				}
			}
		}
		return p
	}
	for y := range p.H {
		for x := range p.W {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := (y*p.W + x) * 3
			p.Pixels[i], p.Pixels[i+1], p.Pixels[i+2] = float32(r)/0xffff, float32(g)/0xffff, float32(bl)/0xffff
		}
	}
	return p
}

// Resize returns the photo scaled to h×w by area averaging: each output pixel is the mean of the input area it
// covers, with fractional weights at the edges (a box filter, so down-scaling does not alias). Up-scaling
// replicates pixels. h and w must be positive.
func (p *Photo) Resize(h, w int) *Photo {
	if h == p.H && w == p.W {
		out := *p
		return &out
	}
	tmp := resampleAxis(p.Pixels, p.H, p.W*3, h) // rows first: h rows of W×3 values
	// Then each row of W pixels (3 channels each) is resampled to w pixels.
	out := &Photo{Name: p.Name, H: h, W: w, Pixels: make([]float32, h*w*3)}
	wts := areaWeights(p.W, w)
	for y := range h {
		row := tmp[y*p.W*3 : (y+1)*p.W*3]
		for x, ws := range wts {
			var acc [3]float32
			for _, t := range ws {
				for c := range 3 {
					acc[c] += t.w * row[t.i*3+c]
				}
			}
			copy(out.Pixels[(y*w+x)*3:], acc[:])
		}
	}
	return out
}

// tap is one input index and its weight.
type tap struct {
	i int
	w float32
}

// areaWeights returns, for each of m output cells, the input cells of an axis of n that it overlaps and the
// fraction of its area each covers (weights sum to 1).
func areaWeights(n, m int) [][]tap {
	out := make([][]tap, m)
	scale := float64(n) / float64(m)
	for j := range m {
		lo, hi := float64(j)*scale, float64(j+1)*scale
		for i := int(lo); i < n && float64(i) < hi; i++ {
			overlap := min(hi, float64(i+1)) - max(lo, float64(i))
			if overlap > 1e-12 {
				out[j] = append(out[j], tap{i, float32(overlap / scale)})
			}
		}
	}
	return out
}

// resampleAxis resamples the rows of a rows×stride matrix to m rows by area averaging.
func resampleAxis(x []float32, rows, stride, m int) []float32 {
	out := make([]float32, m*stride)
	for j, ws := range areaWeights(rows, m) {
		dst := out[j*stride : (j+1)*stride]
		for _, t := range ws {
			src := x[t.i*stride : (t.i+1)*stride]
			for k, v := range src {
				dst[k] += t.w * v
			}
		}
	}
	return out
}

// photoSearchDirs is photoDirs, a variable so that tests can hide the checkout's photos.
var photoSearchDirs = photoDirs

// photoDirs lists, in search order, the directories that may hold the photos.
func photoDirs() []string {
	var dirs []string
	if root := os.Getenv(EnvDataDir); root != "" {
		dirs = append(dirs, filepath.Join(root, "photos"))
	}
	if wd, err := os.Getwd(); err == nil {
		if root := checkoutRoot(wd); root != "" {
			dirs = append(dirs, filepath.Join(root, filepath.FromSlash(PhotosCacheDir)))
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if root := checkoutRoot(filepath.Dir(file)); root != "" {
			d := filepath.Join(root, filepath.FromSlash(PhotosCacheDir))
			if len(dirs) == 0 || dirs[len(dirs)-1] != d {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// convnotesModule is the module path that identifies the checkout's go.mod.
const convnotesModule = "module github.com/convnotes/convnotes"

// checkoutRoot returns the nearest directory at or above dir whose go.mod declares the convnotes module, or "".
func checkoutRoot(dir string) string {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for line := range strings.Lines(string(b)) {
				if strings.TrimSpace(line) == convnotesModule {
					return dir
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
