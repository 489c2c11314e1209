//go:build unix

package repl

import (
	"bufio"
	"bytes"
	"context"
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

// pngCell displays a 4×4 PNG (the REPL runs each complete line as a cell).
const pngCell = `import ("bytes"; "image"; "image/png"; "github.com/janpfeifer/gonb/gonbui")
buf := new(bytes.Buffer); _ = png.Encode(buf, image.NewGray(image.Rect(0, 0, 4, 4))); gonbui.DisplayPNG(buf.Bytes())
`

// squat makes dir as another user would to catch the REPL's images: open to
// all, owned by nobody (when the test runs as root), with image-001.png a
// link to victim.
func squat(t *testing.T, dir, victim string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "image-001.png")); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImagesNeverThroughOthersFolder: another user's folder of the REPL's
// image folder's name (this one's, or the fixed name of earlier versions),
// with a link to one of your files, must not make the REPL write through
// it: the image goes to a fresh private folder, the file stays intact.
func TestImagesNeverThroughOthersFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	victim := filepath.Join(t.TempDir(), "victim.txt")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"convnotes-repl-images", defaultImageDirName()} {
		squat(t, filepath.Join(tmp, name), victim)
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	err := Run(ctx, Config{In: strings.NewReader(pngCell), Out: &out, Err: &errOut})
	if err != nil {
		t.Fatalf("Run: %v\nstderr:\n%s", err, errOut.String())
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Fatalf("the victim file now holds %q", data)
	}
	m := regexp.MustCompile(`\[image: (.*)\]`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no image saved:\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	img := m[1]
	dir := filepath.Dir(img)
	fi, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("image folder %s: mode %v, want a 0700 folder", dir, fi.Mode())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		t.Errorf("image folder %s not owned by this user", dir)
	}
	if filepath.Base(dir) == "convnotes-repl-images" || filepath.Base(dir) == defaultImageDirName() {
		t.Errorf("image saved in the squatted folder %s", dir)
	}
	data, err := os.ReadFile(img)
	if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Errorf("image %s: %v, starts %q", img, err, data[:min(len(data), 4)])
	}
	if fi, err := os.Lstat(img); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		t.Errorf("image %s: mode %v, want a 0600 file", img, fi.Mode())
	}
	if !strings.Contains(errOut.String(), "not a private folder") {
		t.Errorf("the refused folder was not reported:\n%s", errOut.String())
	}
}

// TestSaveFileNeverFollowsLinks: in a configured image folder, an image
// never overwrites an existing file or writes through a link.
func TestSaveFileNeverFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim.txt")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "image-001.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "image-002.png"), []byte("earlier"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	r := &renderer{out: &out, errOut: &errOut, imageDir: dir}
	r.saveFile("png", []byte("\x89PNG new"))
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Errorf("the link's target now holds %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "image-002.png")); string(data) != "earlier" {
		t.Errorf("an earlier image was overwritten with %q", data)
	}
	want := filepath.Join(dir, "image-003.png")
	if data, err := os.ReadFile(want); err != nil || string(data) != "\x89PNG new" || !strings.Contains(out.String(), want) {
		t.Errorf("image not saved as %s: %v %q\nstdout: %s\nstderr: %s", want, err, data, out.String(), errOut.String())
	}
	if fi, err := os.Stat(want); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", want, fi.Mode())
	}
}

