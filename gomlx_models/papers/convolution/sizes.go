package convolution

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/plots"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// SizeCase is one point of the output-size grid: a square n×n input convolved with an f×f kernel at stride s.
type SizeCase struct {
	N, F, S int
	Padding layers.Padding
	// Formula is the notes' closed form: ⌈(n−f+1)/s⌉ for VALID, ⌈n/s⌉ for SAME (0: no output).
	Formula int
	// PadBefore, PadAfter is the zero padding used (0, 0 for VALID); Padded is ⌊(n+p_b+p_a−f)/s⌋+1.
	PadBefore, PadAfter, Padded int
	// Native and Fast are the output heights of the executed convolutions: GoMLX's graph.Convolve and the
	// project's channels-major layer (0 when the engine refused to build the convolution).
	Native, Fast int
	// NativeW and FastW are the output widths (they must equal the heights for a square input).
	NativeW, FastW int
}

// Agrees reports whether the formulas and both engines give the same output size.
func (c SizeCase) Agrees() bool {
	return c.Formula == c.Padded && c.Formula == c.Native && c.Formula == c.Fast &&
		c.NativeW == c.Native && c.FastW == c.Fast
}

// SizeGrid is the output-size check over a grid of (n, f, s, padding).
type SizeGrid struct {
	Cases []SizeCase
	// Agree counts the cases where Formula, Padded, Native and Fast are all equal.
	Agree int
	// Refused counts the VALID cases with f > n: the formula says "no output" and both engines refuse them.
	Refused int
}

// OutputSizeGrid convolves an n×n image with an f×f kernel at stride s, VALID and SAME, with both the engine's
// convolution (graph.Convolve) and the project's Fast layer, for every n ≤ maxN, f ≤ maxF, s ≤ maxS, executes
// them on backend and compares the output shapes with [ValidSize], [SameSize] and [PaddedSize]. The issue's
// grid is (32, 7, 4): 1,792 cases. One graph is compiled per n.
func OutputSizeGrid(backend compute.Backend, maxN, maxF, maxS int) (*SizeGrid, error) {
	if backend == nil {
		return nil, errors.New("OutputSizeGrid: nil backend")
	}
	if maxN < 1 || maxF < 1 || maxS < 1 {
		return nil, fmt.Errorf("OutputSizeGrid: need positive bounds, got n≤%d f≤%d s≤%d", maxN, maxF, maxS)
	}
	grid := &SizeGrid{}
	for n := 1; n <= maxN; n++ {
		cases, err := sizeCasesForN(backend, n, maxF, maxS)
		if err != nil {
			return nil, fmt.Errorf("OutputSizeGrid: n=%d: %w", n, err)
		}
		for _, c := range cases {
			if c.Agrees() {
				grid.Agree++
				if c.Formula == 0 {
					grid.Refused++
				}
			}
		}
		grid.Cases = append(grid.Cases, cases...)
	}
	return grid, nil
}

