package experiments

import (
	"fmt"
	"io"
	"os"

	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Classification is the shared recipe of the MNIST experiments: a model trained with Adam on (a subset of) the
// training set, evaluated on the whole test set (or a subset in the quick profile).
type Classification struct {
	Name      string
	Model     train.ModelFn
	Flatten   bool
	Dataset   func(data.Split) (*data.Images, error)
	TrainN    int // examples used for training (0: all)
	TestN     int // examples used for testing (0: all)
	BatchSize int
	Epochs    int
	Steps     int // overrides Epochs when > 0
	LR        float64
	EvalEvery int
	// Optimizer replaces the default Adam(LR) when set (e.g. plain SGD for notebook 01's batch-size study).
	Optimizer optimizer.Interface
	// EvalTrainN, when > 0, also evaluates on the first EvalTrainN training examples, as the set "train".
	EvalTrainN int
	// LogEvery records a training step every N steps (0: every step).
	LogEvery int
	// Checkpoint, when set, is a file training resumes from and saves to (a complete checkpoint is only
	// restored, without a progress display).
	Checkpoint string
}

// Fitted is a trained classifier with the data it was trained and tested on.
type Fitted struct {
	Run         *train.Run
	Train, Test *data.Images
}

// Fit loads the data, trains and evaluates. The run's History holds the test evaluations under the set name
// "test".
func (c Classification) Fit(env *Env) (*Fitted, error) {
	load := c.Dataset
	if load == nil {
		load = data.MNIST
	}
	trainIm, err := load(data.Train)
	if err != nil {
		return nil, err
	}
	testIm, err := load(data.Test)
	if err != nil {
		return nil, err
	}
	if c.TrainN > 0 && c.TrainN < trainIm.N {
		trainIm = trainIm.Subset(c.TrainN)
	}
	if c.TestN > 0 && c.TestN < testIm.N {
		testIm = testIm.Subset(c.TestN)
	}
	trainDS := data.NewBatches(trainIm, data.BatchConfig{BatchSize: c.BatchSize, Shuffle: true, Seed: 1,
		DropLast: true, Flatten: c.Flatten})
	testDS := data.NewBatches(testIm, data.BatchConfig{BatchSize: 500, Flatten: c.Flatten})
	evals := []train.NamedDataset{{Name: "test", Data: testDS}}
	if c.EvalTrainN > 0 {
		evals = append(evals, train.NamedDataset{Name: "train", Data: data.NewBatches(trainIm.Subset(min(c.EvalTrainN, trainIm.N)),
			data.BatchConfig{BatchSize: 500, Flatten: c.Flatten})})
	}
	opt := c.Optimizer
	if opt == nil {
		opt = optimizer.Adam().LearningRate(c.LR).Done()
	}
	progress := env.Progress
	if c.Checkpoint != "" {
		if _, err := os.Stat(c.Checkpoint); err == nil {
			progress = io.Discard // restoring: no progress bar for training that already happened.
		}
	}
	run, err := train.Fit(train.Options{
		Name: c.Name, Backend: env.Backend, Model: c.Model, Optimizer: opt,
		Train: trainDS, Eval: evals, Epochs: c.Epochs, Steps: c.Steps, EvalEvery: c.EvalEvery,
		LogEvery: c.LogEvery, Seed: 42, Progress: progress, Checkpoint: c.Checkpoint, Resume: c.Checkpoint != "",
	})
	if err != nil {
		return nil, err
	}
	return &Fitted{Run: run, Train: trainIm, Test: testIm}, nil
}

// learningCurves writes the training loss and test accuracy of run against steps.
func learningCurves(env *Env, run *train.Run, name, title string) ([]string, error) {
	xs, ys, err := run.History.Series("step", "loss")
	if err != nil {
		return nil, err
	}
	lossFig, err := plots.Curves(title+": training loss", "step", "cross-entropy",
		[]plots.Series{{Name: "batch loss", X: xs, Y: ys}}, plots.LogY())
	if err != nil {
		return nil, err
	}
	ex, ey, err := run.History.EvalSeries("test", "step", "accuracy")
	if err != nil {
		return nil, err
	}
	accFig, err := plots.Curves(title+": test accuracy", "step", "accuracy",
		[]plots.Series{{Name: "test", X: ex, Y: ey, Points: true}})
	if err != nil {
		return nil, err
	}
	paths := []string{env.Path(name + "_loss.png"), env.Path(name + "_test_accuracy.png")}
	if err := lossFig.Save(paths[0]); err != nil {
		return nil, err
	}
	if err := accFig.Save(paths[1]); err != nil {
		return nil, err
	}
	return paths, nil
}

// errorVerdict compares our test error (in %) with the paper's: at or below it is reproduced; within slack
// points above it is close.
func errorVerdict(ours, paper, slack float64) Verdict {
	switch {
	case ours <= paper:
		return Reproduced
	case ours <= paper+slack:
		return Close
	}
	return NotYet
}

// classificationResult compares the test error with the paper's and draws the learning curves, the confusion
// matrix and the first test mistakes.
func classificationResult(env *Env, f *Fitted, c Classification, title string, paperErr, slack float64) (*Result, error) {
	run := f.Run
	last, ok := run.History.LastEval("test")
	if !ok {
		return nil, fmt.Errorf("no test evaluation recorded")
	}
	figs, err := learningCurves(env, run, c.Name, title)
	if err != nil {
		return nil, err
	}
	preds, err := Predict(run, f.Test, c.Flatten)
	if err != nil {
		return nil, err
	}
	conf, err := confusionFigure(env, c.Name, title+": confusion matrix on the test set", f.Test, preds)
	if err != nil {
		return nil, err
	}
	wrong, wrongPreds := mistakes(f.Test, preds, 30)
	figs = append(figs, conf)
	if wrong.N > 0 {
		p, err := samplesFigure(env, c.Name+"_mistakes", title+": test mistakes (true→predicted)", wrong, 30, wrongPreds)
		if err != nil {
			return nil, err
		}
		figs = append(figs, p)
	}
	testErr := 100 * (1 - last.Accuracy)
	v := errorVerdict(testErr, paperErr, slack)
	notes := fmt.Sprintf("%d steps of batch %d in %.0fs of training (%.0f examples/s median).", run.Step(),
		c.BatchSize, run.Seconds, run.History.MedianExamplesPerSec())
	if env.Quick {
		notes += " Quick profile: reduced data/steps, so the verdict is indicative only."
		if v == NotYet {
			v = Close
		}
	}
	return &Result{Ours: fmt.Sprintf("%.2f%% test error (%.2f%% accuracy)", testErr, 100*last.Accuracy),
		Value: last.Accuracy, Verdict: v, Notes: notes, Figures: figs}, nil
}

func init() {
	softmax := func(env *Env) Classification {
		return Classification{Name: "mnist-softmax", Model: models.MLP(models.SoftmaxRegression), Flatten: true,
			TrainN: pick(env, 10000, 0), TestN: pick(env, 2000, 0), BatchSize: 100, Epochs: pick(env, 1, 5),
			LR: 1e-2}
	}
	mustRegister(Experiment{
		Name: "mnist-softmax", Section: "01",
		Paper:      "LeCun et al. 1998, Gradient-based learning applied to document recognition, §III.C.1",
		Claim:      "a linear classifier on raw MNIST pixels",
		PaperValue: "12.0% test error",
		Measure:    "softmax regression (784→10), Adam lr 1e-2, batch 100, 5 epochs on 60k (quick: 1 epoch on 10k, test on 2k)",
		Run: func(env *Env) (*Result, error) {
			c := softmax(env)
			f, err := c.Fit(env)
			if err != nil {
				return nil, err
			}
			res, err := classificationResult(env, f, c, "softmax regression", 12.0, 2.0)
			if err != nil {
				return nil, err
			}
			w, err := weightTemplates(env, f.Run, c.Name, "softmax regression: the 10 weight templates", "/logits/dense/weights", 28, 28)
			if err != nil {
				return nil, err
			}
			res.Figures = append(res.Figures, w)
			return res, nil
		},
	})
	mlp := func(env *Env) Classification {
		return Classification{Name: "mnist-mlp", Model: models.MLP(models.MLP300x100), Flatten: true,
			TrainN: pick(env, 10000, 0), TestN: pick(env, 2000, 0), BatchSize: 100, Epochs: pick(env, 1, 5),
			LR: 1e-3}
	}
	mustRegister(Experiment{
		Name: "mnist-mlp", Section: "01",
		Paper:      "LeCun et al. 1998, §III.C (Fig. 9: 3-layer NN, 300+100 hidden units)",
		Claim:      "a 784-300-100-10 fully connected network",
		PaperValue: "3.05% test error",
		Measure:    "784-300-100-10 ReLU MLP, Adam lr 1e-3, batch 100, 5 epochs on 60k (quick: 1 epoch on 10k, test on 2k)",
		Run: func(env *Env) (*Result, error) {
			c := mlp(env)
			f, err := c.Fit(env)
			if err != nil {
				return nil, err
			}
			return classificationResult(env, f, c, "MLP 300-100", 3.05, 1.0)
		},
	})
}

func init() {
	cnn := func(env *Env) Classification {
		return Classification{Name: "mnist-cnn", Model: models.SmallCNN, BatchSize: 64,
			TrainN: pick(env, 1024, 0), TestN: pick(env, 500, 0), Epochs: 1, LR: 1e-3}
	}
	mustRegister(Experiment{
		Name: "mnist-cnn", Section: "03",
		Paper:      "LeCun et al. 1998, §III.C (LeNet-5); our small CNN stands in for it",
		Claim:      "a small convolutional network beats every fully connected one on MNIST",
		PaperValue: "0.95% test error (LeNet-5)",
		Measure: "conv3x3x32-relu-maxpool2, conv3x3x64-relu-maxpool2, dense 10 (the benchmark's small CNN, 225k MACs/example) " +
			"on the project's fast conv layers, Adam lr 1e-3, batch 64, 1 epoch on 60k (quick: 1 epoch on 1,024, test on 500)",
		Run: func(env *Env) (*Result, error) {
			c := cnn(env)
			f, err := c.Fit(env)
			if err != nil {
				return nil, err
			}
			return classificationResult(env, f, c, "small CNN", 0.95, 0.5)
		},
	})
}

func pick[T any](env *Env, quick, full T) T {
	if env.Quick {
		return quick
	}
	return full
}
