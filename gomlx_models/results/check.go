package results

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/notebook"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// Check reports every way the checkout at root disagrees with its committed results:
//
//   - the README's generated block is not what [Tables] makes of the committed results;
//   - a committed notebook's saved closing table differs from its snapshot in results/notebooks (profile, items,
//     papers' numbers, ours or verdicts), or a snapshot has no notebook;
//   - a notebook's saved closing table has a verdict column but was not collected, or, once any snapshot is
//     committed, a notebook keeps outputs of an older run (a notebook saved without outputs publishes no number
//     and awaits its `make notebooks NB=…`);
//   - a snapshot's row of an experiment disagrees with that experiment's row in results.json, where both ran in
//     the same profile and the experiment's number is not a timing: same claim, paper's number, ours and verdict.
func Check(root string) []error {
	c, err := Load(root)
	if err != nil {
		return []error{fmt.Errorf("%w (run `make run`, then `make report`)", err)}
	}
	var errs []error
	errs = append(errs, checkReadme(c)...)
	errs = append(errs, checkNotebooks(c)...)
	errs = append(errs, checkExperiments(c)...)
	return errs
}

func checkReadme(c *Committed) []error {
	raw, err := os.ReadFile(filepath.Join(c.Root, ReadmeFile))
	if err != nil {
		return []error{fmt.Errorf("README: %w", err)}
	}
	got, err := Block(string(raw))
	if err != nil {
		return []error{fmt.Errorf("README: %w", err)}
	}
	want := Tables(c)
	if got == want {
		return nil
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return []error{fmt.Errorf("README: the results tables differ from the committed results (run `convnotes report "+
				"--readme`); line %d of the generated block is\n    %q\nwhere the committed results give\n    %q", i+1, gl, wl)}
		}
	}
	return nil
}

func checkNotebooks(c *Committed) []error {
	var errs []error
	for _, sec := range slices.Sorted(maps.Keys(c.Notebooks)) {
		base := c.Notebooks[sec]
		path := filepath.Join(c.Root, NotebooksDir, base+".ipynb")
		nb, err := nbformat.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", base, err))
			continue
		}
		if _, ok := ClosingCell(nb); !ok {
			continue
		}
		saved, savedErr := Saved(nb)
		snap, ok := c.Snapshots[base]
		switch {
		case !ok && savedErr == nil:
			errs = append(errs, fmt.Errorf("%s: its saved closing table is not collected into %s/%s.json (run `convnotes "+
				"report --collect-notebooks %s/%s.ipynb` after `make notebooks`)", base, SnapshotsDir, base, NotebooksDir, base))
		case !ok && len(c.Snapshots) > 0 && Executed(nb):
			errs = append(errs, fmt.Errorf("%s: its saved outputs predate the verdict column while other notebooks have "+
				"a snapshot: re-execute it (`make notebooks NB=%s/%s.ipynb`) or clear its outputs", base, NotebooksDir, base))
		case !ok:
		case savedErr != nil:
			errs = append(errs, fmt.Errorf("%s: %w, but %s/%s.json holds one", base, savedErr, SnapshotsDir, base))
		default:
			if snap.Section != sec {
				errs = append(errs, fmt.Errorf("%s: its snapshot is of section %q", base, snap.Section))
			}
			for _, d := range Diff(saved, SnapshotTable(snap)) {
				errs = append(errs, fmt.Errorf("%s: %s", base, d))
			}
		}
	}
	for base := range c.Snapshots {
		if sec, ok := SectionOf(base); !ok || c.Notebooks[sec] != base {
			errs = append(errs, fmt.Errorf("%s/%s.json: no notebook %s/%s.ipynb", SnapshotsDir, base, NotebooksDir, base))
		}
	}
	return errs
}

func checkExperiments(c *Committed) []error {
	var errs []error
	for _, base := range slices.Sorted(maps.Keys(c.Snapshots)) {
		snap := c.Snapshots[base]
		for _, r := range snap.Rows {
			if r.Experiment == "" {
				continue
			}
			rec, ok := c.Results.Find(r.Experiment)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: row %q names experiment %q, which results.json does not have", base, r.Item,
					r.Experiment))
				continue
			}
			if snap.Profile != c.Results.Run.Profile || rec.Skipped || rec.Error != "" || rec.Timed {
				continue
			}
			for _, d := range rowDiff(r, rec) {
				errs = append(errs, fmt.Errorf("%s: %s: %s", base, r.Experiment, d))
			}
		}
	}
	return errs
}

// rowDiff lists how a notebook's row of an experiment differs from results.json's.
func rowDiff(r notebook.Row, rec reproduce.Record) []string {
	var d []string
	for _, f := range []struct{ what, nb, res string }{
		{"claim", r.Item, rec.Claim},
		{"paper's number", r.Paper, rec.PaperValue},
		{"ours", r.Ours, rec.Ours},
		{"verdict", r.Verdict.Label(), rec.Verdict},
	} {
		if f.nb != f.res {
			d = append(d, fmt.Sprintf("%s %q in the notebook, %q in results.json", f.what, f.nb, f.res))
		}
	}
	return d
}

// Executed reports whether any code cell of nb has saved outputs or an execution count.
func Executed(nb *nbformat.Notebook) bool {
	for _, c := range nb.Cells {
		if c.Type == nbformat.CellCode && (len(c.Outputs) > 0 || c.ExecutionCount != nil) {
			return true
		}
	}
	return false
}
