package vgg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
)

// DenseDemo is configuration A at 224×224 with every width divided by 8 and FC 512-512-1000: the paper's
// geometry (five pools, 7×7×C before fc6, 1,000 classes) at a size whose forward pass takes a second here.
var DenseDemo = models.VGGConfig{Name: "A/8 (224×224)", Layers: models.VGGLayers["A"], WidthDiv: 8,
	FC: []int{512, 512}, Classes: 1000, Dropout: models.VGGDropout, FCInputSide: models.VGGInputSide / 32}

// ScaleScores is the dense evaluation of one image at one test scale Q.
type ScaleScores struct {
	Q int
	// MapH, MapW is the side of the class-score map (1×1 at Q = 224).
	MapH, MapW int
	// Posterior is the softmax of the spatially averaged class scores.
	Posterior []float64
	// Top is the class with the largest posterior.
	Top int
}

// DenseResult is §3.2's dense evaluation of an untrained FC network with the same variables.
type DenseResult struct {
	Config models.VGGConfig
	// MaxAbsDiff is max |FC − dense| over the logits at the training size; MaxAbs is max |FC| for scale.
	MaxAbsDiff, MaxAbs float64
	// Scales are the evaluations at each Q; Average the posterior averaged over them (§3.2, "multi-scale").
	Scales  []ScaleScores
	Average []float64
	Top     int
}

// DenseEvaluation builds cfg once as an FC network and once with its FC layers as convolutions (same store, so the
// same weights, seeded), compares the two on one random image at the training size, then evaluates the image
// densely at each of the test scales qs (the image is resized bilinearly) and averages the posteriors.
func DenseEvaluation(backend compute.Backend, cfg models.VGGConfig, qs []int, seed uint64) (res *DenseResult, err error) {
	if backend == nil {
		return nil, errors.New("DenseEvaluation: nil backend")
	}
	if len(qs) == 0 {
		return nil, errors.New("DenseEvaluation: no test scale")
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("DenseEvaluation: %v", r)
		}
	}()
	side := 32 * cfg.FCInputSide
	fc, dense, err := fcAndDense(cfg)
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(seed))
	rng := rand.New(rand.NewPCG(seed, 1))
	img := make([]float32, side*side*3)
	for i := range img {
		img[i] = float32(rng.Float64())
	}
	x := tensors.FromFlatDataAndDimensions(img, 1, side, side, 3)
	fcOut, err := execOne(backend, store, fc, x)
	if err != nil {
		return nil, err
	}
	res = &DenseResult{Config: cfg}
	for _, q := range qs {
		if q < side {
			return nil, fmt.Errorf("DenseEvaluation: scale %d is below the training size %d", q, side)
		}
		q := q
		scoreMap, err := execOne(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			if q != side {
				x = graph.Interpolate(x, -1, q, q, -1).Bilinear().Done()
			}
			return dense(scope, x)
		}, x)
		if err != nil {
			return nil, err
		}
		d := scoreMap.Shape().Dimensions
		vals, err := tensors.CopyFlatData[float32](scoreMap)
		scoreMap.MustFinalizeAll()
		if err != nil {
			return nil, err
		}
		h, w, k := d[1], d[2], d[3]
		mean := make([]float64, k)
		for p := range h * w {
			for c := range k {
				mean[c] += float64(vals[p*k+c]) / float64(h*w)
			}
		}
		if q == side {
			fcVals, err := tensors.CopyFlatData[float32](fcOut)
			if err != nil {
				return nil, err
			}
			for c := range k {
				res.MaxAbsDiff = math.Max(res.MaxAbsDiff, math.Abs(mean[c]-float64(fcVals[c])))
				res.MaxAbs = math.Max(res.MaxAbs, math.Abs(float64(fcVals[c])))
			}
		}
		post := softmax(mean)
		res.Scales = append(res.Scales, ScaleScores{Q: q, MapH: h, MapW: w, Posterior: post, Top: argmax(post)})
	}
	fcOut.MustFinalizeAll()
	res.Average = make([]float64, len(res.Scales[0].Posterior))
	for _, s := range res.Scales {
		for c, p := range s.Posterior {
			res.Average[c] += p / float64(len(res.Scales))
		}
	}
	res.Top = argmax(res.Average)
	return res, nil
}

