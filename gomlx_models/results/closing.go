package results

import (
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/notebook"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// SavedTable is a closing table as a notebook's saved outputs show it: the profile its header names and its
// rows, each item | paper / notes | ours | verdict.
type SavedTable struct {
	Profile train.Profile
	Rows    [][4]string
}

// ErrNoClosingTable is wrapped when a notebook has no closing cell, or its saved output has no closing table
// with a verdict column (it was last run before verdicts existed, or the cell failed).
var ErrNoClosingTable = errors.New("no closing table with a verdict column in the saved outputs")

var (
	rowRE     = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE    = regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
	profileRE = regexp.MustCompile(`^ours \((\w+) profile\)$`)
)

// ClosingCell returns the notebook's closing cell: the code cell that calls env.Closing().
func ClosingCell(nb *nbformat.Notebook) (*nbformat.Cell, bool) {
	for i := len(nb.Cells) - 1; i >= 0; i-- {
		c := nb.Cells[i]
		if c.Type == nbformat.CellCode && strings.Contains(c.Source, ".Closing()") {
			return c, true
		}
	}
	return nil, false
}

// Saved reads the closing table from a notebook's saved outputs: the HTML table (notebook.Env.Table's display in
// GoNB) of the closing cell whose header is "", "paper / notes", "ours (P profile)", "verdict".
func Saved(nb *nbformat.Notebook) (SavedTable, error) {
	c, ok := ClosingCell(nb)
	if !ok {
		return SavedTable{}, fmt.Errorf("%w: no cell calls env.Closing()", ErrNoClosingTable)
	}
	for _, o := range c.Outputs {
		h, _ := o.Data["text/html"].(string)
		if h == "" {
			continue
		}
		t, err := parseTable(h)
		if err == nil {
			return t, nil
		}
	}
	return SavedTable{}, ErrNoClosingTable
}

func parseTable(h string) (SavedTable, error) {
	var t SavedTable
	for i, m := range rowRE.FindAllStringSubmatch(h, -1) {
		cells := cellRE.FindAllStringSubmatch(m[1], -1)
		if len(cells) != 4 {
			return SavedTable{}, fmt.Errorf("row %d has %d cells, want 4", i, len(cells))
		}
		var row [4]string
		for j, c := range cells {
			row[j] = html.UnescapeString(c[1])
		}
		if i == 0 {
			p := profileRE.FindStringSubmatch(row[2])
			if row[1] != "paper / notes" || row[3] != "verdict" || p == nil {
				return SavedTable{}, fmt.Errorf("header %q is not a closing table's", row)
			}
			t.Profile = train.Profile(p[1])
			continue
		}
		t.Rows = append(t.Rows, row)
	}
	if t.Profile == "" || len(t.Rows) == 0 {
		return SavedTable{}, ErrNoClosingTable
	}
	return t, nil
}

// SnapshotTable is the table a snapshot records, in the form [Saved] reads.
func SnapshotTable(c notebook.Closing) SavedTable {
	t := SavedTable{Profile: c.Profile}
	for _, r := range c.Table()[1:] {
		t.Rows = append(t.Rows, [4]string(r))
	}
	return t
}

// Diff lists how the saved table differs from the snapshot's (nothing when they agree).
func Diff(saved, snap SavedTable) []string {
	var d []string
	if saved.Profile != snap.Profile {
		d = append(d, fmt.Sprintf("profile %s in the notebook, %s in the snapshot", saved.Profile, snap.Profile))
	}
	if len(saved.Rows) != len(snap.Rows) {
		d = append(d, fmt.Sprintf("%d rows in the notebook, %d in the snapshot", len(saved.Rows), len(snap.Rows)))
	}
	cols := [4]string{"item", "paper", "ours", "verdict"}
	for i := range min(len(saved.Rows), len(snap.Rows)) {
		for j := range 4 {
			if saved.Rows[i][j] != snap.Rows[i][j] {
				d = append(d, fmt.Sprintf("row %d %s: %q in the notebook, %q in the snapshot", i+1, cols[j], saved.Rows[i][j],
					snap.Rows[i][j]))
			}
		}
	}
	return d
}
