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

// completionEnv turns on the child REPL's completion (gopls): only the pty test that tries Tab pays for it.
const completionEnv = "CONVNOTES_REPL_TEST_COMPLETION"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		// As convnotes repl configures it: the profile from CONVNOTES_QUICK, completion on request.
		err := Run(context.Background(), Config{HistoryFile: os.Getenv("CONVNOTES_REPL_TEST_HISTORY"),
			Kernel: kernel.Options{Env: ProfileEnv(QuickFromEnv()), Completion: os.Getenv(completionEnv) == "1"}})
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
		{"latex inline", "loss $L = -\\sum y \\log p$ here", []string{"loss L = −∑ y log p here"}, []string{"$", "\\"}},
		{"latex residual", "$F(x) = \\mathrm{BN}(W_2 * \\mathrm{ReLU}(\\dots))$", []string{"F(x) = BN(W₂ ∗ ReLU(…))"}, nil},
		{"latex block", "$$\n\\frac{a}{b+1}\n$$", []string{"    a/(b+1)"}, []string{"$", "frac"}},
		{"latex one-line block", "$$n' = \\left\\lfloor \\frac{n + 2p - k}{s} \\right\\rfloor + 1 .$$", []string{"    n' = ⌊ (n + 2p − k)/s ⌋ + 1 ."}, nil},
		{"money is not math", "costs $5 and $10", []string{"costs $5 and $10"}, nil},
		{"wrapped item", "- " + strings.Repeat("word ", 12) + "\n  continued here\n- next", []string{"  • word", "\n    word", "\n    here\n  • next"}, []string{"\ncontinued", "\nhere"}},
		{"nested item", "- top\n  - inner " + strings.Repeat("long ", 9), []string{"  • top\n    • inner", "\n      long"}, nil},
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

func TestTeXToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`\alpha + \beta_1 \cdot x^2`, "α + β₁ · x²"},
		{`W^\top x`, "Wᵀ x"},
		{`\frac12 (x^2 + 10y^2)`, "1/2 (x² + 10y²)"},
		{`\sqrt{\hat{v}_t} + \epsilon`, "√v̂ₜ + ε"},
		{`\sqrt{x+1}`, "√(x+1)"},
		{`\sum_{i=1}^{n} x_i`, "∑ᵢ₌₁ⁿ xᵢ"},
		{`32\times32`, "32×32"},
		{`x_{ij} \mathrel{+}= y`, "xᵢⱼ += y"},
		{`\mathbb{E}[x] \in \mathbb{R}`, "𝔼[x] ∈ ℝ"},
		{`e^{-x}`, "e⁻ˣ"},
		{`W_{\mathrm{out}}`, "Wₒᵤₜ"},
		{`W_{\mathrm{big}}`, "W_(big)"},
		{`\theta \leftarrow \theta - \eta \nabla L`, "θ ← θ − η ∇ L"},
	}
	for _, tc := range tests {
		if got := texToText(tc.in); got != tc.want {
			t.Errorf("texToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"%%\nfmt.Println(1)", "fmt.Println(1)"},
		{"\n  %%  \n\nx := 2", "x := 2"},
		{"import \"fmt\"\n%%", `import "fmt"`},
		{"", ""},
	}
	for _, tc := range tests {
		if got := firstLine(tc.in); got != tc.want {
			t.Errorf("firstLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestHelpExample checks that the notebook :help names as an example exists.
func TestHelpExample(t *testing.T) {
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		for _, f := range strings.Fields(c.help) {
			if p := strings.Trim(f, "()"); strings.HasSuffix(p, ".ipynb") {
				if _, err := os.Stat(filepath.Join(root, p)); err != nil {
					t.Errorf(":help example %s: %v", p, err)
				}
			}
		}
	}
}

// TestMakeReplPassesArgs checks that `make repl ARGS=… NB=…` hands both to convnotes repl.
func TestMakeReplPassesArgs(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "-n", "-C", root, "repl", "ARGS=--quick --timeout 5m", "NB=notebooks/04_deconvolution.ipynb").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n repl: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "convnotes repl --quick --timeout 5m notebooks/04_deconvolution.ipynb") {
		t.Errorf("make -n repl ARGS=… NB=… runs:\n%s", out)
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
		"  • second point with y = Wx + b, a list item long enough to wrap on an\n    eighty-column terminal, continued",
		"  • a residual block computes F(x) = BN(W₂ ∗ ReLU(…))", "σ(x) = 1/(1+e⁻ˣ)",
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
	out, err := exec.Command("tmux", append([]string{"-u", "-L", sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// ptySession is a REPL running in a private tmux server.
type ptySession struct {
	t    *testing.T
	sock string
}

// startPTY runs shellCmd in a new 120×50 tmux session; the tmux server is killed at the end of the test.
func startPTY(t *testing.T, name, shellCmd string) *ptySession {
	t.Helper()
	sock := fmt.Sprintf("convnotes-repl-%s-%d", name, os.Getpid())
	tmux(t, sock, "new-session", "-d", "-s", "repl", "-x", "120", "-y", "50", shellCmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", sock, "kill-server").Run() })
	return &ptySession{t: t, sock: sock}
}

func (p *ptySession) screen() string {
	return tmux(p.t, p.sock, "capture-pane", "-p", "-S", "-300", "-t", "repl")
}

func (p *ptySession) send(keys ...string) {
	tmux(p.t, p.sock, append([]string{"send-keys", "-t", "repl"}, keys...)...)
}

// waitFor waits until the screen shows want.
func (p *ptySession) waitFor(want string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(p.screen(), want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.t.Fatalf("screen never showed %q:\n%s", want, p.screen())
}

// lastLine returns the last non-blank line of a screen, without trailing spaces.
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, " \n"), "\n")
	return strings.TrimRight(lines[len(lines)-1], " ")
}

// childCmd is the shell command that runs the test binary as the REPL with env (KEY=VALUE …).
func childCmd(t *testing.T, self string, env ...string) string {
	t.Helper()
	return fmt.Sprintf("env %s=1 LC_ALL=C.UTF-8 TERM=xterm-256color %s %s -test.run=XXX", childEnv, strings.Join(env, " "), self)
}

// TestPTY drives the interactive REPL in a real terminal (tmux): Tab completes Go through the kernel's gopls,
// the quick profile comes from CONVNOTES_QUICK, a notebook opens, :list names each cell by its first real
// line, Markdown math reads as text, two code cells run, an endless cell is interrupted, Ctrl-D quits.
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
	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit")
	tmp := t.TempDir()
	p := startPTY(t, "test", childCmd(t, self, "CONVNOTES_REPL_TEST_HISTORY="+filepath.Join(dir, "history"),
		"CONVNOTES_IMAGES=files", "TMPDIR="+tmp, "CONVNOTES_QUICK=1", completionEnv+"=1")+"; echo $? > "+exitFile)

	p.waitFor("go>", 5*time.Minute)
	p.send(":help", "Enter")
	p.waitFor("notebooks/01_optimization.ipynb", 30*time.Second)
	p.send(`fmt.Println("profile", os.Getenv("CONVNOTES_QUICK"))`, "Enter")
	p.waitFor("profile 1", 2*time.Minute)

	// Tab completes through GoNB's gopls, which starts with the kernel and answers once it has loaded the
	// workspace: press Tab until the line reads fmt.Println.
	p.send("fmt.Printl")
	deadline := time.Now().Add(8 * time.Minute)
	for lastLine(p.screen()) != "go> fmt.Println" {
		if time.Now().After(deadline) {
			t.Fatalf("Tab never completed fmt.Printl:\n%s", p.screen())
		}
		p.send("Tab")
		time.Sleep(3 * time.Second)
	}
	p.send(`("tab", "completed")`, "Enter")
	p.waitFor("tab completed", 2*time.Minute)

	p.send(":open "+nb, "Enter")
	p.waitFor("steps.ipynb[0/4]>", time.Minute)
	p.send(":list", "Enter")
	p.waitFor(`4 code     fmt.Println("second cell says", double(50))`, 30*time.Second)
	p.send(":next", "Enter") // markdown
	p.waitFor("LENET, STEP BY STEP", 30*time.Second)
	p.waitFor("F(x) = BN(W₂ ∗ ReLU(…))", 5*time.Second)
	p.waitFor("σ(x) = 1/(1+e⁻ˣ)", 5*time.Second)
	if scr := p.screen(); !regexp.MustCompile(`(?m)^    continued on the next source line`).MatchString(scr) &&
		!regexp.MustCompile(`(?m)^    .*continued`).MatchString(scr) {
		t.Errorf("the wrapped list item lost its indentation:\n%s", scr)
	}
	p.send(":next", "Enter") // first code cell
	p.waitFor("first cell says 42", 2*time.Minute)
	p.send(":next", "Enter", ":next", "Enter") // markdown, then the second code cell
	p.waitFor("second cell says 100", 2*time.Minute)

	// Ctrl-C interrupts an endless cell and the session goes on.
	p.send(`fmt.Println("spin" + "ning"); for {}`, "Enter")
	p.waitFor("spinning", 2*time.Minute) // compiled and running
	p.send("C-c")
	p.waitFor("interrupting the cell", 30*time.Second)
	p.waitFor("signal: interrupt", 30*time.Second)
	p.send("fmt.Println(\"alive\", double(1))", "Enter")
	p.waitFor("alive 2", 2*time.Minute)

	p.send("C-d")
	deadline = time.Now().Add(30 * time.Second)
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
	t.Fatalf("REPL did not exit after Ctrl-D:\n%s", p.screen())
}

// TestPTYUnderMake runs the REPL as a make recipe does (`make repl`), interrupts a cell with Ctrl-C and quits:
// make must go on with its next command and succeed, not stop with "Interrupt".
func TestPTYUnderMake(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	for _, prog := range []string{"tmux", "make"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s not installed", prog)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	makefile := filepath.Join(dir, "Makefile")
	recipe := "repl:\n\t" + childCmd(t, self, "CONVNOTES_REPL_TEST_HISTORY="+filepath.Join(dir, "history"), "TMPDIR="+dir) +
		"\n\t@echo make went on\n"
	if err := os.WriteFile(makefile, []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	exitFile := filepath.Join(dir, "make-exit")
	p := startPTY(t, "make", fmt.Sprintf("make -s -f %s repl; echo $? > %s; sleep 60", makefile, exitFile))
	p.waitFor("go>", 5*time.Minute)
	p.send(`fmt.Println("spin" + "ning"); for {}`, "Enter")
	p.waitFor("spinning", 2*time.Minute)
	p.send("C-c")
	p.waitFor("signal: interrupt", 30*time.Second)
	p.send("C-d")
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(exitFile); err == nil {
			if code := strings.TrimSpace(string(data)); code != "0" || !strings.Contains(p.screen(), "make went on") {
				t.Fatalf("make exited with %s after Ctrl-C and Ctrl-D in the REPL:\n%s", code, p.screen())
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("make did not end after the REPL's Ctrl-D:\n%s", p.screen())
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
