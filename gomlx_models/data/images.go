package data

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// Split selects the training or the test part of a dataset.
type Split int

const (
	// Train is the 60,000-example training split.
	Train Split = iota
	// Test is the 10,000-example test split.
	Test
)

// String returns "train" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// MNISTClasses are the digit names, index = label.
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// FashionMNISTClasses are Fashion-MNIST's class names, index = label (Xiao et al. 2017, Table 1).
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// Images is a labelled image dataset held in memory.
//
// Values returned by this package share Pixels and Labels with an in-process cache and with each
// other: treat them as read-only. Methods never modify their receiver; they return new values.
type Images struct {
	// Name identifies the dataset, e.g. "mnist-train" or "mnist-train[:1000]".
	Name string
	// N is the number of examples; H, W, C the height, width and channels of each image.
	N, H, W, C int
	// Pixels holds N*H*W*C values in NHWC order.
	Pixels []float32
	// Labels holds N class indices, each in 0..len(Classes)-1.
	Labels []int32
	// Classes names each label.
	Classes []string
}

// ImageSize returns H*W*C, the number of values per image.
func (im *Images) ImageSize() int { return im.H * im.W * im.C }

// Image returns the pixels of example i (H*W*C values, HWC order), sharing memory with im.
// It returns nil if i is out of range.
func (im *Images) Image(i int) []float32 {
	if i < 0 || i >= im.N {
		return nil
	}
	sz := im.ImageSize()
	return im.Pixels[i*sz : (i+1)*sz : (i+1)*sz]
}

// Subset returns the first n examples (clamped to 0..N), sharing memory with im.
func (im *Images) Subset(n int) *Images {
	n = max(0, min(n, im.N))
	sz := im.ImageSize()
	out := *im
	out.Name = fmt.Sprintf("%s[:%d]", im.Name, n)
	out.N = n
	out.Pixels = im.Pixels[: n*sz : n*sz]
	out.Labels = im.Labels[:n:n]
	return &out
}

// SplitValidation holds out nVal examples (clamped to 0..N), chosen at random but deterministically
// from seed, as a validation set; train holds the rest. Each part keeps the original relative order
// of its examples, so the split is a random partition. Pixels are copied.
func (im *Images) SplitValidation(nVal int, seed int64) (train, val *Images) {
	nVal = max(0, min(nVal, im.N))
	perm := Permutation(im.N, seed, 0)
	valIdx := slices.Clone(perm[:nVal])
	trainIdx := slices.Clone(perm[nVal:])
	slices.Sort(valIdx)
	slices.Sort(trainIdx)
	train = im.gather(trainIdx, im.Name+"/train")
	val = im.gather(valIdx, im.Name+"/val")
	return train, val
}

// gather copies the examples at idx into a new Images.
func (im *Images) gather(idx []int, name string) *Images {
	sz := im.ImageSize()
	out := &Images{Name: name, N: len(idx), H: im.H, W: im.W, C: im.C, Classes: im.Classes,
		Pixels: make([]float32, len(idx)*sz), Labels: make([]int32, len(idx))}
	for j, i := range idx {
		copy(out.Pixels[j*sz:(j+1)*sz], im.Pixels[i*sz:(i+1)*sz])
		out.Labels[j] = im.Labels[i]
	}
	return out
}

// MeanStd returns the mean and (population) standard deviation of all pixel values, accumulated
// in float64. An empty dataset gives (0, 0).
func (im *Images) MeanStd() (mean, std float32) {
	if len(im.Pixels) == 0 {
		return 0, 0
	}
	var sum, sumSq float64
	for _, v := range im.Pixels {
		sum += float64(v)
	}
	m := sum / float64(len(im.Pixels))
	for _, v := range im.Pixels {
		d := float64(v) - m
		sumSq += d * d
	}
	return float32(m), float32(math.Sqrt(sumSq / float64(len(im.Pixels))))
}

// Normalize returns a copy with every pixel replaced by (p-mean)/std. Compute mean and std on the
// training split (MeanStd) and apply the same values to validation and test data. std must be
// positive; a zero, negative or NaN std is treated as 1 (only the mean is subtracted) so the result
// stays finite.
func (im *Images) Normalize(mean, std float32) *Images {
	if !(std > 0) {
		std = 1
	}
	out := *im
	out.Name = im.Name + "/normalized"
	out.Pixels = make([]float32, len(im.Pixels))
	inv := 1 / std
	for i, v := range im.Pixels {
		out.Pixels[i] = (v - mean) * inv
	}
	return &out
}

// MNIST loads a split of MNIST (LeCun et al. 1998): 28×28×1 digits, pixels scaled to [0,1].
// Files are located as the package documentation describes and checked against KnownFiles.
// Results are cached in-process.
func MNIST(split Split) (*Images, error) { return load(mnistName, split, MNISTClasses) }

