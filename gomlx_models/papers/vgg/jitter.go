package vgg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// §3.1 and Table 4: "multi-scale training, where each training image is individually rescaled by randomly
// sampling S from a certain range [Smin, Smax]" ("scale jittering"), then cropped to the training size; §4.2 tests
// such a network "over a range of scales, Q = {Smin, 0.5(Smin + Smax), Smax}", averaging the class posteriors,
// against the single scale Q = 0.5(Smin + Smax) (Table 3): "scale jittering at test time leads to better
// performance". Table 3 also finds that local response normalization "does not improve on the model A without any
// normalisation layers" (A-LRN 29.7% vs A 29.6% top-1 error).

// Resize returns the H×W×C image px resized to h×w by bilinear interpolation with half-pixel centres (the
// convention of graph.Interpolate, which the dense evaluation uses at test time).
func Resize(px []float32, H, W, C, h, w int) []float32 {
	out := make([]float32, h*w*C)
	coord := func(o, in, out int) (int, int, float32) {
		s := (float64(o)+0.5)*float64(in)/float64(out) - 0.5
		s = math.Max(0, math.Min(float64(in-1), s))
		i0 := int(s)
		i1 := min(i0+1, in-1)
		return i0, i1, float32(s - float64(i0))
	}
	for y := range h {
		y0, y1, fy := coord(y, H, h)
		for x := range w {
			x0, x1, fx := coord(x, W, w)
			for c := range C {
				a := px[(y0*W+x0)*C+c]*(1-fx) + px[(y0*W+x1)*C+c]*fx
				b := px[(y1*W+x0)*C+c]*(1-fx) + px[(y1*W+x1)*C+c]*fx
				out[(y*w+x)*C+c] = a*(1-fy) + b*fy
			}
		}
	}
	return out
}

// ScaleJitter rewrites n images of side×side×c in place: each is resized to S×S with S drawn uniformly from
// [sMin, sMax], then a random side×side crop of it is taken and reflected with probability ½ (§3.1).
func ScaleJitter(rng *rand.Rand, pixels []float32, n, side, c, sMin, sMax int) error {
	if sMin < side || sMax < sMin {
		return fmt.Errorf("scale jitter: need %d ≤ Smin ≤ Smax, got [%d, %d]", side, sMin, sMax)
	}
	size := side * side * c
	if len(pixels) != n*size {
		return fmt.Errorf("scale jitter: %d values for %d images of %d×%d×%d", len(pixels), n, side, side, c)
	}
	for i := range n {
		img := pixels[i*size : (i+1)*size]
		s := sMin + rng.IntN(sMax-sMin+1)
		big := Resize(img, side, side, c, s, s)
		top, left, flip := rng.IntN(s-side+1), rng.IntN(s-side+1), rng.IntN(2) == 1
		for y := range side {
			for x := range side {
				sx := left + x
				if flip {
					sx = left + side - 1 - x
				}
				copy(img[(y*side+x)*c:(y*side+x+1)*c], big[((top+y)*s+sx)*c:((top+y)*s+sx+1)*c])
			}
		}
	}
	return nil
}

// JitterSetup sizes the scale-jitter study: each configuration of Configs (Table 1's rows, widths ÷ WidthDiv, FC
// hidden layers of FC units) is trained with every seed on the first TrainN images at 32×32, each image rescaled
// to S ∈ [SMin, SMax] and cropped (§3.1), with Adam at LR divided by 10 at each epoch of DecayAt, and tested on
// TestN test images at every scale of Qs densely (§3.2) and with the posteriors averaged over Qs (§4.2); Single is
// the paper's single scale 0.5(SMin + SMax).
type JitterSetup struct {
	Configs                          []string
	WidthDiv, FC                     int
	TrainN, TestN, BatchSize, Epochs int
	LR                               float64
	DecayAt                          []int
	SMin, SMax, Single               int
	Qs                               []int
	Seeds                            []int64
}

