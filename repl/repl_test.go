//go:build unix

package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convnotes/convnotes/kernel"
)

// childEnv makes the test binary act as the REPL on its own standard
// streams: the pty test runs it inside tmux.
const childEnv = "CONVNOTES_REPL_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		err := Run(context.Background(), Config{HistoryFile: os.Getenv("CONVNOTES_REPL_TEST_HISTORY")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSnippetComplete(t *testing.T) {
	tests := []struct {
		lines []string
		want  bool
	}{
		{[]string{"x := 1"}, true},
		{[]string{"func f() {"}, false},
		{[]string{"func f() {", "}"}, true},
		{[]string{"import (", `"fmt"`}, false},
		{[]string{"import (", `"fmt"`, ")"}, true},
		{[]string{"s := `raw"}, false},
		{[]string{"s := `raw", "more`"}, true},
		{[]string{"/* open comment"}, false},
		{[]string{`fmt.Println("{")`}, true},
		{[]string{"%%"}, false},
		{[]string{"%%", "fmt.Println(1)"}, true},
		{[]string{"!ls -l"}, true},
		{[]string{"%help"}, true},
		{[]string{"%%bash", "echo hi"}, false},
		{[]string{"%%bash", "echo hi", ""}, true},
		{[]string{"if x {", "%%", "}"}, true},
	}
	for _, tc := range tests {
		if got := snippetComplete(tc.lines); got != tc.want {
			t.Errorf("snippetComplete(%q) = %v, want %v", tc.lines, got, tc.want)
		}
	}
}

func TestAutoMain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fmt.Println(1)", "%%\nfmt.Println(1)"},
		{"func f() {}", "func f() {}"},
		{"import \"fmt\"", "import \"fmt\""},
		{"%%\nx := 1", "%%\nx := 1"},
		{"!ls", "!ls"},
		{"%help", "%help"},
		{"var x = 3", "var x = 3"},
	}
	for _, tc := range tests {
		if got := autoMain(tc.in); got != tc.want {
			t.Errorf("autoMain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings, in order
		not       []string
	}{
		{"heading 1", "# LeNet\ntext", []string{"LENET\n=====", "text"}, []string{"#"}},
		{"heading 2", "## Training", []string{"Training\n--------"}, nil},
		{"heading 3", "### Details", []string{"Details"}, []string{"###"}},
		{"bullets", "- one\n* two", []string{"  • one\n  • two"}, nil},
		{"numbered", "1. first\n2) second", []string{"  1. first\n  2. second"}, nil},
		{"code fence", "```go\nx := 1\n```", []string{"    (go)", "    x := 1"}, []string{"```"}},
		{"link", "see [paper](http://x.org/p.pdf)", []string{"paper <http://x.org/p.pdf>"}, nil},
		{"bold", "a **strong** word", []string{"a strong word"}, []string{"**"}},
		{"latex inline", "loss $L = -\\sum y \\log p$ here", []string{"$L = -\\sum y \\log p$"}, nil},
		{"latex block", "$$\n\\frac{a}{b}\n$$", []string{"    $$\n    \\frac{a}{b}\n    $$"}, nil},
		{"wrap", strings.Repeat("word ", 30), []string{"word\nword"}, nil},
		{"table", "| a | b |\n|---|---|", []string{"| a | b |\n|---|---|"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := renderMarkdown(tc.src, plainStyle, 40)
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("render(%q) =\n%s\nwant it to contain %q", tc.src, got, w)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("render(%q) = %q, should not contain %q", tc.src, got, n)
				}
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<b>bold</b> &amp; <i>it</i>", "bold & it"},
		{"<p>one</p><p>two</p>", "one\ntwo"},
		{"<ul><li>a</li><li>b</li></ul>", "• a\n• b"},
		{"<table><tr><td>1</td><td>2</td></tr></table>", "1 | 2 |"},
		{"x<br/>y<script>alert(1)</script>", "x\ny"},
		{`<img src="data:image/png;base64,xx">`, "[image]"},
	}
	for _, tc := range tests {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSuffixes(t *testing.T) {
	c := &kernel.Completion{Matches: []string{"ToUpper", "ToLower", "ToUpperSpecial", "Title"}}
	got := suffixes(c, "ToU")
	if len(got) != 2 || string(got[0]) != "pper" || string(got[1]) != "pperSpecial" {
		t.Errorf("suffixes = %q", got)
	}
}

// runScript drives the REPL through its non-interactive mode.
func runScript(t *testing.T, script string) (stdout, stderr string, err error) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	err = Run(ctx, Config{In: strings.NewReader(script), Out: &out, Err: &errOut, ImageDir: t.TempDir()})
	assertNoKernelFolder(t, tmp, "after the end of input")
	return out.String(), errOut.String(), err
}

// assertNoKernelFolder fails if a kernel folder is left in tmp.
func assertNoKernelFolder(t *testing.T, tmp, when string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(tmp, "convnotes-kernel-*")); len(left) > 0 {
		t.Errorf("kernel folder left %s: %v", when, left)
	}
}

// waitGone waits up to d for process pid to end (or become a zombie).
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if _, after, _ := strings.Cut(string(stat), ") "); strings.HasPrefix(after, "Z") {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// TestSignalsRemoveKernelFolder sends SIGTERM and SIGHUP to a REPL reading
// a pipe: each time the kernel must be gone and its folder removed.
func TestSignalsRemoveKernelFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(self, "-test.run=XXX")
			cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+tmp, "CONVNOTES_REPL_TEST_HISTORY="+filepath.Join(tmp, "h"))
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill() }()
			if _, err := io.WriteString(stdin, ":where\n"); err != nil {
				t.Fatal(err)
			}
			pidRe := regexp.MustCompile(`kernel \w+ \(pid (\d+)\)`)
			found := make(chan int, 1)
			var seen strings.Builder
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					seen.WriteString(sc.Text() + "\n")
					if m := pidRe.FindStringSubmatch(sc.Text()); m != nil {
						pid, _ := strconv.Atoi(m[1])
						found <- pid
						return
					}
				}
				found <- 0
			}()
			pid := 0
			select {
			case pid = <-found:
			case <-time.After(2 * time.Minute):
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("the REPL showed no kernel pid within 2 minutes of :where; stderr:\n%s", stderr.String())
			}
			if pid == 0 {
				_ = cmd.Wait()
				t.Fatalf("no kernel pid shown by :where; output:\n%s\nstderr:\n%s", seen.String(), stderr.String())
			}
			_ = cmd.Process.Signal(sig)
			_ = cmd.Wait()
			if !waitGone(pid, 20*time.Second) {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				t.Fatalf("kernel %d still running after %v", pid, sig)
			}
			assertNoKernelFolder(t, tmp, "after "+sig.String())
		})
	}
}

