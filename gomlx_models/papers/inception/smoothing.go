package inception

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// PaperEpsilon is §7's ε = 0.1 (ImageNet, K = 1000, u(k) = 1/K).
const PaperEpsilon = 0.1

// SmoothedTargets is §7's label-smoothing regularization: q'(k) = (1−ε)·δ_{k,y} + ε/K.
func SmoothedTargets(y, k int, eps float64) []float64 {
	q := make([]float64, k)
	for i := range q {
		q[i] = eps / float64(k)
	}
	q[y] += 1 - eps
	return q
}

// SmoothedCrossEntropy is H(q', p) = −Σ_k q'(k) log p(k), with p = softmax(logits), in plain Go (float64).
func SmoothedCrossEntropy(logits []float64, y int, eps float64) float64 {
	m := math.Inf(-1)
	for _, l := range logits {
		m = math.Max(m, l)
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(l - m)
	}
	logZ := m + math.Log(z)
	var h float64
	for k, q := range SmoothedTargets(y, len(logits), eps) {
		h -= q * (logits[k] - logZ)
	}
	return h
}

// SmoothedLoss is the graph form: the smoothed one-hot targets built from int32 labels [B] or [B, 1], fed to
// GoMLX's categorical cross-entropy on logits (its mean over the batch). eps = 0 is the ordinary loss.
func SmoothedLoss(eps float64) loss.LossFn {
	return func(labels, logits []*graph.Node) *graph.Node {
		y, l := labels[0], logits[0]
		if y.Rank() == 2 {
			y = graph.Reshape(y, y.Shape().Dimensions[0])
		}
		k := l.Shape().Dimensions[l.Rank()-1]
		q := graph.AddScalar(graph.MulScalar(graph.OneHot(y, k, l.DType()), 1-eps), eps/float64(k))
		return loss.CategoricalCrossEntropyLogits([]*graph.Node{q}, []*graph.Node{l})
	}
}

// SmoothingCheck compares SmoothedCrossEntropy (mean over a batch of random logits) with SmoothedLoss on the
// backend, for batch rows of k classes; it returns both means and their difference.
func SmoothingCheck(backend compute.Backend, batch, k int, eps float64, seed uint64) (plain, lib, diff float64, err error) {
	if backend == nil {
		return 0, 0, 0, errors.New("inception: nil backend")
	}
	rng := rand.New(rand.NewPCG(seed, 8))
	logits := make([]float32, batch*k)
	labels := make([]int32, batch)
	for i := range logits {
		logits[i] = float32(3 * rng.NormFloat64())
	}
	for b := range labels {
		labels[b] = int32(rng.IntN(k))
		row := make([]float64, k)
		for j := range row {
			row[j] = float64(logits[b*k+j])
		}
		plain += SmoothedCrossEntropy(row, int(labels[b]), eps) / float64(batch)
	}
	out, err := graph.CallOnce(backend, func(y, l *graph.Node) *graph.Node {
		return graph.ConvertDType(SmoothedLoss(eps)([]*graph.Node{y}, []*graph.Node{l}), dtypes.Float64)
	}, tensors.FromFlatDataAndDimensions(labels, batch, 1), tensors.FromFlatDataAndDimensions(logits, batch, k))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("SmoothingCheck: %w", err)
	}
	lib = tensors.ToScalar[float64](out)
	return plain, lib, math.Abs(plain - lib), nil
}

// SmoothingConfig sizes the over-confidence study: an MLP trained with ε = 0 and with ε = Epsilon for every seed
// (the same seed gives both the same initial weights and batches).
type SmoothingConfig struct {
	TrainN, TestN, BatchSize, Steps int
	Hidden                          []int
	LR                              float64
	Epsilon                         float64
	Seeds                           []int64
}

