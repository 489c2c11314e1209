package reproduce

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Helpers the section packages share to turn a trained classifier into a result: learning curves, confusion
// matrix, mistakes, weight templates, verdicts; and small matrix comparisons for the worked examples.

// ConfusionFigure draws the confusion matrix (rows: true class, columns: predicted) of preds against im's labels.
func ConfusionFigure(env *Env, name, title string, im *data.Images, preds []int32) (string, error) {
	k := len(im.Classes)
	if k == 0 {
		k = 10
	}
	m := make([][]float64, k)
	for i := range m {
		m[i] = make([]float64, k)
	}
	for i, p := range preds {
		if int(im.Labels[i]) < k && int(p) < k {
			m[im.Labels[i]][p]++
		}
	}
	labels := make([]string, k)
	for i := range labels {
		labels[i] = fmt.Sprint(i)
	}
	fig, err := plots.Heatmap(title, m, labels, labels, true, plots.AxisLabels("predicted", "true"), plots.SizePixels(640, 600))
	if err != nil {
		return "", err
	}
	path := env.Path(name + "_confusion.png")
	return path, fig.Save(path)
}

// SamplesFigure draws the first n images of im with their labels (and predictions when preds is not nil,
// marking mistakes).
func SamplesFigure(env *Env, name, title string, im *data.Images, n int, preds []int32) (string, error) {
	n = min(n, im.N)
	imgs := make([]plots.Image, n)
	for i := range imgs {
		label := fmt.Sprint(im.Labels[i])
		if preds != nil {
			label = fmt.Sprintf("%d→%d", im.Labels[i], preds[i])
			if preds[i] != im.Labels[i] {
				label += " ✗"
			}
		}
		imgs[i] = plots.Image{Pix: im.Image(i), H: im.H, W: im.W, C: im.C, Label: label}
	}
	fig, err := plots.ImageGrid(title, imgs, 10)
	if err != nil {
		return "", err
	}
	path := env.Path(name + "_samples.png")
	return path, fig.Save(path)
}

// Mistakes returns the subset of im that the model got wrong (up to n), with their predictions.
func Mistakes(im *data.Images, preds []int32, n int) (*data.Images, []int32) {
	out := &data.Images{Name: im.Name, H: im.H, W: im.W, C: im.C, Classes: im.Classes}
	var wrong []int32
	size := im.ImageSize()
	for i := 0; i < im.N && out.N < n; i++ {
		if preds[i] != im.Labels[i] {
			out.Pixels = append(out.Pixels, im.Pixels[i*size:(i+1)*size]...)
			out.Labels = append(out.Labels, im.Labels[i])
			wrong = append(wrong, preds[i])
			out.N++
		}
	}
	return out, wrong
}

// WeightTemplates draws the columns of a dense layer's weight matrix [H*W*C, classes] as images: for softmax
// regression they are the per-class "templates" the linear classifier matches.
func WeightTemplates(env *Env, run *train.Run, name, title, suffix string, h, w int) (string, error) {
	v, err := run.Variable(suffix)
	if err != nil {
		return "", err
	}
	t, err := v.Value()
	if err != nil {
		return "", err
	}
	dims := t.Shape().Dimensions
	if len(dims) != 2 || dims[0] != h*w {
		return "", fmt.Errorf("weights %s have shape %v, want [%d, classes]", v.Path(), dims, h*w)
	}
	flat, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return "", err
	}
	k := dims[1]
	imgs := make([]plots.Image, k)
	for c := 0; c < k; c++ {
		pix := make([]float32, h*w)
		for i := range pix {
			pix[i] = flat[i*k+c]
		}
		imgs[c] = plots.Image{Pix: pix, H: h, W: w, C: 1, Label: fmt.Sprintf("class %d", c)}
	}
	fig, err := plots.ImageGrid(title, imgs, 5, plots.PerImageScale())
	if err != nil {
		return "", err
	}
	path := env.Path(name + "_weights.png")
	return path, fig.Save(path)
}