func TestNonInteractive(t *testing.T) {
	script := strings.Join([]string{
		":where",
		":open testdata/steps.ipynb",
		":next", // markdown
		":next", // code: defines double, prints 42
		":list",
		":where",
		"fmt.Println(\"typed\", double(4))", // a statement snippet using the notebook's definition
		"func triple(x int) int {",          // multi-line snippet
		"\treturn 3 * x",
		"}",
		"%%",
		"fmt.Println(\"tripled\", triple(5))",
		":run 4",
		":back",
		":next",
		":next",
		"!echo shell-ok",
		":nope",
		":help",
	}, "\n") + "\n"
	out, errOut, err := runScript(t, script)
	if err != nil {
		t.Fatalf("Run: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	want := []string{
		"no notebook open",
		"opened testdata/steps.ipynb: 4 cells (2 code)",
		"── [1/4] markdown", "LENET, STEP BY STEP", "The idea: convolutions share weights, see the paper <http://yann.lecun.com>.",
		"  • second point with $y = Wx + b$", `\sigma(x) = \frac{1}{1+e^{-x}}`,
		"── [2/4] code", "│ func double(x int) int { return 2 * x }", "first cell says 42", "✓ cell 2 done",
		">   2 code     import \"fmt\"",
		"testdata/steps.ipynb: at cell 2 of 4 (code), section \"LeNet, step by step\"",
		"typed 8",
		"tripled 15",
		"── [4/4] code", "second cell says 100",
		"── [3/4] markdown", "Second section",
		"── [4/4] code", "second cell says 100",
		"(end of the notebook)",
		"shell-ok",
		"Commands:",
	}
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("stdout lacks %q (in order)\nstdout:\n%s\nstderr:\n%s", w, out, errOut)
		}
		rest = rest[i+len(w):]
	}
	if !strings.Contains(errOut, "unknown command :nope") {
		t.Errorf("stderr lacks the unknown-command message:\n%s", errOut)
	}
}