// FashionMNIST loads a split of Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 28×28×1 grey-scale
// images of clothing in 10 classes, pixels scaled to [0,1]. Files are located as the package
// documentation describes and checked against KnownFiles. Results are cached in-process.
func FashionMNIST(split Split) (*Images, error) { return load(fashionName, split, FashionMNISTClasses) }

// cacheEntry loads one (images, labels) pair once, even under concurrent callers.
type cacheEntry struct {
	once sync.Once
	im   *Images
	err  error
}

var (
	cacheMu sync.Mutex
	cache   = map[[2]string]*cacheEntry{}
)

// load locates, verifies, parses and caches one split.
func load(dataset string, split Split, classes []string) (*Images, error) {
	imgFile, lblFile, err := splitFileNames(dataset, split)
	if err != nil {
		return nil, err
	}
	imgPath, err := locate(dataset, imgFile)
	if err != nil {
		return nil, err
	}
	lblPath, err := locate(dataset, lblFile)
	if err != nil {
		return nil, err
	}
	key := [2]string{imgPath, lblPath}
	cacheMu.Lock()
	e := cache[key]
	if e == nil {
		e = &cacheEntry{}
		cache[key] = e
	}
	cacheMu.Unlock()
	e.once.Do(func() {
		imgKnown, _ := knownFile(dataset, imgFile)
		lblKnown, _ := knownFile(dataset, lblFile)
		e.im, e.err = loadPair(dataset+"-"+split.String(), imgPath, lblPath, imgKnown, lblKnown, classes)
	})
	if e.err != nil {
		// Do not keep failures: the user may fix the file and retry in the same process.
		cacheMu.Lock()
		if cache[key] == e {
			delete(cache, key)
		}
		cacheMu.Unlock()
		return nil, e.err
	}
	out := *e.im // Callers get their own header; the slices are shared and read-only.
	return &out, nil
}

// loadPair reads, verifies and decodes an image file and its label file.
func loadPair(name, imgPath, lblPath string, imgKnown, lblKnown KnownFile, classes []string) (*Images, error) {
	// Labels first: they are small, so a bad label file fails fast.
	lbls, err := readVerified(lblPath, lblKnown)
	if err != nil {
		return nil, err
	}
	imgs, err := readVerified(imgPath, imgKnown)
	if err != nil {
		return nil, err
	}
	return FromIDX(name, imgs, lbls, classes)
}

// FromIDX builds Images from a parsed image file (rank 3 N×H×W or rank 4 N×H×W×C) and label file
// (rank 1, N labels each below len(classes)). Bytes are scaled to [0,1] by dividing by 255.
func FromIDX(name string, imgs, lbls *IDX, classes []string) (*Images, error) {
	if imgs == nil || lbls == nil {
		return nil, fmt.Errorf("data: FromIDX(%q): nil image or label file", name)
	}
	if r := len(imgs.Dims); r != 3 && r != 4 {
		return nil, &FileError{Path: imgs.Name, Op: "decode images",
			Err:    fmt.Errorf("%w: image file has rank %d (dims %v), want 3 (N,H,W) or 4 (N,H,W,C)", ErrBadRank, r, imgs.Dims),
			Remedy: "pass an image file, not a label file"}
	}
	if r := len(lbls.Dims); r != 1 {
		return nil, &FileError{Path: lbls.Name, Op: "decode labels",
			Err:    fmt.Errorf("%w: label file has rank %d (dims %v), want 1", ErrBadRank, r, lbls.Dims),
			Remedy: "pass a label file, not an image file"}
	}
	n, h, w, c := imgs.Dims[0], imgs.Dims[1], imgs.Dims[2], 1
	if len(imgs.Dims) == 4 {
		c = imgs.Dims[3]
	}
	if lbls.Dims[0] != n {
		return nil, &FileError{Path: lbls.Name, Op: "decode labels",
			Err:    fmt.Errorf("%w: %d labels but %s holds %d images", ErrCountMismatch, lbls.Dims[0], imgs.Name, n),
			Remedy: "use the label file that belongs to the image file (train-* with train-*, t10k-* with t10k-*)"}
	}
	labels := make([]int32, n)
	for i, b := range lbls.Data {
		if int(b) >= len(classes) {
			return nil, &FileError{Path: lbls.Name, Op: "decode labels",
				Err:    fmt.Errorf("%w: label %d of example %d, want 0..%d", ErrLabelRange, b, i, len(classes)-1),
				Remedy: remedyCorrupt}
		}
		labels[i] = int32(b)
	}
	pixels := make([]float32, len(imgs.Data))
	for i, b := range imgs.Data {
		pixels[i] = byteToUnit[b]
	}
	return &Images{Name: name, N: n, H: h, W: w, C: c, Pixels: pixels, Labels: labels, Classes: classes}, nil
}

// byteToUnit[b] = float32(b)/255: a table lookup is several times faster than dividing 47M bytes.
var byteToUnit = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()
