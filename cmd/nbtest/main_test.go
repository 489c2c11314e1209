package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convnotes/convnotes/kernel"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// childEnv makes the test binary run nbtest's main on the arguments after
// "--" (see TestSignalsRemoveKernelFolder).
const childEnv = "CONVNOTES_NBTEST_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(realMain(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// sleepyNotebook is a notebook whose only cell marks that it started, then sleeps.
const sleepyNotebook = `{"cells": [{"cell_type": "code", "execution_count": null, "id": "sleepy", "metadata": {}, "outputs": [],
 "source": ["%%\n", "os.WriteFile(\"started\", nil, 0o600)\n", "time.Sleep(5 * time.Minute)\n"]}],
 "metadata": {"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"}},
 "nbformat": 4, "nbformat_minor": 5}`

// TestSignalsRemoveKernelFolder stops nbtest with SIGTERM and SIGHUP in the
// middle of a cell: it must kill the cell, remove the kernel's folder and
// exit as the signal would have (143 for SIGTERM, 129 for SIGHUP).
func TestSignalsRemoveKernelFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts gonb kernels")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			nb := filepath.Join(dir, "sleepy.ipynb")
			if err := os.WriteFile(nb, []byte(sleepyNotebook), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cmd := exec.Command(self, "-test.run=XXX", "--", nb, nb+"-second-run-never-starts.ipynb")
			cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+tmp)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill() }()
			deadline := time.Now().Add(3 * time.Minute)
			for time.Now().Before(deadline) {
				if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if _, err := os.Stat(filepath.Join(dir, "started")); err != nil {
				t.Fatalf("the cell never started:\n%s", out.String())
			}
			_ = cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatalf("nbtest did not exit within a minute of %v:\n%s", sig, out.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
				t.Errorf("exit code %d (%v), want %d:\n%s", code, err, 128+int(sig), out.String())
			}
			if strings.Contains(out.String(), "restart") {
				t.Errorf("nbtest tried to restart the kernel:\n%s", out.String())
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "convnotes-kernel-*")); len(left) > 0 {
				t.Errorf("kernel folder left after %v: %v\n%s", sig, left, out.String())
			}
			if !strings.Contains(out.String(), "stopped before") {
				t.Errorf("the remaining notebook was not reported as not run:\n%s", out.String())
			}
		})
	}
}