func TestNonInteractiveFailuresAndDeath(t *testing.T) {
	script := strings.Join([]string{
		"undefinedFunc()",
		"!kill -9 $PPID", // kills the kernel: reported, restarted
		"fmt.Println(\"after restart\")",
	}, "\n") + "\n"
	out, errOut, err := runScript(t, script)
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run error = %v, want ErrFailed", err)
	}
	if !strings.Contains(errOut, "undefined: undefinedFunc") {
		t.Errorf("compile error not shown:\n%s", errOut)
	}
	if !strings.Contains(errOut, "kernel died") || !strings.Contains(errOut, "restarting") {
		t.Errorf("kernel death not reported:\n%s", errOut)
	}
	if !strings.Contains(out, "after restart") {
		t.Errorf("cell after the restart did not run:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// tmux runs a tmux command on the test's private server.
func tmux(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestPTY drives the interactive REPL in a real terminal (tmux): open a
// notebook, run two code cells, interrupt an endless cell, quit with Ctrl-D.
func TestPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	nb, err := filepath.Abs("testdata/steps.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	sock := fmt.Sprintf("convnotes-repl-test-%d", os.Getpid())
	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit")
	tmp := t.TempDir()
	cmd := fmt.Sprintf("env %s=1 CONVNOTES_REPL_TEST_HISTORY=%s CONVNOTES_IMAGES=files TMPDIR=%s TERM=xterm-256color %s -test.run=XXX; echo $? > %s",
		childEnv, filepath.Join(dir, "history"), tmp, self, exitFile)
	tmux(t, sock, "new-session", "-d", "-s", "repl", "-x", "120", "-y", "50", cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", sock, "kill-server").Run() })

	screen := func() string { return tmux(t, sock, "capture-pane", "-p", "-S", "-300", "-t", "repl") }
	waitFor := func(want string, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if strings.Contains(screen(), want) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("screen never showed %q:\n%s", want, screen())
	}
	send := func(keys ...string) { tmux(t, sock, append([]string{"send-keys", "-t", "repl"}, keys...)...) }

	waitFor("go>", 2*time.Minute)
	send(":open "+nb, "Enter")
	waitFor("steps.ipynb[0/4]>", time.Minute)
	send(":next", "Enter") // markdown
	waitFor("LENET, STEP BY STEP", 30*time.Second)
	send(":next", "Enter") // first code cell
	waitFor("first cell says 42", 2*time.Minute)
	send(":next", "Enter", ":next", "Enter") // markdown, then the second code cell
	waitFor("second cell says 100", 2*time.Minute)

	// Ctrl-C interrupts an endless cell and the session goes on.
	send(`fmt.Println("spin" + "ning"); for {}`, "Enter")
	waitFor("spinning", 2*time.Minute) // compiled and running
	send("C-c")
	waitFor("interrupting the cell", 30*time.Second)
	waitFor("signal: interrupt", 30*time.Second)
	send("fmt.Println(\"alive\", double(1))", "Enter")
	waitFor("alive 2", 2*time.Minute)

	send("C-d")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(exitFile); err == nil {
			if code := strings.TrimSpace(string(data)); code != "0" {
				t.Fatalf("REPL exited with %s", code)
			}
			hist, err := os.ReadFile(filepath.Join(dir, "history"))
			if err != nil || !strings.Contains(string(hist), ":open "+nb) {
				t.Errorf("history file lacks the :open line: %q %v", hist, err)
			}
			if fi, err := os.Stat(filepath.Join(dir, "history")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("history file mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
			assertNoKernelFolder(t, tmp, "after Ctrl-D")
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("REPL did not exit after Ctrl-D:\n%s", screen())
}

// TestPTYHangup closes the terminal under the REPL (tmux kill-server sends
// SIGHUP): the REPL must shut its kernel down rather than leave it running.
func TestPTYHangup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for try := 1; try <= 2; try++ { // a race once left the folder in 1 of 2 tries
		ptyHangup(t, self, try)
	}
}

// ptyHangup runs the REPL in tmux, kills the tmux server and checks that
// the kernel is gone and its folder removed.
func ptyHangup(t *testing.T, self string, try int) {
	t.Helper()
	tmp := t.TempDir()
	sock := fmt.Sprintf("convnotes-repl-hup-%d-%d", os.Getpid(), try)
	cmd := fmt.Sprintf("env %s=1 CONVNOTES_REPL_TEST_HISTORY=%s TMPDIR=%s TERM=xterm-256color %s -test.run=XXX",
		childEnv, filepath.Join(tmp, "history"), tmp, self)
	tmux(t, sock, "new-session", "-d", "-s", "repl", "-x", "120", "-y", "50", cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", sock, "kill-server").Run() })
	pidRe := regexp.MustCompile(`kernel \w+ \(pid (\d+)\)`)
	var pid int
	deadline := time.Now().Add(2 * time.Minute)
	for pid == 0 && time.Now().Before(deadline) {
		screen := tmux(t, sock, "capture-pane", "-p", "-t", "repl")
		if m := pidRe.FindStringSubmatch(screen); m != nil {
			pid, _ = strconv.Atoi(m[1])
			break
		}
		if strings.Contains(screen, "go>") {
			tmux(t, sock, "send-keys", "-t", "repl", ":where", "Enter")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("no kernel pid shown by :where")
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("kernel %d not running before the hangup: %v", pid, err)
	}
	tmux(t, sock, "kill-server")
	deadline = time.Now().Add(20 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("kernel %d still running after the terminal hung up", pid)
	}
	deadline = time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if left, _ := filepath.Glob(filepath.Join(tmp, "convnotes-kernel-*")); len(left) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assertNoKernelFolder(t, tmp, fmt.Sprintf("after the hangup (try %d)", try))
}

// slowWriter is a terminal that stalls on the first line of a long output,
// as a slow terminal does: the cell's reply arrives meanwhile.
type slowWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	stalled bool
}

func (w *slowWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stalled && bytes.Contains(p, []byte("line 0")) {
		w.stalled = true
		time.Sleep(5 * time.Second)
	}
	return w.buf.Write(p)
}

// TestNonInteractiveLongOutput checks that every line of a 200,000-line
// output reaches the terminal, the last one included.
func TestNonInteractiveLongOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	const lines = 200_000
	script := `for i := 0; i < 200000; i++ { fmt.Printf("line %010d\n", i) }; fmt.Println("THE-END")` + "\n"
	var out slowWriter
	var errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := Run(ctx, Config{In: strings.NewReader(script), Out: &out, Err: &errOut, ImageDir: t.TempDir()}); err != nil {
		t.Fatalf("Run: %v\nstderr:\n%s", err, errOut.String())
	}
	got := out.buf.String()
	n := len(regexp.MustCompile(`(?m)^line \d{10}$`).FindAllStringIndex(got, -1))
	if n != lines || !strings.Contains(got, fmt.Sprintf("line %010d\nTHE-END\n", lines-1)) {
		tail := got[max(0, len(got)-200):]
		t.Fatalf("got %d lines, want %d then THE-END; output ends:\n%s\nstderr:\n%s", n, lines, tail, errOut.String())
	}
}

// TestCellFailureSaidOnce checks that a failing program's exit status is
// printed once, and that a cell reading standard input gets end-of-file at
// once instead of waiting for input that never comes.
func TestCellFailureSaidOnce(t *testing.T) {
	script := strings.Join([]string{
		"os.Exit(3)",
		`import ("io"; "os")`,
		"%%",
		`b, err := io.ReadAll(os.Stdin); fmt.Println("read", len(b), err)`,
	}, "\n") + "\n"
	start := time.Now()
	out, errOut, err := runScript(t, script)
	if !errors.Is(err, ErrFailed) {
		t.Errorf("Run error = %v, want ErrFailed", err)
	}
	if n := strings.Count(errOut, "exit status 3"); n != 1 {
		t.Errorf("exit status printed %d times, want once:\n%s", n, errOut)
	}
	if !strings.Contains(out, "read 0 <nil>") {
		t.Errorf("stdin read: stdout %q\nstderr %q", out, errOut)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("took %s: the stdin read waited", d)
	}
}
