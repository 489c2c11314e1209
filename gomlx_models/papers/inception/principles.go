package inception

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/pretrained"
	"github.com/convnotes/convnotes/plots"
)

// §2's general design principles, each measured on Inception v3 itself (models.InceptionV3Modules, Keras's
// layout; the pretrained nsfwjs weights where activations are needed):
//
//  1. "Avoid representational bottlenecks, especially early in the network": the representation size should
//     decrease gently; measured as the values per image after every module, and at the two grid reductions as
//     the values kept against pooling first (Fig. 9 left).
//  2. "Higher dimensional representations are easier to process locally within a network": measured as the
//     activations per tile (channels) on each grid; the 8×8 modules expand their filter banks (Fig. 7).
//  3. "Spatial aggregation can be done over lower dimensional embeddings without much or any loss in
//     representational power", because adjacent units are strongly correlated: measured on real photos as the
//     share of the variance of a module's input that its 1×1 reductions' width of principal components holds,
//     and as the correlation of neighbouring positions.
//  4. "Balance the width and depth of the network": measured as the width (channels) against the depth (weight
//     layers on the longest path) after every module, and the multiply-adds spent on each grid.

// Stage is one module of the network with the numbers the principles look at.
type Stage struct {
	Name, Kind string
	Grid       int
	// Channels is the module's output width; Values = Grid²·Channels per image.
	Channels, Values int
	// Depth is the number of weight layers on the longest path from the input to the module's output.
	Depth int
	// PoolFirst, for a grid reduction, is the values pooling first would keep: Grid²·(the input's channels).
	PoolFirst int
	// MACs is the module's multiply-adds per 299×299 image.
	MACs int64
}

// Stages measures every module of Inception v3 (multiply-adds from the summary of s).
func Stages(s *Size) ([]Stage, error) {
	if s == nil || s.Table == nil {
		return nil, errors.New("inception: no size to read the stages from")
	}
	macs := map[string]int64{}
	for _, r := range s.Table.Rows {
		for _, m := range models.InceptionV3Modules {
			if len(r.Layer) > len(m.Name)+1 && r.Layer[1:len(m.Name)+1] == m.Name && r.Layer[len(m.Name)+1] == '/' {
				macs[m.Name] += r.MACs
			}
		}
	}
	var out []Stage
	depth, inC := 0, 3
	for i, m := range models.InceptionV3Modules {
		depth += s.ModuleDepths[i].Convs
		st := Stage{Name: m.Name, Kind: m.Kind, Grid: m.Grid, Channels: m.Channels, Values: m.Grid * m.Grid * m.Channels,
			Depth: depth, MACs: macs[m.Name]}
		if m.Kind == "ReductionA" || m.Kind == "ReductionB" {
			st.PoolFirst = m.Grid * m.Grid * inC
		}
		if st.MACs == 0 {
			return nil, fmt.Errorf("inception: no multiply-adds found for %s in the summary", m.Name)
		}
		out = append(out, st)
		inC = m.Channels
	}
	return out, nil
}

// ReductionKeep is the smallest ratio, over the grid reductions, of the values a reduction keeps to those pooling
// first would keep (principle 1: above 1, the network's reductions avoid the bottleneck).
func ReductionKeep(stages []Stage) float64 {
	keep := math.Inf(1)
	for _, s := range stages {
		if s.PoolFirst > 0 {
			keep = math.Min(keep, float64(s.Values)/float64(s.PoolFirst))
		}
	}
	return keep
}

// NarrowerCoarserGrids counts the grids whose widest module is not wider than the finer grid's (principle 2:
// zero when the activations per tile grow as the grid shrinks).
func NarrowerCoarserGrids(stages []Stage) int {
	width := map[int]int{}
	var grids []int
	for _, s := range stages {
		if _, ok := width[s.Grid]; !ok {
			grids = append(grids, s.Grid)
		}
		width[s.Grid] = max(width[s.Grid], s.Channels)
	}
	n := 0
	for i := 1; i < len(grids); i++ {
		if width[grids[i]] <= width[grids[i-1]] {
			n++
		}
	}
	return n
}

// WidthDrops counts the modules narrower than the module before them (principle 4: zero when width grows with
// depth).
func WidthDrops(stages []Stage) int {
	n := 0
	for i := 1; i < len(stages); i++ {
		if stages[i].Channels < stages[i-1].Channels {
			n++
		}
	}
	return n
}

