package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/results"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// TestReportCommand drives `convnotes report` on a small checkout: --from commits a main-job run, --readme
// regenerates the README between its markers, --check passes, and fails (exit 1, naming the line) once a number
// in the README is edited by hand; a quick run is refused.
func TestReportCommand(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	readme := "# example\n\n" + results.BeginMarker + "\n" + results.EndMarker + "\n"
	if err := os.WriteFile(filepath.Join(root, results.ReadmeFile), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	j := reproduce.Judge(reproduce.Below(3.05).In("%"), reproduce.MeanSE(2.4, 0.1))
	res := reproduce.Results{
		Run: reproduce.RunInfo{Finished: time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC), Command: results.MainJobCommand,
			Profile: train.ProfileFull, Backend: "backend: go", Seconds: 600},
		Sections: []reproduce.SectionTitle{{ID: "01", Title: "Optimization"}},
		Rows: []reproduce.Record{{Experiment: "mnist-mlp", Section: "01", Paper: "LeCun et al. 1998", Claim: "c",
			PaperValue: "3.05% test error", Measure: "m", Ours: "2.40% test error", Verdict: j.Label(), Judgement: &j, Seconds: 5}},
	}
	if err := res.WriteFile(filepath.Join(out, reproduce.ResultsFileName)); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := convnotes(t, nil, "report", "--root", root, "--from", out, "--note", "a quiet machine", "--readme", "--check")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(root, results.ReadmeFile))
	if err != nil {
		t.Fatal(err)
	}
	row := "| mnist-mlp | LeCun et al. 1998 | 3.05% test error | 2.40% test error | reproduced | 5s |"
	if !strings.Contains(string(raw), row) || !strings.Contains(string(raw), "a quiet machine") {
		t.Fatalf("README after --readme:\n%s", raw)
	}
	edited := strings.Replace(string(raw), "2.40% test error", "2.30% test error", 1)
	if err := os.WriteFile(filepath.Join(root, results.ReadmeFile), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = convnotes(t, nil, "report", "--root", root, "--check")
	if code != 1 || !strings.Contains(stderr, "2.30% test error") || !strings.Contains(stderr, "convnotes report --readme") {
		t.Errorf("--check after a hand edit: exit %d, stderr:\n%s", code, stderr)
	}
	res.Run.Profile = train.ProfileQuick
	if err := res.WriteFile(filepath.Join(out, reproduce.ResultsFileName)); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = convnotes(t, nil, "report", "--root", root, "--from", out)
	if code != 1 || !strings.Contains(stderr, "quick-profile run") {
		t.Errorf("--from a quick run: exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{{"report"}, {"report", "--note", "x", "--readme"}, {"report", "notebooks/01_x.ipynb", "--readme"}} {
		if _, stderr, code := convnotes(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage); stderr %q", args, code, stderr)
		}
	}
}
