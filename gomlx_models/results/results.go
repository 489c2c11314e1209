// Package results keeps convnotes' numbers in one place: the committed results of the last `make run`
// (results/results.json) and the closing tables of the committed notebooks' full-profile runs
// (results/notebooks/<notebook>.json, snapshots that `make notebooks` collects). The README's results tables are
// generated from them ([Tables], [Splice]); [Check] tells whether the README and every committed notebook's
// saved closing table still agree with them.
//
// Layout of a checkout:
//
//	results/results.json               copy of out/results.json from `make run` (convnotes report --from out)
//	results/notebooks/NN_name.json     notebook.Closing of notebooks/NN_name.ipynb's full-profile run
//	README.md                          the generated tables between BeginMarker and EndMarker
package results

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/notebook"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
)

// Paths of the committed results, relative to the checkout's root.
const (
	Dir          = "results"
	ResultsFile  = "results/results.json"
	SnapshotsDir = "results/notebooks"
	NotebooksDir = "notebooks"
	ReadmeFile   = "README.md"
)

// Committed is what a checkout holds: the results of `make run` and the notebooks' closing-table snapshots.
type Committed struct {
	Root    string
	Results reproduce.Results
	// Snapshots maps a notebook's base name ("01_optimization") to its closing-table snapshot.
	Snapshots map[string]notebook.Closing
	// Notebooks maps a section ("01") to its notebook's base name, for every notebooks/NN_*.ipynb.
	Notebooks map[string]string
}

// Root returns the convnotes checkout that holds dir (the nearest folder with a go.mod above it).
func Root(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("results: %s is not inside a convnotes checkout (no go.mod above it)", abs)
		}
	}
}

// Load reads the committed results of the checkout at root. A checkout without results/results.json is an
// error; one without snapshots has none.
func Load(root string) (*Committed, error) {
	c := &Committed{Root: root, Snapshots: map[string]notebook.Closing{}, Notebooks: map[string]string{}}
	res, err := reproduce.ReadResults(filepath.Join(root, ResultsFile))
	if err != nil {
		return nil, err
	}
	c.Results = res
	nbs, err := filepath.Glob(filepath.Join(root, NotebooksDir, "*.ipynb"))
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	for _, p := range nbs {
		base := strings.TrimSuffix(filepath.Base(p), ".ipynb")
		if sec, ok := SectionOf(base); ok {
			c.Notebooks[sec] = base
		}
	}
	snaps, err := filepath.Glob(filepath.Join(root, SnapshotsDir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	for _, p := range snaps {
		snap, err := ReadSnapshot(p)
		if err != nil {
			return nil, err
		}
		c.Snapshots[strings.TrimSuffix(filepath.Base(p), ".json")] = snap
	}
	return c, nil
}

// SectionOf is the section of a notebook's base name: "01" for "01_optimization".
func SectionOf(base string) (string, bool) {
	sec, _, ok := strings.Cut(base, "_")
	return sec, ok && sec != ""
}

// ReadSnapshot reads a closing-table snapshot (notebook.Closing), checking that it names its section and
// profile and that every row has a verdict.
func ReadSnapshot(path string) (notebook.Closing, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return notebook.Closing{}, fmt.Errorf("results: %w", err)
	}
	var c notebook.Closing
	if err := json.Unmarshal(raw, &c); err != nil {
		return notebook.Closing{}, fmt.Errorf("results: %s: %w", path, err)
	}
	if c.Section == "" || c.Profile == "" || len(c.Rows) == 0 {
		return notebook.Closing{}, fmt.Errorf("results: %s is not a closing-table snapshot (no section, profile or rows)", path)
	}
	for i, r := range c.Rows {
		if r.Verdict.Verdict == "" {
			return notebook.Closing{}, fmt.Errorf("results: %s: row %d (%q) has no verdict", path, i+1, r.Item)
		}
	}
	return c, nil
}

// WriteSnapshot writes a closing-table snapshot as indented JSON.
func WriteSnapshot(path string, c notebook.Closing) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// NotebookRow is where a Long experiment's numbers come from when `make run` skipped it: a row of a notebook's
// committed closing table that shows that experiment in the same profile.
type NotebookRow struct {
	Notebook string // base name, e.g. "09_resnet"
	Snapshot notebook.Closing
	Row      notebook.Row
}

// FromNotebook finds the committed closing-table row of the experiment named name in the profile of
// results.json, in the notebook of its section first, then in any other.
func (c *Committed) FromNotebook(name, section string) (NotebookRow, bool) {
	bases := slices.Sorted(maps.Keys(c.Snapshots))
	if own, ok := c.Notebooks[section]; ok {
		if i := slices.Index(bases, own); i > 0 {
			bases = append([]string{own}, slices.Delete(bases, i, i+1)...)
		}
	}
	for _, b := range bases {
		snap := c.Snapshots[b]
		if snap.Profile != c.Results.Run.Profile {
			continue
		}
		for _, r := range snap.Rows {
			if r.Experiment == name {
				return NotebookRow{Notebook: b, Snapshot: snap, Row: r}, true
			}
		}
	}
	return NotebookRow{}, false
}
