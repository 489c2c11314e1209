// Package alexnet is notebook 05: Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep
// Convolutional Neural Networks". The network is a config table in gomlx_models/models (the paper's two-tower
// form, torchvision's single tower, a 32×32 variant), its layers in gomlx_models/layers (local response
// normalization, grouped convolution) and the augmentation in gomlx_models/augment; this package counts the
// network (parameters, multiply-adds, neurons, 224 vs 227), compares ReLU with tanh (Fig. 1), checks LRN
// against §3.3's formula, measures overlapping pooling (§3.4), shows §4.1's augmentations on real photos, and
// trains an AlexNet-style network with §5's recipe and ten-patch test averaging.
package alexnet

import (
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/plots"
)

// Section lists notebook 05's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "05", Title: "AlexNet (Krizhevsky, Sutskever & Hinton 2012)",
		Experiments: []reproduce.Experiment{summaryExp(), reluTanhExp(), lrnExp(), poolingExp(), augmentationExp(),
			trainingExp()}}
}

const paperCite = "Krizhevsky, Sutskever & Hinton 2012"

// summaryExp is the experiment "alexnet-summary": the network has 60 million parameters and 650,000 neurons.
func summaryExp() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "alexnet-summary", Section: "05",
		Paper:      paperCite + ", abstract, §3.5 and Fig. 2",
		Claim:      "the network has 60 million parameters and 650,000 neurons; its input is 224×224×3",
		PaperValue: "60 million parameters, 650,000 neurons; conv1 55×55×96 from 224×224",
		Measure:    "summary of the graph of models.AlexNetPaper (two towers) at 227 and 224, and of torchvision's single tower at 224 (61,100,840)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			ss, err := Summaries(env.Backend)
			if err != nil {
				return nil, err
			}
			fig, err := SummaryFigure(ss[0])
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "alexnet_layers")
			if err != nil {
				return nil, err
			}
			p, n := ss[0].Table.TotalParams, ss[0].Neurons
			j := reproduce.AllOf(
				env.Judge(reproduce.Equals(PaperParams, 0.05*PaperParams).In(" parameters"), reproduce.Exact(float64(p))),
				env.Judge(reproduce.Equals(PaperNeurons, 0.05*PaperNeurons).In(" neurons"), reproduce.Exact(float64(n))),
				env.Judge(reproduce.Equals(61_100_840, 0).In(" torchvision parameters"), reproduce.Exact(float64(ss[2].Table.TotalParams))),
				env.Judge(reproduce.Equals(55, 0).In(" px conv1 side"), reproduce.Exact(float64(ss[0].Conv1Side))))
			side, exact := ConvOutSide(224, 11, 4, 0)
			return &reproduce.Result{
				Ours: fmt.Sprintf("%s parameters, %s neurons, %s multiply-adds at 227", fmtInt(p), fmtInt(n),
					fmtInt(int(ss[0].Table.TotalMACs))),
				Value: float64(p), Judgement: j,
				Notes: fmt.Sprintf("conv1 (11×11, stride 4, no padding) gives 55×55 only from 227×227; from 224: (224−11)/4+1 = %d (exact: %v), pool5 %d×%d instead of 6×6. torchvision's single tower: %s parameters.",
					side, exact, ss[1].Pool5Side, ss[1].Pool5Side, fmtInt(ss[2].Table.TotalParams)),
				Figures: paths}, nil
		},
	}
}

