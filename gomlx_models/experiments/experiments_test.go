package experiments

import (
	"bytes"
	"errors"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/backend"
)

func TestRegistry(t *testing.T) {
	all := All()
	if len(all) < 2 {
		t.Fatalf("only %d experiments registered", len(all))
	}
	for _, e := range all {
		if e.Section == "" || e.Claim == "" {
			t.Errorf("%s: missing section or claim", e.Name)
		}
	}
	if err := Register(all[0]); err == nil {
		t.Error("duplicate registration accepted")
	}
	if err := Register(Experiment{Name: "x"}); err == nil {
		t.Error("incomplete experiment accepted")
	}
	tests := []struct {
		names []string
		want  int
		err   error
	}{
		{nil, len(all), nil},
		{[]string{"mnist-mlp"}, 1, nil},
		{[]string{"mnist-*"}, 0, nil}, // at least one: checked below
		{[]string{"mnist-mlp", "mnist-mlp"}, 1, nil},
		{[]string{"nope"}, 0, ErrUnknown},
	}
	for _, tc := range tests {
		got, err := Select(tc.names...)
		if !errors.Is(err, tc.err) {
			t.Errorf("Select(%v): error %v, want %v", tc.names, err, tc.err)
			continue
		}
		if tc.want > 0 && len(got) != tc.want {
			t.Errorf("Select(%v) = %d experiments, want %d", tc.names, len(got), tc.want)
		}
		if tc.err == nil && len(got) == 0 {
			t.Errorf("Select(%v) selected nothing", tc.names)
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

func TestErrorVerdict(t *testing.T) {
	for _, tc := range []struct {
		ours, paper, slack float64
		want               Verdict
	}{
		{2.0, 3.05, 1, Reproduced}, {3.05, 3.05, 1, Reproduced}, {3.5, 3.05, 1, Close}, {5, 3.05, 1, NotYet},
	} {
		if got := errorVerdict(tc.ours, tc.paper, tc.slack); got != tc.want {
			t.Errorf("errorVerdict(%v, %v, %v) = %s, want %s", tc.ours, tc.paper, tc.slack, got, tc.want)
		}
	}
}

// TestQuickProfileRunsEveryExperiment runs every registered experiment in the quick profile, as CI does, and
// checks the table, the Markdown and that each figure is a real PNG.
func TestQuickProfileRunsEveryExperiment(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Backend: b, OutDir: t.TempDir(), Quick: true, Progress: io.Discard, Log: io.Discard}
	rows := Run(env, All())
	for _, r := range rows {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Experiment.Name, r.Err)
			continue
		}
		if r.Result.Ours == "" || r.Result.Verdict == "" || len(r.Result.Figures) == 0 {
			t.Errorf("%s: incomplete result %+v", r.Experiment.Name, r.Result)
		}
		for _, f := range r.Result.Figures {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Errorf("%s: %v", r.Experiment.Name, err)
				continue
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil || img.Bounds().Dx() < 100 {
				t.Errorf("%s: figure %s is not a usable PNG: %v", r.Experiment.Name, f, err)
			}
		}
	}
	var text, md bytes.Buffer
	if err := WriteText(&text, rows); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rows, "# results", env.OutDir); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !strings.Contains(text.String(), r.Experiment.Name) || !strings.Contains(md.String(), "| "+r.Experiment.Name+" |") {
			t.Errorf("%s missing from the tables", r.Experiment.Name)
		}
	}
	if !strings.Contains(md.String(), "![") {
		t.Error("markdown links no figure")
	}
}
