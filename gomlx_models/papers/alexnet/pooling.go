package alexnet

import (
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// §3.4: "If we set s = z, we obtain traditional local pooling as commonly employed in CNNs. If we set s < z, we
// obtain overlapping pooling. This is what we use throughout our network, with s = 2 and z = 3. This scheme
// reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as compared with the non-overlapping
// scheme s = 2, z = 2 […]. We generally observe during training that models with overlapping pooling find it
// slightly more difficult to overfit."
var (
	// OverlappingPool is §3.4's z = 3, s = 2.
	OverlappingPool = layers.Pool{Window: 3, Stride: 2}
	// NonOverlappingPool is its baseline z = s = 2.
	NonOverlappingPool = layers.Pool{Window: 2, Stride: 2}
)

// PoolSides lists the side of every pooling output of cfg (after conv1, conv2 and conv5) for its input side.
func PoolSides(cfg models.AlexNetConfig) []int {
	var out []int
	stride := cfg.Pool.Stride
	if stride == 0 {
		stride = cfg.Pool.Window
	}
	for _, l := range cfg.Convs {
		if l.Pool {
			out = append(out, layers.ValidSize(l.Out, cfg.Pool.Window, stride))
		}
	}
	return out
}

// PoolingSetup sizes the pooling comparison: the 32×32 AlexNet at width/Div on TrainN images, SGD with
// momentum, weight decay and dropout as §5, evaluated on TestN test images and on the first EvalTrainN
// training images every EvalEvery steps.
type PoolingSetup struct {
	Div                                int
	TrainN, TestN, EvalTrainN          int
	BatchSize, Steps, EvalEvery        int
	LR, Momentum, WeightDecay, Dropout float64
}

// PoolingConfig holds the comparison's sizes per profile.
var PoolingConfig = train.ByProfile[PoolingSetup]{
	Quick: PoolingSetup{Div: 16, TrainN: 500, TestN: 500, EvalTrainN: 500, BatchSize: 32, Steps: 40, EvalEvery: 20,
		LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Dropout: 0.5},
	Full: PoolingSetup{Div: 16, TrainN: 1000, TestN: 1000, EvalTrainN: 1000, BatchSize: 32, Steps: 300, EvalEvery: 100,
		LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Dropout: 0.5},
}

// PoolingRun is one network's training.
type PoolingRun struct {
	Pool   layers.Pool
	Config models.AlexNetConfig
	Run    *train.Run
	// TrainAcc and TestAcc are the last evaluation; Gap their difference (the over-fitting).
	TrainAcc, TestAcc, Gap float64
}

// PoolingResult is the comparison: overlapping first.
type PoolingResult struct {
	Setup   PoolingSetup
	Dataset string
	Runs    []*PoolingRun
}

// Pooling trains the 32×32 AlexNet of s once with overlapping and once with non-overlapping pooling.
func Pooling(env *reproduce.Env, s PoolingSetup) (*PoolingResult, error) {
	if s.Div < 1 || s.Steps < 1 || s.BatchSize < 1 {
		return nil, fmt.Errorf("alexnet: pooling study: invalid setup %+v", s)
	}
	d, err := LoadData(32, s.TrainN, s.TestN)
	if err != nil {
		return nil, err
	}
	res := &PoolingResult{Setup: s, Dataset: d.Name}
	for _, p := range []layers.Pool{OverlappingPool, NonOverlappingPool} {
		cfg := models.AlexNetSmall.Scaled(s.Div).WithPool(p)
		cfg.Dropout = s.Dropout
		fn, err := models.AlexNet(cfg)
		if err != nil {
			return nil, err
		}
		c := train.Classification{
			Name: cfg.Name, Model: fn, Dataset: d.split, BatchSize: s.BatchSize, Steps: s.Steps,
			EvalEvery: s.EvalEvery, EvalTrainN: s.EvalTrainN, LogEvery: 10,
			Optimizer: optim.Momentum{LR: s.LR, Mu: s.Momentum, WeightDecay: s.WeightDecay},
		}
		f, err := c.Fit(env.Backend, env.Progress)
		if err != nil {
			return nil, err
		}
		r := &PoolingRun{Pool: p, Config: cfg, Run: f.Run}
		tr, ok1 := f.Run.History.LastEval("train")
		te, ok2 := f.Run.History.LastEval("test")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("alexnet: pooling study %s: no evaluation recorded", cfg.Name)
		}
		r.TrainAcc, r.TestAcc, r.Gap = tr.Accuracy, te.Accuracy, tr.Accuracy-te.Accuracy
		res.Runs = append(res.Runs, r)
	}
	return res, nil
}

// Summary is the comparison in one line.
func (r *PoolingResult) Summary() string {
	o, n := r.Runs[0], r.Runs[1]
	return fmt.Sprintf("%s test error %.1f%% (z=3,s=2) vs %.1f%% (z=2,s=2); train−test gap %.1f vs %.1f points",
		r.Dataset, 100*(1-o.TestAcc), 100*(1-n.TestAcc), 100*o.Gap, 100*n.Gap)
}

// Judge judges §3.4's two claims on the single run of each pooling: a lower test error and a smaller
// train−test gap with overlapping pooling (differences in points, non-overlapping minus overlapping).
func (r *PoolingResult) Judge(env *reproduce.Env) reproduce.Judgement {
	o, n := r.Runs[0], r.Runs[1]
	return reproduce.AllOf(
		env.Judge(reproduce.Above(0).In(" points of test error"), reproduce.Single(100*(o.TestAcc-n.TestAcc))),
		env.Judge(reproduce.Above(0).In(" points of gap"), reproduce.Single(100*(n.Gap-o.Gap))))
}

// Figures draws the test and training accuracy of both runs against steps.
func (r *PoolingResult) Figures() ([]*plots.Figure, error) {
	var series []plots.Series
	for _, run := range r.Runs {
		name := fmt.Sprintf("z=%d, s=%d", run.Pool.Window, run.Pool.Stride)
		for _, set := range []string{"train", "test"} {
			xs, ys, err := run.Run.History.EvalSeries(set, "step", "accuracy")
			if err != nil {
				return nil, err
			}
			series = append(series, plots.Series{Name: name + " " + set, X: xs, Y: ys, Points: true})
		}
	}
	fig, err := plots.Curves(fmt.Sprintf("Overlapping vs non-overlapping pooling (%s, %d training images)", r.Dataset,
		r.Setup.TrainN), "step", "accuracy", series)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{fig}, nil
}

// Findings are the closing-table rows.
func (r *PoolingResult) Findings() []reproduce.Finding {
	return []reproduce.Finding{{Item: "overlapping pooling (z=3, s=2)",
		Paper: "top-1 −0.4%, top-5 −0.3%; harder to overfit", Ours: r.Summary()}}
}
