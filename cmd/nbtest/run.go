package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convnotes/convnotes/kernel"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// config is what one nbtest run needs.
type config struct {
	quick      bool
	write      bool
	timeout    time.Duration // per cell
	moduleRoot string
	kernelLog  io.Writer // nil: discarded
	out        io.Writer // report
}

// failure is one reason a notebook failed.
type failure struct {
	cell int    // 1-based over all cells; 0 for notebook-level problems
	head string // the cell's first lines
	msg  string
}

// result is the verdict on one notebook.
type result struct {
	path     string
	cells    int // code cells run
	failures []failure
	elapsed  time.Duration
}

// maxErrorLines bounds the error text reported per failure.
const maxErrorLines = 40

// expandPaths turns paths, directories and globs into a sorted, de-duplicated
// list of notebooks. A path or glob that matches nothing is kept as is, so
// that it fails as a missing notebook.
func expandPaths(args []string) ([]string, error) {
	if len(args) == 0 {
		m, err := filepath.Glob(filepath.Join("notebooks", "*.ipynb"))
		if err != nil {
			return nil, fmt.Errorf("glob notebooks: %w", err)
		}
		return m, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range args {
		var matches []string
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			matches, _ = filepath.Glob(filepath.Join(a, "*.ipynb"))
		} else if err == nil {
			matches = []string{a}
		} else {
			m, gerr := filepath.Glob(a)
			if gerr != nil {
				return nil, fmt.Errorf("bad pattern %q: %w", a, gerr)
			}
			if len(m) == 0 {
				m = []string{a} // reported as a failing notebook: no such file
			}
			matches = m
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// runNotebook executes one notebook in a fresh kernel.
func runNotebook(ctx context.Context, cfg config, path string) (res result) {
	start := time.Now()
	res.path = path
	defer func() { res.elapsed = time.Since(start) }()
	fail := func(cellIdx int, c *nbformat.Cell, msg string) {
		f := failure{cell: cellIdx + 1, msg: clip(msg)}
		if c != nil {
			f.head = c.Head(3)
		} else {
			f.cell = 0
		}
		res.failures = append(res.failures, f)
	}

	nb, err := readValid(path)
	if err != nil {
		fail(0, nil, err.Error())
		return res
	}
	if err := nb.CheckGo(); err != nil {
		fail(0, nil, fmt.Sprintf("%s: %v", path, err))
		return res
	}
	rules := make([]cellRules, len(nb.Cells))
	for i, c := range nb.Cells {
		if rules[i], err = parseRules(c.Tags(), c.Metadata); err != nil {
			fail(i, c, err.Error())
		}
	}
	if len(res.failures) > 0 {
		return res
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		fail(0, nil, err.Error())
		return res
	}
	quick := "0"
	if cfg.quick {
		quick = "1"
	}
	k, err := kernel.Start(ctx, kernel.Options{
		ModuleRoot: cfg.moduleRoot, Dir: filepath.Dir(abs), Env: []string{"CONVNOTES_QUICK=" + quick}, Log: cfg.kernelLog,
	})
	if err != nil {
		fail(0, nil, "start kernel: "+err.Error())
		return res
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = k.Shutdown(sctx)
	}()

	for i, c := range nb.Cells {
		r := rules[i]
		if c.Type != nbformat.CellCode || r.skip || (r.skipQuick && cfg.quick) || strings.TrimSpace(c.Source) == "" {
			continue
		}
		res.cells++
		timeout := cfg.timeout
		if r.timeout > 0 && (cfg.quick || r.timeout > timeout) {
			timeout = r.timeout // a tag sizes the quick profile; the full one may take longer.
		}
		cellCtx, cancel := context.WithTimeout(ctx, timeout)
		var rec nbformat.Recorder
		out, err := k.Execute(cellCtx, c.Source, rec.Add)
		cancel()
		c.Outputs = rec.Outputs
		if out != nil {
			n := out.ExecutionCount
			c.ExecutionCount = &n
		}
		if err != nil {
			var dead *kernel.DeadError
			switch {
			case errors.As(err, &dead):
				fail(i, c, "kernel died: "+dead.Reason+outputTail(rec.Outputs))
			case errors.Is(err, kernel.ErrCellTimeout):
				fail(i, c, fmt.Sprintf("cell timed out after %s%s", timeout, outputTail(rec.Outputs)))
			default:
				fail(i, c, err.Error())
			}
			break
		}
		cellErr := out.Err()
		switch {
		case r.expectError && cellErr == nil:
			fail(i, c, "tagged nbtest:expect-error, but the cell succeeded")
		case cellErr != nil && !r.expectError && !r.allowError:
			fail(i, c, errorText(cellErr, rec.Outputs))
		}
		if cellErr != nil && !r.expectError && !r.allowError {
			break
		}
		checkExpectations(r, rec.Outputs, func(msg string) { fail(i, c, msg) })
	}
	if cfg.write {
		if err := nb.WriteFile(path); err != nil {
			fail(0, nil, err.Error())
		}
	}
	return res
}

// readValid reads the notebook at path and checks it against the nbformat
// schema, as Jupyter does before it runs a notebook.
func readValid(path string) (*nbformat.Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := nbformat.Validate(data); err != nil {
		msg := err.Error()
		if strings.Contains(msg, "contains a comma") {
			msg += "\n(put expectations with commas in the cell metadata: \"nbtest\": {\"expect\": [\"REGEX\"]})"
		}
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	nb, err := nbformat.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// checkExpectations reports the expectations of r that outs do not meet.
func checkExpectations(r cellRules, outs []*nbformat.Output, fail func(string)) {
	if r.expectPNG && !nbformat.HasMIME(outs, "image/png") {
		fail("tagged nbtest:expect-png, but the cell displayed no image/png")
	}
	for _, mime := range r.mimes {
		if !nbformat.HasMIME(outs, mime) {
			fail(fmt.Sprintf("tagged nbtest:expect-mime=%s, but the cell displayed no %s", mime, mime))
		}
	}
	text := nbformat.OutputsText(outs)
	for _, re := range r.patterns {
		if !re.MatchString(text) {
			fail(fmt.Sprintf("expects output matching %q, but the output does not match:%s", re.String(), indentTail(text)))
		}
	}
}

// errorText is the cell's error plus the stderr it printed (a panic's
// message and stack are on stderr; GoNB's error only says "exit status 2").
func errorText(err error, outs []*nbformat.Output) string {
	msg := err.Error()
	var stderr strings.Builder
	for _, o := range outs {
		if o.Type == "stream" && o.Name == "stderr" {
			stderr.WriteString(o.Text)
		}
	}
	if s := strings.TrimSpace(stderr.String()); s != "" && !strings.Contains(msg, s) {
		msg += "\nstderr:\n" + s
	}
	return msg
}

// outputTail returns the end of the cell's text output, for context.
func outputTail(outs []*nbformat.Output) string {
	text := strings.TrimSpace(nbformat.OutputsText(outs))
	if text == "" {
		return ""
	}
	return "\noutput before that:" + indentTail(text)
}

// indentTail returns the last lines of text (at most 10, each cut to
// maxLineBytes), indented, on new lines; above that, a first line says the
// size of the whole text.
func indentTail(text string) string {
	text = strings.TrimRight(text, "\n")
	lines := strings.Split(text, "\n")
	var head []string
	if len(lines) > 10 || len(text) > 10*maxLineBytes {
		head = []string{fmt.Sprintf("(%d bytes in %d lines; the last %d:)", len(text), len(lines), min(len(lines), 10))}
	}
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	for i, l := range lines {
		lines[i] = cutLine(l)
	}
	return "\n  " + strings.Join(append(head, lines...), "\n  ")
}

// maxLineBytes bounds each line of a failure report.
const maxLineBytes = 300

// cutLine cuts l to about maxLineBytes, at a rune boundary, saying how much was left out.
func cutLine(l string) string {
	if len(l) <= maxLineBytes {
		return l
	}
	n := maxLineBytes
	for n > 0 && !utf8.RuneStart(l[n]) {
		n--
	}
	return fmt.Sprintf("%s… (%d more bytes)", l[:n], len(l)-n)
}

// clip keeps the first maxErrorLines lines of msg, each cut to maxLineBytes,
// without ANSI colours.
func clip(msg string) string {
	msg = strings.TrimSpace(stripANSI(msg))
	lines := strings.Split(msg, "\n")
	if len(lines) > maxErrorLines {
		lines = append(lines[:maxErrorLines], fmt.Sprintf("… (%d more lines)", len(lines)-maxErrorLines))
	}
	for i, l := range lines {
		lines[i] = cutLine(l)
	}
	return strings.Join(lines, "\n")
}

// stripANSI removes terminal colour codes.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// report prints a notebook's verdict.
func report(w io.Writer, r result) {
	if len(r.failures) == 0 {
		fmt.Fprintf(w, "ok   %s (%d code cells, %.1fs)\n", r.path, r.cells, r.elapsed.Seconds())
		return
	}
	fmt.Fprintf(w, "FAIL %s (%.1fs)\n", r.path, r.elapsed.Seconds())
	for _, f := range r.failures {
		if f.cell > 0 {
			fmt.Fprintf(w, "  cell %d:\n", f.cell)
			for _, l := range strings.Split(f.head, "\n") {
				fmt.Fprintf(w, "    | %s\n", l)
			}
		}
		for _, l := range strings.Split(f.msg, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

// run executes the notebooks named by args and returns the counts.
func run(ctx context.Context, cfg config, args []string) (passed, failed int, err error) {
	paths, err := expandPaths(args)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range paths {
		if ctx.Err() != nil { // interrupted: do not start more kernels
			return passed, failed, fmt.Errorf("stopped before %s: %w", p, context.Cause(ctx))
		}
		r := runNotebook(ctx, cfg, p)
		report(cfg.out, r)
		if len(r.failures) == 0 {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed, nil
}
