//go:build unix

package kernel

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStdinEOFForEveryReader runs the readers of standard input a cell may
// use: each must get end-of-file at once, not wait for the cell's timeout.
func TestStdinEOFForEveryReader(t *testing.T) {
	k := shared(t)
	tests := []struct{ name, code, want string }{
		{"bufio on os.Stdin", "import (\"bufio\"; \"os\")\n%%\ns, err := bufio.NewReader(os.Stdin).ReadString('\\n')\nfmt.Printf(\"read %q %v\\n\", s, err)\n",
			"read \"\" EOF\n"},
		{"os.NewFile(0)", "import (\"io\"; \"os\")\n%%\nb, err := io.ReadAll(os.NewFile(0, \"\"))\nfmt.Println(\"read\", len(b), err)\n",
			"read 0 <nil>\n"},
		{"child given os.Stdin", "import (\"os\"; \"os/exec\")\n%%\nc := exec.Command(\"cat\")\nc.Stdin, c.Stdout = os.Stdin, os.Stdout\nfmt.Println(\"cat:\", c.Run())\n",
			"cat: <nil>\n"},
		{"!read", "!read x; echo \"read=$? x=$x\"\n", "read=1 x=\n"},
		{"%%bash keeps its script on stdin", "%%bash\nread y\nfrom-the-script\necho \"y=$y\"\n", "y=from-the-script\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var got collect
			res, err := k.Execute(ctx, tc.code, got.add)
			if err != nil {
				t.Fatalf("Execute: %v (stdout %q)", err, got.stream("stdout"))
			}
			if res.Err() != nil {
				t.Fatalf("cell failed: %v", res.Err())
			}
			if out := got.stream("stdout"); out != tc.want {
				t.Errorf("stdout = %q, want %q", out, tc.want)
			}
		})
	}
}

// TestStdinEOFSourceParses checks the Go file given to the cells on every
// kind of system.
func TestStdinEOFSourceParses(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "freebsd", "windows"} {
		if _, err := parser.ParseFile(token.NewFileSet(), stdinEOFFile, stdinEOFSource(goos), 0); err != nil {
			t.Errorf("%s: %v", goos, err)
		}
	}
}

func TestWithBashEnv(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  []string
		user string // CONVNOTES_USER_BASH_ENV, "-" for unset
	}{
		{[]string{"HOME=/root"}, "-"},
		{[]string{"BASH_ENV=/home/me/.bash_env", "HOME=/root"}, "/home/me/.bash_env"},
		{[]string{"BASH_ENV=", userBashEnv + "=stale"}, ""},
	} {
		env, err := withBashEnv(tc.env, dir)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if _, dup := got[k]; dup {
				t.Errorf("%v: %s set twice", tc.env, k)
			}
			got[k] = v
		}
		if got["BASH_ENV"] != filepath.Join(dir, "stdin_eof.bash") {
			t.Errorf("%v: BASH_ENV = %q", tc.env, got["BASH_ENV"])
		}
		if u, ok := got[userBashEnv]; (tc.user == "-") == ok || (ok && u != tc.user) {
			t.Errorf("%v: %s = %q (set %v), want %q", tc.env, userBashEnv, u, ok, tc.user)
		}
	}
}

// pidLine finds "PID n" in a cell's output.
var pidLine = regexp.MustCompile(`PID (\d+)`)

// cellPid runs code, which prints "PID n", and returns n.
func cellPid(t *testing.T, k *Kernel, code string, timeout time.Duration) (int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var got collect
	start := time.Now()
	res, err := k.Execute(ctx, code, got.add)
	took := time.Since(start)
	if err != nil || res.Err() != nil {
		t.Fatalf("Execute: %v %v\nstdout: %s\nstderr: %s", err, res.Err(), got.stream("stdout"), got.stream("stderr"))
	}
	m := pidLine.FindStringSubmatch(got.stream("stdout"))
	if m == nil {
		t.Fatalf("no PID in the output %q", got.stream("stdout"))
	}
	pid, _ := strconv.Atoi(m[1])
	return pid, took
}

