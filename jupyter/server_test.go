package jupyter

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convnotes/convnotes/kernel"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
	sharedData string // the shared server's data folder (kernelspec)
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	if sharedData != "" {
		_ = os.RemoveAll(sharedData)
	}
	os.Exit(code)
}

// requireProgram skips the test when path is missing, unless it runs in CI (CI set), where it fails: .ci/run
// installs the package.
func requireProgram(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing (Debian package %s; .ci/run installs it): %v", path, pkg, err)
		}
		t.Skipf("%s missing (apt-get install %s)", path, pkg)
	}
}

// moduleRoot returns the checkout.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// installSpec installs the project's kernelspec (building the pinned tools and gopls the first time) into a
// fresh Jupyter data folder and returns it.
func installSpec(t *testing.T) string {
	t.Helper()
	data, err := os.MkdirTemp("", "convnotes-jupyter-data-*")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if _, err := kernel.InstallKernelSpec(ctx, moduleRoot(t), "", data, kernel.KernelSpecName); err != nil {
		_ = os.RemoveAll(data)
		t.Fatal(err)
	}
	return data
}

// server returns the package's Jupyter server: it serves the checkout, knows the project's kernelspec, and
// its kernels run in the quick profile (CONVNOTES_QUICK=1, as in make test).
func server(t *testing.T) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Jupyter server and GoNB kernels")
	}
	requireProgram(t, DefaultJupyter, "jupyter-notebook")
	sharedOnce.Do(func() {
		sharedData = installSpec(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared, sharedErr = StartServer(ctx, ServerOptions{Root: moduleRoot(t), DataDir: sharedData,
			Env: []string{"CONVNOTES_QUICK=1"}})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// startKernel starts a fresh kernel of the project's kernelspec and shuts it down at the end of the test.
func startKernel(t *testing.T, s *Server) *Kernel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k, err := s.StartKernel(ctx, kernel.KernelSpecName)
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, tail(s.Log(), 40))
	}
	t.Cleanup(func() { _ = k.Close() })
	return k
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// execute runs code and requires its reply, its idle status and status "ok".
func execute(t *testing.T, k *Kernel, code string, timeout time.Duration) *Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, err := k.Execute(ctx, code)
	if err != nil {
		t.Fatalf("cell %q: %v\nserver log:\n%s", code, err, tail(k.srv.Log(), 30))
	}
	if r.Status() != "ok" {
		t.Fatalf("cell %q: status %q, messages %v\nstderr: %s", code, r.Status(), r.Types(), r.Stream("stderr"))
	}
	return r
}

// wantTypes fails unless the reply holds exactly the messages a cell that prints owes the page.
func wantTypes(t *testing.T, r *Reply, code string) {
	t.Helper()
	got := r.Types()
	for _, want := range []string{"status:busy", "execute_input", "stream", "execute_reply", "status:idle"} {
		if !slices.Contains(got, want) {
			t.Errorf("cell %q: no %s among %v", code, want, got)
		}
	}
	if got[0] != "status:busy" {
		t.Errorf("cell %q: first message %s, want status:busy (%v)", code, got[0], got)
	}
}

// TestThreeCells is the case: a fast cell, a cell that runs for 1.5 s, and a cell after it, each with
// every message the notebook page needs (busy, execute_input, the output, the reply, idle).
func TestThreeCells(t *testing.T) {
	s := server(t)
	k := startKernel(t, s)
	cells := []struct{ code, out string }{
		{"%%\nfmt.Println(\"fast\")", "fast\n"},
		{"import \"time\"\nfunc init() { time.Sleep(1500 * time.Millisecond) }\n%%\nfmt.Println(\"slow-done\")", "slow-done\n"},
		{"%%\nfmt.Println(\"after\")", "after\n"},
	}
	for _, c := range cells {
		start := time.Now()
		r := execute(t, k, c.code, 5*time.Minute)
		wantTypes(t, r, c.code)
		if got := r.Stream("stdout"); got != c.out {
			t.Errorf("cell %q printed %q, want %q", c.code, got, c.out)
		}
		t.Logf("cell %q: %v in %s", c.code, r.Types(), time.Since(start).Round(time.Millisecond))
	}
}