func execOne(backend compute.Backend, store *model.Store, fn func(*model.Scope, *graph.Node) *graph.Node,
	x *tensors.Tensor) (*tensors.Tensor, error) {
	e, err := model.NewExec(backend, store, fn)
	if err != nil {
		return nil, err
	}
	defer e.Finalize()
	outs, err := e.Exec(x)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

func softmax(z []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	out := make([]float64, len(z))
	var s float64
	for i, v := range z {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func argmax(v []float64) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// ScaleAccuracy is the test accuracy of a trained network evaluated densely at one scale (or, Q = 0, at all of
// them with the posteriors averaged).
type ScaleAccuracy struct {
	Q          int
	MapSide    int
	Accuracy   float64
	Multiscale bool
}

// MultiScaleAccuracy evaluates a network trained with cfg (its variables in store) densely on the test images at
// each scale in qs (images resized bilinearly to Q×Q) and with the softmax posteriors averaged over the scales
// (§3.2, §4.2). The first row is the FC network itself at the training size, for comparison.
func MultiScaleAccuracy(backend compute.Backend, store *model.Store, cfg models.VGGConfig, test *data.Images,
	qs []int) (rows []ScaleAccuracy, err error) {
	if backend == nil || store == nil || test == nil || test.N == 0 || len(qs) == 0 {
		return nil, errors.New("MultiScaleAccuracy: need a backend, a store, test images and scales")
	}
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("MultiScaleAccuracy: %v", r)
		}
	}()
	fc, dense, err := fcAndDense(cfg)
	if err != nil {
		return nil, err
	}
	const bs = 250
	posteriors := func(fn func(*model.Scope, *graph.Node) *graph.Node) ([][]float64, int, error) {
		e, err := model.NewExec(backend, store, fn)
		if err != nil {
			return nil, 0, err
		}
		defer e.Finalize()
		var out [][]float64
		mapSide := 0
		size := test.ImageSize()
		for s := 0; s < test.N; s += bs {
			n := min(bs, test.N-s)
			x := tensors.FromFlatDataAndDimensions(test.Pixels[s*size:(s+n)*size], n, test.H, test.W, test.C)
			o, err := e.Exec(x)
			if err != nil {
				return nil, 0, err
			}
			d := o[0].Shape().Dimensions
			vals, err := tensors.CopyFlatData[float32](o[0])
			o[0].MustFinalizeAll()
			if err != nil {
				return nil, 0, err
			}
			k := d[len(d)-1]
			cells := len(vals) / (n * k)
			if len(d) == 4 {
				mapSide = d[1]
			}
			for i := range n {
				mean := make([]float64, k)
				for p := range cells {
					for c := range k {
						mean[c] += float64(vals[(i*cells+p)*k+c]) / float64(cells)
					}
				}
				out = append(out, softmax(mean))
			}
		}
		return out, mapSide, nil
	}
	accuracy := func(post [][]float64) float64 {
		right := 0
		for i, p := range post {
			if argmax(p) == int(test.Labels[i]) {
				right++
			}
		}
		return float64(right) / float64(len(post))
	}
	fcPost, _, err := posteriors(fc)
	if err != nil {
		return nil, err
	}
	rows = append(rows, ScaleAccuracy{Q: test.H, MapSide: 0, Accuracy: accuracy(fcPost)})
	avg := make([][]float64, test.N)
	for _, q := range qs {
		q := q
		post, side, err := posteriors(func(scope *model.Scope, x *graph.Node) *graph.Node {
			if q != test.H {
				x = graph.Interpolate(x, -1, q, q, -1).Bilinear().Done()
			}
			return dense(scope, x)
		})
		if err != nil {
			return nil, fmt.Errorf("MultiScaleAccuracy at Q=%d: %w", q, err)
		}
		rows = append(rows, ScaleAccuracy{Q: q, MapSide: side, Accuracy: accuracy(post)})
		for i, p := range post {
			if avg[i] == nil {
				avg[i] = make([]float64, len(p))
			}
			for c := range p {
				avg[i][c] += p[c] / float64(len(qs))
			}
		}
	}
	rows = append(rows, ScaleAccuracy{Multiscale: true, Accuracy: accuracy(avg)})
	return rows, nil
}

// fcAndDense builds cfg as the FC network it is trained as and as the same network with its FC layers as
// convolutions, returning a score map (§3.2): the two share their variables.
func fcAndDense(cfg models.VGGConfig) (fc, dense func(*model.Scope, *graph.Node) *graph.Node, err error) {
	if fc, err = models.VGG(cfg); err != nil {
		return nil, nil, err
	}
	dcfg := cfg
	dcfg.DenseEval, dcfg.ScoreMap = true, true
	if dense, err = models.VGG(dcfg); err != nil {
		return nil, nil, err
	}
	return fc, dense, nil
}
