// Package convolution is notebook 03: output sizes, sparse connections and weight sharing, receptive fields,
// pooling, and a conv→pool→conv→pool→FC network (models.DevNet) trained on Fashion-MNIST; it also trains LeNet-5
// (models.LeNet5) on MNIST.
package convolution

import (
	"fmt"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/plots"
)

// Section lists notebook 03's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "03", Title: "Convolution: output sizes, sparse connections, weight sharing, pooling",
		Experiments: []reproduce.Experiment{convOutputSize(), convSparseShared(), fashionDevnet(), mnistCNN()}}
}

func mnistCNN() reproduce.Experiment {
	q, f := LeNet5Study.Quick, LeNet5Study.Full
	return reproduce.Experiment{
		Name: "mnist-cnn", Section: "03",
		Paper:      "LeCun et al. 1998, §II.B (LeNet-5) and §III.C",
		Claim:      "LeNet-5 reaches 0.95% test error on MNIST",
		PaperValue: "0.95% test error (LeNet-5, no distortions)",
		Measure: fmt.Sprintf("models.LeNet5 (C1 6@5×5, pool, C3 16@5×5, pool, C5 120@5×5, F6 84, 10; tanh; max pooling, full C3, softmax) on MNIST padded to 32×32, Adam %g, batch %d, %d epochs on 60k, tested on 10k, %s; agreement stated as ±%.1f points (quick: %d epoch on %d, test on %d, 1 seed)",
			f.Recipe.LR, f.Recipe.BatchSize, f.Recipe.Epochs, reproduce.Estimate{Seeds: f.Seeds}.SeedList(), LeNet5Tolerance, q.Recipe.Epochs, q.Recipe.TrainN, q.Recipe.TestN),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := RunSeeds(env, LeNet5Study.For(env.Profile), nil, false)
			if err != nil {
				return nil, err
			}
			fig, err := r.CurvesFigure("LeNet-5 on MNIST: test error per seed")
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{fig}, "lenet5_test_error")
			if err != nil {
				return nil, err
			}
			return LeNet5Result(env, r, paths), nil
		},
		Long: true, FullMinutes: 13,
	}
}

// convOutputSize is the experiment "conv-output-size": VALID output ⌈(n−f+1)/s⌉, SAME ⌈n/s⌉, padded ⌊(n+2p−f)/s⌋+1.
func convOutputSize() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "conv-output-size", Section: "03",
		Paper:      "Dumoulin & Visin 2016, A guide to convolution arithmetic, relationships 1–6",
		Claim:      "VALID output ⌈(n−f+1)/s⌉, SAME ⌈n/s⌉, padded ⌊(n+2p−f)/s⌋+1",
		PaperValue: "formula = output size in every case",
		Measure: "n 1..32, f 1..7, s 1..4, VALID and SAME (1,792 cases): executed graph.Convolve and the project's " +
			"Fast conv vs the formulas (same in both profiles: it takes about a second)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			g, err := OutputSizeGrid(env.Backend, 32, 7, 4)
			if err != nil {
				return nil, err
			}
			fig, err := g.Figure(3)
			if err != nil {
				return nil, err
			}
			path := env.Path("conv_output_sizes.png")
			if err := fig.Save(path); err != nil {
				return nil, err
			}
			j := env.Judge(reproduce.Equals(0, 0).In(" disagreeing cases"), reproduce.Exact(float64(len(g.Cases)-g.Agree)))
			return &reproduce.Result{Ours: fmt.Sprintf("%d/%d cases agree", g.Agree, len(g.Cases)),
				Value: float64(g.Agree) / float64(len(g.Cases)), Judgement: j,
				Notes: fmt.Sprintf("%d VALID cases with f > n: no output by the formula, refused by both engines. "+
					"SAME pads f−1 (⌊(f−1)/2⌋ before) in GoMLX; TensorFlow pads less at stride > 1 but has the same size.",
					g.Refused),
				Figures: []string{path}}, nil
		},
	}
}