// TestInterruptAndRestart interrupts an endless cell through the REST API, runs a cell after it, then
// restarts the kernel as the page does and runs a cell in the fresh kernel.
func TestInterruptAndRestart(t *testing.T) {
	s := server(t)
	k := startKernel(t, s)
	execute(t, k, "var answer = 41", 5*time.Minute)
	marker := filepath.Join(t.TempDir(), "spinning")
	type result struct {
		r   *Reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		r, err := k.Execute(ctx, fmt.Sprintf("%%%%\nos.WriteFile(%q, nil, 0o600)\nfmt.Println(\"spinning\")\nfor {}", marker))
		done <- result{r, err}
	}()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the endless cell never started")
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := k.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the interrupted cell did not end within a minute")
	}
	if res.err != nil {
		t.Fatalf("interrupted cell: %v", res.err)
	}
	if res.r.Status() != "error" || !strings.Contains(res.r.Stream("stderr"), "signal: interrupt") || !res.r.Idle {
		t.Errorf("interrupted cell: status %q, messages %v, stderr %q", res.r.Status(), res.r.Types(), res.r.Stream("stderr"))
	}
	r := execute(t, k, "%%\nfmt.Println(\"after interrupt\", answer+1)", 5*time.Minute)
	wantTypes(t, r, "after interrupt")
	if got := r.Stream("stdout"); got != "after interrupt 42\n" {
		t.Errorf("cell after the interrupt printed %q", got)
	}

	rctx, rcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer rcancel()
	if err := k.Restart(rctx); err != nil {
		t.Fatal(err)
	}
	r = execute(t, k, "%%\nfmt.Println(\"after restart\")", 5*time.Minute)
	wantTypes(t, r, "after restart")
	var c struct {
		Count int `json:"execution_count"`
	}
	if err := json.Unmarshal(r.Reply.Content, &c); err != nil || c.Count != 1 {
		t.Errorf("first cell after the restart: execution_count %d (%v), want 1 (a fresh kernel)", c.Count, err)
	}
	if r := mustFail(t, k, "%%\nfmt.Println(answer)"); !strings.Contains(r, "undefined: answer") {
		t.Errorf("a definition survived the restart: %s", r)
	}
}

// mustFail runs code that must not compile and returns its error text.
func mustFail(t *testing.T, k *Kernel, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := k.Execute(ctx, code)
	if err != nil {
		t.Fatalf("cell %q: %v", code, err)
	}
	if r.Status() != "error" {
		t.Fatalf("cell %q: status %q, want error", code, r.Status())
	}
	return textOf(r)
}

// textOf returns a reply's text: streams, errors and the text of displays.
func textOf(r *Reply) string {
	var b strings.Builder
	for _, m := range r.IOPub {
		var c struct {
			Text      string         `json:"text"`
			Data      map[string]any `json:"data"`
			EValue    string         `json:"evalue"`
			Traceback []string       `json:"traceback"`
		}
		if json.Unmarshal(m.Content, &c) != nil {
			continue
		}
		b.WriteString(c.Text)
		for _, mime := range []string{"text/plain", "text/markdown", "text/html"} {
			if s, ok := c.Data[mime].(string); ok {
				b.WriteString(s + "\n")
			}
		}
		if m.Type() == "error" {
			b.WriteString(c.EValue + "\n" + strings.Join(c.Traceback, "\n") + "\n")
		}
	}
	return b.String()
}