// copyFixtures copies testdata notebooks into a temporary directory, so that
// --write never touches the fixtures.
func copyFixtures(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestVerdicts runs every fixture notebook (one fresh kernel each) and
// checks the verdict, the failing cell and the reported error.
func TestVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts gonb kernels")
	}
	tests := []struct {
		file     string
		wantPass bool
		wantCell int    // failing cell; 0 for a notebook-level failure
		wantMsg  string // in the failure message
	}{
		{file: "pass.ipynb", wantPass: true},
		{file: "long_output.ipynb", wantPass: true},
		{file: "compile_error.ipynb", wantCell: 2, wantMsg: "undefined: undefinedThing"},
		{file: "panic.ipynb", wantCell: 1, wantMsg: "panic: boom from the notebook"},
		{file: "exit_nonzero.ipynb", wantCell: 1, wantMsg: "exit status 3"},
		{file: "shell_bang.ipynb", wantCell: 1, wantMsg: "exit status 2"},
		{file: "shell_bash.ipynb", wantCell: 1, wantMsg: "exit status 5"},
		{file: "kernel_death.ipynb", wantCell: 1, wantMsg: "kernel died"},
		{file: "timeout.ipynb", wantCell: 1, wantMsg: "cell timed out after 8s"},
		{file: "expect_png.ipynb", wantCell: 1, wantMsg: "no image/png"},
		{file: "expect_regex.ipynb", wantCell: 1, wantMsg: "does not match"},
		{file: "unknown_tag.ipynb", wantCell: 1, wantMsg: `unknown tag "nbtest:expect-pgn"`},
		{file: "invalid.ipynb", wantCell: 0, wantMsg: "invalid JSON at line 4"},
		{file: "comma_tag.ipynb", wantCell: 0, wantMsg: `cell 1: tag "nbtest:expect=a, b" contains a comma`},
		{file: "stdin.ipynb", wantPass: true},
		{file: "leftovers.ipynb", wantPass: true},
		{file: "python.ipynb", wantCell: 0, wantMsg: `not a Go notebook: its kernel is "python3", for python`},
	}
	names := make([]string, len(tests))
	for i, tc := range tests {
		names[i] = tc.file
	}
	dir := copyFixtures(t, names...)
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var out bytes.Buffer
			cfg := config{quick: true, write: true, timeout: 3 * time.Minute, moduleRoot: root, out: &out}
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			r := runNotebook(ctx, cfg, filepath.Join(dir, tc.file))
			report(&out, r)
			if tc.wantPass {
				if len(r.failures) != 0 {
					t.Fatalf("want pass, got:\n%s", out.String())
				}
				return
			}
			if len(r.failures) == 0 {
				t.Fatalf("want failure, got pass:\n%s", out.String())
			}
			f := r.failures[0]
			if f.cell != tc.wantCell || !strings.Contains(f.msg, tc.wantMsg) {
				t.Errorf("failure = cell %d %q, want cell %d containing %q\nreport:\n%s", f.cell, f.msg, tc.wantCell, tc.wantMsg, out.String())
			}
			if tc.wantCell > 0 && !strings.Contains(out.String(), "    | ") {
				t.Errorf("report lacks the cell's first lines:\n%s", out.String())
			}
		})
	}

	// Every line of the 200,000-line output was recorded and written.
	long, err := nbformat.ReadFile(filepath.Join(dir, "long_output.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if text := nbformat.OutputsText(long.Cells[0].Outputs); strings.Count(text, "\n") != 200_001 {
		t.Errorf("long output has %d lines, want 200001", strings.Count(text, "\n"))
	}

	// --write saved the executed passing notebook: valid nbformat 4 with
	// outputs (the PNG included), ids and metadata kept, skipped cell untouched.
	nb, err := nbformat.ReadFile(filepath.Join(dir, "pass.ipynb"))
	if err != nil {
		t.Fatalf("written notebook: %v", err)
	}
	orig, err := nbformat.ReadFile(filepath.Join("testdata", "pass.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range nb.Cells {
		if c.ID != orig.Cells[i].ID || string(c.Metadata) != string(orig.Cells[i].Metadata) {
			t.Errorf("cell %d id/metadata changed: %q %s", i+1, c.ID, c.Metadata)
		}
	}
	if !nbformat.HasMIME(nb.Cells[2].Outputs, "image/png") || nb.Cells[1].ExecutionCount == nil {
		t.Errorf("written notebook lacks outputs: %+v", nb.Cells[2])
	}
	if got := nbformat.OutputsText(nb.Cells[1].Outputs); got != "answer is 42\n" {
		t.Errorf("cell 2 output = %q", got)
	}
	if len(nb.Cells[6].Outputs) != 0 || nb.Cells[6].ExecutionCount != nil {
		t.Errorf("skipped cell was run: %+v", nb.Cells[6])
	}
}

func TestParseTags(t *testing.T) {
	tests := []struct {
		tags     []string
		metadata json.RawMessage
		wantErr  string
		check    func(cellRules) bool
	}{
		{metadata: json.RawMessage(`{"nbtest": {"expect": ["a, b", "c"]}}`), check: func(r cellRules) bool {
			return len(r.patterns) == 2 && r.patterns[0].String() == "a, b"
		}},
		{tags: []string{"nbtest:expect=x"}, metadata: json.RawMessage(`{"nbtest": {"expect": ["y"]}, "other": 1}`),
			check: func(r cellRules) bool { return len(r.patterns) == 2 }},
		{metadata: json.RawMessage(`{"nbtest": {"expects": ["a"]}}`), wantErr: `unknown field "expects"`},
		{metadata: json.RawMessage(`{"nbtest": {"expect": "a"}}`), wantErr: `want {"expect"`},
		{metadata: json.RawMessage(`{"nbtest": {"expect": [""]}}`), wantErr: "empty expect pattern"},
		{metadata: json.RawMessage(`{"nbtest": {"expect": ["("]}}`), wantErr: "missing closing"},
		{tags: []string{"other", "nbtest:skip"}, check: func(r cellRules) bool { return r.skip }},
		{tags: []string{"nbtest:skip-quick", "nbtest:allow-error"}, check: func(r cellRules) bool { return r.skipQuick && r.allowError }},
		{tags: []string{"nbtest:expect=a+", "nbtest:expect=b"}, check: func(r cellRules) bool { return len(r.patterns) == 2 }},
		{tags: []string{"nbtest:expect-mime=image/svg+xml", "nbtest:expect-png"}, check: func(r cellRules) bool { return r.expectPNG && r.mimes[0] == "image/svg+xml" }},
		{tags: []string{"nbtest:timeout=90s"}, check: func(r cellRules) bool { return r.timeout == 90*time.Second }},
		{tags: []string{"nbtest:expect-error"}, check: func(r cellRules) bool { return r.expectError }},
		{tags: []string{"nbtest:timeout=-1s"}, wantErr: "positive"},
		{tags: []string{"nbtest:timeout=soon"}, wantErr: "positive"},
		{tags: []string{"nbtest:expect=("}, wantErr: "missing closing"},
		{tags: []string{"nbtest:expect="}, wantErr: "unknown tag"},
		{tags: []string{"nbtest:skip=yes"}, wantErr: "unknown tag"},
		{tags: []string{"nbtest:expect-pgn"}, wantErr: "unknown tag"},
	}
	for _, tc := range tests {
		r, err := parseRules(tc.tags, tc.metadata)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseTags(%q) error = %v, want %q", tc.tags, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !tc.check(r) {
			t.Errorf("parseTags(%q) = %+v, %v", tc.tags, r, err)
		}
	}
}

