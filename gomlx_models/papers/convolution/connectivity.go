package convolution

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ConnectivityCase compares a convolution layer with the fully connected layer that maps the same input volume
// to the same output volume (Goodfellow et al. 2016, §9.2).
type ConnectivityCase struct {
	Name                        string
	InH, InW, InC               int
	Kernel, Stride, Filters     int
	Padding                     layers.Padding
	OutH, OutW                  int
	ConvParams, DenseParams     int64 // formula: k²·C·F + F and (H·W·C)·(H'·W'·F) + H'·W'·F.
	ConvMeasured, DenseMeasured int64 // counted by summary.Of on the project layers (-1: not built, too large).
	// InputsPerUnit is how many inputs one output unit is connected to: k²·C (conv) vs H·W·C (dense).
	ConvInputsPerUnit, DenseInputsPerUnit int
	// WeightUses is how many times each conv weight is used per example (H'·W'); each dense weight is used once.
	WeightUses int
}

// ConnectivityCases are the examples of notebook 03: the notes' 32×32×3 → 28×28×6 layer (the "≈14 million
// parameters" comparison), LeNet-5's C1 (LeCun et al. 1998, §II.B), our network's two convolutions and
// AlexNet's conv1 (Krizhevsky et al. 2012, §3.5: 96 kernels 11×11×3, stride 4, on 227×227 inputs).
var ConnectivityCases = []ConnectivityCase{
	{Name: "notes: 32×32×3 → 28×28×6", InH: 32, InW: 32, InC: 3, Kernel: 5, Stride: 1, Filters: 6},
	{Name: "LeNet-5 C1", InH: 32, InW: 32, InC: 1, Kernel: 5, Stride: 1, Filters: 6},
	{Name: "DevNet conv1", InH: 28, InW: 28, InC: 1, Kernel: 5, Stride: 1, Filters: 8},
	{Name: "DevNet conv2", InH: 12, InW: 12, InC: 8, Kernel: 3, Stride: 1, Filters: 16},
	{Name: "AlexNet conv1", InH: 227, InW: 227, InC: 3, Kernel: 11, Stride: 4, Filters: 96},
}

// maxMeasuredDense is the largest dense layer (in parameters) Connectivity builds to count its parameters.
const maxMeasuredDense = 20_000_000

// Connectivity fills in the counts of each case: by formula, and measured with summary.Of on the project's
// Conv2D and Dense layers (the dense layer only when it has at most 20M parameters).
func Connectivity(backend compute.Backend, cases []ConnectivityCase) ([]ConnectivityCase, error) {
	out := make([]ConnectivityCase, len(cases))
	for i, c := range cases {
		if c.Stride == 0 {
			c.Stride = 1
		}
		if c.Padding == layers.Same {
			c.OutH, c.OutW = layers.SameSize(c.InH, c.Stride), layers.SameSize(c.InW, c.Stride)
		} else {
			c.OutH, c.OutW = layers.ValidSize(c.InH, c.Kernel, c.Stride), layers.ValidSize(c.InW, c.Kernel, c.Stride)
		}
		if c.OutH == 0 || c.OutW == 0 {
			return nil, fmt.Errorf("Connectivity %q: %d×%d kernel does not fit %d×%d", c.Name, c.Kernel, c.Kernel, c.InH, c.InW)
		}
		in, units := int64(c.InH*c.InW*c.InC), int64(c.OutH*c.OutW*c.Filters)
		c.ConvParams = int64(c.Kernel*c.Kernel*c.InC*c.Filters + c.Filters)
		c.DenseParams = in*units + units
		c.ConvInputsPerUnit, c.DenseInputsPerUnit = c.Kernel*c.Kernel*c.InC, int(in)
		c.WeightUses = c.OutH * c.OutW
		inShape := shapes.Make(dtypes.Float32, 1, c.InH, c.InW, c.InC)
		conv, err := summary.Of(backend, nil, func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.SetParam(layers.ParamImpl, layers.Native)
			y := layers.Conv2D(scope.In("conv"), x, layers.Conv{Filters: c.Filters, Kernel: c.Kernel, Stride: c.Stride,
				Padding: c.Padding, UseBias: true})
			y.AssertDims(1, c.OutH, c.OutW, c.Filters)
			return y
		}, inShape)
		if err != nil {
			return nil, fmt.Errorf("Connectivity %q: %w", c.Name, err)
		}
		c.ConvMeasured, c.DenseMeasured = int64(conv.TotalParams), -1
		if c.DenseParams <= maxMeasuredDense {
			dense, err := summary.Of(backend, nil, func(scope *model.Scope, x *graph.Node) *graph.Node {
				return layers.Dense(scope.In("dense"), x, int(units))
			}, inShape)
			if err != nil {
				return nil, fmt.Errorf("Connectivity %q: %w", c.Name, err)
			}
			c.DenseMeasured = int64(dense.TotalParams)
		}
		out[i] = c
	}
	return out, nil
}

// WriteConnectivity prints the comparison as an aligned table.
func WriteConnectivity(w io.Writer, cases []ConnectivityCase) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tin → out\tconv params\tmeasured\tdense params\tmeasured\tratio\tinputs/unit conv\tdense\tuses/weight\t")
	for _, c := range cases {
		dm := "(too big to build)"
		if c.DenseMeasured >= 0 {
			dm = summary.Thousands(c.DenseMeasured)
		}
		fmt.Fprintf(tw, "%s\t%d×%d×%d → %d×%d×%d\t%s\t%s\t%s\t%s\t%.3g×\t%d\t%s\t%d\t\n", c.Name, c.InH, c.InW, c.InC,
			c.OutH, c.OutW, c.Filters, summary.Thousands(c.ConvParams), summary.Thousands(c.ConvMeasured),
			summary.Thousands(c.DenseParams), dm, float64(c.DenseParams)/float64(c.ConvParams), c.ConvInputsPerUnit,
			summary.Thousands(int64(c.DenseInputsPerUnit)), c.WeightUses)
	}
	return tw.Flush()
}
