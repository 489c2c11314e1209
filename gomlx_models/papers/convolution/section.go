// Package convolution is notebook 03: output sizes, sparse connections and weight sharing, receptive fields,
// pooling, and the notes' conv→pool→conv→pool→FC network (models.DevNet) trained on Fashion-MNIST; it also
// trains the benchmark's small CNN on MNIST against LeNet-5.
package convolution

import (
	"fmt"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// Section lists notebook 03's reproductions in the order the notebook presents them.
func Section() reproduce.Section {
	return reproduce.Section{ID: "03", Title: "Convolution: output sizes, sparse connections, weight sharing, pooling",
		Experiments: []reproduce.Experiment{convOutputSize(), convSparseShared(), fashionDevnet(), mnistCNN()}}
}

// CNNClassification is the recipe of the small CNN on MNIST per profile: one epoch of Adam 1e-3, batch 64.
var CNNClassification = train.ByProfile[train.Classification]{
	Quick: train.Classification{Name: "mnist-cnn", Model: models.SmallCNN.Model(), BatchSize: 64, TrainN: 1024,
		TestN: 500, Epochs: 1, LR: 1e-3},
	Full: train.Classification{Name: "mnist-cnn", Model: models.SmallCNN.Model(), BatchSize: 64, Epochs: 1, LR: 1e-3},
}

func mnistCNN() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "mnist-cnn", Section: "03",
		Paper:      "LeCun et al. 1998, §III.C (LeNet-5); our small CNN stands in for it",
		Claim:      "a small convolutional network beats every fully connected one on MNIST",
		PaperValue: "0.95% test error (LeNet-5)",
		Measure: "conv3x3x32-relu-maxpool2, conv3x3x64-relu-maxpool2, dense 10 (the benchmark's small CNN, 225k MACs/example) " +
			"on the project's fast conv layers, Adam lr 1e-3, batch 64, 1 epoch on 60k (quick: 1 epoch on 1,024, test on 500)",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			c := CNNClassification.For(env.Profile)
			f, err := c.Fit(env.Backend, env.Progress)
			if err != nil {
				return nil, err
			}
			return reproduce.ClassificationResult(env, f, c, "small CNN", 0.95, 0.5)
		},
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

// fashionDevnet is the experiment "fashion-devnet": a small conv→pool→conv→pool→FC network beats every classical baseline on Fashion-MNIST.
func fashionDevnet() reproduce.Experiment {
	return reproduce.Experiment{
		Name: "fashion-devnet", Section: "03",
		Paper:      "Xiao, Rasul & Vollgraf 2017, Fashion-MNIST, Table 3 (best classical baseline: RBF SVC)",
		Claim:      "a small conv→pool→conv→pool→FC network beats every classical baseline on Fashion-MNIST",
		PaperValue: "89.7% test accuracy (SVC)",
		Measure: "DevNet (conv5×5×8-pool-conv3×3×16-pool-FC64-FC10), Adam 1e-3, batch 64, 3 epochs on 60k, " +
			"tested on 10k (quick: 200 steps on 9.6k, tested on 1k); MNIST if Fashion-MNIST is absent",
		Run: func(env *reproduce.Env) (*reproduce.Result, error) {
			f, err := TrainDevNet(env, "", false)
			if err != nil {
				return nil, err
			}
			c := DevNetClassification.For(env.Profile)
			res, err := reproduce.ClassificationResult(env, f, c, "DevNet", 100*(1-fashionBestBaselineAccuracy), 2)
			if err != nil {
				return nil, err
			}
			res.Ours = fmt.Sprintf("%.2f%% test accuracy", 100*res.Value) // the paper's number is an accuracy.
			filters, err := FilterGrid(f.Run, "/stage1/conv/weights", "DevNet: the learned 5×5 filters of conv1")
			if err != nil {
				return nil, err
			}
			path := env.Path("fashion_devnet_filters.png")
			if err := filters.Save(path); err != nil {
				return nil, err
			}
			res.Figures = append(res.Figures, path)
			maps, err := FeatureMaps(f.Run, models.DevNet, f.Test, 0, []string{"stage1/conv"}, 16)
			if err != nil {
				return nil, err
			}
			path = env.Path("fashion_devnet_feature_maps.png")
			if err := maps[0].Save(path); err != nil {
				return nil, err
			}
			res.Figures = append(res.Figures, path)
			if f.Train.Name != "" && !strings.HasPrefix(f.Train.Name, "fashion") {
				res.Notes += " Fashion-MNIST is not installed: trained on MNIST instead."
			}
			return res, nil
		},
	}
}
