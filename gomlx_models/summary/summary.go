// Package summary prints a Keras-`summary()`-style table of a GoMLX model —
// layer, kind, output shape, parameters and multiply-adds — computed from the
// real graph and the real variables, not from a hand-written description.
//
// Layers call [Mark] at their end; [Of] builds the model graph once (without
// compiling or executing it), collects those marks and, for each one, counts
// the multiply-accumulates (MACs) of the graph nodes created since the
// previous mark and the parameters of the variables under the mark's scope.
//
// Conventions (the ones the papers and Keras use):
//   - MACs are per example: the count over the whole graph divided by the batch
//     size (axis 0 of the input shape given to [Of]). Pass batch 1 to avoid any
//     doubt.
//   - Only DotGeneral (matmul, dense), FusedDense and ConvGeneral (convolution)
//     are counted. DotGeneral: prod(output dims) * prod(contracting dims).
//     Convolution: prod(output dims) * kernel spatial size * input channels per
//     group. Additions of biases, activations, pooling and normalisation count
//     0 MACs, as in the papers (AlexNet, VGG, ResNet all quote conv/fc
//     multiply-adds).
//   - Only nodes that feed the model output (or a marked node) are counted:
//     GoMLX builds a decomposed fallback next to every fused op, and that dead
//     copy must not be counted twice.
//   - MACs are those of the graph actually built, not of a textbook formula.
//     An implementation that does extra work reports it: the project's Fast
//     (flat-shift im2col) convolution computes positions it then crops and
//     zero taps for strides, so a model built with it shows more MACs than the
//     paper. Build with the Native layer implementation (the layers package's
//     scope parameter) to compare with the paper's counts.
package summary

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// collectorKey is the key under which a *collector is attached to a graph
// (graph.Graph.AttachState) while [Of] builds it.
type collectorKey struct{}

// mark is one call to Mark recorded during collection.
type mark struct {
	scope  string
	kind   string
	node   *graph.Node
	lastID graph.NodeId // id of the last node in the graph when Mark was called.
}

// collector holds the marks of one graph being summarised.
type collector struct {
	marks []mark
}

// Collecting reports whether [Of] is building g to summarise it. Layers with a faster formulation that does
// extra arithmetic (the Go backend's im2col convolution computes padded positions) use it to build their
// textbook form instead, so that the multiply-adds reported are the paper's.
func Collecting(g *graph.Graph) bool {
	if g == nil {
		return false
	}
	c, ok := g.State(collectorKey{}).(*collector)
	return ok && c != nil
}

// Mark records that the layer living in scope, of the given kind (e.g.
// "Conv2D", "MaxPool", "Dense"), ends with the node out. Layers call it as
// their last statement:
//
//	return summary.Mark(scope, "Conv2D", y)
//
// It returns out unchanged. Outside of [Of] it is a cheap no-op (one map
// lookup in the graph's state); it never panics, even with nil arguments.
func Mark(scope *model.Scope, kind string, out *graph.Node) *graph.Node {
	if scope == nil || out == nil {
		return out
	}
	g := out.Graph()
	if g == nil {
		return out
	}
	c, ok := g.State(collectorKey{}).(*collector)
	if !ok || c == nil {
		return out
	}
	last := g.LastNode()
	lastID := out.Id()
	if last != nil && last.Id() > lastID {
		lastID = last.Id()
	}
	c.marks = append(c.marks, mark{scope: scope.Scope(), kind: kind, node: out, lastID: lastID})
	return out
}

// Row is one line of a [Table]: one [Mark] call, or the "(other)" row that
// collects what no mark covers.
type Row struct {
	// Layer is the scope path given to Mark, e.g. "/conv1".
	Layer string
	// Kind is the layer kind given to Mark, e.g. "Conv2D".
	Kind string
	// OutputShape is the shape of the node given to Mark (with the batch axis).
	OutputShape shapes.Shape
	// Params is the number of scalar parameters in the variables first covered
	// by this row.
	Params int
	// TrainableParams is the part of Params held by trainable variables.
	TrainableParams int
	// MACs is the number of multiply-accumulates per example of the nodes
	// created since the previous mark.
	MACs int64
}

// OtherLayer is the Layer name of the row that collects the variables and
// MACs not covered by any mark.
const OtherLayer = "(other)"

// Table is a model summary, see [Of].
type Table struct {
	// Rows in the order the marks were made; a final "(other)" row is present
	// only when something was not covered by any mark.
	Rows []Row
	// InputShape is the shape the model was built with.
	InputShape shapes.Shape
	// OutputShape is the shape of the model output.
	OutputShape shapes.Shape
	// TotalParams is the number of scalar parameters of all variables used by
	// the graph.
	TotalParams int
	// TrainableParams is the part of TotalParams held by trainable variables.
	TrainableParams int
	// TotalMACs is the number of multiply-accumulates per example.
	TotalMACs int64
}

