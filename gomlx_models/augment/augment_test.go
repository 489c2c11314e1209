package augment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ramp returns an h×w×c image whose value at (y, x, ch) is 100y + x + ch/10.
func ramp(h, w, c int) Image {
	im := NewImage(h, w, c)
	for y := range h {
		for x := range w {
			for ch := range c {
				im.Pixels[(y*w+x)*c+ch] = float32(100*y+x) + float32(ch)/10
			}
		}
	}
	return im
}

// at returns the value at (y, x, ch).
func at(im Image, y, x, ch int) float32 { return im.Pixels[(y*im.W+x)*im.C+ch] }

func TestCrop(t *testing.T) {
	im := ramp(6, 8, 3)
	tests := []struct {
		spec    CropSpec
		wantErr bool
	}{
		{CropSpec{Top: 0, Left: 0, Size: 4}, false},
		{CropSpec{Top: 2, Left: 4, Size: 4}, false},
		{CropSpec{Top: 1, Left: 3, Size: 5, Flip: true}, false},
		{CropSpec{Top: 3, Left: 0, Size: 4}, true},
		{CropSpec{Top: 0, Left: 5, Size: 4}, true},
		{CropSpec{Top: -1, Left: 0, Size: 2}, true},
		{CropSpec{Size: 0}, true},
	}
	for _, tc := range tests {
		got, err := Crop(im, tc.spec)
		if tc.wantErr {
			if err == nil {
				t.Errorf("Crop(%+v) of 6×8: no error", tc.spec)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Crop(%+v): %v", tc.spec, err)
		}
		s := tc.spec
		for y := range s.Size {
			for x := range s.Size {
				sx := s.Left + x
				if s.Flip {
					sx = s.Left + s.Size - 1 - x
				}
				for ch := range 3 {
					if g, w := at(got, y, x, ch), at(im, s.Top+y, sx, ch); g != w {
						t.Fatalf("Crop(%+v) at (%d,%d,%d) = %v, want %v", s, y, x, ch, g, w)
					}
				}
			}
		}
	}
}

func TestFlipHorizontal(t *testing.T) {
	for _, sz := range [][3]int{{3, 5, 3}, {4, 4, 1}, {1, 1, 2}} {
		im := ramp(sz[0], sz[1], sz[2])
		f, err := FlipHorizontal(im)
		if err != nil {
			t.Fatal(err)
		}
		if at(f, 0, 0, sz[2]-1) != at(im, 0, sz[1]-1, sz[2]-1) || at(f, sz[0]-1, sz[1]-1, 0) != at(im, sz[0]-1, 0, 0) {
			t.Errorf("%v: corners not swapped", sz)
		}
		ff, _ := FlipHorizontal(f)
		if !slices.Equal(ff.Pixels, im.Pixels) {
			t.Errorf("%v: flipping twice does not give the image back", sz)
		}
	}
	if _, err := FlipHorizontal(Image{H: 2, W: 2, C: 3}); err == nil {
		t.Error("invalid image: no error")
	}
}

func TestRandomCropFlip(t *testing.T) {
	tests := []struct{ h, w, size int }{{32, 32, 28}, {256, 256, 224}, {8, 5, 5}, {4, 4, 4}}
	for _, tc := range tests {
		rng := rand.New(rand.NewPCG(1, 2))
		seen := map[CropSpec]int{}
		const draws = 4000
		for range draws {
			s, err := RandomCropSpec(rng, tc.h, tc.w, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			if s.Top < 0 || s.Left < 0 || s.Top+tc.size > tc.h || s.Left+tc.size > tc.w || s.Size != tc.size {
				t.Fatalf("%+v: spec %+v out of range", tc, s)
			}
			seen[s]++
		}
		possible := (tc.h - tc.size + 1) * (tc.w - tc.size + 1) * 2
		if possible <= 200 && len(seen) != possible {
			t.Errorf("%+v: %d distinct patches in %d draws, want all %d", tc, len(seen), draws, possible)
		}
		// Uniform draws cover possible·(1 − (1 − 1/possible)^draws) patches on average.
		expected := float64(possible) * (1 - math.Pow(1-1/float64(possible), draws))
		if possible > 200 && float64(len(seen)) < 0.97*expected {
			t.Errorf("%+v: only %d distinct patches in %d draws, expected about %.0f", tc, len(seen), draws, expected)
		}
	}
	// Same seed, same patches.
	im := ramp(10, 10, 3)
	a, sa, _ := RandomCropFlip(rand.New(rand.NewPCG(7, 7)), im, 6)
	b, sb, _ := RandomCropFlip(rand.New(rand.NewPCG(7, 7)), im, 6)
	if sa != sb || !slices.Equal(a.Pixels, b.Pixels) {
		t.Errorf("same seed gave %+v and %+v", sa, sb)
	}
	if _, err := RandomCropSpec(rng0(), 10, 10, 11); err == nil {
		t.Error("crop larger than the image: no error")
	}
}

func rng0() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }

func TestRandomCropFlipNHWC(t *testing.T) {
	const n, h, w, c, size = 3, 6, 6, 2, 4
	batch := make([]float32, 0, n*h*w*c)
	for i := range n {
		im := ramp(h, w, c)
		for j := range im.Pixels {
			im.Pixels[j] += float32(1000 * i)
		}
		batch = append(batch, im.Pixels...)
	}
	got, err := RandomCropFlipNHWC(rand.New(rand.NewPCG(3, 4)), batch, n, h, w, c, size)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n*size*size*c {
		t.Fatalf("got %d values", len(got))
	}
	// Replay the same draws image by image.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		im := Image{H: h, W: w, C: c, Pixels: batch[i*h*w*c : (i+1)*h*w*c]}
		want, _, _ := RandomCropFlip(rng, im, size)
		if !slices.Equal(got[i*size*size*c:(i+1)*size*size*c], want.Pixels) {
			t.Errorf("image %d differs from RandomCropFlip with the same draws", i)
		}
	}
	if _, err := RandomCropFlipNHWC(rng0(), batch[1:], n, h, w, c, size); err == nil {
		t.Error("wrong batch length: no error")
	}
}