// GridShares is the share of the network's multiply-adds spent by the modules on each grid (the stem counts on
// 35×35).
func GridShares(stages []Stage) map[int]float64 {
	var total int64
	macs := map[int]int64{}
	for _, s := range stages {
		total += s.MACs
		macs[s.Grid] += s.MACs
	}
	share := map[int]float64{}
	for g, m := range macs {
		share[g] = float64(m) / float64(total)
	}
	return share
}

// StagesFigures draws principle 1 (values per image after every module, and what pooling first would keep at the
// reductions) and principle 4 (width against depth, with each grid's share of the multiply-adds in the legend).
func StagesFigures(stages []Stage) ([]*plots.Figure, error) {
	values := plots.Series{Name: "values per image after the module", Points: true, X: []float64{0}, Y: []float64{299 * 299 * 3}}
	pool := plots.Series{Name: "pooling first would keep", Points: true}
	for i, s := range stages {
		x := float64(i + 1)
		values.X, values.Y = append(values.X, x), append(values.Y, float64(s.Values))
		if s.PoolFirst > 0 {
			pool.X, pool.Y = append(pool.X, x), append(pool.Y, float64(s.PoolFirst))
		}
	}
	p1, err := plots.Curves("Principle 1: representation size from the input (x = 0) through stem, mixed0 … mixed10",
		"module", "values per image", []plots.Series{values, pool}, plots.LogY())
	if err != nil {
		return nil, err
	}
	share := GridShares(stages)
	var series []plots.Series
	for _, g := range []int{35, 17, 8} {
		sr := plots.Series{Name: fmt.Sprintf("%d×%d grid (%.0f%% of the multiply-adds)", g, g, 100*share[g]), Points: true}
		for _, s := range stages {
			if s.Grid == g {
				sr.X, sr.Y = append(sr.X, float64(s.Depth)), append(sr.Y, float64(s.Channels))
			}
		}
		series = append(series, sr)
	}
	p4, err := plots.Curves("Principle 4: width (channels) against depth (weight layers) after every module", "depth (weight layers on the longest path)",
		"width (channels)", series, plots.LogY())
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{p1, p4}, nil
}

// Reduction is principle 3 at one place of the network: the input of a module whose 1×1 convolutions reduce it
// before the spatial convolutions.
type Reduction struct {
	// Tap is the module whose output is the input, Into the module that reduces it.
	Tap, Into string
	// Channels is the input's width; Widths the reductions' widths.
	Channels int
	Widths   []int
}

// Reductions are the places measured: mixed1's 1×1 reductions of mixed0's 256 channels to 48 and 64 (35×35), and
// mixed8's of mixed7's 768 to 192 (17×17).
var Reductions = []Reduction{
	{Tap: "mixed0", Into: "mixed1", Channels: 256, Widths: []int{48, 64}},
	{Tap: "mixed7", Into: "mixed8", Channels: 768, Widths: []int{192}},
}

// Spectrum is principle 3 measured at one Reduction on real photos.
type Spectrum struct {
	Reduction
	// Samples is the number of positions (over all images) the covariance is computed from.
	Samples int
	// Cumulative[k-1] is the share of the total variance held by the top k principal components.
	Cumulative []float64
	// Kept[i] is Cumulative at Widths[i]; Uncorrelated[i] = Widths[i]/Channels is what k of C uncorrelated
	// channels of equal variance would keep.
	Kept, Uncorrelated []float64
	// Neighbour is the correlation of a channel's value at a position with its value one position to the right,
	// pooled over channels and positions.
	Neighbour float64
}

// PrincipleImages are the images principle 3 is measured on: the four sample photos and their reflections.
func PrincipleImages() ([][]float32, error) {
	var out [][]float32
	for _, name := range []string{"astronaut.png", "chelsea.png", "coffee.png", "starry_night.jpg"} {
		p, err := data.LoadPhoto(name, 0)
		if err != nil {
			return nil, err
		}
		for _, flip := range []bool{false, true} {
			img := PhotoImage(p)
			if flip {
				img = flipped(img)
			}
			px, err := pretrained.Preprocess(img)
			if err != nil {
				return nil, err
			}
			out = append(out, px)
		}
	}
	return out, nil
}

func flipped(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(b.Max.X-1-(x-b.Min.X), y, img.At(x, y))
		}
	}
	return out
}