// TestStdinLeftoversAndNonGo runs the stdin readers, a cell that leaves a
// child holding its output, and :open of a Python notebook.
func TestStdinLeftoversAndNonGo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	script := strings.Join([]string{
		`import ("bufio"; "os")`,
		`%%`,
		`s, err := bufio.NewReader(os.Stdin).ReadString('\n'); fmt.Printf("bufio read %q %v\n", s, err)`,
		`b, err := io.ReadAll(os.NewFile(0, "")); fmt.Println("fd 0 read", len(b), err)`,
		`!read x; echo "shell read status $? x=[$x]"`,
		`c := exec.Command("sleep", "1242"); c.Stdout = os.Stdout; _ = c.Start(); fmt.Println("PID", c.Process.Pid)`,
		`:open testdata/python.ipynb`,
		`fmt.Println("still", "here")`,
	}, "\n") + "\n"
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	err := Run(ctx, Config{In: strings.NewReader(script), Out: &out, Err: &errOut, ImageDir: t.TempDir(),
		Kernel: kernel.Options{CellTimeout: 30 * time.Second}})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Run: %v (after %s)\nstdout:\n%s\nstderr:\n%s", err, took, out.String(), errOut.String())
	}
	for _, want := range []string{"bufio read \"\" EOF\n", "fd 0 read 0 <nil>\n", "shell read status 1 x=[]\n", "still here\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", want, out.String(), errOut.String())
		}
	}
	if !strings.Contains(errOut.String(), `testdata/python.ipynb: not a Go notebook: its kernel is "python3", for python`) {
		t.Errorf("the Python notebook was not refused:\n%s", errOut.String())
	}
	if m := regexp.MustCompile(`PID (\d+)`).FindStringSubmatch(out.String()); m == nil {
		t.Errorf("the child's cell did not run:\n%s", out.String())
	} else if pid, _ := strconv.Atoi(m[1]); !waitGone(pid, 5*time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the cell's child %d still runs", pid)
	}
	if took > 2*time.Minute {
		t.Errorf("took %s: a cell waited", took)
	}
	assertNoKernelFolder(t, tmp, "after the end of input")
}

// replChild runs the REPL as a child process reading a pipe.
type replChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	tmp    string
	mu     sync.Mutex
	out    strings.Builder
	errOut strings.Builder
	lines  chan string
}

// startREPLChild starts the REPL in a child process with its own TMPDIR.
func startREPLChild(t *testing.T) *replChild {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &replChild{tmp: t.TempDir(), lines: make(chan string, 1000)}
	c.cmd = exec.Command(self, "-test.run=XXX")
	c.cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+c.tmp, "CONVNOTES_REPL_TEST_HISTORY="+filepath.Join(c.tmp, "h"))
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = writerFunc(func(p []byte) { c.mu.Lock(); c.errOut.Write(p); c.mu.Unlock() })
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.mu.Lock()
			c.out.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		close(c.lines)
	}()
	return c
}

// writerFunc is an io.Writer calling a function.
type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// send writes lines to the REPL.
func (c *replChild) send(t *testing.T, lines ...string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, strings.Join(lines, "\n")+"\n"); err != nil {
		t.Fatal(err)
	}
}

// waitLine waits for a line of stdout matching re and returns its submatches.
func (c *replChild) waitLine(t *testing.T, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("the REPL ended before printing %q:\n%s", re, c.output())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no line matching %q within %s:\n%s", re, d, c.output())
		}
	}
}

// output returns what the REPL printed so far.
func (c *replChild) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return "stdout:\n" + c.out.String() + "stderr:\n" + c.errOut.String()
}

// waitExit waits for the REPL to exit and returns its wait status.
func (c *replChild) waitExit(t *testing.T, d time.Duration) syscall.WaitStatus {
	t.Helper()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("the REPL did not exit within %s:\n%s", d, c.output())
	}
	return c.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// TestCtrlCWithChildHoldingOutput interrupts a cell whose program started a
// child that keeps its output open: the cell must end and the REPL go on.
func TestCtrlCWithChildHoldingOutput(t *testing.T) {
	c := startREPLChild(t)
	c.send(t, `c := exec.Command("sleep", "1243"); c.Stdout = os.Stdout; _ = c.Start(); fmt.Println("PID", c.Process.Pid); select {}`)
	m := c.waitLine(t, regexp.MustCompile(`^PID (\d+)$`), 2*time.Minute)
	pid, _ := strconv.Atoi(m[1])
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	c.send(t, `fmt.Println("after", "ctrl-c")`)
	c.waitLine(t, regexp.MustCompile(`^after ctrl-c$`), time.Minute)
	if !waitGone(pid, 5*time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the interrupted cell's child %d still runs", pid)
	}
	_ = c.stdin.Close()
	if ws := c.waitExit(t, time.Minute); !ws.Exited() {
		t.Errorf("REPL ended with %v\n%s", ws, c.output())
	}
	assertNoKernelFolder(t, c.tmp, "after the end of input")
}