// reluTanhExp is the experiment "relu-vs-tanh": a four-layer CNN with ReLUs reaches 25% training error six
// times faster than with tanh.
func reluTanhExp() reproduce.Experiment {
	q, f := ReLUTanhConfig.Quick, ReLUTanhConfig.Full
	return reproduce.Experiment{
		Name: "relu-vs-tanh", Section: "05",
		Paper:      paperCite + ", §3.1 and Fig. 1",
		Claim:      "a four-layer CNN with ReLUs reaches a training-error threshold several times faster than with tanh (each unit at its own best learning rate, no regularization)",
		PaperValue: "6× fewer epochs to 25% training error on CIFAR-10",
		Measure: fmt.Sprintf("cuda-convnet's four-layer layout (conv 5×5 32-32-64, each pooled, FC 10; N(0, 0.01²) weights) on the first %d Fashion-MNIST images padded to 32 (CIFAR-10 if present), SGD momentum %g, batch %d, %d epochs; η grid %v per unit on seed %d, each unit's best η then run with %s; epochs until the mean error of the last %d batches ≤ %v; paired ratio tanh/ReLU at the lowest threshold every ReLU run reached (quick: %d images, %d epochs, 1 seed; --profile paper: all CIFAR-10, batch 128, 35 epochs, 25%%)",
			f.TrainN, f.Momentum, f.BatchSize, f.Epochs, f.LRs, f.TuneSeed, reproduce.Estimate{Seeds: f.Seeds}.SeedList(), f.Window, f.Thresholds, q.TrainN, q.Epochs),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := ReLUTanh(env, ReLUTanhConfig.For(env.Profile))
			if err != nil {
				return nil, err
			}
			figs, err := r.Figures()
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, figs, "relu_vs_tanh", "relu_vs_tanh_speedup", "relu_vs_tanh_lr_grid")
			if err != nil {
				return nil, err
			}
			return r.Result(env, paths), nil
		},
		Long:        true,
		FullMinutes: 11,
	}
}

// lrnExp is the experiment "lrn-formula": the project's LRN layer computes §3.3's formula.
func lrnExp() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "lrn-formula", Section: "05",
		Paper:      paperCite + ", §3.3",
		Claim:      "local response normalization b = a/(k + α Σ a²)^β over n = 5 adjacent maps, k=2, α=1e-4, β=0.75",
		PaperValue: "the formula of §3.3",
		Measure:    "layers.LocalResponseNorm vs the formula as loops on |N(0, 30²)| activations [2,5,5,16]; PyTorch's alpha for the same layer",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			c, err := CheckLRN(env.Backend, layers.AlexNetLRN, 30)
			if err != nil {
				return nil, err
			}
			fig, err := LRNFigure(layers.AlexNetLRN)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "lrn")
			if err != nil {
				return nil, err
			}
			j := env.Judge(reproduce.Holds(1e-5), reproduce.Exact(c.MaxAbsDiff))
			return &reproduce.Result{Ours: fmt.Sprintf("max |layer − formula| = %.1e", c.MaxAbsDiff), Value: c.MaxAbsDiff,
				Judgement: j, Notes: fmt.Sprintf("the layer changes these activations by up to %.0f%%; torch.nn.LocalResponseNorm divides α by n, so it needs alpha=%g for the paper's α=1e-4.",
					100*c.MaxRelChange, c.PyTorchAlpha), Figures: paths}, nil
		},
	}
}

// poolingExp is the experiment "overlapping-pooling": z=3, s=2 lowers the error and over-fits less than
// z=s=2.
func poolingExp() reproduce.Experiment {
	q, f := PoolingConfig.Quick, PoolingConfig.Full
	return reproduce.Experiment{
		Name: "overlapping-pooling", Section: "05",
		Paper:      paperCite + ", §3.4",
		Claim:      "overlapping pooling (z=3, s=2) lowers the error compared with z=s=2 (same output size) and makes over-fitting slightly harder",
		PaperValue: "top-1 −0.4%, top-5 −0.3% on ILSVRC; harder to overfit",
		Measure: fmt.Sprintf("AlexNet for small images at width/%d on %d×%d inputs (both poolings give 15→7→3), no dropout or LRN, on the first %d Fashion-MNIST (or CIFAR-10) images, SGD η=%g momentum %g weight decay %g, batch %d, %d epochs, %s; paired differences (z=2 minus z=3) of the test error on %d images and of the train−test gap (quick: %d images, %d epochs, 1 seed)",
			f.Div, PoolingSide, PoolingSide, f.TrainN, f.LR, f.Momentum, f.WeightDecay, f.BatchSize, f.Epochs, reproduce.Estimate{Seeds: f.Seeds}.SeedList(), f.TestN, q.TrainN, q.Epochs),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := Pooling(env, PoolingConfig.For(env.Profile))
			if err != nil {
				return nil, err
			}
			figs, err := r.Figures()
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, figs, "pooling", "pooling_per_seed")
			if err != nil {
				return nil, err
			}
			return r.Result(env, paths), nil
		},
		Long:        true,
		FullMinutes: 15,
	}
}