// TestCommittedNotebookRules checks that every cell of the project's
// notebooks and of the fixtures declares valid nbtest rules in a valid notebook.
func TestCommittedNotebookRules(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "notebooks", "*.ipynb"))
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.ipynb"))
	if len(paths) == 0 || len(fixtures) == 0 {
		t.Fatal("no notebooks found")
	}
	bad := map[string]bool{"invalid.ipynb": true, "comma_tag.ipynb": true, "unknown_tag.ipynb": true}
	for _, p := range append(paths, fixtures...) {
		if bad[filepath.Base(p)] {
			continue
		}
		nb, err := readValid(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for i, c := range nb.Cells {
			if _, err := parseRules(c.Tags(), c.Metadata); err != nil {
				t.Errorf("%s cell %d: %v", p, i+1, err)
			}
		}
	}
}

func TestRealMain(t *testing.T) {
	dir := copyFixtures(t, "invalid.ipynb")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantLast string
	}{
		// The test runs in cmd/nbtest, which has no notebooks/ folder: an empty set.
		{"empty set", nil, 0, "0 passed, 0 failed"},
		{"invalid and missing", []string{filepath.Join(dir, "invalid.ipynb"), filepath.Join(dir, "missing.ipynb")}, 1, "0 passed, 2 failed"},
		{"directory", []string{dir}, 1, "0 passed, 1 failed"},
		{"bad flag", []string{"--no-such-flag"}, 2, ""},
		{"bad timeout", []string{"--timeout=0s"}, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := realMain(tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
			if last := lines[len(lines)-1]; last != tc.wantLast {
				t.Errorf("last line = %q, want %q", last, tc.wantLast)
			}
		})
	}
}