// TestCompletionAndHover asks the kernel, as the page does on Tab and Shift-Tab, to complete "fmt.Pri" in a
// cell's main body (after GoNB's "%%") and to describe fmt.Println: GoNB answers through the kernelspec's gopls.
func TestCompletionAndHover(t *testing.T) {
	s := server(t)
	k := startKernel(t, s)
	// GoNB starts gopls with the kernel and connects to it 12 s later; gopls then loads the workspace.
	// On two busy cores gopls can take minutes to load the workspace (this module and GoMLX).
	deadline := time.Now().Add(8 * time.Minute)
	var matches []string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		m, _, err := k.Complete(ctx, "%%\nfmt.Pri", len("%%\nfmt.Pri"))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if matches = m; slices.Contains(matches, "Println") {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if !slices.Contains(matches, "Println") {
		t.Fatalf("completions of fmt.Pri = %q, want Println among them\nkernel log:\n%s", matches, tail(s.Log(), 20))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := "%%\nfmt.Println(\"x\")"
	r, err := k.Request(ctx, "inspect_request", map[string]any{"code": code, "cursor_pos": strings.Index(code, "Println") + 2, "detail_level": 0})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Found bool           `json:"found"`
		Data  map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.Reply.Content, &in); err != nil {
		t.Fatal(err)
	}
	if text := fmt.Sprint(in.Data); !in.Found || !strings.Contains(text, "Println") {
		t.Errorf("hover on fmt.Println: found %v, data %s", in.Found, text)
	}
}

// TestKernelEnvironment checks, from inside a cell, the environment the kernelspec gives the kernel: the
// Makefile's settings, offline modules, and a PATH made only of the tools and the system's folders.
func TestKernelEnvironment(t *testing.T) {
	s := server(t)
	k := startKernel(t, s)
	r := execute(t, k, `%%
for _, v := range []string{"GOEXPERIMENT", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN", "CONVNOTES_QUICK", "PATH"} {
	fmt.Printf("%s=%s\n", v, os.Getenv(v))
}`, 5*time.Minute)
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.Stream("stdout")), "\n") {
		name, value, _ := strings.Cut(l, "=")
		env[name] = value
	}
	for name, want := range map[string]string{"GOEXPERIMENT": "simd", "GOFLAGS": "-buildvcs=false", "GOPROXY": "off",
		"GOTOOLCHAIN": "local", "CONVNOTES_QUICK": "1"} {
		if env[name] != want {
			t.Errorf("%s=%q in a cell, want %q", name, env[name], want)
		}
	}
	system := strings.Split(kernel.SystemPath, string(os.PathListSeparator))
	for _, d := range strings.Split(env["PATH"], string(os.PathListSeparator)) {
		if !slices.Contains(system, d) && !strings.Contains(d, filepath.Join("convnotes", "bin")) {
			t.Errorf("cell PATH has %s, neither a tools folder nor a system one: %s", d, env["PATH"])
		}
	}
}

// TestServerLogQuiet runs a cell that does not compile and then checks the server's terminal: GoNB's start-up
// test lines, the missing-gopls warning and the stack traces GoNB logs for compile errors must not be there.
func TestServerLogQuiet(t *testing.T) {
	s := server(t)
	k := startKernel(t, s)
	if msg := mustFail(t, k, "%%\nx := 1"); !strings.Contains(msg, "declared and not used") {
		t.Errorf("compile error shown as %q", msg)
	}
	log := s.Log()
	for _, noise := range []string{"Info message", "Warning message", "Error message", "gopls is not installed",
		"goexec.(*State)", "runtime.goexit"} {
		if strings.Contains(log, noise) {
			t.Errorf("the Jupyter server's terminal shows GoNB's %q:\n%s", noise, tail(log, 40))
		}
	}
}

// cellExpect is what a notebook cell's tags and "nbtest" metadata require (see go doc ./cmd/nbtest).
type cellExpect struct {
	skip    bool
	png     bool
	timeout time.Duration
	expect  []*regexp.Regexp
}

// expectations reads a cell's nbtest tags and metadata for the quick profile.
func expectations(t *testing.T, c *nbformat.Cell) cellExpect {
	t.Helper()
	e := cellExpect{timeout: 10 * time.Minute}
	for _, tag := range c.Tags() {
		name, value, _ := strings.Cut(strings.TrimPrefix(tag, "nbtest:"), "=")
		switch {
		case name == "skip" || name == "skip-quick":
			e.skip = true
		case name == "expect-png":
			e.png = true
		case name == "timeout":
			d, err := time.ParseDuration(value)
			if err != nil {
				t.Fatalf("tag %q: %v", tag, err)
			}
			e.timeout = max(d, e.timeout)
		}
	}
	var md struct {
		NBTest struct {
			Expect []string `json:"expect"`
		} `json:"nbtest"`
	}
	if len(c.Metadata) > 0 {
		if err := json.Unmarshal(c.Metadata, &md); err != nil {
			t.Fatalf("cell metadata: %v", err)
		}
	}
	for _, p := range md.NBTest.Expect {
		e.expect = append(e.expect, regexp.MustCompile(p))
	}
	return e
}