// convSparseShared is the experiment "conv-sparse-shared": a 5×5×3→6 conv layer from 32×32×3 to 28×28×6 needs 456 parameters; the dense layer ≈14 million.
func convSparseShared() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "conv-sparse-shared", Section: "03",
		Paper:      "Goodfellow, Bengio & Courville 2016, Deep Learning, §9.2 (sparse interactions, parameter sharing)",
		Claim:      "a 5×5×3→6 conv layer from 32×32×3 to 28×28×6 needs 456 parameters; the dense layer ≈14 million",
		PaperValue: "456 vs 14,455,392 parameters",
		Measure: "summary.Of on the project's Conv2D and Dense for the same input/output volumes; receptive field " +
			"of DevNet measured by pushing one-hot images through the stack",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			cases, err := Connectivity(env.Backend, ConnectivityCases[:1])
			if err != nil {
				return nil, err
			}
			fields, err := ReceptiveFields(env.Backend, models.DevNet.Windows(), 28)
			if err != nil {
				return nil, err
			}
			grid, detail, err := ReceptiveFieldFigures(fields)
			if err != nil {
				return nil, err
			}
			paths := []string{env.Path("receptive_field_layers.png"), env.Path("receptive_field_paths.png")}
			if err := grid.Save(paths[0]); err != nil {
				return nil, err
			}
			if err := detail.Save(paths[1]); err != nil {
				return nil, err
			}
			c := cases[0]
			j := reproduce.AllOf(
				env.Judge(reproduce.Equals(456, 0).In(" conv parameters"), reproduce.Exact(float64(c.ConvMeasured))),
				env.Judge(reproduce.Equals(14_455_392, 0).In(" dense parameters"), reproduce.Exact(float64(c.DenseMeasured))))
			last := fields[len(fields)-1]
			return &reproduce.Result{Ours: fmt.Sprintf("%s vs %s parameters", summary.Thousands(c.ConvMeasured),
				summary.Thousands(c.DenseMeasured)), Value: float64(c.DenseMeasured) / float64(c.ConvMeasured), Judgement: j,
				Notes: fmt.Sprintf("each conv weight is used %d times per image; DevNet's last pooled unit sees a "+
					"%d×%d input patch (formula and measurement agree).", c.WeightUses, last.Measured, last.Measured),
				Figures: paths}, nil
		},
	}
}

// fashionDevnet is the experiment "fashion-devnet": a small conv→pool→conv→pool→FC network reaches the
// Fashion-MNIST authors' own "2 Conv+pooling" benchmark.
func fashionDevnet() reproduce.Experiment {
	f, q := DevNetStudy.Full, DevNetStudy.Quick
	return reproduce.Experiment{
		Name: "fashion-devnet", Section: "03",
		Paper:      "Xiao, Rasul & Vollgraf 2017, Fashion-MNIST: the authors' benchmark table (zalandoresearch/fashion-mnist README), row \"2 Conv+pooling\" (K. Rasul)",
		Claim:      "a small conv→pool→conv→pool→FC network reaches the Fashion-MNIST authors' 2 Conv+pooling accuracy",
		PaperValue: "87.6% test accuracy (0.876)",
		Measure: fmt.Sprintf("DevNet (conv5×5×8-pool-conv3×3×16-pool-FC64-FC10), Adam %g, batch %d, %d epochs on 60k, tested on 10k, %s; agreement stated as ±%.0f point (quick: %d steps on %d, tested on %d, 1 seed); MNIST if Fashion-MNIST is absent",
			f.Recipe.LR, f.Recipe.BatchSize, f.Recipe.Epochs, reproduce.Estimate{Seeds: f.Seeds}.SeedList(), DevNetTolerance, q.Recipe.Steps, q.Recipe.TrainN, q.Recipe.TestN),
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			r, err := RunSeeds(env, DevNetStudy.For(env.Profile), nil, false)
			if err != nil {
				return nil, err
			}
			f := r.Fits[0]
			curves, err := r.CurvesFigure("DevNet on " + f.Train.Name + ": test error per seed")
			if err != nil {
				return nil, err
			}
			filters, err := FilterGrid(f.Run, "/stage1/conv/weights", "DevNet: the learned 5×5 filters of conv1")
			if err != nil {
				return nil, err
			}
			maps, err := FeatureMaps(f.Run, models.DevNet, f.Test, 0, []string{"stage1/conv"}, 16)
			if err != nil {
				return nil, err
			}
			paths, err := reproduce.SaveFigures(env, []*plots.Figure{curves, filters, maps[0]}, "fashion_devnet_test_error",
				"fashion_devnet_filters", "fashion_devnet_feature_maps")
			if err != nil {
				return nil, err
			}
			return DevNetResult(env, r, paths)
		},
	}
}