// Of builds the graph of modelFn once for an input of the given shape (axis 0
// is the batch), collects the [Mark] calls and returns the summary table.
// Nothing is compiled or executed.
//
// Building the graph creates the model's variables (shape only, no values) in
// store, exactly as training would; pass the store you will train with to
// summarise it, or nil to use a fresh throw-away store. Only the variables the
// graph uses are counted, so optimizer slots already in a reused store do not
// inflate the totals. The store is in inference mode (IsTraining false) while
// building.
//
// Panics raised by GoMLX while building (bad shapes, scope re-use...) are
// returned as errors.
func Of(backend compute.Backend, store *model.Store,
	modelFn func(scope *model.Scope, x *graph.Node) *graph.Node, inputShape shapes.Shape) (table *Table, err error) {
	if backend == nil {
		return nil, fmt.Errorf("summary.Of: nil backend")
	}
	if modelFn == nil {
		return nil, fmt.Errorf("summary.Of: nil model function")
	}
	if !inputShape.Ok() || inputShape.Rank() == 0 {
		return nil, fmt.Errorf("summary.Of: input shape %s must be valid and have a batch axis", inputShape)
	}
	batch := inputShape.Dimensions[0]
	if batch <= 0 {
		return nil, fmt.Errorf("summary.Of: batch size (axis 0 of %s) must be positive", inputShape)
	}
	if store == nil {
		store = model.NewStore()
	}

	g := graph.NewGraph(backend, "summary")
	defer func() {
		if r := recover(); r != nil {
			table = nil
			err = fmt.Errorf("summary.Of: building the model graph for input %s: %v", inputShape, r)
		}
		g.Finalize()
	}()
	model.SetStore(g, store)
	c := &collector{}
	g.AttachState(collectorKey{}, c)

	x := graph.Parameter(g, "x", inputShape)
	out := modelFn(store.RootScope(), x)
	if out == nil {
		return nil, fmt.Errorf("summary.Of: model function returned a nil node")
	}
	return buildTable(g, store, c, out, inputShape, batch)
}

// buildTable turns the collected marks into a Table.
func buildTable(g *graph.Graph, store *model.Store, c *collector, out *graph.Node,
	inputShape shapes.Shape, batch int) (*Table, error) {
	table := &Table{InputShape: inputShape, OutputShape: out.Shape()}

	// Live nodes: ancestors of the output and of every marked node.
	roots := []*graph.Node{out}
	for _, m := range c.marks {
		roots = append(roots, m.node)
	}
	live := liveNodes(roots)

	// MACs per node, assigned to the first mark whose range includes it.
	rowMACs := make([]int64, len(c.marks)+1) // last entry: (other).
	for _, n := range g.Nodes() {
		if !live[n] {
			continue
		}
		macs, err := nodeMACs(n)
		if err != nil {
			return nil, err
		}
		if macs == 0 {
			continue
		}
		idx := len(c.marks)
		for i, m := range c.marks {
			if n.Id() <= m.lastID {
				idx = i
				break
			}
		}
		rowMACs[idx] += macs
	}

	// Parameters: each variable used by the graph goes to the first mark whose
	// scope contains it.
	rowParams := make([]int, len(c.marks)+1)
	rowTrainable := make([]int, len(c.marks)+1)
	for v := range store.IterVariables() {
		if !v.InUseByGraph(g) {
			continue
		}
		size := v.Shape().Size()
		idx := len(c.marks)
		for i, m := range c.marks {
			if underScope(v.Scope(), m.scope) {
				idx = i
				break
			}
		}
		rowParams[idx] += size
		table.TotalParams += size
		if v.Trainable {
			rowTrainable[idx] += size
			table.TrainableParams += size
		}
	}

	for i, m := range c.marks {
		table.Rows = append(table.Rows, Row{
			Layer:           m.scope,
			Kind:            m.kind,
			OutputShape:     m.node.Shape(),
			Params:          rowParams[i],
			TrainableParams: rowTrainable[i],
			MACs:            rowMACs[i] / int64(batch),
		})
	}
	other := len(c.marks)
	if rowParams[other] != 0 || rowMACs[other] != 0 {
		table.Rows = append(table.Rows, Row{
			Layer:           OtherLayer,
			Kind:            "",
			OutputShape:     out.Shape(),
			Params:          rowParams[other],
			TrainableParams: rowTrainable[other],
			MACs:            rowMACs[other] / int64(batch),
		})
	}
	for _, r := range table.Rows {
		table.TotalMACs += r.MACs
	}
	return table, nil
}

// underScope reports whether the variable scope path varScope is scope itself
// or lies below it.
func underScope(varScope, scope string) bool {
	if scope == "/" || scope == "" {
		return true
	}
	scope = strings.TrimSuffix(scope, "/")
	return varScope == scope || strings.HasPrefix(varScope, scope+"/")
}