// SmoothingStudyConfig: a 784-512-512-10 ReLU MLP on a small Fashion-MNIST subset, trained long enough to fit it
// (and become over-confident), with Adam; five seeds in the full profile.
var SmoothingStudyConfig = train.ByProfile[SmoothingConfig]{
	Quick: SmoothingConfig{TrainN: 1000, TestN: 1000, BatchSize: 100, Steps: 200, Hidden: []int{256, 256}, LR: 1e-3, Epsilon: PaperEpsilon,
		Seeds: []int64{1}},
	Full: SmoothingConfig{TrainN: 5000, TestN: 5000, BatchSize: 100, Steps: 3000, Hidden: []int{512, 512}, LR: 1e-3, Epsilon: PaperEpsilon,
		Seeds: []int64{1, 2, 3, 4, 5}},
}

// Confidence summarises a classifier's test-set softmax outputs.
type Confidence struct {
	Epsilon float64
	Seed    int64
	// Accuracy, MaxLogit (mean of the largest logit), LogitGap (mean largest minus mean other logit), Entropy
	// (mean softmax entropy, nats), MaxProb (mean confidence) and ECE (expected calibration error, 15 bins:
	// Σ |bin| / N · |accuracy − confidence|).
	Accuracy, MaxLogit, LogitGap, Entropy, MaxProb, ECE float64
	Seconds                                             float64
	// BinConfidence and BinAccuracy are the non-empty bins' mean confidence and accuracy (reliability diagram).
	BinConfidence, BinAccuracy []float64
	// Data names the data set used.
	Data string
}

// ConfidenceOf computes the statistics of logits [N][K] against labels.
func ConfidenceOf(logits [][]float32, labels []int32) Confidence {
	const bins = 15
	var c Confidence
	var binN [bins]int
	var binAcc, binConf [bins]float64
	for i, l := range logits {
		best, bestV, sum := 0, float64(l[0]), 0.0
		for k, v := range l {
			sum += float64(v)
			if float64(v) > bestV {
				best, bestV = k, float64(v)
			}
		}
		var z float64
		for _, v := range l {
			z += math.Exp(float64(v) - bestV)
		}
		var h float64
		for _, v := range l {
			p := math.Exp(float64(v)-bestV) / z
			if p > 0 {
				h -= p * math.Log(p)
			}
		}
		pmax := 1 / z
		correct := 0.0
		if int32(best) == labels[i] {
			correct = 1
		}
		c.Accuracy += correct
		c.MaxLogit += bestV
		c.LogitGap += bestV - (sum-bestV)/float64(len(l)-1)
		c.Entropy += h
		c.MaxProb += pmax
		b := min(int(pmax*bins), bins-1)
		binN[b]++
		binAcc[b] += correct
		binConf[b] += pmax
	}
	n := float64(len(logits))
	for b := range bins {
		if binN[b] > 0 {
			c.ECE += math.Abs(binAcc[b]-binConf[b]) / n
			c.BinConfidence = append(c.BinConfidence, binConf[b]/float64(binN[b]))
			c.BinAccuracy = append(c.BinAccuracy, binAcc[b]/float64(binN[b]))
		}
	}
	c.Accuracy /= n
	c.MaxLogit /= n
	c.LogitGap /= n
	c.Entropy /= n
	c.MaxProb /= n
	return c
}