// runNotebook executes every code cell of the notebook at nbPath (relative to the server's root) in a fresh
// kernel, as a user pressing Shift-Enter through it would, and checks each cell's reply, idle status, outputs
// and nbtest expectations. It returns the wall-clock time.
func runNotebook(t *testing.T, s *Server, nbPath string) time.Duration {
	t.Helper()
	nb, err := nbformat.ReadFile(filepath.Join(moduleRoot(t), nbPath))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	k, err := s.OpenNotebook(ctx, nbPath, kernel.KernelSpecName)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = k.Close() }()
	for i, c := range nb.Cells {
		if c.Type != nbformat.CellCode || strings.TrimSpace(c.Source) == "" {
			continue
		}
		e := expectations(t, c)
		if e.skip {
			continue
		}
		cellStart := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		r, err := k.Execute(ctx, c.Source)
		cancel()
		where := fmt.Sprintf("%s cell %d (%s)", nbPath, i+1, c.Head(1))
		if err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", where, err, tail(s.Log(), 30))
		}
		if r.Status() != "ok" || r.Count("error") > 0 {
			t.Fatalf("%s: status %q, messages %v\n%s", where, r.Status(), r.Types(), textOf(r))
		}
		if e.png && !slices.Contains(r.MIMETypes(), "image/png") {
			t.Errorf("%s: no image/png output (outputs %v)", where, r.MIMETypes())
		}
		text := textOf(r)
		for _, re := range e.expect {
			if !re.MatchString(text) {
				t.Errorf("%s: output does not match %q:\n%s", where, re, text)
			}
		}
		if len(c.Outputs) > 0 && len(r.IOPub) <= 3 { // busy, execute_input, idle: nothing the cell owed
			t.Errorf("%s: no output; the saved notebook has %d", where, len(c.Outputs))
		}
		t.Logf("%s: %d messages in %s", where, len(r.IOPub)+1, time.Since(cellStart).Round(time.Millisecond))
	}
	return time.Since(start)
}

// TestNotebookThroughServer runs notebook 04 cell by cell through the server (quick profile).
func TestNotebookThroughServer(t *testing.T) {
	s := server(t)
	d := runNotebook(t, s, "notebooks/04_deconvolution.ipynb")
	t.Logf("notebooks/04_deconvolution.ipynb through the Jupyter server: %s", d.Round(time.Second))
}

// TestAllNotebooksThroughServer runs every notebook through the server and prints a table of times. It takes
// about half an hour on two cores, so it runs only with CONVNOTES_JUPYTER_ALL=1:
//
//	CONVNOTES_JUPYTER_ALL=1 go test -run TestAllNotebooksThroughServer -timeout 2h -v ./jupyter
func TestAllNotebooksThroughServer(t *testing.T) {
	if os.Getenv("CONVNOTES_JUPYTER_ALL") != "1" {
		t.Skip("set CONVNOTES_JUPYTER_ALL=1 to run every notebook through the server")
	}
	s := server(t)
	paths, err := filepath.Glob(filepath.Join(moduleRoot(t), "notebooks", "*.ipynb"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks: %v", err)
	}
	var rows []string
	for _, p := range paths {
		rel, _ := filepath.Rel(moduleRoot(t), p)
		ok := t.Run(filepath.Base(p), func(t *testing.T) {
			d := runNotebook(t, s, rel)
			rows = append(rows, fmt.Sprintf("| %s | passed | %s |", rel, d.Round(time.Second)))
		})
		if !ok {
			rows = append(rows, fmt.Sprintf("| %s | FAILED | — |", rel))
		}
	}
	t.Logf("\n| notebook | through the Jupyter server (quick profile) | wall-clock |\n|---|---|---|\n%s", strings.Join(rows, "\n"))
}
