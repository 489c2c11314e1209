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

// classificationFigures draws a trained classifier's learning curves, its confusion matrix on the test set and
// its first test mistakes, and returns the figures' paths with the number of test images it got wrong.
func classificationFigures(env *Env, f *train.Fitted, c train.Classification, title string) ([]string, int, error) {
	figs, err := LearningCurves(env, f.Run, c.Name, title)
	if err != nil {
		return nil, 0, err
	}
	preds, err := f.Run.PredictClasses(f.Test, c.Flatten)
	if err != nil {
		return nil, 0, err
	}
	conf, err := ConfusionFigure(env, c.Name, title+": confusion matrix on the test set", f.Test, preds)
	if err != nil {
		return nil, 0, err
	}
	figs = append(figs, conf)
	wrong, wrongPreds := Mistakes(f.Test, preds, 30)
	if wrong.N > 0 {
		p, err := SamplesFigure(env, c.Name+"_mistakes", title+": test mistakes (true→predicted)", wrong, 30, wrongPreds)
		if err != nil {
			return nil, 0, err
		}
		figs = append(figs, p)
	}
	return figs, testMistakes(f, preds), nil
}

func testMistakes(f *train.Fitted, preds []int32) int {
	n := 0
	for i, p := range preds {
		if p != f.Test.Labels[i] {
			n++
		}
	}
	return n
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
	figs, wrongAll, err := classificationFigures(env, f, c, title)
	if err != nil {
		return nil, err
	}
	testErr, err := Proportion(wrongAll, f.Test.N)
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

// SeededClassificationResult judges the mean test error of the same recipe trained with each of seeds (fits[i]
// with seeds[i]) against the paper's error: at most the paper's, close within slack points, by the Student-t
// interval over the seeds (one seed has none, so its verdict is inconclusive). The figures are those of the
// first seed's network.
func SeededClassificationResult(env *Env, fits []*train.Fitted, seeds []int64, c train.Classification, title string,
	paperErr, slack float64) (*Result, error) {
	if len(fits) == 0 || len(fits) != len(seeds) {
		return nil, fmt.Errorf("%s: %d trained networks for %d seeds", c.Name, len(fits), len(seeds))
	}
	errs := make([]float64, len(fits))
	wrongs := make([]int, len(fits))
	var figs []string
	for i, f := range fits {
		var wrong int
		var err error
		if i == 0 {
			figs, wrong, err = classificationFigures(env, f, c, fmt.Sprintf("%s (seed %d)", title, seeds[0]))
		} else {
			var preds []int32
			preds, err = f.Run.PredictClasses(f.Test, c.Flatten)
			wrong = testMistakes(f, preds)
		}
		if err != nil {
			return nil, fmt.Errorf("%s, seed %d: %w", c.Name, seeds[i], err)
		}
		wrongs[i], errs[i] = wrong, 100*float64(wrong)/float64(f.Test.N)
	}
	est, err := Seeded(seeds, errs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	j := env.Judge(Below(paperErr).OrClose(slack).In("%"), est)
	one, err := Proportion(wrongs[0], fits[0].Test.N)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	per := make([]string, len(errs))
	for i, v := range errs {
		per[i] = fmt.Sprintf("%.2f", v)
	}
	run := fits[0].Run
	notes := fmt.Sprintf("each seed: %d steps of batch %d (%.0fs of training for the first); test error per seed %s%% on %d images "+
		"(one run's binomial standard error alone is %.2f points); the interval is the t interval over the seeds.",
		run.Step(), c.BatchSize, run.Seconds, strings.Join(per, ", "), fits[0].Test.N, 100*one.SE)
	if env.Quick {
		notes += " Quick profile: reduced data and one seed, so the verdict is indicative only."
	}
	ours := fmt.Sprintf("%s test error (%s", est.MeanSD(2, "%"), est.SeedList())
	if !math.IsInf(est.Lo, 0) && !math.IsInf(est.Hi, 0) {
		ours += "; " + est.CI(2)
	}
	return &Result{Ours: ours + ")",
		Value: est.Mean, Judgement: j, Notes: notes, Figures: figs}, nil
}

// FitSeeds trains the recipe c once per seed (c.Seed set to each in turn), on backend, and returns the trained
// networks in the order of seeds.
func FitSeeds(env *Env, c train.Classification, seeds []int64) ([]*train.Fitted, error) {
	if len(seeds) == 0 {
		return nil, fmt.Errorf("%s: no seeds", c.Name)
	}
	fits := make([]*train.Fitted, len(seeds))
	for i, s := range seeds {
		c.Seed = s
		f, err := c.Fit(env.Backend, env.Progress)
		if err != nil {
			return nil, fmt.Errorf("%s, seed %d: %w", c.Name, s, err)
		}
		fits[i] = f
	}
	return fits, nil
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
