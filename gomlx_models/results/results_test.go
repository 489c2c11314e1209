package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convnotes/convnotes/gomlx_models/notebook"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// fixture is a small checkout: results.json of a main job with two sections, two notebooks whose saved closing
// tables are their snapshots, and a README generated from them.
type fixture struct {
	t     *testing.T
	root  string
	res   reproduce.Results
	snaps map[string]notebook.Closing
}

func judged(t *testing.T, c reproduce.Claim, seeds []int64, vals []float64) reproduce.Judgement {
	t.Helper()
	e, err := reproduce.Seeded(seeds, vals)
	if err != nil {
		t.Fatal(err)
	}
	return reproduce.Judge(c, e)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, root: t.TempDir(), snaps: map[string]notebook.Closing{}}
	if err := os.WriteFile(filepath.Join(f.root, "go.mod"), []byte("module example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seeds := []int64{1, 2, 3}
	mlp := judged(t, reproduce.Below(3.05).In("%"), seeds, []float64{2.4, 2.5, 2.45})
	drop := judged(t, reproduce.Above(0), seeds, []float64{0.01, -0.02, 0.015})
	batch := judged(t, reproduce.Above(1), seeds, []float64{3.1, 3.4, 2.9})
	shown := reproduce.Judge(reproduce.Holds(1e-12), reproduce.Exact(0))
	f.res = reproduce.Results{
		Run: reproduce.RunInfo{Finished: time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC), Command: MainJobCommand,
			Profile: train.ProfileFull, Backend: "backend: go", Seconds: 840, Machine: "linux/amd64, 2 CPUs"},
		Sections: []reproduce.SectionTitle{{ID: "01", Title: "Optimization"}, {ID: "02", Title: "Regularization"}},
		Rows: []reproduce.Record{
			{Experiment: "mnist-mlp", Section: "01", Paper: "LeCun et al. 1998, Fig. 9", Claim: "a 784-300-100-10 network",
				PaperValue: "3.05% test error", Measure: "m", Verdict: mlp.Label(), Judgement: &mlp,
				Ours: "2.45 ± 0.05% test error (seeds 1, 2, 3)", Seconds: 25},
			{Experiment: "optim-batch-size", Section: "01", Paper: "d2l §12.5", Claim: "mini-batches win per second",
				PaperValue: "mini-batch first", Measure: "m", Long: true, Timed: true, FullMinutes: 6, Skipped: true,
				Command: "convnotes reproduce optim-batch-size", Verdict: "skipped"},
			{Experiment: "bn-mnist", Section: "02", Paper: "Ioffe & Szegedy 2015, Fig. 1", Claim: "BN ahead",
				PaperValue: "ahead at every step", Measure: "m", Long: true, FullMinutes: 30, Skipped: true,
				Command: "convnotes reproduce bn-mnist", Verdict: "skipped"},
			{Experiment: "dropout-gap", Section: "02", Paper: "Srivastava et al. 2014 | §6.1", Claim: "a smaller gap",
				PaperValue: "smaller", Measure: "m", Verdict: drop.Label(), Judgement: &drop, Ours: "gap −0.002 ± 0.02", Seconds: 7},
		},
	}
	f.snaps["01_optimization"] = notebook.Closing{Section: "01", Profile: train.ProfileFull,
		Finished: time.Date(2026, 12, 8, 11, 0, 0, 0, time.UTC), Rows: []notebook.Row{
			{Item: "EMA momentum with η/(1−β) vs torch's form", Paper: "the same trajectory", Ours: "max deviation 0", Verdict: shown},
			{Item: "a 784-300-100-10 network", Paper: "3.05% test error", Ours: "2.45 ± 0.05% test error (seeds 1, 2, 3)",
				Verdict: mlp, Experiment: "mnist-mlp"},
			{Item: "mini-batches win per second", Paper: "mini-batch first", Ours: "3.1 ± 0.3× faster <seeds 1, 2, 3>",
				Verdict: batch, Experiment: "optim-batch-size"},
		}}
	f.snaps["02_regularization"] = notebook.Closing{Section: "02", Profile: train.ProfileFull,
		Finished: time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC), Rows: []notebook.Row{
			{Item: "a smaller gap", Paper: "smaller", Ours: "gap −0.002 ± 0.02", Verdict: drop, Experiment: "dropout-gap"},
		}}
	f.write()
	return f
}