// MeasureSpectra runs the pretrained network on the images and measures every Reduction's spectrum.
func MeasureSpectra(backend compute.Backend, imgs [][]float32, rs []Reduction) ([]Spectrum, error) {
	if backend == nil || len(imgs) == 0 {
		return nil, errors.New("inception: need a backend and images")
	}
	clf, err := pretrained.LoadNSFWJS(backend)
	if err != nil {
		return nil, err
	}
	size := models.InceptionV3Size
	var taps []string
	for _, r := range rs {
		taps = append(taps, r.Tap)
	}
	acts := map[string][][]float32{}
	for _, px := range imgs {
		_, outs, err := clf.Forward(tensors.FromFlatDataAndDimensions(px, 1, size, size, 3), taps...)
		if err != nil {
			return nil, err
		}
		for name, t := range outs {
			v, err := tensors.CopyFlatData[float32](t)
			t.MustFinalizeAll()
			if err != nil {
				return nil, err
			}
			acts[name] = append(acts[name], v)
		}
	}
	var out []Spectrum
	for _, r := range rs {
		s, err := spectrum(r, acts[r.Tap])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// spectrum computes r's covariance over every position of every image (each image's activations [g, g, C]).
func spectrum(r Reduction, acts [][]float32) (Spectrum, error) {
	c := r.Channels
	s := Spectrum{Reduction: r}
	mean := make([]float64, c)
	for _, a := range acts {
		if len(a)%c != 0 {
			return s, fmt.Errorf("inception: %s has %d values, not a multiple of %d channels", r.Tap, len(a), c)
		}
		for p := 0; p < len(a); p += c {
			for j := range c {
				mean[j] += float64(a[p+j])
			}
			s.Samples++
		}
	}
	if s.Samples <= c {
		return s, fmt.Errorf("inception: %d positions for %d channels: too few for a covariance", s.Samples, c)
	}
	for j := range mean {
		mean[j] /= float64(s.Samples)
	}
	cov := make([][]float64, c)
	for i := range cov {
		cov[i] = make([]float64, c)
	}
	d := make([]float64, c)
	for _, a := range acts {
		for p := 0; p < len(a); p += c {
			for j := range c {
				d[j] = float64(a[p+j]) - mean[j]
			}
			for i := range c {
				if d[i] == 0 {
					continue
				}
				row := cov[i]
				for j := i; j < c; j++ {
					row[j] += d[i] * d[j]
				}
			}
		}
	}
	for i := range c {
		for j := i; j < c; j++ {
			cov[i][j] /= float64(s.Samples - 1)
			cov[j][i] = cov[i][j]
		}
	}
	vals := SymmetricEigenvalues(cov)
	var total float64
	for _, v := range vals {
		total += math.Max(v, 0)
	}
	if !(total > 0) {
		return s, fmt.Errorf("inception: %s has no variance", r.Tap)
	}
	var run float64
	for _, v := range vals {
		run += math.Max(v, 0)
		s.Cumulative = append(s.Cumulative, run/total)
	}
	for _, w := range r.Widths {
		if w < 1 || w > c {
			return s, fmt.Errorf("inception: reduction width %d of %d channels", w, c)
		}
		s.Kept = append(s.Kept, s.Cumulative[w-1])
		s.Uncorrelated = append(s.Uncorrelated, float64(w)/float64(c))
	}
	// Neighbouring positions: (y, x) and (y, x+1) of the same channel, over every image.
	g := int(math.Round(math.Sqrt(float64(len(acts[0]) / c))))
	var sx, sy, sxx, syy, sxy, n float64
	for _, a := range acts {
		for y := range g {
			for x := 0; x+1 < g; x++ {
				for j := range c {
					u, v := float64(a[(y*g+x)*c+j])-mean[j], float64(a[(y*g+x+1)*c+j])-mean[j]
					sx, sy, sxx, syy, sxy, n = sx+u, sy+v, sxx+u*u, syy+v*v, sxy+u*v, n+1
				}
			}
		}
	}
	cv := sxy/n - sx/n*sy/n
	s.Neighbour = cv / math.Sqrt((sxx/n-sx/n*sx/n)*(syy/n-sy/n*sy/n))
	return s, nil
}

// SpectrumFigure draws the cumulative share of the variance against the number of components, the reductions'
// widths marked, with the line of uncorrelated channels.
func SpectrumFigure(ss []Spectrum) (*plots.Figure, error) {
	var series []plots.Series
	for _, s := range ss {
		c := plots.Series{Name: fmt.Sprintf("%s output (%d ch, input of %s)", s.Tap, s.Channels, s.Into)}
		for k, v := range s.Cumulative {
			c.X, c.Y = append(c.X, float64(k+1)/float64(s.Channels)), append(c.Y, v)
		}
		marks := plots.Series{Name: fmt.Sprintf("%s's 1×1 reductions to %v", s.Into, s.Widths), Points: true}
		for i, w := range s.Widths {
			marks.X, marks.Y = append(marks.X, float64(w)/float64(s.Channels)), append(marks.Y, s.Kept[i])
		}
		series = append(series, c, marks)
	}
	series = append(series, plots.Series{Name: "uncorrelated channels", X: []float64{0, 1}, Y: []float64{0, 1}})
	return plots.Curves("Principle 3: variance in the top k principal components (pretrained)",
		"k / channels", "share of the variance", series, plots.YRange(0, 1))
}

// SymmetricEigenvalues returns the eigenvalues of the symmetric matrix a, largest first (Householder reduction to
// tridiagonal form, then the implicit QL iteration; a is not modified).
func SymmetricEigenvalues(a [][]float64) []float64 {
	n := len(a)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append([]float64(nil), a[i]...)
	}
	d, e := make([]float64, n), make([]float64, n)
	// Householder tridiagonalization (eigenvalues only).
	for i := n - 1; i > 0; i-- {
		l := i - 1
		var h, scale float64
		if l > 0 {
			for k := 0; k <= l; k++ {
				scale += math.Abs(m[i][k])
			}
			if scale == 0 {
				e[i] = m[i][l]
			} else {
				for k := 0; k <= l; k++ {
					m[i][k] /= scale
					h += m[i][k] * m[i][k]
				}
				f := m[i][l]
				g := math.Sqrt(h)
				if f >= 0 {
					g = -g
				}
				e[i] = scale * g
				h -= f * g
				m[i][l] = f - g
				f = 0
				for j := 0; j <= l; j++ {
					g = 0
					for k := 0; k <= j; k++ {
						g += m[j][k] * m[i][k]
					}
					for k := j + 1; k <= l; k++ {
						g += m[k][j] * m[i][k]
					}
					e[j] = g / h
					f += e[j] * m[i][j]
				}
				hh := f / (h + h)
				for j := 0; j <= l; j++ {
					f = m[i][j]
					g = e[j] - hh*f
					e[j] = g
					for k := 0; k <= j; k++ {
						m[j][k] -= f*e[k] + g*m[i][k]
					}
				}
			}
		} else {
			e[i] = m[i][l]
		}
		d[i] = h
	}
	for i := range n {
		d[i] = m[i][i]
	}
	// Implicit QL on the tridiagonal matrix (diagonal d, sub-diagonal e).
	for i := 1; i < n; i++ {
		e[i-1] = e[i]
	}
	if n > 0 {
		e[n-1] = 0
	}
	for l := 0; l < n; l++ {
		for iter := 0; iter < 60; iter++ {
			mm := l
			for ; mm < n-1; mm++ {
				dd := math.Abs(d[mm]) + math.Abs(d[mm+1])
				if math.Abs(e[mm]) <= 1e-15*dd {
					break
				}
			}
			if mm == l {
				break
			}
			g := (d[l+1] - d[l]) / (2 * e[l])
			r := math.Hypot(g, 1)
			g = d[mm] - d[l] + e[l]/(g+math.Copysign(r, g))
			s, c, p := 1.0, 1.0, 0.0
			i := mm - 1
			for ; i >= l; i-- {
				f, b := s*e[i], c*e[i]
				r = math.Hypot(f, g)
				e[i+1] = r
				if r == 0 {
					d[i+1] -= p
					e[mm] = 0
					break
				}
				s, c = f/r, g/r
				g = d[i+1] - p
				r = (d[i]-g)*s + 2*c*b
				p = s * r
				d[i+1] = g + p
				g = c*r - b
			}
			if r == 0 && i >= l {
				continue
			}
			d[l] -= p
			e[l] = g
			e[mm] = 0
		}
	}
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if d[j] > d[i] {
				d[i], d[j] = d[j], d[i]
			}
		}
	}
	return d
}
