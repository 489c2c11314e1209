// Package notebook is the set-up every convnotes notebook shares: one line opens the section's [Env] (backend,
// profile, output folder), [Must] and [Check] stop a cell on an error, [Env.Show] displays a figure inline and
// saves it, and [Env.Record] / [Env.Closing] build the closing table paper | ours from values the notebook
// measured in earlier cells.
//
// A notebook's set-up cell is:
//
//	import "github.com/convnotes/convnotes/gomlx_models/notebook"
//	var env = notebook.Must(notebook.Open("01"))
package notebook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/plots"
)

// Env is a notebook's environment: the reproduction environment of its section (backend, profile, output
// folder) with no progress bars on standard error (GoNB shows an HTML one).
type Env struct {
	*reproduce.Env
	// Section is the notebook's number, e.g. "01".
	Section string
	// inNotebook is whether figures are displayed inline (GoNB) or only saved.
	inNotebook bool
	out        io.Writer
}

// Open returns the Env of notebook section: the default backend (or $CONVNOTES_BACKEND), the profile of
// train.CurrentProfile() (nbtest sets CONVNOTES_QUICK=1), and figures and the closing table kept under
// <module root>/out/notebooks/<section> (git-ignored) — or, outside a checkout, under the user's cache folder.
func Open(section string) (*Env, error) {
	if section == "" || plots.SafeName(section) != section {
		return nil, fmt.Errorf("notebook: bad section name %q", section)
	}
	dir, err := outDir(section)
	if err != nil {
		return nil, err
	}
	env, err := reproduce.NewEnv("", dir)
	if err != nil {
		return nil, fmt.Errorf("notebook %s: %w", section, err)
	}
	env.Progress = io.Discard
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("notebook %s: %w", section, err)
	}
	return &Env{Env: env, Section: section, inNotebook: gonbui.IsNotebook, out: os.Stdout}, nil
}

func outDir(section string) (string, error) {
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return filepath.Join(d, "out", "notebooks", section), nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("notebook %s: no checkout and no cache folder for the figures: %w", section, err)
	}
	return filepath.Join(cache, "convnotes", "notebooks", section), nil
}

// Must returns v, or stops the cell with err: a notebook cell is a program's main, and nbtest reports the
// panic together with the cell.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Check stops the cell when err is not nil.
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// Show displays each figure inline (in GoNB) and saves it as <name>.png in the output folder; several figures
// are saved as <name>_1.png, <name>_2.png, …. Outside a notebook it prints the saved paths.
func (e *Env) Show(name string, figs ...*plots.Figure) error {
	for i, fig := range figs {
		if fig == nil {
			return fmt.Errorf("notebook: figure %q is nil", name)
		}
		n := name
		if len(figs) > 1 {
			n = fmt.Sprintf("%s_%d", name, i+1)
		}
		path, err := fig.SaveIn(e.OutDir, n)
		if err != nil {
			return fmt.Errorf("notebook: figure %q: %w", n, err)
		}
		if !e.inNotebook {
			fmt.Fprintf(e.out, "figure saved to %s\n", path)
			continue
		}
		png, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("notebook: figure %q: %w", n, err)
		}
		gonbui.DisplayPng(png)
		if err := syncDisplay(displayTimeout); err != nil {
			return fmt.Errorf("notebook: displaying %q in GoNB: %w", n, err)
		}
	}
	return nil
}

// displayTimeout bounds the wait for GoNB to acknowledge a figure.
const displayTimeout = time.Minute

// syncDisplay waits until GoNB has taken everything sent so far off the display pipe and published it. GoNB
// stops reading the pipe when the cell's program exits, so without this a figure shown just before a cell ends
// can be lost, or reach the notebook after the cell's idle status (where a client no longer looks for it).
func syncDisplay(timeout time.Duration) error {
	done := make(chan struct{})
	go func() {
		gonbui.Sync()
		close(done)
	}()
	select {
	case <-done:
		return gonbui.Error()
	case <-time.After(timeout):
		return fmt.Errorf("GoNB did not acknowledge the figure within %s", timeout)
	}
}

// Row is one line of the closing table: what the paper (or the notes) says, and what we measured.
type Row = reproduce.Finding

// closingPath keeps the closing table's rows between cells (each GoNB cell runs as a new process, so values
// cannot stay in memory).
func (e *Env) closingPath() string { return filepath.Join(e.OutDir, "closing_table.json") }

// Start begins a run of the notebook: it forgets the closing-table rows of an earlier run and prints the
// backend, the profile and the output folder.
func (e *Env) Start() error {
	if err := os.Remove(e.closingPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("notebook %s: %w", e.Section, err)
	}
	_, err := fmt.Fprintf(e.out, "backend %s, %s profile, figures in %s\n", e.Backend.Name(), e.Profile, e.OutDir)
	return err
}

// Record adds rows to the closing table, replacing rows with the same Item.
func (e *Env) Record(rows ...Row) error {
	old, err := e.rows()
	if err != nil {
		return err
	}
	for _, r := range rows {
		if i := slices.IndexFunc(old, func(o Row) bool { return o.Item == r.Item }); i >= 0 {
			old[i] = r
		} else {
			old = append(old, r)
		}
	}
	raw, err := json.MarshalIndent(old, "", " ")
	if err != nil {
		return fmt.Errorf("notebook %s: %w", e.Section, err)
	}
	tmp := e.closingPath() + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("notebook %s: %w", e.Section, err)
	}
	if err := os.Rename(tmp, e.closingPath()); err != nil {
		return fmt.Errorf("notebook %s: %w", e.Section, err)
	}
	return nil
}

func (e *Env) rows() ([]Row, error) {
	raw, err := os.ReadFile(e.closingPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notebook %s: %w", e.Section, err)
	}
	var rows []Row
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("notebook %s: reading %s (run the notebook from its first cell): %w", e.Section,
			e.closingPath(), err)
	}
	return rows, nil
}

// Closing prints the closing table paper / notes | ours of every row recorded since [Env.Start], in order.
func (e *Env) Closing() error {
	rows, err := e.rows()
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("notebook %s: nothing was recorded: run the cells above first", e.Section)
	}
	tw := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tpaper / notes\tours (%s profile)\n", e.Profile)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Item, r.Paper, r.Ours)
	}
	return tw.Flush()
}
