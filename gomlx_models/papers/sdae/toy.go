package sdae

import (
	"fmt"
	"io"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// The toy manifold: a circle of radius ToyRadius around (ToyCenter, ToyCenter), inside the unit square so that
// the sigmoid decoder can reach it.
const (
	ToyCenter = 0.5
	ToyRadius = 0.3
)

// ToyConfig sizes the 2-D picture of §3.3 (Fig. 2): N clean training points on the circle, Gaussian corruption
// of standard deviation Sigma, Steps of Adam on batches of 50.
type ToyConfig struct {
	N     int
	Sigma float64
	Steps int
	LR    float64
}

// ToyStudyConfig is the toy study per profile.
var ToyStudyConfig = train.ByProfile[ToyConfig]{
	Quick: ToyConfig{N: 1000, Sigma: 0.08, Steps: 3000, LR: 1e-2},
	Full:  ToyConfig{N: 2000, Sigma: 0.08, Steps: 20000, LR: 1e-2},
}

// ToyResult holds the corrupted test points, their reconstructions and the mean distances to the circle.
type ToyResult struct {
	Config               ToyConfig
	Clean, Noisy, Recons [][2]float64
	// Before and After are the mean distances of the corrupted points and of their reconstructions to the
	// circle; Clean is the reconstructions' distance for the clean points.
	Before, After, CleanAfter float64
	// Diff is, over the corrupted test points, the mean of distance(reconstruction) − distance(x̃) to the
	// circle, with its standard error over the points.
	Diff    reproduce.Estimate
	Seconds float64
}

// CircleDistance is the distance of p to the toy circle.
func CircleDistance(p [2]float64) float64 {
	return math.Abs(math.Hypot(p[0]-ToyCenter, p[1]-ToyCenter) - ToyRadius)
}

func circlePoints(rng interface{ Float64() float64 }, n int) [][2]float64 {
	pts := make([][2]float64, n)
	for i := range pts {
		a := 2 * math.Pi * rng.Float64()
		pts[i] = [2]float64{ToyCenter + ToyRadius*math.Cos(a), ToyCenter + ToyRadius*math.Sin(a)}
	}
	return pts
}

// ToyStudy trains models.ToyDAE with Gaussian corruption on points of the circle and reconstructs 300 fresh
// corrupted points: a denoising autoencoder maps x̃ back towards the manifold the clean x lie on (§3.3).
func ToyStudy(backend compute.Backend, cfg ToyConfig, progress io.Writer) (res *ToyResult, err error) {
	if cfg.N < 50 || cfg.Steps < 1 || !(cfg.Sigma > 0) || !(cfg.LR > 0) {
		return nil, fmt.Errorf("toy study: invalid configuration %+v", cfg)
	}
	rng := NewRand(3)
	pts := circlePoints(rng, cfg.N)
	pix := make([]float32, 0, 2*cfg.N)
	for _, p := range pts {
		pix = append(pix, float32(p[0]), float32(p[1]))
	}
	im := &data.Images{Name: "circle", N: cfg.N, H: 1, W: 2, C: 1, Pixels: pix, Labels: make([]int32, cfg.N),
		Classes: []string{"circle"}}
	ds := data.NewBatches(im, data.BatchConfig{BatchSize: 50, Shuffle: true, Seed: 5, DropLast: true, Flatten: true})
	net := models.ToyDAE
	classifier := false
	run, err := train.Fit(train.Options{Name: "toy DAE", Backend: backend,
		Model: net.DAE(0, models.Corruption{Kind: models.GaussianNoise, Level: cfg.Sigma}), Loss: models.ReconstructionLoss,
		Classifier: &classifier, Optimizer: optimizer.Adam().LearningRate(cfg.LR).Done(), Train: ds, Steps: cfg.Steps,
		LogEvery: 50, Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("toy study: %w", err)
	}
	res = &ToyResult{Config: cfg, Clean: circlePoints(rng, 300), Seconds: run.Seconds}
	in := make([]float32, 0, 4*len(res.Clean))
	for _, p := range res.Clean {
		q, _ := CorruptGo(rng, []float32{float32(p[0]), float32(p[1])}, models.Corruption{Kind: models.GaussianNoise, Level: cfg.Sigma})
		res.Noisy = append(res.Noisy, [2]float64{float64(q[0]), float64(q[1])})
		in = append(in, q...)
	}
	for _, p := range res.Clean {
		in = append(in, float32(p[0]), float32(p[1]))
	}
	z, err := reconstruct(backend, run.Store, net, in, 2*len(res.Clean))
	if err != nil {
		return nil, fmt.Errorf("toy study: %w", err)
	}
	n := len(res.Clean)
	diffs := make([]float64, n)
	for i := range n {
		r := [2]float64{float64(z[2*i]), float64(z[2*i+1])}
		res.Recons = append(res.Recons, r)
		res.Before += CircleDistance(res.Noisy[i]) / float64(n)
		res.After += CircleDistance(r) / float64(n)
		res.CleanAfter += CircleDistance([2]float64{float64(z[2*(n+i)]), float64(z[2*(n+i)+1])}) / float64(n)
		diffs[i] = CircleDistance(r) - CircleDistance(res.Noisy[i])
	}
	m := meanOf(diffs)
	ss := 0.0
	for _, d := range diffs {
		ss += (d - m) * (d - m)
	}
	res.Diff = reproduce.MeanSE(m, math.Sqrt(ss/float64(n-1)/float64(n)))
	return res, nil
}

func reconstruct(backend compute.Backend, store *model.Store, net models.AutoencoderConfig, in []float32, n int) (z []float32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reconstruct: %v", p)
		}
	}()
	out, err := model.CallOnce(backend, store, net.Reconstruct(0), tensors.FromFlatDataAndDimensions(in, n, net.Input))
	if err != nil {
		return nil, err
	}
	defer out.MustFinalizeAll()
	return tensors.CopyFlatData[float32](out)
}

// ToyFigure draws the circle, the corrupted points and an arrow-like segment from each to its reconstruction.
func ToyFigure(r *ToyResult) (*plots.Figure, error) {
	var circle plots.Series
	circle.Name = "data manifold (circle)"
	for i := 0; i <= 100; i++ {
		a := 2 * math.Pi * float64(i) / 100
		circle.X = append(circle.X, ToyCenter+ToyRadius*math.Cos(a))
		circle.Y = append(circle.Y, ToyCenter+ToyRadius*math.Sin(a))
	}
	noisy := plots.Series{Name: "corrupted x̃", MarkersOnly: true}
	recons := plots.Series{Name: "reconstruction g(f(x̃))", MarkersOnly: true}
	series := []plots.Series{circle, noisy, recons}
	for i := range len(r.Noisy) {
		noisy.X, noisy.Y = append(noisy.X, r.Noisy[i][0]), append(noisy.Y, r.Noisy[i][1])
		recons.X, recons.Y = append(recons.X, r.Recons[i][0]), append(recons.Y, r.Recons[i][1])
		if i < 40 { // a few segments x̃ → g(f(x̃)), unnamed
			series = append(series, plots.Series{X: []float64{r.Noisy[i][0], r.Recons[i][0]},
				Y: []float64{r.Noisy[i][1], r.Recons[i][1]}})
		}
	}
	series[1], series[2] = noisy, recons
	return plots.Curves(fmt.Sprintf("denoising pulls x̃ back to the manifold: mean distance %.3f → %.3f", r.Before, r.After),
		"x₁", "x₂", series, plots.XRange(0, 1), plots.YRange(0, 1))
}