func TestAugmentationCounts(t *testing.T) {
	tests := []struct {
		n, s            int
		paper, distinct int
	}{
		{256, 224, 2048, 2178}, // §4.1: "increases the size of our training set by a factor of 2048"
		{32, 28, 32, 50},
		{32, 32, 0, 2},
		{28, 32, 0, 0},
	}
	for _, tc := range tests {
		if got := PaperAugmentationFactor(tc.n, tc.s); got != tc.paper {
			t.Errorf("PaperAugmentationFactor(%d, %d) = %d, want %d", tc.n, tc.s, got, tc.paper)
		}
		if got := DistinctCropFlips(tc.n, tc.s); got != tc.distinct {
			t.Errorf("DistinctCropFlips(%d, %d) = %d, want %d", tc.n, tc.s, got, tc.distinct)
		}
	}
}

func TestTenCrop(t *testing.T) {
	im := ramp(7, 9, 3)
	crops, err := TenCrop(im, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(crops) != 10 {
		t.Fatalf("%d crops", len(crops))
	}
	// Top-left value of each unreflected patch: corners and centre ((7-5)/2, (9-5)/2) = (1, 2).
	wantTL := []float32{at(im, 0, 0, 0), at(im, 0, 4, 0), at(im, 2, 0, 0), at(im, 2, 4, 0), at(im, 1, 2, 0)}
	for i, w := range wantTL {
		if g := at(crops[i], 0, 0, 0); g != w {
			t.Errorf("crop %d starts with %v, want %v", i, g, w)
		}
		f, _ := FlipHorizontal(crops[i])
		if !slices.Equal(f.Pixels, crops[i+5].Pixels) {
			t.Errorf("crop %d is not the reflection of crop %d", i+5, i)
		}
	}
	if _, err := TenCrop(im, 8); err == nil {
		t.Error("crop taller than the image: no error")
	}
}

func TestAverageSoftmax(t *testing.T) {
	tests := []struct {
		logits [][]float32
		want   []float32
	}{
		{[][]float32{{0, 0}}, []float32{0.5, 0.5}},
		{[][]float32{{0, 0}, {1000, 0}}, []float32{0.75, 0.25}},
		{[][]float32{{float32(math.Log(3)), 0}, {0, float32(math.Log(3))}}, []float32{0.5, 0.5}},
		{[][]float32{{1, 2, 3}}, []float32{0.09003057, 0.24472847, 0.66524096}},
	}
	for _, tc := range tests {
		got, err := AverageSoftmax(tc.logits)
		if err != nil {
			t.Fatal(err)
		}
		for j := range tc.want {
			if math.Abs(float64(got[j]-tc.want[j])) > 1e-6 {
				t.Errorf("AverageSoftmax(%v) = %v, want %v", tc.logits, got, tc.want)
				break
			}
		}
	}
	for _, bad := range [][][]float32{nil, {{}}, {{1, 2}, {1}}} {
		if _, err := AverageSoftmax(bad); err == nil {
			t.Errorf("AverageSoftmax(%v): no error", bad)
		}
	}
}

// TestPadCropFlipNHWC: every output is the source shifted by an offset in [−pad, pad]² (zeros where it leaves the
// image), mirrored or not; over many images every offset and both orientations occur.
func TestPadCropFlipNHWC(t *testing.T) {
	const n, h, w, c, pad = 400, 5, 6, 2, 2
	src := make([]float32, h*w*c)
	for i := range src {
		src[i] = float32(i + 1)
	}
	batch := make([]float32, 0, n*len(src))
	for range n {
		batch = append(batch, src...)
	}
	if err := PadCropFlipNHWC(rand.New(rand.NewPCG(1, 2)), batch, n, h, w, c, pad); err != nil {
		t.Fatal(err)
	}
	candidate := func(dy, dx int, flip bool) []float32 {
		out := make([]float32, len(src))
		for y := range h {
			for x := range w {
				sy, sx := y+dy, x+dx
				if flip {
					sx = w - 1 - x + dx
				}
				if sy < 0 || sy >= h || sx < 0 || sx >= w {
					continue
				}
				copy(out[(y*w+x)*c:(y*w+x+1)*c], src[(sy*w+sx)*c:(sy*w+sx+1)*c])
			}
		}
		return out
	}
	seen := map[[3]int]int{}
	for i := range n {
		got := batch[i*len(src) : (i+1)*len(src)]
		found := false
		for dy := -pad; dy <= pad && !found; dy++ {
			for dx := -pad; dx <= pad && !found; dx++ {
				for f := range 2 {
					if slices.Equal(got, candidate(dy, dx, f == 1)) {
						seen[[3]int{dy, dx, f}]++
						found = true
						break
					}
				}
			}
		}
		if !found {
			t.Fatalf("image %d is no shifted or mirrored copy of the source: %v", i, got)
		}
	}
	if want := (2*pad + 1) * (2*pad + 1) * 2; len(seen) != want {
		t.Errorf("%d distinct (offset, flip) outcomes in %d images, want all %d", len(seen), n, want)
	}
	for _, tc := range []struct {
		pixels []float32
		n, pad int
	}{{make([]float32, 7), 1, 1}, {make([]float32, h*w*c), 1, -1}} {
		if err := PadCropFlipNHWC(rand.New(rand.NewPCG(1, 2)), tc.pixels, tc.n, h, w, c, tc.pad); err == nil {
			t.Errorf("%d values, pad %d: no error", len(tc.pixels), tc.pad)
		}
	}
}