// liveNodes returns the set of nodes the roots depend on (roots included).
func liveNodes(roots []*graph.Node) map[*graph.Node]bool {
	live := make(map[*graph.Node]bool)
	stack := append([]*graph.Node(nil), roots...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == nil || live[n] {
			continue
		}
		live[n] = true
		stack = append(stack, n.Inputs()...)
	}
	return live
}

// nodeMACs returns the multiply-accumulates of one node, for the whole batch.
func nodeMACs(n *graph.Node) (int64, error) {
	switch n.Type() {
	case graph.NodeTypeDotGeneral:
		// prod(output dims) * prod(lhs contracting dims).
		inputs := n.Inputs()
		if len(inputs) < 1 {
			return 0, fmt.Errorf("summary: DotGeneral node #%d has no inputs", n.Id())
		}
		axes, err := intSliceField(n, "lhsContractingAxes")
		if err != nil {
			return 0, err
		}
		lhs := inputs[0].Shape()
		contract := int64(1)
		for _, a := range axes {
			if a < 0 || a >= lhs.Rank() {
				return 0, fmt.Errorf("summary: DotGeneral node #%d contracting axis %d out of range for %s", n.Id(), a, lhs)
			}
			contract *= int64(lhs.Dimensions[a])
		}
		return int64(n.Shape().Size()) * contract, nil

	case graph.NodeTypeConvGeneral:
		// prod(output dims) * kernel spatial * input channels per group
		// = prod(output dims) * kernel size / output channels.
		inputs := n.Inputs()
		if len(inputs) < 2 {
			return 0, fmt.Errorf("summary: ConvGeneral node #%d has %d inputs, want 2", n.Id(), len(inputs))
		}
		axis, err := convKernelOutputAxis(n)
		if err != nil {
			return 0, err
		}
		kernel := inputs[1].Shape()
		if axis < 0 || axis >= kernel.Rank() || kernel.Dimensions[axis] == 0 {
			return 0, fmt.Errorf("summary: ConvGeneral node #%d: bad kernel output-channel axis %d for %s", n.Id(), axis, kernel)
		}
		perOutput := int64(kernel.Size() / kernel.Dimensions[axis])
		return int64(n.Shape().Size()) * perOutput, nil

	case graph.NodeTypeFusedDense:
		// x: [..., in]; output: [..., out] -> prod(output dims) * in.
		inputs := n.Inputs()
		if len(inputs) < 2 {
			return 0, fmt.Errorf("summary: FusedDense node #%d has %d inputs, want >= 2", n.Id(), len(inputs))
		}
		x := inputs[0].Shape()
		if x.Rank() == 0 {
			return 0, fmt.Errorf("summary: FusedDense node #%d has a scalar input", n.Id())
		}
		return int64(n.Shape().Size()) * int64(x.Dimensions[x.Rank()-1]), nil
	}
	return 0, nil
}

// nodeParams returns the (unexported) parameters struct of a node, the one
// GoMLX generates per op (nodeInputsDotGeneral, nodeInputsConvGeneral). GoMLX
// exposes node types and inputs but not op parameters such as contracting axes,
// so they are read by reflection; the pinned GoMLX version is covered by tests.
func nodeParams(n *graph.Node) (reflect.Value, error) {
	v := reflect.ValueOf(n).Elem().FieldByName("inputs")
	if !v.IsValid() || v.Kind() != reflect.Interface || v.IsNil() {
		return reflect.Value{}, fmt.Errorf("summary: cannot read parameters of node #%d (%s): GoMLX internals changed", n.Id(), n.Type())
	}
	v = v.Elem()
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("summary: parameters of node #%d (%s) are a %s, not a struct", n.Id(), n.Type(), v.Kind())
	}
	return v, nil
}

// intSliceField reads the []int parameter field of a node.
func intSliceField(n *graph.Node, field string) ([]int, error) {
	params, err := nodeParams(n)
	if err != nil {
		return nil, err
	}
	f := params.FieldByName(field)
	if !f.IsValid() || f.Kind() != reflect.Slice {
		return nil, fmt.Errorf("summary: node #%d (%s) has no []int field %q: GoMLX internals changed", n.Id(), n.Type(), field)
	}
	out := make([]int, f.Len())
	for i := range out {
		out[i] = int(f.Index(i).Int())
	}
	return out, nil
}

// convKernelOutputAxis reads axes.KernelOutputChannels of a ConvGeneral node.
func convKernelOutputAxis(n *graph.Node) (int, error) {
	params, err := nodeParams(n)
	if err != nil {
		return 0, err
	}
	f := params.FieldByName("axes")
	if f.IsValid() && f.Kind() == reflect.Struct {
		f = f.FieldByName("KernelOutputChannels")
	}
	if !f.IsValid() || f.Kind() != reflect.Int {
		return 0, fmt.Errorf("summary: ConvGeneral node #%d has no axes.KernelOutputChannels: GoMLX internals changed", n.Id())
	}
	return int(f.Int()), nil
}
