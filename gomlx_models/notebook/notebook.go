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
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
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

// moduleRoot is the convnotes checkout above the working folder, if there is one.
func moduleRoot() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

func outDir(section string) (string, error) {
	if root, ok := moduleRoot(); ok {
		return filepath.Join(root, "out", "notebooks", section), nil
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
			fmt.Fprintf(e.out, "figure saved to %s\n", relToModule(path))
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

// Row is one line of the closing table: what the paper (or the notes) says, what we measured, and the verdict
// of [reproduce.Judge] (every row has one; [Env.Judge] marks it indicative in the quick profile).
type Row = reproduce.Finding

// closingPath keeps the closing table's rows between cells: each GoNB cell runs as a new process, so values
// cannot stay in memory. The file lives in the kernel's own temporary folder ($GONB_TMP_DIR), so two runs of
// the same notebook in two kernels never mix their rows; outside GoNB (scripts, tests) it is in the output
// folder.
func (e *Env) closingPath() string {
	if dir := os.Getenv(protocol.GONB_TMP_DIR_ENV); dir != "" {
		return filepath.Join(dir, "convnotes-closing-"+e.Section+".json")
	}
	return filepath.Join(e.OutDir, "closing_rows.json")
}

// ClosingFile is the name, in the notebook's output folder, of the snapshot [Env.Closing] writes of the table it
// prints: the rows of one run with the profile and the time.
const ClosingFile = "closing_table.json"

// Closing is a snapshot of a notebook's closing table, as [Env.Closing] writes it to [ClosingFile].
type Closing struct {
	Section  string        `json:"section"`
	Profile  train.Profile `json:"profile"`
	Finished time.Time     `json:"finished"`
	Rows     []Row         `json:"rows"`
}

// Table is the closing table as [Env.Closing] shows it: the header "", "paper / notes", "ours (P profile)",
// "verdict", then item | paper | ours | verdict label per row.
func (c Closing) Table() [][]string {
	t := [][]string{{"", "paper / notes", fmt.Sprintf("ours (%s profile)", c.Profile), "verdict"}}
	for _, r := range c.Rows {
		t = append(t, []string{r.Item, r.Paper, r.Ours, r.Verdict.Label()})
	}
	return t
}

// Start begins a run of the notebook: it forgets the closing-table rows of an earlier run in this kernel and
// prints the backend, the profile and the output folder.
func (e *Env) Start() error {
	if err := os.Remove(e.closingPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("notebook %s: %w", e.Section, err)
	}
	_, err := fmt.Fprintf(e.out, "backend %s, %s profile, figures in %s\n", e.Backend.Name(), e.Profile, relToModule(e.OutDir))
	return err
}

// relToModule prints a path under the convnotes checkout relative to its root (outputs must not hold this
// machine's absolute paths).
func relToModule(path string) string {
	if root, ok := moduleRoot(); ok {
		if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return path
}

// Record adds rows to the closing table, replacing rows with the same Item. Every row needs its verdict.
func (e *Env) Record(rows ...Row) error {
	for _, r := range rows {
		if r.Verdict.Verdict == "" {
			return fmt.Errorf("notebook %s: row %q has no verdict (judge it with env.Judge)", e.Section, r.Item)
		}
	}
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
	return writeJSON(e.closingPath(), old, e.Section)
}

// RecordResult adds the row of experiment name of sec, with the result res a cell obtained by running the
// experiment's own study and verdict (so the row equals `convnotes reproduce name`'s in the same profile).
func (e *Env) RecordResult(sec reproduce.Section, name string, res *reproduce.Result) error {
	exp, err := sec.Find(name)
	if err != nil {
		return fmt.Errorf("notebook %s: %w", e.Section, err)
	}
	if res == nil {
		return fmt.Errorf("notebook %s: %s has no result", e.Section, name)
	}
	return e.Record(reproduce.FindingOf(exp, res))
}

func writeJSON(path string, v any, section string) error {
	raw, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("notebook %s: %w", section, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("notebook %s: %w", section, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("notebook %s: %w", section, err)
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

// Closing prints the closing table — item | paper / notes | ours | verdict — of every row recorded since
// [Env.Start] in this kernel, in order, and saves it as [ClosingFile] in the output folder. In GoNB the table is
// displayed as HTML with the plain text as its fallback (the REPL and nbconvert's text output show that).
func (e *Env) Closing() error {
	rows, err := e.rows()
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("notebook %s: nothing was recorded: run the cells above first", e.Section)
	}
	snap := Closing{Section: e.Section, Profile: e.Profile, Finished: time.Now().UTC(), Rows: rows}
	if err := writeJSON(filepath.Join(e.OutDir, ClosingFile), snap, e.Section); err != nil {
		return err
	}
	if err := e.Table(snap.Table()...); err != nil {
		return fmt.Errorf("notebook %s: closing table: %w", e.Section, err)
	}
	return nil
}

// Table shows a table whose first row is the header: in GoNB as an HTML table with the aligned plain text as
// its fallback (what the REPL and text exports show), elsewhere as the plain text.
func (e *Env) Table(rows ...[]string) error {
	if len(rows) == 0 {
		return errors.New("notebook: a table needs a header row")
	}
	var text strings.Builder
	tw := tabwriter.NewWriter(&text, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !e.inNotebook {
		_, err := io.WriteString(e.out, text.String())
		return err
	}
	gonbui.SendData(&protocol.DisplayData{Data: map[protocol.MIMEType]any{
		protocol.MIMETextHTML: HTMLTable(rows...), protocol.MIMETextPlain: text.String()}})
	return syncDisplay(displayTimeout)
}

// HTMLTable is the HTML form of a table whose first row is the header, as [Env.Table] displays it in GoNB (and a
// saved notebook keeps it): one <tr> per row, cells left-aligned and HTML-escaped.
func HTMLTable(rows ...[]string) string {
	var h strings.Builder
	h.WriteString("<table>\n")
	for i, r := range rows {
		cell := "td"
		if i == 0 {
			cell = "th"
			h.WriteString("<thead>")
		}
		h.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&h, "<%s style=\"text-align:left\">%s</%s>", cell, html.EscapeString(c), cell)
		}
		h.WriteString("</tr>")
		if i == 0 {
			h.WriteString("</thead><tbody>")
		}
		h.WriteString("\n")
	}
	h.WriteString("</tbody></table>\n")
	return h.String()
}
