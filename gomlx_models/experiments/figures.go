package experiments

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/convnotes/convnotes/gomlx_models/data"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

// Predict returns the argmax class of the model for every image of im, in batches of 500.
func Predict(run *train.Run, im *data.Images, flatten bool) ([]int32, error) {
	const bs = 500
	preds := make([]int32, 0, im.N)
	size := im.ImageSize()
	for s := 0; s < im.N; s += bs {
		n := min(bs, im.N-s)
		var x *tensors.Tensor
		flat := im.Pixels[s*size : (s+n)*size]
		if flatten {
			x = tensors.FromFlatDataAndDimensions(flat, n, size)
		} else {
			x = tensors.FromFlatDataAndDimensions(flat, n, im.H, im.W, im.C)
		}
		out, err := run.Predict(x)
		if err != nil {
			return nil, err
		}
		logits, err := tensors.CopyFlatData[float32](out)
		if err != nil {
			return nil, fmt.Errorf("reading predictions: %w", err)
		}
		_ = out.FinalizeAll()
		k := len(logits) / n
		for i := 0; i < n; i++ {
			best := 0
			for j := 1; j < k; j++ {
				if logits[i*k+j] > logits[i*k+best] {
					best = j
				}
			}
			preds = append(preds, int32(best))
		}
	}
	return preds, nil
}

// confusionFigure draws the confusion matrix (rows: true class, columns: predicted) of preds against im's labels.
func confusionFigure(env *Env, name, title string, im *data.Images, preds []int32) (string, error) {
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

// samplesFigure draws the first n images of im with their labels (and predictions when preds is not nil,
// marking mistakes).
func samplesFigure(env *Env, name, title string, im *data.Images, n int, preds []int32) (string, error) {
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

// mistakes returns the subset of im that the model got wrong (up to n), with their predictions.
func mistakes(im *data.Images, preds []int32, n int) (*data.Images, []int32) {
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

// weightTemplates draws the columns of a dense layer's weight matrix [H*W*C, classes] as images: for softmax
// regression they are the per-class "templates" the linear classifier matches.
func weightTemplates(env *Env, run *train.Run, name, title, suffix string, h, w int) (string, error) {
	v, err := findVariable(run, suffix)
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
