package models

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/summary"
)

// TestSummaryCounts checks summary.Of on the project's models against hand counts. On the Go backend the
// layers' fast convolution does extra (padded) arithmetic; summaries must still report the textbook
// multiply-adds, which layers.ImplFor ensures by building the native form while summary.Of collects.
func TestSummaryCounts(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	mlp := MLP(MLP300x100)
	tests := []struct {
		name   string
		fn     func(*model.Scope, *graph.Node) *graph.Node
		input  shapes.Shape
		params int
		macs   int64
		rows   int
	}{
		// 784·300+300 + 300·100+100 + 100·10+10 parameters; 784·300 + 300·100 + 100·10 multiply-adds.
		{"MLP 300-100", mlp, shapes.Make(dtypes.Float32, 1, 784), 266610, 266200, 5},
		// conv 3×3×1→32 VALID: 26·26·32·9 = 194,688 MACs, 320 params; pool → 13×13;
		// conv 3×3×32→64 VALID: 11·11·64·288 = 2,230,272 MACs, 18,496 params; pool → 5×5×64;
		// dense 1600→10: 16,000 MACs, 16,010 params.
		{"SmallCNN", SmallCNN.Model(), shapes.Make(dtypes.Float32, 2, 28, 28, 1), 34826, 2440960, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table, err := summary.Of(b, nil, tc.fn, tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if table.TotalParams != tc.params || table.TotalMACs != tc.macs {
				t.Errorf("params %d, MACs %d; want %d, %d\n%s", table.TotalParams, table.TotalMACs, tc.params, tc.macs, table)
			}
			if tc.rows > 0 && len(table.Rows) != tc.rows {
				t.Errorf("%d rows, want %d\n%s", len(table.Rows), tc.rows, table)
			}
		})
	}
}