// TestCellLeftoversKilled: a cell ends when its program ends, although a
// child it started keeps its output open, and what a cell leaves running is
// killed when it ends, setsid children included; at shutdown too.
func TestCellLeftoversKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the child subreaper is Linux's")
	}
	k := shared(t)
	tests := []struct{ name, code string }{
		{"child keeps stdout open", "import \"os/exec\"\n%%\nc := exec.Command(\"sleep\", \"1235\")\nc.Stdout = os.Stdout\n" +
			"if err := c.Start(); err != nil { panic(err) }\nfmt.Println(\"PID\", c.Process.Pid)\n"},
		{"!setsid child", "!setsid sleep 1236 >/dev/null 2>&1 & echo PID $!\n"},
		{"!setsid child keeps stdout open", "!setsid sleep 1237 & echo PID $!\n"},
		{"setsid grandchild of a running program", "import \"os/exec\"\n%%\nc := exec.Command(\"sh\", \"-c\", \"setsid sleep 1238 & echo PID $!\")\n" +
			"c.Stdout = os.Stdout\nif err := c.Run(); err != nil { panic(err) }\ntime.Sleep(time.Second)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pid, took := cellPid(t, k, tc.code, time.Minute)
			if took > 30*time.Second {
				t.Errorf("the cell took %s", took)
			}
			if running(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("process %d the cell left is still running after the cell", pid)
			}
		})
	}
}

// TestShutdownKillsSetsidChildren shuts a kernel down while its cell runs a
// setsid child: the child dies with the kernel.
func TestShutdownKillsSetsidChildren(t *testing.T) {
	k := startKernel(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pids := make(chan int, 1)
	go func() {
		_, _ = k.Execute(ctx, "import \"os/exec\"\n%%\nc := exec.Command(\"setsid\", \"sleep\", \"1239\")\n"+
			"if err := c.Start(); err != nil { panic(err) }\nfmt.Println(\"PID\", c.Process.Pid)\ntime.Sleep(5 * time.Minute)\n",
			func(o Output) {
				if m := pidLine.FindStringSubmatch(o.Text); m != nil {
					pid, _ := strconv.Atoi(m[1])
					pids <- pid
				}
			})
	}()
	var pid int
	select {
	case pid = <-pids:
	case <-time.After(time.Minute):
		t.Fatal("the cell did not start its child")
	}
	s, err := k.session()
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Shutdown(ctx)
	if running(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("setsid child %d still running after Shutdown", pid)
	}
	if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kernel folder %s left: %v", s.dir, err)
	}
}

// TestLongTMPDIRKeepsUnixSockets starts a kernel with a TMPDIR too long for a
// socket address: the sockets go to a short private folder, never to TCP.
func TestLongTMPDIRKeepsUnixSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gonb kernel")
	}
	long := filepath.Join(t.TempDir(), strings.Repeat("x", 90))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", long)
	k := startKernel(t, Options{})
	s, err := k.session()
	if err != nil {
		t.Fatal(err)
	}
	if s.conn.Transport != "ipc" {
		t.Fatalf("transport %q with a %d-byte TMPDIR, want ipc", s.conn.Transport, len(long))
	}
	if !strings.HasPrefix(s.dir, long) || len(s.dirs) != 2 {
		t.Fatalf("kernel folder %s, folders %v", s.dir, s.dirs)
	}
	sock := strings.TrimPrefix(s.conn.endpoint(s.conn.HBPort), "ipc://")
	if len(sock) > maxSocketPath || filepath.Dir(sock) != s.dirs[1] {
		t.Errorf("socket %s (%d bytes) not in the short folder %s", sock, len(sock), s.dirs[1])
	}
	if err := checkPrivate(s.dirs[1]); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got collect
	if res, err := k.Execute(ctx, "%%\nfmt.Println(\"over ipc\")", got.add); err != nil || res.Err() != nil || got.stream("stdout") != "over ipc\n" {
		t.Fatalf("cell: %v %v %q", err, res.Err(), got.stream("stdout"))
	}
	_ = k.Shutdown(ctx)
	for _, d := range s.dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("folder %s left after shutdown: %v", d, err)
		}
	}
}