// LearningCurves writes the training loss and test accuracy of run against steps.
func LearningCurves(env *Env, run *train.Run, name, title string) ([]string, error) {
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

// ClassificationResult judges the test error against the paper's — at most the paper's error, close within slack
// points — with the binomial interval of the test set (one training run: the interval covers the test sample,
// not the spread between seeds), and draws the learning curves, the confusion
// matrix and the first test mistakes.
func ClassificationResult(env *Env, f *train.Fitted, c train.Classification, title string, paperErr, slack float64) (*Result, error) {
	run := f.Run
	last, ok := run.History.LastEval("test")
	if !ok {
		return nil, fmt.Errorf("no test evaluation recorded")
	}
	figs, err := LearningCurves(env, run, c.Name, title)
	if err != nil {
		return nil, err
	}
	preds, err := run.PredictClasses(f.Test, c.Flatten)
	if err != nil {
		return nil, err
	}
	conf, err := ConfusionFigure(env, c.Name, title+": confusion matrix on the test set", f.Test, preds)
	if err != nil {
		return nil, err
	}
	wrong, wrongPreds := Mistakes(f.Test, preds, 30)
	figs = append(figs, conf)
	if wrong.N > 0 {
		p, err := SamplesFigure(env, c.Name+"_mistakes", title+": test mistakes (true→predicted)", wrong, 30, wrongPreds)
		if err != nil {
			return nil, err
		}
		figs = append(figs, p)
	}
	wrongAll := 0
	for i, p := range preds {
		if p != f.Test.Labels[i] {
			wrongAll++
		}
	}
	testErr, err := Proportion(wrongAll, len(preds))
	if err != nil {
		return nil, fmt.Errorf("%s: test error: %w", c.Name, err)
	}
	testErr = Scale(testErr, 100)
	j := env.Judge(Below(paperErr).OrClose(slack).In("%"), testErr)
	notes := fmt.Sprintf("%d steps of batch %d in %.0fs of training (%.0f examples/s median); one seed, %s of the test error.",
		run.Step(), c.BatchSize, run.Seconds, run.History.MedianExamplesPerSec(), testErr.CI(2))
	if env.Quick {
		notes += " Quick profile: reduced data/steps, so the verdict is indicative only."
	}
	return &Result{Ours: fmt.Sprintf("%.2f%% test error (%.2f%% accuracy)", testErr.Mean, 100*last.Accuracy),
		Value: last.Accuracy, Judgement: j, Notes: notes, Figures: figs}, nil
}

// ImageSize validates a rectangular, non-empty image.
func ImageSize(img [][]float64) (h, w int, err error) {
	if len(img) == 0 || len(img[0]) == 0 {
		return 0, 0, errors.New("empty image")
	}
	for i, row := range img {
		if len(row) != len(img[0]) {
			return 0, 0, fmt.Errorf("row %d has %d values, row 0 has %d", i, len(row), len(img[0]))
		}
	}
	return len(img), len(img[0]), nil
}

// MaxAbsDiff is the largest |a_ij − b_ij|, or +Inf when the shapes differ.
func MaxAbsDiff(a, b [][]float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return math.Inf(1)
		}
		for j := range a[i] {
			d = math.Max(d, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return d
}

// FormatMatrix prints a matrix with aligned columns, %g values.
func FormatMatrix(m [][]float64) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range m {
		for _, v := range row {
			fmt.Fprintf(tw, "%.4g\t", v)
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	return b.String()
}

// SaveFigures saves figs[i] under env's folder as names[i].png and returns the paths.
func SaveFigures(env *Env, figs []*plots.Figure, names ...string) ([]string, error) {
	if len(figs) != len(names) {
		return nil, fmt.Errorf("%d figures for %d names", len(figs), len(names))
	}
	paths := make([]string, len(figs))
	for i, f := range figs {
		p, err := f.SaveIn(env.OutDir, names[i])
		if err != nil {
			return nil, err
		}
		paths[i] = p
	}
	return paths, nil
}

// Pick returns quick in the quick profile and full otherwise.
func Pick[T any](env *Env, quick, full T) T {
	if env.Quick {
		return quick
	}
	return full
}
