package repl

import (
	"context"
	"go/scanner"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/convnotes/convnotes/kernel"
)

// snippetComplete reports whether the lines typed so far form a complete
// snippet, the way a GoNB cell would be sent:
//   - a first line starting with "!" or a single "%" (a magic) is complete alone;
//   - a cell magic ("%%bash", "%%script …", "%%writefile …") runs until an empty line;
//   - Go code is complete when its brackets balance and no string or
//     comment is left open (GoNB's "%%" marker line is not Go and is skipped;
//     a snippet ending with it waits for the body).
func snippetComplete(lines []string) bool {
	if len(lines) == 0 {
		return true
	}
	first := strings.TrimSpace(lines[0])
	if strings.TrimSpace(lines[len(lines)-1]) == "%%" {
		return false // GoNB's main-body marker: the body follows
	}
	switch {
	case strings.HasPrefix(first, "!"):
		return len(lines) == 1 || goComplete(lines[1:])
	case strings.HasPrefix(first, "%%") && len(first) > 2:
		return strings.TrimSpace(lines[len(lines)-1]) == "" && len(lines) > 1
	case strings.HasPrefix(first, "%") && !strings.HasPrefix(first, "%%"):
		return len(lines) == 1 || goComplete(lines[1:])
	}
	return goComplete(lines)
}

// goComplete reports whether Go source lines have balanced brackets and no
// unterminated string, rune or comment.
func goComplete(lines []string) bool {
	var src strings.Builder
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "%%" || strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
			src.WriteString("\n") // magics and shell lines are not Go
			continue
		}
		src.WriteString(l)
		src.WriteString("\n")
	}
	fset := token.NewFileSet()
	data := []byte(src.String())
	file := fset.AddFile("snippet", -1, len(data))
	open := false
	var s scanner.Scanner
	s.Init(file, data, func(_ token.Position, msg string) {
		if strings.Contains(msg, "not terminated") {
			open = true
		}
	}, scanner.ScanComments)
	depth := 0
	for {
		_, tok, _ := s.Scan()
		switch tok {
		case token.EOF:
			return depth <= 0 && !open
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		}
	}
}

// commands are the REPL's own commands, for :help and completion.
var commands = []struct{ name, args, help string }{
	{":open", "PATH", "open a notebook (e.g. notebooks/01_optimization.ipynb)"},
	{":next", "", "show the next cell; run it if it is code (also :n)"},
	{":run", "N", "show and run cell N of the open notebook"},
	{":back", "", "step back one cell and show it (without running)"},
	{":list", "", "list the cells of the open notebook"},
	{":where", "", "show the notebook, cell and section you are at"},
	{":restart", "", "restart the kernel (all definitions are lost)"},
	{":help", "", "this help"},
	{":quit", "", "shut the kernel down and leave (also Ctrl-D)"},
}

// completer completes REPL commands, notebook paths after :open, and Go code
// through the kernel's complete_request.
type completer struct {
	r *REPL
}

// Do implements readline.AutoCompleter: it returns the suffixes that
// complete the text before pos, and the length of the text they extend.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	if len(c.r.pending) == 0 && strings.HasPrefix(before, ":") {
		if name, arg, ok := strings.Cut(before, " "); ok {
			if name == ":open" {
				return completePaths(arg)
			}
			return nil, 0
		}
		var out [][]rune
		for _, cmd := range commands {
			if strings.HasPrefix(cmd.name, before) {
				out = append(out, []rune(strings.TrimPrefix(cmd.name, before)+" "))
			}
		}
		return out, len([]rune(before))
	}
	// Statements are completed where they run, in GoNB's main body: the "%%" that autoMain adds.
	code := autoMain(strings.Join(append(append([]string{}, c.r.pending...), before), "\n"))
	cursor := len([]rune(code))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	comp, err := c.r.kernel().Complete(ctx, code, cursor)
	if err != nil || comp == nil || comp.CursorStart > cursor || comp.CursorStart < 0 {
		return nil, 0
	}
	typed := string([]rune(code)[comp.CursorStart:cursor])
	return suffixes(comp, typed), len([]rune(typed))
}

// suffixes turns kernel matches for the typed prefix into readline suffixes.
func suffixes(comp *kernel.Completion, typed string) [][]rune {
	var out [][]rune
	for _, m := range comp.Matches {
		if strings.HasPrefix(m, typed) && m != typed {
			out = append(out, []rune(strings.TrimPrefix(m, typed)))
		}
	}
	return out
}

// completePaths completes a path to a notebook or a folder.
func completePaths(prefix string) ([][]rune, int) {
	matches, _ := filepath.Glob(prefix + "*")
	sort.Strings(matches)
	var out [][]rune
	for _, m := range matches {
		if isDir(m) {
			m += string(filepath.Separator)
		} else if !strings.HasSuffix(m, ".ipynb") {
			continue
		}
		out = append(out, []rune(strings.TrimPrefix(m, prefix)))
	}
	return out, len([]rune(prefix))
}