// augmentationExp is the experiment "alexnet-augmentation": random crops and reflections enlarge the training
// set by 2048; PCA colour noise follows the RGB eigenvectors.
func augmentationExp() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "alexnet-augmentation", Section: "05",
		Paper:      paperCite + ", §4.1",
		Claim:      "random 224×224 patches of the 256×256 images and their reflections enlarge the training set by a factor of 2048; PCA colour noise α ~ N(0, 0.1) along the RGB eigenvectors",
		PaperValue: "factor 2048; ten test patches; p_i, λ_i of the RGB covariance",
		Measure:    "the sample photos (make data): crops, flips, ten patches and PCA colour augmentation as image grids; eigen-decomposition residual",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			d, err := Augmentation(1)
			if err != nil {
				return nil, err
			}
			figs, err := d.Figures()
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, figs, AugmentationFigureNames...)
			if err != nil {
				return nil, err
			}
			j := reproduce.AllOf(
				env.Judge(reproduce.Equals(PaperFactor, 0).In("× more patches"), reproduce.Exact(float64(d.Factor))),
				env.Judge(reproduce.Holds(1e-9), reproduce.Exact(d.Residual)))
			e := d.PCA.Eigenvalues
			return &reproduce.Result{Ours: fmt.Sprintf("factor %d (%d distinct patches); λ = %.4f, %.4f, %.4f", d.Factor, d.Distinct, e[0], e[1], e[2]),
				Value: float64(d.Factor), Judgement: j,
				Notes:   fmt.Sprintf("the paper counts 32 offsets per axis (0–31); 257−224 = 33 are possible. Eigen-decomposition residual %.0e.", d.Residual),
				Figures: paths}, nil
		},
	}
}

// trainingExp is the experiment "alexnet-training": §5's recipe trains an AlexNet-style network, and averaging
// the ten test patches helps.
func trainingExp() reproduce.Experiment {
	q, f := TrainingConfig.Quick, TrainingConfig.Full
	return reproduce.Experiment{
		Name: "alexnet-training", Section: "05",
		Paper:      paperCite + ", §4.1, §4.2 and §5",
		Claim:      "SGD with momentum 0.9, weight decay 0.0005, dropout 0.5 in fc6/fc7, random crops and reflections, predictions averaged over ten test patches",
		PaperValue: "37.5% top-1 error (ILSVRC-2010, 90 epochs on two GTX 580)",
		Measure: fmt.Sprintf("32×32 AlexNet (two towers, LRN, overlapping pooling) at width/%d on %d Fashion-MNIST (or CIFAR-10) images padded to %d, random 32 crops + flips, batch %d, η=%g, %d steps; test on %d images, centre patch vs ten patches (quick: width/%d, %d images, %d steps)",
			f.Div, f.TrainN, f.Pad, f.BatchSize, f.LR, f.Steps, f.TestN, q.Div, q.TrainN, q.Steps),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := Training(env, TrainingConfig.For(env.Profile))
			if err != nil {
				return nil, err
			}
			figs, err := r.Figures()
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, figs, "training_loss", "training_accuracy")
			if err != nil {
				return nil, err
			}
			return r.Result(env, paths), nil
		},
	}
}

// fmtInt writes n with thousands separators.
func fmtInt(n int) string { return thousands(n) }
