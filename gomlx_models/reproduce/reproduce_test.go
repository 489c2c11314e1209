package reproduce

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func fakeSection(id string, names ...string) Section {
	s := Section{ID: id, Title: "section " + id}
	for _, n := range names {
		s.Experiments = append(s.Experiments, Experiment{Name: n, Section: id, Paper: "p", Claim: "c", PaperValue: "v",
			Measure: "m", Run: func(*Env) (*Result, error) {
				return &Result{Ours: n, Judgement: Judge(Holds(0), Exact(0))}, nil
			}})
	}
	return s
}

func TestSelectAndValidate(t *testing.T) {
	secs := []Section{fakeSection("01", "mnist-mlp", "mnist-softmax", "optim-torch"), fakeSection("02", "bn-mnist")}
	if err := Validate(secs...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		names []string
		want  []string
		err   error
	}{
		{nil, []string{"mnist-mlp", "mnist-softmax", "optim-torch", "bn-mnist"}, nil},
		{[]string{"mnist-mlp"}, []string{"mnist-mlp"}, nil},
		{[]string{"mnist-*"}, []string{"mnist-mlp", "mnist-softmax"}, nil},
		{[]string{"02", "mnist-mlp", "mnist-mlp"}, []string{"bn-mnist", "mnist-mlp"}, nil},
		{[]string{"nope"}, nil, ErrUnknown},
	}
	for _, tc := range tests {
		got, err := Select(secs, tc.names...)
		if !errors.Is(err, tc.err) {
			t.Errorf("Select(%v): error %v, want %v", tc.names, err, tc.err)
			continue
		}
		var names []string
		for _, e := range got {
			names = append(names, e.Name)
		}
		if strings.Join(names, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Select(%v) = %v, want %v", tc.names, names, tc.want)
		}
	}
	bad := []struct {
		name string
		secs []Section
	}{
		{"duplicate", []Section{fakeSection("01", "a"), fakeSection("02", "a")}},
		{"wrong section", []Section{{ID: "01", Title: "t", Experiments: fakeSection("02", "a").Experiments}}},
		{"incomplete", []Section{{ID: "01", Title: "t", Experiments: []Experiment{{Name: "x", Section: "01"}}}}},
		{"no title", []Section{{ID: "01"}}},
	}
	for _, tc := range bad {
		if err := Validate(tc.secs...); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestMainJob(t *testing.T) {
	exps := []Experiment{{Name: "a"}, {Name: "b", Long: true, FullMinutes: 40}, {Name: "c"}}
	run, skipped := MainJob(exps, false)
	if len(run) != 2 || len(skipped) != 1 || skipped[0].Name != "b" {
		t.Errorf("full profile: ran %v, skipped %v; want a, c and b", run, skipped)
	}
	if run, skipped := MainJob(exps, true); len(run) != 3 || len(skipped) != 0 {
		t.Errorf("quick profile must run every experiment, got %d run, %d skipped", len(run), len(skipped))
	}
	var text, md bytes.Buffer
	rows := SkippedRows(skipped)
	if err := WriteText(&text, rows); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rows, "", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"skipped", "convnotes reproduce b", "40 min"} {
		if !strings.Contains(text.String()+md.String(), want) {
			t.Errorf("skipped row lacks %q:\n%s\n%s", want, text.String(), md.String())
		}
	}
}

// TestFeatureMap: At reads row-major HWC with zeros outside; MaxAbsDiffMaps is the largest difference, +Inf for
// maps of different sizes.
func TestFeatureMap(t *testing.T) {
	m := FeatureMap{H: 2, W: 3, C: 2, Pix: []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}
	for _, tc := range []struct {
		y, x, c int
		want    float64
	}{{0, 0, 0, 0}, {0, 2, 1, 5}, {1, 0, 0, 6}, {1, 2, 1, 11}, {-1, 0, 0, 0}, {2, 0, 0, 0}, {0, 3, 0, 0}, {0, -1, 1, 0}} {
		if got := m.At(tc.y, tc.x, tc.c); got != tc.want {
			t.Errorf("At(%d, %d, %d) = %g, want %g", tc.y, tc.x, tc.c, got, tc.want)
		}
	}
	n := FeatureMap{H: 2, W: 3, C: 2, Pix: append([]float64(nil), m.Pix...)}
	n.Pix[7] -= 0.25
	n.Pix[3] += 0.5
	if d := MaxAbsDiffMaps(m, n); d != 0.5 {
		t.Errorf("MaxAbsDiffMaps = %g, want 0.5", d)
	}
	if d := MaxAbsDiffMaps(m, FeatureMap{H: 3, W: 2, C: 2, Pix: m.Pix}); !math.IsInf(d, 1) {
		t.Errorf("maps of different shapes: %g, want +Inf", d)
	}
}

// TestFeatureMapTensors: the random map and its tensor hold the same values, and FeatureMapOf reads back the
// first image of an NHWC tensor.
func TestFeatureMapTensors(t *testing.T) {
	m, x := RandomFeatureMap(rand.New(rand.NewPCG(1, 2)), 2, 3, 4)
	if d := x.Shape().Dimensions; fmt.Sprint(d) != "[1 2 3 4]" {
		t.Fatalf("tensor shape %v", d)
	}
	back, err := FeatureMapOf(x)
	if err != nil {
		t.Fatal(err)
	}
	if MaxAbsDiffMaps(m, back) != 0 || m.Pix[0] == m.Pix[1] {
		t.Errorf("map %v and tensor %v differ", m.Pix, back.Pix)
	}
	two := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 2, 1, 1, 3)
	first, err := FeatureMapOf(two)
	if err != nil || first.H != 1 || first.W != 1 || first.C != 3 || fmt.Sprint(first.Pix) != "[1 2 3]" {
		t.Errorf("first image %+v, %v", first, err)
	}
	if _, err := FeatureMapOf(tensors.FromFlatDataAndDimensions([]float32{1, 2}, 1, 2)); err == nil {
		t.Error("a rank-2 tensor was accepted")
	}
}