// write saves results.json, the snapshots, the notebooks with their saved closing tables, and the README
// generated from them.
func (f *fixture) write() {
	t := f.t
	t.Helper()
	if err := os.MkdirAll(filepath.Join(f.root, Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.res.WriteFile(filepath.Join(f.root, ResultsFile)); err != nil {
		t.Fatal(err)
	}
	for base, snap := range f.snaps {
		if err := WriteSnapshot(filepath.Join(f.root, SnapshotsDir, base+".json"), snap); err != nil {
			t.Fatal(err)
		}
		f.writeNotebook(base, snap)
	}
	c, err := Load(f.root)
	if err != nil {
		t.Fatal(err)
	}
	readme := "# example\n\nprose\n\n" + BeginMarker + "\n" + Tables(c) + EndMarker + "\n\nmore prose\n"
	if err := os.WriteFile(filepath.Join(f.root, ReadmeFile), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeNotebook saves a notebook whose closing cell shows snap's table as Env.Table displays it in GoNB.
func (f *fixture) writeNotebook(base string, snap notebook.Closing) {
	f.t.Helper()
	one := 1
	nb := &nbformat.Notebook{NBFormat: 4, NBFormatMinor: 5, Cells: []*nbformat.Cell{
		{ID: "intro", Type: nbformat.CellMarkdown, Source: "# " + base},
		{ID: "closing", Type: nbformat.CellCode, Source: "%%\nCheck(env.Closing())", ExecutionCount: &one,
			Outputs: []*nbformat.Output{{Type: "display_data", Data: map[string]any{
				"text/html": notebook.HTMLTable(snap.Table()...), "text/plain": "the table as text"}}}},
	}}
	if err := os.MkdirAll(filepath.Join(f.root, NotebooksDir), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := nb.WriteFile(filepath.Join(f.root, NotebooksDir, base+".ipynb")); err != nil {
		f.t.Fatal(err)
	}
}

// edit replaces old by new in the file at rel (which must contain it).
func (f *fixture) edit(rel, old, new string) {
	f.t.Helper()
	p := filepath.Join(f.root, rel)
	raw, err := os.ReadFile(p)
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.Contains(string(raw), old) {
		f.t.Fatalf("%s does not contain %q", rel, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(raw), old, new, 1)), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func TestTables(t *testing.T) {
	f := newFixture(t)
	c, err := Load(f.root)
	if err != nil {
		t.Fatal(err)
	}
	got := Tables(c)
	for _, want := range []string{
		"Measured 2026-12-08 10:00 UTC with `make run` (= `convnotes reproduce --out out`): full profile, go; 840 s (14.0 min) in all, on linux/amd64, 2 CPUs.",
		"### 01 Optimization ([notebook](notebooks/01_optimization.ipynb))",
		"| mnist-mlp | LeCun et al. 1998, Fig. 9 | 3.05% test error | 2.45 ± 0.05% test error (seeds 1, 2, 3) | reproduced | 25s |",
		// The Long experiment's numbers come from notebook 01's snapshot, marked and explained.
		"| optim-batch-size † | d2l §12.5 | mini-batch first | 3.1 ± 0.3× faster <seeds 1, 2, 3> | reproduced | — |",
		"† optim-batch-size: from notebook 01_optimization's full-profile run (`make notebooks NB=notebooks/01_optimization.ipynb`, finished 2026-12-08 11:00 UTC); `make run` skips it (Long, about 6 min: `convnotes reproduce optim-batch-size`).",
		// A Long experiment no notebook measured shows its command.
		"| bn-mnist | Ioffe & Szegedy 2015, Fig. 1 | ahead at every step | not run by `make run`: Long (about 30 min); `convnotes reproduce bn-mnist` | skipped | — |",
		// Pipes are escaped.
		"| dropout-gap | Srivastava et al. 2014 \\| §6.1 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("tables lack\n  %s\ngot:\n%s", want, got)
		}
	}
	// A quick-profile snapshot never stands in for a full-profile row.
	snap := c.Snapshots["01_optimization"]
	snap.Profile = train.ProfileQuick
	c.Snapshots["01_optimization"] = snap
	if got := Tables(c); strings.Contains(got, "optim-batch-size †") {
		t.Error("a quick-profile notebook row was reported as the full profile's")
	}
}

func TestSplice(t *testing.T) {
	readme := "a\n" + BeginMarker + "\nold\n" + EndMarker + "\nb\n"
	got, err := Splice(readme, "new\n")
	if err != nil || got != "a\n"+BeginMarker+"\nnew\n"+EndMarker+"\nb\n" {
		t.Fatalf("Splice = %q, %v", got, err)
	}
	if block, err := Block(got); err != nil || block != "new\n" {
		t.Errorf("Block = %q, %v", block, err)
	}
	for _, bad := range []string{"no markers", EndMarker + BeginMarker, BeginMarker + BeginMarker + EndMarker} {
		if _, err := Splice(bad, "x"); !errors.Is(err, ErrNoMarkers) {
			t.Errorf("Splice(%q): %v, want ErrNoMarkers", bad, err)
		}
	}
}

// TestCheck: a consistent checkout passes; each way a number can drift is caught, with a message that says
// where.
func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *fixture)
		want   string // "" means no disagreement
	}{
		{"consistent", func(*fixture) {}, ""},
		{"a number edited in the README", func(f *fixture) { f.edit(ReadmeFile, "2.45 ± 0.05%", "2.40 ± 0.05%") },
			"README: the results tables differ"},
		{"a verdict edited in the README", func(f *fixture) { f.edit(ReadmeFile, "| reproduced | 25s |", "| close | 25s |") },
			"README: the results tables differ"},
		{"README markers removed", func(f *fixture) { f.edit(ReadmeFile, EndMarker, "") }, "no results markers"},
		{"a new run committed, README not regenerated", func(f *fixture) {
			f.edit(ResultsFile, `"ours": "gap −0.002 ± 0.02"`, `"ours": "gap −0.003 ± 0.02"`)
		}, "README: the results tables differ"},
		{"a number edited in a notebook's saved output", func(f *fixture) {
			f.edit(filepath.Join(NotebooksDir, "02_regularization.ipynb"), "gap −0.002", "gap −0.004")
		}, "02_regularization: row 1 ours"},
		{"a verdict edited in a snapshot", func(f *fixture) {
			f.edit(filepath.Join(SnapshotsDir, "01_optimization.json"), `"verdict": "shown"`, `"verdict": "reproduced"`)
		}, "01_optimization: row 1 verdict"},
		{"the notebook was re-run in the quick profile", func(f *fixture) {
			f.edit(filepath.Join(NotebooksDir, "01_optimization.ipynb"), "ours (full profile)", "ours (quick profile)")
		}, "profile quick in the notebook, full in the snapshot"},
		{"a snapshot missing while others are committed", func(f *fixture) {
			os.Remove(filepath.Join(f.root, SnapshotsDir, "02_regularization.json"))
		}, "02_regularization: its saved closing table is not collected"},
		{"a notebook with old outputs while others are collected", func(f *fixture) {
			os.Remove(filepath.Join(f.root, SnapshotsDir, "02_regularization.json"))
			f.edit(filepath.Join(NotebooksDir, "02_regularization.ipynb"), "verdict", "notes")
		}, "02_regularization: its saved outputs predate the verdict column"},
		{"a notebook saved without outputs awaits its run: allowed", func(f *fixture) {
			os.Remove(filepath.Join(f.root, SnapshotsDir, "02_regularization.json"))
			f.clearOutputs(t, "02_regularization")
		}, ""},
		{"a snapshot without its notebook", func(f *fixture) {
			os.Remove(filepath.Join(f.root, NotebooksDir, "02_regularization.ipynb"))
		}, "no notebook notebooks/02_regularization.ipynb"},
		{"a notebook's row of an experiment disagrees with results.json", func(f *fixture) {
			snap := f.snaps["02_regularization"]
			snap.Rows[0].Ours = "gap −0.001 ± 0.02"
			f.write()
		}, `02_regularization: dropout-gap: ours "gap −0.001 ± 0.02" in the notebook, "gap −0.002 ± 0.02" in results.json`},
		{"a row names an unknown experiment", func(f *fixture) {
			f.snaps["02_regularization"].Rows[0].Experiment = "dropout-gapp"
			f.write()
		}, `names experiment "dropout-gapp"`},
		{"a timed experiment's numbers differ between runs: allowed", func(f *fixture) {
			f.res.Rows[1].Skipped, f.res.Rows[1].Ours, f.res.Rows[1].Verdict = false, "2.9× faster", "reproduced"
			f.write()
		}, ""},
		{"a quick notebook run is not compared with a full make run", func(f *fixture) {
			snap := f.snaps["02_regularization"]
			snap.Profile = train.ProfileQuick
			snap.Rows[0].Ours = "gap 0.1"
			f.snaps["02_regularization"] = snap
			f.write()
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.change(f)
			errs := Check(f.root)
			if tc.want == "" {
				for _, e := range errs {
					t.Error(e)
				}
				return
			}
			found := false
			for _, e := range errs {
				found = found || strings.Contains(e.Error(), tc.want)
			}
			if !found {
				t.Errorf("want a disagreement containing %q, got %v", tc.want, errs)
			}
		})
	}
}

// TestCheckBeforeAnyNotebookRun: before the first `make notebooks`, notebooks whose saved outputs predate the
// verdict column are not yet required to have snapshots; one with a verdict table is.
func TestCheckBeforeAnyNotebookRun(t *testing.T) {
	f := newFixture(t)
	for base := range f.snaps {
		os.Remove(filepath.Join(f.root, SnapshotsDir, base+".json"))
	}
	f.edit(filepath.Join(NotebooksDir, "02_regularization.ipynb"), "verdict", "notes")
	c, err := Load(f.root)
	if err != nil {
		t.Fatal(err)
	}
	readme := BeginMarker + "\n" + Tables(c) + EndMarker + "\n"
	if err := os.WriteFile(filepath.Join(f.root, ReadmeFile), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	errs := Check(f.root)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "01_optimization: its saved closing table is not collected") {
		t.Errorf("got %v, want only 01_optimization's missing snapshot", errs)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("a checkout without results.json loaded")
	}
}

// TestCollect: a full-profile snapshot that matches the notebook's saved table is copied; a quick one, or one of
// another run, is refused with the command to run.
func TestCollect(t *testing.T) {
	f := newFixture(t)
	os.RemoveAll(filepath.Join(f.root, SnapshotsDir))
	out := func(sec string) string { return filepath.Join(f.root, "out", "notebooks", sec, notebook.ClosingFile) }
	if err := WriteSnapshot(out("01"), f.snaps["01_optimization"]); err != nil {
		t.Fatal(err)
	}
	quick := f.snaps["02_regularization"]
	quick.Profile = train.ProfileQuick
	if err := WriteSnapshot(out("02"), quick); err != nil {
		t.Fatal(err)
	}
	written, err := Collect(f.root)
	if len(written) != 1 || !strings.HasSuffix(written[0], filepath.Join(SnapshotsDir, "01_optimization.json")) {
		t.Errorf("written %v, want results/notebooks/01_optimization.json", written)
	}
	if err == nil || !strings.Contains(err.Error(), "quick-profile run") {
		t.Errorf("collecting a quick run: %v", err)
	}
	other := f.snaps["02_regularization"]
	other.Rows = append([]notebook.Row(nil), other.Rows...)
	other.Rows[0].Ours = "gap 0.5"
	if err := WriteSnapshot(out("02"), other); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(f.root, "notebooks/02_*.ipynb"); err == nil || !strings.Contains(err.Error(), "make notebooks NB=notebooks/02_regularization.ipynb") {
		t.Errorf("collecting another run: %v", err)
	}
	if _, err := Collect(f.root, "notebooks/99_*.ipynb"); err == nil {
		t.Error("a pattern matching no notebook was accepted")
	}
	snap, err := ReadSnapshot(filepath.Join(f.root, SnapshotsDir, "01_optimization.json"))
	if err != nil || len(Diff(SnapshotTable(snap), SnapshotTable(f.snaps["01_optimization"]))) > 0 {
		t.Errorf("collected snapshot differs: %v", err)
	}
}

// TestAdopt: only the full profile's main job becomes the committed results, with the note said of it.
func TestAdopt(t *testing.T) {
	f := newFixture(t)
	out := t.TempDir()
	write := func(mut func(*reproduce.Results)) {
		r := f.res
		r.Run.Names = nil
		mut(&r)
		if err := r.WriteFile(filepath.Join(out, reproduce.ResultsFileName)); err != nil {
			t.Fatal(err)
		}
	}
	write(func(r *reproduce.Results) { r.Run.Profile = train.ProfileQuick })
	if _, err := Adopt(f.root, out, ""); err == nil || !strings.Contains(err.Error(), "quick-profile run") {
		t.Errorf("adopting a quick run: %v", err)
	}
	write(func(r *reproduce.Results) { r.Run.Names = []string{"01"} })
	if _, err := Adopt(f.root, out, ""); err == nil || !strings.Contains(err.Error(), "run of 01 only") {
		t.Errorf("adopting a partial run: %v", err)
	}
	write(func(r *reproduce.Results) {})
	if _, err := Adopt(f.root, out, "nothing else running"); err != nil {
		t.Fatal(err)
	}
	res, err := reproduce.ReadResults(filepath.Join(f.root, ResultsFile))
	if err != nil || res.Run.Note != "nothing else running" || len(res.Rows) != len(f.res.Rows) {
		t.Errorf("adopted %+v, %v", res.Run, err)
	}
}

func TestSaved(t *testing.T) {
	snap := notebook.Closing{Profile: train.ProfileFull, Rows: []notebook.Row{{Item: "a <b> & \"c\"", Paper: "p|q", Ours: "1 ± 2",
		Verdict: reproduce.Judge(reproduce.Holds(0), reproduce.Exact(0))}}}
	nb := &nbformat.Notebook{Cells: []*nbformat.Cell{{Type: nbformat.CellCode, Source: "env.Closing()", Outputs: []*nbformat.Output{
		{Type: "display_data", Data: map[string]any{"text/html": notebook.HTMLTable([]string{"a", "b"})}},
		{Type: "display_data", Data: map[string]any{"text/html": notebook.HTMLTable(snap.Table()...)}},
	}}}}
	got, err := Saved(nb)
	if err != nil || len(Diff(got, SnapshotTable(snap))) > 0 {
		t.Errorf("Saved = %+v, %v", got, err)
	}
	nb.Cells[0].Outputs = nb.Cells[0].Outputs[:1]
	if _, err := Saved(nb); !errors.Is(err, ErrNoClosingTable) {
		t.Errorf("no closing table: %v", err)
	}
	nb.Cells[0].Source = "fmt.Println()"
	if _, err := Saved(nb); !errors.Is(err, ErrNoClosingTable) {
		t.Errorf("no closing cell: %v", err)
	}
}

// clearOutputs saves the notebook base with every code cell's outputs and execution count removed.
func (f *fixture) clearOutputs(t *testing.T, base string) {
	t.Helper()
	p := filepath.Join(f.root, NotebooksDir, base+".ipynb")
	nb, err := nbformat.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range nb.Cells {
		c.Outputs, c.ExecutionCount = nil, nil
	}
	if err := nb.WriteFile(p); err != nil {
		t.Fatal(err)
	}
}
