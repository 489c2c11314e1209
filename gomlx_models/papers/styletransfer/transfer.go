package styletransfer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/data"
)

// Image is an H×W RGB image, values in [0, 1] (HWC).
type Image struct {
	H, W   int
	Pixels []float32
}

// FromPhoto crops the photo's central square and scales it to side×side.
func FromPhoto(p *data.Photo, side int) Image {
	s := min(p.H, p.W)
	y0, x0 := (p.H-s)/2, (p.W-s)/2
	crop := make([]float32, s*s*3)
	for y := range s {
		copy(crop[y*s*3:(y+1)*s*3], p.Pixels[((y0+y)*p.W+x0)*3:((y0+y)*p.W+x0+s)*3])
	}
	q := &data.Photo{Name: p.Name, H: s, W: s, Pixels: crop}
	if s != side {
		q = q.Resize(side, side)
	}
	return Image{H: side, W: side, Pixels: q.Pixels}
}

// LoadImage reads a PNG or JPEG file (one of the sample photos by name, e.g. "starry_night.jpg", or any path)
// and returns its central square at side×side; a larger image is scaled down. Errors are one line and name the
// file.
func LoadImage(nameOrPath string, side int) (Image, error) {
	var p *data.Photo
	var err error
	if isSamplePhoto(nameOrPath) {
		p, err = data.LoadPhoto(nameOrPath, side)
	} else {
		p, err = data.LoadPhotoFile(nameOrPath, side)
	}
	if err != nil {
		return Image{}, err
	}
	return FromPhoto(p, side), nil
}

