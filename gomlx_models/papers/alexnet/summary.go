package alexnet

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/plots"
)

// The abstract's numbers: "The neural network, which has 60 million parameters and 650,000 neurons".
const (
	PaperParams  = 60_000_000
	PaperNeurons = 650_000
)

// neuronLayers are the summary rows whose outputs are the network's neurons: the units of the five
// convolutional and three fully connected layers (pooling and normalization only re-read them).
var neuronLayers = []string{"/conv1", "/conv2", "/conv3", "/conv4", "/conv5", "/fc6", "/fc7", "/fc8"}

// Summary is one network summarized at one input side.
type Summary struct {
	Config models.AlexNetConfig
	Side   int
	Table  *summary.Table
	// Neurons is the number of units of the eight learned layers for one image.
	Neurons int
	// Conv1Side and Pool5Side are the sides of conv1's output and of the last pooling's output (fc6 sees
	// Pool5Side²·256 inputs).
	Conv1Side, Pool5Side int
}

// Summarize builds cfg's graph for one side×side×3 image (without running it) and counts its parameters,
// multiply-adds and neurons.
func Summarize(backend compute.Backend, cfg models.AlexNetConfig, side int) (*Summary, error) {
	fn, err := models.AlexNet(cfg)
	if err != nil {
		return nil, err
	}
	table, err := summary.Of(backend, nil, fn, shapes.Make(dtypes.Float32, 1, side, side, 3))
	if err != nil {
		return nil, fmt.Errorf("summary of %s at %d: %w", cfg.Name, side, err)
	}
	s := &Summary{Config: cfg, Side: side, Table: table}
	rows := map[string][]int{}
	for _, r := range table.Rows {
		rows[r.Layer] = r.OutputShape.Dimensions
	}
	for _, l := range neuronLayers {
		dims, ok := rows[l]
		if !ok {
			return nil, fmt.Errorf("summary of %s: no layer %s", cfg.Name, l)
		}
		n := 1
		for _, d := range dims[1:] {
			n *= d
		}
		s.Neurons += n
	}
	s.Conv1Side = rows["/conv1"][1]
	pool5, ok := rows["/conv5/pool"]
	if !ok {
		return nil, fmt.Errorf("summary of %s: no layer /conv5/pool", cfg.Name)
	}
	s.Pool5Side = pool5[1]
	return s, nil
}

// Summaries are the three summaries notebook 05 compares: the paper's two-tower network at 227 (the side its
// Fig. 2 sizes need) and at the 224 it writes, and torchvision's single-tower network at 224.
func Summaries(backend compute.Backend) ([]*Summary, error) {
	var out []*Summary
	for _, c := range []struct {
		cfg  models.AlexNetConfig
		side int
	}{{models.AlexNetPaper, 227}, {models.AlexNetPaper, 224}, {models.AlexNetTorchvision, 224}} {
		s, err := Summarize(backend, c.cfg, c.side)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ConvOutSide is the output side of a k×k convolution with stride s and pad p on each side of an n×n input,
// ⌊(n + 2p − k)/s⌋ + 1, and whether the division is exact (the window ends on the last pixel).
func ConvOutSide(n, k, s, p int) (side int, exact bool) {
	return (n+2*p-k)/s + 1, (n+2*p-k)%s == 0
}

// SummaryText prints the three summaries' totals in one table.
func SummaryText(ss []*Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-36s %5s %12s %15s %9s %6s %6s\n", "network", "input", "parameters", "multiply-adds", "neurons", "conv1", "pool5")
	for _, s := range ss {
		fmt.Fprintf(&b, "%-36s %5d %12s %15s %9s %6d %6d\n", s.Config.Name, s.Side, summary.Thousands(int64(s.Table.TotalParams)),
			summary.Thousands(s.Table.TotalMACs), summary.Thousands(int64(s.Neurons)), s.Conv1Side, s.Pool5Side)
	}
	return b.String()
}

// SummaryFigure draws the parameters and multiply-adds of each layer of the paper's network (log scale):
// the FC layers hold most parameters, the convolutions most of the arithmetic.
func SummaryFigure(s *Summary) (*plots.Figure, error) {
	var xs, params, macs []float64
	var names []string
	for i, l := range neuronLayers {
		var p, m float64
		for _, r := range s.Table.Rows {
			if r.Layer == l || strings.HasPrefix(r.Layer, l+"/") {
				p += float64(r.Params)
				m += float64(r.MACs)
			}
		}
		xs = append(xs, float64(i+1))
		params = append(params, p)
		macs = append(macs, m)
		names = append(names, strings.TrimPrefix(l, "/"))
	}
	return plots.Curves(fmt.Sprintf("%s at %d: per layer (%s)", s.Config.Name, s.Side, strings.Join(names, ", ")),
		"layer (1–5 conv, 6–8 FC)", "count", []plots.Series{
			{Name: "parameters", X: xs, Y: params, Points: true},
			{Name: "multiply-adds", X: xs, Y: macs, Points: true},
		}, plots.LogY())
}
