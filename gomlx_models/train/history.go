package train

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// StepRecord is one logged training step.
type StepRecord struct {
	Step           int     // global step after this update (1-based).
	Epoch          float64 // fractional epoch: Step / batches per epoch.
	Seconds        float64 // wall-clock seconds of training since the start of this run (evaluation excluded).
	Loss           float64 // the batch's loss.
	Accuracy       float64 // the batch's accuracy (NaN when the model is not a classifier).
	StepMillis     float64 // wall-clock milliseconds of this step.
	ExamplesPerSec float64 // batch size / step time.
}

// EvalRecord is one evaluation of the model on a named dataset.
type EvalRecord struct {
	Step     int
	Epoch    float64
	Seconds  float64
	Set      string // dataset name, e.g. "test".
	Loss     float64
	Accuracy float64
}

// History holds everything measured while fitting.
type History struct {
	Steps        []StepRecord
	Evals        []EvalRecord
	EpochSeconds []float64 // wall-clock seconds of each completed epoch (training only).
}

// xValue picks the x coordinate of a record: "step", "epoch" or "seconds".
func xValue(x string, step int, epoch, seconds float64) (float64, error) {
	switch x {
	case "step":
		return float64(step), nil
	case "epoch":
		return epoch, nil
	case "seconds":
		return seconds, nil
	}
	return 0, fmt.Errorf("history: unknown x axis %q (step, epoch or seconds)", x)
}

// Series returns the x and y columns of the named training field against "step", "epoch" or "seconds".
// Fields: "loss", "accuracy", "examples_per_sec", "step_ms".
func (h *History) Series(x, field string) (xs, ys []float64, err error) {
	for _, r := range h.Steps {
		xv, err := xValue(x, r.Step, r.Epoch, r.Seconds)
		if err != nil {
			return nil, nil, err
		}
		var yv float64
		switch field {
		case "loss":
			yv = r.Loss
		case "accuracy":
			yv = r.Accuracy
		case "examples_per_sec":
			yv = r.ExamplesPerSec
		case "step_ms":
			yv = r.StepMillis
		default:
			return nil, nil, fmt.Errorf("history: unknown field %q (loss, accuracy, examples_per_sec, step_ms)", field)
		}
		xs, ys = append(xs, xv), append(ys, yv)
	}
	return xs, ys, nil
}

// EvalSeries returns (x, y) for one evaluation set; field is "loss" or "accuracy"; x is "step", "epoch" or
// "seconds".
func (h *History) EvalSeries(set, x, field string) (xs, ys []float64, err error) {
	if field != "loss" && field != "accuracy" {
		return nil, nil, fmt.Errorf("history: unknown eval field %q (loss or accuracy)", field)
	}
	for _, r := range h.Evals {
		if r.Set != set {
			continue
		}
		xv, err := xValue(x, r.Step, r.Epoch, r.Seconds)
		if err != nil {
			return nil, nil, err
		}
		yv := r.Accuracy
		if field == "loss" {
			yv = r.Loss
		}
		xs, ys = append(xs, xv), append(ys, yv)
	}
	return xs, ys, nil
}

// LastEval returns the most recent evaluation of the named set.
func (h *History) LastEval(set string) (EvalRecord, bool) {
	for i := len(h.Evals) - 1; i >= 0; i-- {
		if h.Evals[i].Set == set {
			return h.Evals[i], true
		}
	}
	return EvalRecord{}, false
}

// MedianExamplesPerSec is the median training throughput over the logged steps, skipping the first (which
// includes graph compilation).
func (h *History) MedianExamplesPerSec() float64 {
	var v []float64
	for i, r := range h.Steps {
		if i == 0 && len(h.Steps) > 1 {
			continue
		}
		v = append(v, r.ExamplesPerSec)
	}
	return median(v)
}

// WriteEvalTable prints the evaluations as an aligned table.
func (h *History) WriteEvalTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tepoch\tseconds\tset\tloss\taccuracy\t")
	for _, r := range h.Evals {
		fmt.Fprintf(tw, "%d\t%.2f\t%.1f\t%s\t%.4f\t%.4f\t\n", r.Step, r.Epoch, r.Seconds, r.Set, r.Loss, r.Accuracy)
	}
	return tw.Flush()
}