// JitterStudy holds the study per profile: configurations A and A-LRN, each with three seeds, ten epochs of
// 4,000 images in the full profile. The scales are multiples of the network's stride 32, as every Q of the paper
// is (256, 384, 512 for its 224 crops): then the class-score map covers the whole image (1×1, 2×2, 3×3 here),
// where at Q = 40 or 48 the last pooling would drop its last row and column. S ∈ [32, 96] is Table 4's
// {Smin, 0.5(Smin + Smax), Smax} pattern around those scales.
var JitterStudy = train.ByProfile[JitterSetup]{
	Quick: JitterSetup{Configs: []string{"A", "A-LRN"}, WidthDiv: 4, FC: SmallFC, TrainN: 256, TestN: 200, BatchSize: 64,
		Epochs: 1, LR: 1e-3, SMin: 32, SMax: 96, Single: 64, Qs: []int{32, 64, 96}, Seeds: []int64{1}},
	Full: JitterSetup{Configs: []string{"A", "A-LRN"}, WidthDiv: 4, FC: SmallFC, TrainN: 4000, TestN: 2000, BatchSize: 64,
		Epochs: 10, LR: 1e-3, DecayAt: []int{7, 9}, SMin: 32, SMax: 96, Single: 64, Qs: []int{32, 64, 96}, Seeds: []int64{1, 2, 3}},
}

// JitterConfig is configuration name of Table 1 for the study's 32×32 inputs.
func (s JitterSetup) JitterConfig(name string) (models.VGGConfig, error) {
	layers, ok := models.VGGLayers[name]
	if !ok {
		return models.VGGConfig{}, fmt.Errorf("VGG: unknown configuration %q", name)
	}
	c := models.VGGSmall(s.FC)
	c.Name, c.Layers, c.WidthDiv = fmt.Sprintf("%s/%d (32×32)", name, s.WidthDiv), layers, s.WidthDiv
	return c, nil
}

// JitterRun is one network trained with one seed and tested at every scale.
type JitterRun struct {
	Seed   int64
	Fitted *train.Fitted
	// Scales are the accuracies of MultiScaleAccuracy: the FC net at 32, each Q densely, then averaged.
	Scales []ScaleAccuracy
}

// qErr is the run's test error (%) at Qs[i] (i = len(Qs): with the posteriors averaged).
func (r *JitterRun) qErr(i int) float64 { return 100 * (1 - r.Scales[1+i].Accuracy) }

// JitterArm is one configuration over the seeds.
type JitterArm struct {
	Name   string
	Config models.VGGConfig
	Runs   []*JitterRun
	// QErr[i] is the test error at Qs[i] and MultiErr with the posteriors averaged, over the seeds (%).
	QErr     []reproduce.Estimate
	MultiErr reproduce.Estimate
	// Gains[i] is QErr[i] − MultiErr seed by seed (points): what averaging the scales gains over testing at Qs[i]
	// alone; Gains[single] is Table 4's comparison with the single scale 0.5(Smin + Smax).
	Gains []reproduce.Estimate
}

// JitterResult is the study: one arm per configuration, and LRNGain, A's error minus A-LRN's at the training
// size Qs[0] (the FC network on the whole image, as Table 3 tests at Q = S), seed by seed (positive where LRN
// helps), when both were trained.
type JitterResult struct {
	Setup   JitterSetup
	Dataset string
	Arms    []*JitterArm
	LRNGain reproduce.Estimate
	// Single is the index of Setup.Single in Setup.Qs.
	Single int
}

