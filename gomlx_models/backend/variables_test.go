package backend

import (
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestExecSeesVariableUpdates pins the contract every trainer, evaluator and optimizer trajectory in convnotes
// relies on: a compiled model.Exec reads a variable's current value on every call, whether the value was changed
// from Go (Variable.SetValue) or by another executable (a training step), and an executable that updates a
// variable starts each call from the value the previous call left. GoMLX v0.28.15–v0.28.16 with compute
// v0.1.13–v0.1.14 broke all three on the Go backend (Capabilities.PreferConstantsForVariables froze every
// variable of a graph not marked as training into a constant at compile time), which is why go.mod pins the
// newest pair before it.
func TestExecSeesVariableUpdates(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// change moves the variable from 1 to 6 between two reads.
		change func(t *testing.T, store *model.Store, v *model.Variable)
	}{
		{"SetValue from Go", func(t *testing.T, _ *model.Store, v *model.Variable) {
			t.Helper()
			if err := v.SetValue(tensors.FromValue([]float32{6})); err != nil {
				t.Fatal(err)
			}
		}},
		{"another Exec updates it", func(t *testing.T, store *model.Store, v *model.Variable) {
			t.Helper()
			add, err := model.NewExec(b, store, func(_ *model.Scope, g *graph.Graph) *graph.Node {
				next := graph.AddScalar(v.NodeValue(g), 1)
				v.SetNodeValue(next)
				return next
			})
			if err != nil {
				t.Fatal(err)
			}
			defer add.Finalize()
			for step := range 5 {
				outs, err := add.Call()
				if err != nil {
					t.Fatal(err)
				}
				if got, want := outs[0].Value().([]float32)[0], float32(step+2); got != want {
					t.Errorf("update step %d returned %g, want %g (the update restarted from a stale value)", step, got, want)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := model.NewStore()
			v, err := store.RootScope().CreateVariable("v", tensors.FromValue([]float32{1}))
			if err != nil {
				t.Fatal(err)
			}
			read, err := model.NewExec(b, store, func(_ *model.Scope, g *graph.Graph) *graph.Node {
				return graph.MulScalar(v.NodeValue(g), 10)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer read.Finalize()
			readOnce := func() float32 {
				t.Helper()
				outs, err := read.Call()
				if err != nil {
					t.Fatal(err)
				}
				return outs[0].Value().([]float32)[0]
			}
			if got := readOnce(); got != 10 {
				t.Fatalf("first read = %g, want 10", got)
			}
			tc.change(t, store, v)
			if got := readOnce(); got != 60 {
				t.Errorf("read after the variable became 6 = %g, want 60 (the compiled Exec kept a stale value)", got)
			}
		})
	}
}