// SmoothingStudy trains the MLP of cfg with ε = 0 and ε = cfg.Epsilon for every seed and measures the test set's
// confidence statistics: the runs in the order (seed 1, ε = 0), (seed 1, ε), (seed 2, ε = 0), …. Data:
// Fashion-MNIST (MNIST if absent; Data says which).
func SmoothingStudy(backend compute.Backend, cfg SmoothingConfig) ([]Confidence, error) {
	if backend == nil {
		return nil, errors.New("inception: nil backend")
	}
	if len(cfg.Seeds) == 0 || cfg.Steps < 1 || cfg.BatchSize < 1 {
		return nil, fmt.Errorf("inception: label-smoothing study: invalid setup %+v", cfg)
	}
	trainIm, err := data.FashionOrMNIST(data.Train)
	if err != nil {
		return nil, err
	}
	testIm, err := data.FashionOrMNIST(data.Test)
	if err != nil {
		return nil, err
	}
	name := "Fashion-MNIST"
	if _, ferr := data.FashionMNIST(data.Test); ferr != nil {
		name = "MNIST (Fashion-MNIST absent)"
	}
	trainIm, testIm = trainIm.Subset(min(cfg.TrainN, trainIm.N)), testIm.Subset(min(cfg.TestN, testIm.N))
	mlp := models.MLP(models.MLPConfig{Hidden: cfg.Hidden, Activation: activation.TypeRelu, Classes: 10})
	var out []Confidence
	for _, seed := range cfg.Seeds {
		for _, eps := range []float64{0, cfg.Epsilon} {
			run, err := train.Fit(train.Options{
				Name: fmt.Sprintf("mlp ε=%g seed %d", eps, seed), Backend: backend, Model: mlp, Loss: SmoothedLoss(eps),
				Classifier: ptr(true), Optimizer: optimizer.Adam().LearningRate(cfg.LR).Done(),
				Train: data.NewBatches(trainIm, data.BatchConfig{BatchSize: cfg.BatchSize, Shuffle: true, Seed: seed, DropLast: true, Flatten: true}),
				Steps: cfg.Steps, LogEvery: cfg.Steps, Seed: seed, Progress: io.Discard,
			})
			if err != nil {
				return nil, err
			}
			logits, err := predictLogits(run, testIm)
			if err != nil {
				return nil, err
			}
			c := ConfidenceOf(logits, testIm.Labels)
			c.Epsilon, c.Seed, c.Seconds, c.Data = eps, seed, run.Seconds, name
			out = append(out, c)
		}
	}
	return out, nil
}

// SmoothingEffects are the study's paired comparisons over the seeds (smoothed against hard targets): the
// accuracy gain in points, the drop of the mean largest logit and of the ECE, and each arm's values.
type SmoothingEffects struct {
	Hard, Smooth                     map[string]reproduce.Estimate
	AccuracyGain, LogitDrop, ECEDrop reproduce.Estimate
}

// Effects pairs the runs of SmoothingStudy by seed.
func Effects(cs []Confidence, seeds []int64) (*SmoothingEffects, error) {
	if len(cs) != 2*len(seeds) {
		return nil, fmt.Errorf("inception: %d runs for %d seeds", len(cs), len(seeds))
	}
	fields := map[string]func(Confidence) float64{
		"accuracy":  func(c Confidence) float64 { return 100 * c.Accuracy },
		"max logit": func(c Confidence) float64 { return c.MaxLogit },
		"entropy":   func(c Confidence) float64 { return c.Entropy },
		"ECE":       func(c Confidence) float64 { return c.ECE },
	}
	e := &SmoothingEffects{Hard: map[string]reproduce.Estimate{}, Smooth: map[string]reproduce.Estimate{}}
	for name, f := range fields {
		var h, s []float64
		for i := range seeds {
			h, s = append(h, f(cs[2*i])), append(s, f(cs[2*i+1]))
		}
		var err error
		if e.Hard[name], err = reproduce.Seeded(seeds, h); err != nil {
			return nil, err
		}
		if e.Smooth[name], err = reproduce.Seeded(seeds, s); err != nil {
			return nil, err
		}
	}
	var err error
	if e.AccuracyGain, err = reproduce.PairedDifference(e.Smooth["accuracy"], e.Hard["accuracy"]); err != nil {
		return nil, err
	}
	if e.LogitDrop, err = reproduce.PairedDifference(e.Hard["max logit"], e.Smooth["max logit"]); err != nil {
		return nil, err
	}
	if e.ECEDrop, err = reproduce.PairedDifference(e.Hard["ECE"], e.Smooth["ECE"]); err != nil {
		return nil, err
	}
	return e, nil
}

func ptr[T any](v T) *T { return &v }

func predictLogits(run *train.Run, im *data.Images) ([][]float32, error) {
	size := im.ImageSize()
	var out [][]float32
	for s := 0; s < im.N; s += 500 {
		n := min(500, im.N-s)
		t, err := run.Predict(tensors.FromFlatDataAndDimensions(im.Pixels[s*size:(s+n)*size], n, size))
		if err != nil {
			return nil, err
		}
		flat, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, err
		}
		k := len(flat) / n
		for i := range n {
			out = append(out, flat[i*k:(i+1)*k])
		}
	}
	return out, nil
}