// TestSIGTERMMidCell stops the REPL with SIGTERM while a cell runs (and its
// input has ended): it must clean up and exit as SIGTERM would (143 in a
// shell), without trying to restart the kernel.
func TestSIGTERMMidCell(t *testing.T) {
	c := startREPLChild(t)
	c.send(t, `fmt.Println("sleeping"); time.Sleep(5 * time.Minute)`)
	_ = c.stdin.Close()
	c.waitLine(t, regexp.MustCompile(`^sleeping$`), 2*time.Minute)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws := c.waitExit(t, time.Minute)
	if !(ws.Signaled() && ws.Signal() == syscall.SIGTERM) && !(ws.Exited() && ws.ExitStatus() == 143) {
		t.Errorf("REPL ended with %v, want SIGTERM's status (143)\n%s", ws, c.output())
	}
	if out := c.output(); strings.Contains(out, "restart") || strings.Contains(out, "kernel died") {
		t.Errorf("the REPL tried to restart the kernel:\n%s", out)
	}
	assertNoKernelFolder(t, c.tmp, "after SIGTERM")
}

// TestSignalsDuringCleanup sends SIGHUP again and again while the REPL shuts
// its kernel down at the end of its input (as a closing terminal does): the
// clean-up must not be cut short. The kernel is stopped (SIGSTOP) first, so
// that the clean-up takes seconds (GoNB does not answer the shutdown
// request); when the REPL exits, the kernel must be dead and its folder gone.
func TestSignalsDuringCleanup(t *testing.T) {
	c := startREPLChild(t)
	// A cell first: the kernel is then connected on every channel, so the
	// shutdown request is sent and waited for (a kernel stopped while it
	// starts would make the clean-up quick, and the test would prove nothing).
	c.send(t, `fmt.Println("kernel", "ready")`)
	c.waitLine(t, regexp.MustCompile(`^kernel ready$`), 2*time.Minute)
	c.send(t, ":where")
	m := c.waitLine(t, regexp.MustCompile(`kernel \w+ \(pid (\d+)\)`), 2*time.Minute)
	pid, _ := strconv.Atoi(m[1])
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGCONT) }()
	exited := make(chan struct{})
	go func() {
		for {
			select {
			case <-exited:
				return
			case <-time.After(50 * time.Millisecond):
				_ = c.cmd.Process.Signal(syscall.SIGHUP)
			}
		}
	}()
	_ = c.stdin.Close()
	start := time.Now()
	ws := c.waitExit(t, time.Minute)
	close(exited)
	if d := time.Since(start); d < time.Second {
		t.Errorf("the clean-up of a stopped kernel took %v: it did not wait for the kernel, so no signal came during it", d)
	}
	kernelGone := waitGone(pid, time.Millisecond)
	left, _ := filepath.Glob(filepath.Join(c.tmp, "convnotes-kernel-*"))
	if !kernelGone || len(left) > 0 {
		t.Errorf("the REPL exited before its clean-up was done: kernel %d gone %v, folders left %v\n%s", pid, kernelGone, left, c.output())
	}
	if !(ws.Signaled() && ws.Signal() == syscall.SIGHUP) && !(ws.Exited() && ws.ExitStatus() == 129) {
		t.Errorf("REPL ended with %v, want SIGHUP's status\n%s", ws, c.output())
	}
	if !waitGone(pid, 20*time.Second) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("kernel %d still running", pid)
	}
}
