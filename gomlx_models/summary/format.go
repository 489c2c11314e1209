package summary

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gomlx/compute/shapes"
)

// Thousands formats n with "," thousand separators, like Keras: 1234567 ->
// "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(s[:head])
	for i := head; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// formatShape writes a shape as "(1, 28, 28, 32)".
func formatShape(s shapes.Shape) string {
	if !s.Ok() {
		return "?"
	}
	parts := make([]string, len(s.Dimensions))
	for i, d := range s.Dimensions {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// header is the column titles shared by String and Markdown.
var header = []string{"Layer", "Kind", "Output shape", "Params", "MACs"}

// cells returns the table body as strings, one slice per row.
func (t *Table) cells() [][]string {
	rows := make([][]string, 0, len(t.Rows))
	for _, r := range t.Rows {
		rows = append(rows, []string{r.Layer, r.Kind, formatShape(r.OutputShape),
			Thousands(int64(r.Params)), Thousands(r.MACs)})
	}
	return rows
}

// totals returns the summary lines printed below the table.
func (t *Table) totals() []string {
	return []string{
		fmt.Sprintf("Total params: %s", Thousands(int64(t.TotalParams))),
		fmt.Sprintf("Trainable params: %s", Thousands(int64(t.TrainableParams))),
		fmt.Sprintf("Non-trainable params: %s", Thousands(int64(t.TotalParams-t.TrainableParams))),
		fmt.Sprintf("Multiply-adds per example: %s", Thousands(t.TotalMACs)),
	}
}

// String renders the table as aligned text, Keras style: text columns left
// aligned, numbers right aligned, totals below.
func (t *Table) String() string {
	if t == nil {
		return "<nil summary>"
	}
	body := t.cells()
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for _, row := range body {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	total := 0
	for _, w := range widths {
		total += w
	}
	total += 2 * (len(widths) - 1)
	line := func(ch string) string { return strings.Repeat(ch, total) + "\n" }
	format := func(row []string) string {
		parts := make([]string, len(row))
		for i, c := range row {
			if i >= 3 { // numeric columns
				parts[i] = fmt.Sprintf("%*s", widths[i], c)
			} else {
				parts[i] = fmt.Sprintf("%-*s", widths[i], c)
			}
		}
		return strings.TrimRight(strings.Join(parts, "  "), " ") + "\n"
	}

	var b strings.Builder
	b.WriteString(line("="))
	b.WriteString(format(header))
	b.WriteString(line("="))
	for _, row := range body {
		b.WriteString(format(row))
	}
	b.WriteString(line("="))
	fmt.Fprintf(&b, "Input shape: %s\n", formatShape(t.InputShape))
	for _, s := range t.totals() {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}

// Markdown renders the table as a GitHub-flavoured Markdown table followed by
// the totals, for notebooks.
func (t *Table) Markdown() string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|:--|:--|:--|--:|--:|\n")
	for _, row := range t.cells() {
		for i, c := range row {
			if i < 3 {
				row[i] = "`" + strings.ReplaceAll(c, "|", "\\|") + "`"
			}
			if c == "" {
				row[i] = ""
			}
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Input shape: `%s`<br>\n", formatShape(t.InputShape))
	tot := t.totals()
	b.WriteString(strings.Join(tot, "<br>\n") + "\n")
	return b.String()
}