func isSamplePhoto(name string) bool {
	for _, p := range data.Photos {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Problem is one image synthesis (§2, eq. 7): find x minimising α L_content(x) + β Σ_l w_l E_l(x). With no
// content image (or α = 0) it is a style reconstruction; with no style layers a content reconstruction.
type Problem struct {
	// Content is the photograph p; ContentLayer the layer whose features x must match (empty: none).
	Content      *Image
	ContentLayer string
	// Style is the artwork a; StyleLayers the layers whose Gram matrices x must match, weighted by StyleWeights
	// (nil: w_l = 1/len(StyleLayers), as the paper's Fig. 2 uses).
	Style        *Image
	StyleLayers  []string
	StyleWeights []float64
	// Alpha and Beta weight the two losses (eq. 7).
	Alpha, Beta float64
	// Side is the side of the synthesised image (the content's when there is one).
	Side int
}

// Synthesis is a compiled [Problem]: the targets P and A^l computed once, the loss-and-gradient graph ready.
type Synthesis struct {
	Problem  Problem
	Backbone *Backbone
	exec     *model.Exec
	targets  []*tensors.Tensor
	weights  []float64
}

// NewSynthesis computes the targets of p with backbone b: the content image's features at p.ContentLayer and the
// style image's Gram matrices at p.StyleLayers.
func NewSynthesis(backend compute.Backend, b *Backbone, p Problem) (*Synthesis, error) {
	if p.Side < b.MinSide {
		return nil, fmt.Errorf("styletransfer: side %d is below %s's minimum %d", p.Side, b.Name, b.MinSide)
	}
	if p.Content != nil && (p.Content.H != p.Side || p.Content.W != p.Side) {
		return nil, fmt.Errorf("styletransfer: content image is %d×%d, want %d×%d", p.Content.H, p.Content.W, p.Side, p.Side)
	}
	useContent := p.ContentLayer != "" && p.Alpha != 0
	useStyle := len(p.StyleLayers) > 0 && p.Beta != 0
	if useContent && p.Content == nil || useStyle && p.Style == nil {
		return nil, fmt.Errorf("styletransfer: a content layer needs a content image and style layers a style image")
	}
	if !useContent && !useStyle {
		return nil, fmt.Errorf("styletransfer: nothing to match (no content layer with α ≠ 0, no style layers with β ≠ 0)")
	}
	if !useContent {
		p.ContentLayer = ""
	}
	if !useStyle {
		p.StyleLayers = nil
	}
	s := &Synthesis{Problem: p, Backbone: b}
	s.weights = p.StyleWeights
	if s.weights == nil {
		for range p.StyleLayers {
			s.weights = append(s.weights, 1/float64(len(p.StyleLayers)))
		}
	}
	if len(s.weights) != len(p.StyleLayers) {
		return nil, fmt.Errorf("styletransfer: %d style weights for %d style layers", len(s.weights), len(p.StyleLayers))
	}
	if useContent {
		t, err := runFeatures(backend, b, *p.Content, []string{p.ContentLayer}, false)
		if err != nil {
			return nil, err
		}
		s.targets = append(s.targets, t...)
	}
	if useStyle {
		t, err := runFeatures(backend, b, *p.Style, p.StyleLayers, true)
		if err != nil {
			return nil, err
		}
		s.targets = append(s.targets, t...)
	}
	exec, err := model.NewExec(backend, b.Store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		x := in[0]
		content, style, total := s.lossGraph(scope, x, in[1:])
		return []*graph.Node{total, content, style, graph.Gradient(total, x)[0]}
	})
	if err != nil {
		return nil, fmt.Errorf("styletransfer: %w", err)
	}
	s.exec = exec
	return s, nil
}

// layers returns the layers the loss reads: the content layer, then the style layers.
func (p Problem) layers() []string {
	var l []string
	if p.ContentLayer != "" {
		l = append(l, p.ContentLayer)
	}
	return append(l, p.StyleLayers...)
}

// lossGraph builds L_content, Σ w_l E_l and eq. 7's total on image x, targets in the order of layers().
func (s *Synthesis) lossGraph(scope *model.Scope, x *graph.Node, targets []*graph.Node) (content, style, total *graph.Node) {
	p := s.Problem
	feats, err := s.Backbone.Features(scope, x, p.layers()...)
	if err != nil {
		panic(err)
	}
	g := x.Graph()
	content, style = graph.ScalarZero(g, x.DType()), graph.ScalarZero(g, x.DType())
	k := 0
	if p.ContentLayer != "" {
		content = ContentLossGraph(feats[p.ContentLayer], targets[0])
		k = 1
	}
	for l, name := range p.StyleLayers {
		style = graph.Add(style, graph.MulScalar(LayerStyleLossGraph(feats[name], targets[k+l]), s.weights[l]))
	}
	total = graph.Add(graph.MulScalar(content, p.Alpha), graph.MulScalar(style, p.Beta))
	return content, style, total
}

// runFeatures returns the named activations of img (or their Gram matrices).
func runFeatures(backend compute.Backend, b *Backbone, img Image, names []string, gram bool) ([]*tensors.Tensor, error) {
	exec, err := model.NewExec(backend, b.Store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		feats, err := b.Features(scope, x, names...)
		if err != nil {
			panic(err)
		}
		out := make([]*graph.Node, len(names))
		for i, n := range names {
			if gram {
				out[i] = GramGraph(feats[n])
			} else {
				// max(a, 0) = a for these ReLU (or pooled ReLU) outputs; it makes each output a node built after
				// the rest of the graph: the Go backend failed to return an early node followed by unused ones
				// (a unit tap such as stem/conv1, whose module is built whole).
				out[i] = graph.Max(feats[n], graph.ScalarZero(x.Graph(), x.DType()))
			}
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("styletransfer: %w", err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(img.Pixels, 1, img.H, img.W, 3))
	if err != nil {
		return nil, fmt.Errorf("styletransfer: %s features: %w", b.Name, err)
	}
	return out, nil
}

// Losses are the parts of eq. 7 at one image.
type Losses struct {
	Total, Content, Style float64
}

// Eval returns the losses at image x (H·W·3 values, HWC) and writes ∂L_total/∂x into grad.
func (s *Synthesis) Eval(x, grad []float64) (Losses, error) {
	side := s.Problem.Side
	if len(x) != side*side*3 || len(grad) != len(x) {
		return Losses{}, fmt.Errorf("styletransfer: image of %d values, want %d", len(x), side*side*3)
	}
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	args := []any{tensors.FromFlatDataAndDimensions(x32, 1, side, side, 3)}
	for _, t := range s.targets {
		args = append(args, t)
	}
	out, err := s.exec.Exec(args...)
	if err != nil {
		return Losses{}, fmt.Errorf("styletransfer: loss and gradient: %w", err)
	}
	l := Losses{Total: float64(tensors.ToScalar[float32](out[0])), Content: float64(tensors.ToScalar[float32](out[1])),
		Style: float64(tensors.ToScalar[float32](out[2]))}
	for i, v := range tensors.MustCopyFlatData[float32](out[3]) {
		grad[i] = float64(v)
	}
	return l, nil
}

// Init says where the optimisation starts.
type Init string

// Starting images: white noise (the paper's Figs. 1–3) or the content photograph.
const (
	InitNoise   Init = "noise"
	InitContent Init = "content"
)

// Run is one optimisation's outcome.
type Run struct {
	Image Image
	// History holds the losses after each L-BFGS iteration, History[0] at the start.
	History []Losses
	// Evals is the number of loss-and-gradient evaluations; SecondsPerEval their mean wall-clock time.
	Evals          int
	SecondsPerEval float64
	// Flat is set when the run stopped because its loss curve went flat (see [Stop]), not at its last
	// iteration; Outside is the fraction of the optimised pixel values outside [0, 1] (clipped in Image).
	Flat    bool
	Outside float64
	// Seed is the seed of the white-noise start (0 for other starts).
	Seed uint64
}

// Stop says when an optimisation ends: after MaxIter L-BFGS iterations, or earlier once the total loss fell by
// less than a fraction Tol of itself over the last Window iterations (the loss curve is flat; Window 0: never).
type Stop struct {
	MaxIter, Window int
	Tol             float64
}

// flat reports whether the losses went flat by s's rule.
func (s Stop) flat(h []Losses) bool {
	k := len(h) - 1
	if s.Window < 1 || k < s.Window {
		return false
	}
	before, now := h[k-s.Window].Total, h[k].Total
	return before > 0 && (before-now)/before < s.Tol
}

// Final returns the losses at the end.
func (r *Run) Final() Losses { return r.History[len(r.History)-1] }

// Optimize minimises the loss over the image with L-BFGS until stop says so, starting from init (white noise
// uniform in [0, 1], seeded by seed).
func (s *Synthesis) Optimize(init Init, stop Stop, seed uint64) (*Run, error) {
	if stop.MaxIter < 1 {
		return nil, fmt.Errorf("styletransfer: at least one iteration, got %d", stop.MaxIter)
	}
	side := s.Problem.Side
	x := make([]float64, side*side*3)
	switch init {
	case InitNoise:
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		for i := range x {
			x[i] = rng.Float64()
		}
	case InitContent:
		if s.Problem.Content == nil {
			return nil, fmt.Errorf("styletransfer: starting from the content image needs one")
		}
		for i, v := range s.Problem.Content.Pixels {
			x[i] = float64(v)
		}
	default:
		return nil, fmt.Errorf("styletransfer: unknown start %q", init)
	}
	run := &Run{}
	if init == InitNoise {
		run.Seed = seed
	}
	var last Losses
	var spent time.Duration
	obj := func(x, g []float64) (float64, error) {
		t0 := time.Now()
		l, err := s.Eval(x, g)
		spent += time.Since(t0)
		last = l
		return l.Total, err
	}
	g := make([]float64, len(x))
	l0, err := s.Eval(x, g)
	if err != nil {
		return nil, err
	}
	run.History = append(run.History, l0)
	opt := LBFGS{MaxIter: stop.MaxIter, MaxEvals: 2 * stop.MaxIter,
		OnIter: func(int, float64, int) { run.History = append(run.History, last) },
		Stop: func(int, float64) bool {
			run.Flat = stop.flat(run.History)
			return run.Flat
		}}
	_, evals, err := opt.Minimize(obj, x)
	if err != nil {
		return nil, err
	}
	run.Evals = evals
	run.SecondsPerEval = spent.Seconds() / float64(max(1, evals))
	out := make([]float32, len(x))
	outside := 0
	for i, v := range x {
		out[i] = float32(min(1, max(0, v)))
		if v < 0 || v > 1 {
			outside++
		}
	}
	run.Outside = float64(outside) / float64(len(x))
	run.Image = Image{H: side, W: side, Pixels: out}
	return run, nil
}

// prefixes returns the growing layer sets layers[:1], layers[:2], … (the rows of Fig. 1's style reconstructions).
func prefixes(layers []string) [][]string {
	var out [][]string
	for i := range layers {
		out = append(out, slices.Clone(layers[:i+1]))
	}
	return out
}