// TestEveryFigureArrives runs a cell that shows twelve figures and ends at once: GoNB stops reading the cell's
// display pipe when the cell's program exits, so figures still in the pipe were lost (one figure of notebook 09
// went missing this way in CI) unless notebook.Env.Show waits for GoNB to take each one.
func TestEveryFigureArrives(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	dir := copyFixtures(t, "many_png.ipynb")
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg := config{quick: true, write: true, timeout: 3 * time.Minute, moduleRoot: root, out: &out}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	path := filepath.Join(dir, "many_png.ipynb")
	r := runNotebook(ctx, cfg, path)
	report(&out, r)
	if len(r.failures) != 0 {
		t.Fatalf("notebook failed:\n%s", out.String())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pngs := 0
	for _, o := range savedOutputs(t, raw) {
		if _, ok := o.Data["image/png"]; ok {
			pngs++
		}
	}
	if pngs != 12 {
		t.Errorf("%d of 12 figures reached the notebook", pngs)
	}
}

// TestBoundedReport fails expectations on 20 MB outputs, one line and many:
// the report shows a bounded excerpt and the output's size.
func TestBoundedReport(t *testing.T) {
	r, err := parseRules([]string{"nbtest:expect=never-there"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const size = 20 << 20
	for name, text := range map[string]string{
		"one line":   strings.Repeat("x", size),
		"many lines": strings.Repeat(strings.Repeat("y", 99)+"\n", size/100),
		"stderr":     "",
	} {
		t.Run(name, func(t *testing.T) {
			res := result{path: "big.ipynb"}
			c := &nbformat.Cell{Source: "%%\nfmt.Print(big)"}
			if name == "stderr" {
				msg := errorText(errors.New("exit status 2"), []*nbformat.Output{{Type: "stream", Name: "stderr", Text: strings.Repeat("z", size)}})
				res.failures = append(res.failures, failure{cell: 1, head: c.Head(3), msg: clip(msg)})
			} else {
				checkExpectations(r, []*nbformat.Output{{Type: "stream", Name: "stdout", Text: text}}, func(msg string) {
					res.failures = append(res.failures, failure{cell: 1, head: c.Head(3), msg: clip(msg)})
				})
			}
			var out bytes.Buffer
			report(&out, res)
			if out.Len() > 8<<10 {
				t.Fatalf("report of %d bytes for a %d-byte output:\n%.2000s", out.Len(), size, out.String())
			}
			if name != "stderr" && !strings.Contains(out.String(), fmt.Sprintf("(%d bytes in", len(strings.TrimRight(text, "\n")))) {
				t.Errorf("report does not give the output's size:\n%s", out.String())
			}
			if name != "many lines" && !strings.Contains(out.String(), "more bytes)") {
				t.Errorf("report does not say that its line was cut:\n%s", out.String())
			}
		})
	}
}

// TestWriteThroughSymlink runs `nbtest --write` on a notebook reached through a symbolic link (a notebooks/
// folder linked from elsewhere): the outputs land in the target file and the link stays a link.
func TestWriteThroughSymlink(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	dir := copyFixtures(t, "pass.ipynb")
	target := filepath.Join(dir, "pass.ipynb")
	link := filepath.Join(t.TempDir(), "linked.ipynb")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"--quick=true", "--write", "--timeout=3m", link}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symbolic link (%v)", link, err)
	}
	after, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	printed := false
	for _, o := range savedOutputs(t, after) {
		printed = printed || strings.Contains(strings.Join(o.Text, ""), "answer is 42")
	}
	if bytes.Equal(before, after) || !printed {
		t.Errorf("the link's target holds no outputs (stdout %q)", stdout.String())
	}
}

// savedOutput is one output a notebook saved: its stream text and its rich data.
type savedOutput struct {
	Text []string       `json:"text"`
	Data map[string]any `json:"data"`
}

// savedOutputs decodes the notebook raw and returns the outputs of all its cells, in order.
func savedOutputs(t *testing.T, raw []byte) []savedOutput {
	t.Helper()
	var nb struct {
		Cells []struct {
			Outputs []savedOutput `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(raw, &nb); err != nil {
		t.Fatal(err)
	}
	var out []savedOutput
	for _, c := range nb.Cells {
		out = append(out, c.Outputs...)
	}
	return out
}