// sizeCasesForN builds and executes one graph holding every (f, s, padding) convolution of an n×n input.
func sizeCasesForN(backend compute.Backend, n, maxF, maxS int) (cases []SizeCase, err error) {
	for f := 1; f <= maxF; f++ {
		for s := 1; s <= maxS; s++ {
			for _, p := range []layers.Padding{layers.Valid, layers.Same} {
				c := SizeCase{N: n, F: f, S: s, Padding: p}
				if p == layers.Same {
					c.PadBefore, c.PadAfter = layers.SamePads(f)
					c.Formula = layers.SameSize(n, s)
				} else {
					c.Formula = layers.ValidSize(n, f, s)
				}
				c.Padded = layers.PaddedSize(n, f, s, c.PadBefore, c.PadAfter)
				cases = append(cases, c)
			}
		}
	}
	// built[i] = output slots of case i in the graph's outputs (-1: the engine refused it).
	nativeSlot, fastSlot := make([]int, len(cases)), make([]int, len(cases))
	pixels := make([]float32, n*n)
	for i := range pixels {
		pixels[i] = float32(i%7) - 3
	}
	exec, err := graph.NewExec(backend, func(x *graph.Node) []*graph.Node {
		var outs []*graph.Node
		for i, c := range cases {
			cfg := layers.Conv{Filters: 1, Kernel: c.F, Stride: c.S, Padding: c.Padding}
			kernel := graph.OnesLike(graph.Zeros(x.Graph(), shapes.Make(dtypes.Float32, c.F, c.F, 1, 1)))
			nativeSlot[i], fastSlot[i] = -1, -1
			if y, ok := tryBuild(func() *graph.Node { return layers.ConvNHWC(x, kernel, nil, cfg) }); ok {
				nativeSlot[i] = len(outs)
				outs = append(outs, y)
			}
			cnhw := graph.Reshape(x, 1, 1, n, n)
			if y, ok := tryBuild(func() *graph.Node { return layers.ConvCNHW(cnhw, kernel, nil, cfg) }); ok {
				fastSlot[i] = len(outs)
				outs = append(outs, y)
			}
		}
		if len(outs) == 0 { // only possible when every window is larger than the image: return the input.
			outs = append(outs, x)
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	results, err := exec.Exec(tensors.FromFlatDataAndDimensions(pixels, 1, n, n, 1))
	if err != nil {
		return nil, fmt.Errorf("executing the convolutions: %w", err)
	}
	defer func() {
		for _, t := range results {
			t.MustFinalizeAll()
		}
	}()
	for i := range cases {
		if s := nativeSlot[i]; s >= 0 {
			d := results[s].Shape().Dimensions // [1, H, W, 1]
			cases[i].Native, cases[i].NativeW = d[1], d[2]
		}
		if s := fastSlot[i]; s >= 0 {
			d := results[s].Shape().Dimensions // [1, 1, H, W]
			cases[i].Fast, cases[i].FastW = d[2], d[3]
		}
	}
	return cases, nil
}

// tryBuild runs build and reports false if it panicked (GoMLX refuses invalid shapes by panicking).
func tryBuild(build func() *graph.Node) (y *graph.Node, ok bool) {
	defer func() {
		if recover() != nil {
			y, ok = nil, false
		}
	}()
	return build(), true
}

// Disagreements returns the cases where a formula and an engine differ (none, if the notes are right).
func (g *SizeGrid) Disagreements() []SizeCase {
	var out []SizeCase
	for _, c := range g.Cases {
		if !c.Agrees() {
			out = append(out, c)
		}
	}
	return out
}

// WriteTable prints the cases selected by keep as an aligned table n | f | s | padding | formula | padded form |
// engine | project layer, with "—" for "no output".
func (g *SizeGrid) WriteTable(w io.Writer, keep func(SizeCase) bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "n\tf\ts\tpadding\t(p_b,p_a)\tformula\t⌊(n+p−f)/s⌋+1\tgraph.Convolve\tlayers (Fast)\tagree\t")
	dash := func(v int) string {
		if v == 0 {
			return "—"
		}
		return fmt.Sprint(v)
	}
	for _, c := range g.Cases {
		if keep != nil && !keep(c) {
			continue
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t(%d,%d)\t%s\t%s\t%s\t%s\t%v\t\n", c.N, c.F, c.S, c.Padding, c.PadBefore, c.PadAfter,
			dash(c.Formula), dash(c.Padded), dash(c.Native), dash(c.Fast), c.Agrees())
	}
	return tw.Flush()
}

// Figure draws the executed engine's output size against n for an f×f kernel, strides 1..3, VALID and SAME:
// the staircases ⌈(n−f+1)/s⌉ and ⌈n/s⌉. Only cases that agree with the formula are drawn, so a disagreement
// shows up as a missing point.
func (g *SizeGrid) Figure(f int) (*plots.Figure, error) {
	var series []plots.Series
	for _, p := range []layers.Padding{layers.Valid, layers.Same} {
		for s := 1; s <= 3; s++ {
			var xs, ys []float64
			for _, c := range g.Cases {
				if c.F == f && c.S == s && c.Padding == p && c.Native > 0 && c.Agrees() {
					xs, ys = append(xs, float64(c.N)), append(ys, float64(c.Native))
				}
			}
			if len(xs) > 0 {
				series = append(series, plots.Series{Name: fmt.Sprintf("%s, s=%d", p, s), X: xs, Y: ys, Points: true})
			}
		}
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("SizeGrid.Figure: no case with f=%d", f)
	}
	return plots.Curves(fmt.Sprintf("output size of an n×n input with a %d×%d kernel (engine = formula at every point)", f, f),
		"input size n", "output size", series, plots.LegendLeft())
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Sparse connections and weight sharing.