// Arm returns the arm of configuration name, or nil.
func (r *JitterResult) Arm(name string) *JitterArm {
	for _, a := range r.Arms {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// jitterCache keeps the last study of this process: scale jitter and LRN are two rows of one study.
var jitterCache struct {
	sync.Mutex
	key string
	res *JitterResult
}

// Jitter runs the study of s (or returns the one this process already ran with the same setup and backend).
func Jitter(env *reproduce.Env, s JitterSetup) (*JitterResult, error) {
	key := fmt.Sprintf("%s|%+v", env.Backend.Name(), s)
	jitterCache.Lock()
	defer jitterCache.Unlock()
	if jitterCache.key == key {
		return jitterCache.res, nil
	}
	res, err := jitter(env, s)
	if err != nil {
		return nil, err
	}
	jitterCache.key, jitterCache.res = key, res
	return res, nil
}

func jitter(env *reproduce.Env, s JitterSetup) (*JitterResult, error) {
	if len(s.Configs) == 0 || len(s.Seeds) == 0 || s.Epochs < 1 || s.BatchSize < 1 || len(s.Qs) == 0 {
		return nil, fmt.Errorf("VGG scale jitter: invalid setup %+v", s)
	}
	single := -1
	for i, q := range s.Qs {
		if q == s.Single {
			single = i
		}
	}
	if single < 0 {
		return nil, fmt.Errorf("VGG scale jitter: the single scale %d is not among %v", s.Single, s.Qs)
	}
	trainIm, name, err := Side32(data.Train)
	if err != nil {
		return nil, err
	}
	testIm, _, err := Side32(data.Test)
	if err != nil {
		return nil, err
	}
	if s.TestN > 0 {
		testIm = testIm.Subset(s.TestN)
	}
	trainN := trainIm.N
	if s.TrainN > 0 {
		trainN = min(trainN, s.TrainN)
	}
	perEpoch := max(1, trainN/s.BatchSize)
	res := &JitterResult{Setup: s, Dataset: name}
	for _, cname := range s.Configs {
		cfg, err := s.JitterConfig(cname)
		if err != nil {
			return nil, err
		}
		fn, err := models.VGG(cfg)
		if err != nil {
			return nil, err
		}
		arm := &JitterArm{Name: cname, Config: cfg}
		for _, seed := range s.Seeds {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			c := train.Classification{Name: fmt.Sprintf("VGG %s seed %d", cname, seed), Model: fn, Dataset: side32,
				TrainN: s.TrainN, TestN: s.TestN, BatchSize: s.BatchSize, Epochs: s.Epochs, LR: s.LR, LogEvery: 10,
				EvalEvery: s.Epochs * perEpoch, Seed: seed,
				Augment: func(px []float32, n, h, w, c int) error {
					if h != w {
						return errors.New("scale jitter needs square images")
					}
					return ScaleJitter(rng, px, n, h, c, s.SMin, s.SMax)
				}}
			if len(s.DecayAt) > 0 {
				m := optim.Milestones{LR: s.LR}
				for _, e := range s.DecayAt {
					m.At = append(m.At, e*perEpoch)
				}
				c.Schedule = m.Rate
			}
			f, err := c.Fit(env.Backend, env.Progress)
			if err != nil {
				return nil, err
			}
			rows, err := MultiScaleAccuracy(env.Backend, f.Run.Store, cfg, testIm, s.Qs)
			if err != nil {
				return nil, err
			}
			arm.Runs = append(arm.Runs, &JitterRun{Seed: seed, Fitted: f, Scales: rows})
		}
		seeded := func(i int) (reproduce.Estimate, error) {
			v := make([]float64, len(arm.Runs))
			for k, run := range arm.Runs {
				v[k] = run.qErr(i)
			}
			return reproduce.Seeded(s.Seeds, v)
		}
		if arm.MultiErr, err = seeded(len(s.Qs)); err != nil {
			return nil, err
		}
		for i := range s.Qs {
			e, err := seeded(i)
			if err != nil {
				return nil, err
			}
			g, err := reproduce.PairedDifference(e, arm.MultiErr)
			if err != nil {
				return nil, err
			}
			arm.QErr, arm.Gains = append(arm.QErr, e), append(arm.Gains, g)
		}
		res.Arms = append(res.Arms, arm)
	}
	res.Single = single
	if a, l := res.Arm("A"), res.Arm("A-LRN"); a != nil && l != nil {
		if res.LRNGain, err = reproduce.PairedDifference(a.QErr[0], l.QErr[0]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// scaleText lists one run's errors at every scale.
func scaleText(rows []ScaleAccuracy) string {
	var parts []string
	for _, r := range rows {
		switch {
		case r.Multiscale:
			parts = append(parts, fmt.Sprintf("averaged %.2f%%", 100*(1-r.Accuracy)))
		case r.MapSide == 0:
			parts = append(parts, fmt.Sprintf("FC at %d %.2f%%", r.Q, 100*(1-r.Accuracy)))
		default:
			parts = append(parts, fmt.Sprintf("Q=%d %.2f%%", r.Q, 100*(1-r.Accuracy)))
		}
	}
	return strings.Join(parts, ", ")
}

// JitterResultRow is the row of Table 4's claim for configuration A: the error with the posteriors averaged over
// the scales below the error at each single scale, seed by seed — Table 4's comparison is with Q = 0.5(Smin +
// Smax), and averaging is only better than testing at one scale if it beats each of them.
func (r *JitterResult) JitterResultRow(env *reproduce.Env) (*reproduce.Result, error) {
	a := r.Arm("A")
	if a == nil {
		return nil, errors.New("VGG scale jitter: configuration A was not trained")
	}
	var js []reproduce.Judgement
	var parts []string
	for i, q := range r.Setup.Qs {
		js = append(js, env.Judge(reproduce.Above(0).In(fmt.Sprintf(" points (Q = %d − averaged)", q)), a.Gains[i]))
		mark := ""
		if i == r.Single {
			mark = ", the paper's single scale"
		}
		parts = append(parts, fmt.Sprintf("Q=%d%s: %s, gain %s (%s)", q, mark, a.QErr[i].MeanSD(2, "%"), a.Gains[i].MeanSD(2, " points"), a.Gains[i].CI(2)))
	}
	ours := fmt.Sprintf("A trained with S ∈ [%d, %d] on %s: test error averaged over Q ∈ %v %s; single scales %s; %s", r.Setup.SMin,
		r.Setup.SMax, r.Dataset, r.Setup.Qs, a.MultiErr.MeanSD(2, "%"), strings.Join(parts, "; "), a.MultiErr.SeedList())
	notes := "per-scale errors, first seed: " + scaleText(a.Runs[0].Scales) + "."
	if l := r.Arm("A-LRN"); l != nil {
		notes += fmt.Sprintf(" A-LRN: averaged %s, gain over Q=%d %s (%s).", l.MultiErr.MeanSD(2, "%"), r.Setup.Single,
			l.Gains[r.Single].MeanSD(2, " points"), l.Gains[r.Single].CI(2))
	}
	if env.Quick {
		notes += " Quick profile: one seed and one epoch, so the verdict is indicative only."
	}
	return &reproduce.Result{Ours: ours, Value: a.Gains[r.Single].Mean, Notes: notes, Judgement: reproduce.AllOf(js...)}, nil
}

// LRNMargin is the gain (points of test error) the LRN row rules out: "LRN does not improve" is shown when the
// whole interval of A's error minus A-LRN's lies below it.
const LRNMargin = 0.5

// LRNResultRow is the row of Table 3's A vs A-LRN: the gain from LRN (A's error minus A-LRN's at the training size
// Q = Qs[0], seed by seed) below LRNMargin.
func (r *JitterResult) LRNResultRow(env *reproduce.Env) (*reproduce.Result, error) {
	a, l := r.Arm("A"), r.Arm("A-LRN")
	if a == nil || l == nil {
		return nil, errors.New("VGG LRN: configurations A and A-LRN were not both trained")
	}
	q := r.Setup.Qs[0]
	ours := fmt.Sprintf("test error at Q=%d (the FC network on the whole image) A %s, A-LRN %s on %s; LRN's gain %s (%s); %s", q,
		a.QErr[0].MeanSD(2, "%"), l.QErr[0].MeanSD(2, "%"), r.Dataset, r.LRNGain.MeanSD(2, " points"), r.LRNGain.CI(2),
		r.LRNGain.SeedList())
	notes := fmt.Sprintf("\"does not improve\" is judged as: LRN's gain is below %.1f points over the whole interval. Averaged over the scales: A %s, A-LRN %s.",
		LRNMargin, a.MultiErr.MeanSD(2, "%"), l.MultiErr.MeanSD(2, "%"))
	if env.Quick {
		notes += " Quick profile: one seed and one epoch, so the verdict is indicative only."
	}
	return &reproduce.Result{Ours: ours, Value: r.LRNGain.Mean, Notes: notes,
		Judgement: env.Judge(reproduce.Below(LRNMargin).In(" points of LRN gain"), r.LRNGain)}, nil
}

// JitterFigures draws, for each configuration, the test error at every scale and averaged (mean over seeds, with
// each seed's points), and the training curves of the first seed of A.
func (r *JitterResult) JitterFigures() ([]*plots.Figure, error) {
	var series []plots.Series
	for _, a := range r.Arms {
		mean := plots.Series{Name: a.Name + " (mean over seeds)", Points: true}
		for k := range a.Runs[0].Scales {
			x := float64(k)
			var sum float64
			for _, run := range a.Runs {
				sum += 100 * (1 - run.Scales[k].Accuracy)
			}
			mean.X, mean.Y = append(mean.X, x), append(mean.Y, sum/float64(len(a.Runs)))
		}
		series = append(series, mean)
	}
	var labels []string
	for _, s := range r.Arms[0].Runs[0].Scales {
		switch {
		case s.Multiscale:
			labels = append(labels, "avg")
		case s.MapSide == 0:
			labels = append(labels, "FC")
		default:
			labels = append(labels, fmt.Sprint(s.Q))
		}
	}
	fig, err := plots.Curves(fmt.Sprintf("VGG trained with scale jitter S ∈ [%d, %d]: test error at x = %s", r.Setup.SMin, r.Setup.SMax,
		strings.Join(labels, ", ")), "test scale (0 = FC net at 32, then Q, last = posteriors averaged)", "test error (%)", series)
	if err != nil {
		return nil, err
	}
	loss, acc, err := Curves(r.Arms[0].Runs[0].Fitted.Run, fmt.Sprintf("VGG %s with scale jitter, seed %d", r.Arms[0].Name, r.Arms[0].Runs[0].Seed))
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{fig, loss, acc}, nil
}

// Table is the study as rows for a notebook table: for each configuration the test error at every scale and
// averaged (mean ± sd over the seeds), then what averaging gains over each single scale, with its interval; then
// LRN's gain.
func (r *JitterResult) Table() [][]string {
	head := []string{"configuration"}
	for _, q := range r.Setup.Qs {
		head = append(head, fmt.Sprintf("Q = %d (%d×%d map)", q, q/32, q/32))
	}
	head = append(head, fmt.Sprintf("averaged over Q ∈ %v", r.Setup.Qs))
	rows := [][]string{head}
	for _, a := range r.Arms {
		row := []string{a.Name + ": test error"}
		gains := []string{a.Name + ": gain of averaging"}
		for i := range r.Setup.Qs {
			row = append(row, a.QErr[i].MeanSD(2, "%"))
			gains = append(gains, a.Gains[i].MeanSD(2, " points")+", "+a.Gains[i].CI(2))
		}
		rows = append(rows, append(row, a.MultiErr.MeanSD(2, "%")), append(gains, ""))
	}
	if r.LRNGain.Values != nil {
		rows = append(rows, []string{fmt.Sprintf("LRN's gain: A minus A-LRN at Q = %d", r.Setup.Qs[0]), r.LRNGain.MeanSD(2, " points") + ", " + r.LRNGain.CI(2)})
	}
	return rows
}