// TestNoShortSocketFolder: with no short folder for the sockets either, the
// client refuses in one line that says how to fix TMPDIR.
func TestNoShortSocketFolder(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("y", 110))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	old := socketBase
	socketBase = long
	t.Cleanup(func() { socketBase = old })
	_, _, err := ipcConnection(long)
	if err == nil || !strings.Contains(err.Error(), "set TMPDIR to a shorter folder") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error = %v, want one line saying to set TMPDIR", err)
	}
	if left, _ := filepath.Glob(filepath.Join(long, folderPrefix+"*")); len(left) != 0 {
		t.Errorf("folders left: %v", left)
	}
}

// TestPrivateDir checks the folder checks that keep other users out.
func TestPrivateDir(t *testing.T) {
	parent := t.TempDir()
	dir, err := PrivateDir(parent, "mine")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: mode %v, want 0700", dir, fi.Mode())
	}
	if _, err := PrivateDir(parent, "mine"); err != nil {
		t.Errorf("an existing private folder refused: %v", err)
	}
	target := t.TempDir()
	if err := os.Chmod(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(parent, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(parent, "open"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(parent, "open"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := []string{"link", "open", "file"}
	if os.Geteuid() == 0 {
		if err := os.Mkdir(filepath.Join(parent, "theirs"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(parent, "theirs"), 65534, 65534); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, "theirs")
	}
	for _, name := range bad {
		if _, err := PrivateDir(parent, name); !errors.Is(err, ErrNotPrivate) {
			t.Errorf("%s: error %v, want ErrNotPrivate", name, err)
		}
	}
	if fi, err := os.Stat(target); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o755 {
		t.Errorf("the link's target was changed to mode %v", fi.Mode())
	}

	// A private file is never created through a link or over a file.
	victim := filepath.Join(target, "victim")
	if err := os.WriteFile(victim, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "image-001.png")); err != nil {
		t.Fatal(err)
	}
	if f, err := CreatePrivateFile(filepath.Join(dir, "image-001.png")); err == nil {
		_ = f.Close()
		t.Error("created a file through a symbolic link")
	}
	if data, _ := os.ReadFile(victim); string(data) != "mine" {
		t.Errorf("victim now holds %q", data)
	}
	f, err := CreatePrivateFile(filepath.Join(dir, "image-002.png"))
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	if fi, err := os.Stat(f.Name()); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", f.Name(), fi.Mode())
	}
}

// TestLineTooLong: a cell with a line GoNB would take minutes on is refused
// before anything is sent.
func TestLineTooLong(t *testing.T) {
	k := &Kernel{} // no session: nothing may be sent
	long := "var s = \"" + strings.Repeat("x", MaxLineBytes) + "\"\n"
	for _, code := range []string{long, "%%\nfmt.Println(1)\n" + long} {
		_, err := k.Execute(context.Background(), code, nil)
		if !errors.Is(err, ErrLineTooLong) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Execute(%d bytes) = %v, want a one-line ErrLineTooLong", len(code), err)
		}
	}
	if err := checkLineLengths(strings.Repeat(strings.Repeat("x", MaxLineBytes)+"\n", 4)); err != nil {
		t.Errorf("lines of exactly %d bytes refused: %v", MaxLineBytes, err)
	}
	if _, err := k.Execute(context.Background(), "%%\nfmt.Println(1)\n", nil); !errors.Is(err, ErrShutdown) {
		t.Errorf("Execute of a short cell = %v, want it past the length check", err)
	}
}

// deadPid returns the id of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestRemoveStaleFolders(t *testing.T) {
	tmp := t.TempDir()
	mk := func(owner string) string {
		d, err := os.MkdirTemp(tmp, folderPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(owner), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	dead := mk(fmt.Sprint(deadPid(t)))
	live, none := mk(strconv.Itoa(os.Getppid())), mk("")
	removed := removeStaleFolders(tmp)
	if len(removed) != 1 || removed[0] != dead {
		t.Errorf("removed %v, want [%s]", removed, dead)
	}
	for _, d := range []string{live, none} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
