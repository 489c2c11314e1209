//go:build linux

package kernel

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// supervisorSource is the source of the supervisor (package
// kernel/supervisor), built by EnsureTools into the tools folder.
//
//go:embed supervisor/main.go
var supervisorSource []byte

// supervisorReply bounds the waits for the supervisor's reports.
const supervisorReply = 10 * time.Second

// ensureSupervisor builds the supervisor into dir with goBin, once per
// version of its source (named by the source's hash), and returns its path.
func ensureSupervisor(ctx context.Context, goBin, dir string) (string, error) {
	sum := sha256.Sum256(supervisorSource)
	out := filepath.Join(dir, "supervisor-"+hex.EncodeToString(sum[:6]))
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return out, nil
	}
	src, err := os.MkdirTemp("", "convnotes-supervisor-")
	if err != nil {
		return "", fmt.Errorf("kernel: build the supervisor: %w", err)
	}
	defer func() { _ = os.RemoveAll(src) }()
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module supervisor\n\ngo 1.24\n"), 0o600); err != nil {
		return "", fmt.Errorf("kernel: build the supervisor: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), supervisorSource, 0o600); err != nil {
		return "", fmt.Errorf("kernel: build the supervisor: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(out)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("kernel: build the supervisor: %w", err)
	}
	_ = tmp.Close()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", tmp.Name(), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("kernel: build the supervisor: %w\n%s", err, strings.TrimSpace(string(msg)))
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("kernel: install the supervisor: %w", err)
	}
	// Earlier versions go: a process still running one keeps it until it exits.
	if old, err := filepath.Glob(filepath.Join(dir, "supervisor-*")); err == nil {
		for _, f := range old {
			if f != out && !strings.Contains(filepath.Base(f), ".tmp") {
				_ = os.Remove(f)
			}
		}
	}
	return out, nil
}

// kernelProc is the kernel (gonb) run by its supervisor (see package
// kernel/supervisor): a child subreaper that kills every process the kernel
// started, setsid ones included, when this process closes its control pipe
// (at shutdown, or on its death however it dies), and what a cell left
// behind when the cell ends.
type kernelProc struct {
	cmd    *exec.Cmd // the supervisor
	pid    int       // the kernel's process id
	ctl    *os.File  // the supervisor's standard input
	acks   chan struct{}
	gone   chan struct{} // closed when the supervisor's reports end
	exit   atomic.Pointer[string]
	waited atomic.Bool
	once   sync.Once
}

// startKernelProc starts cmd (the kernel, not yet started) under the
// supervisor, which removes the folders dirs when this process goes.
func startKernelProc(tools *Tools, cmd *exec.Cmd, dirs []string) (*kernelProc, error) {
	if tools.Supervisor == "" {
		return nil, errors.New("kernel: no supervisor binary (EnsureTools builds it)")
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("kernel: supervisor pipe: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		_ = ctlR.Close()
		_ = ctlW.Close()
		return nil, fmt.Errorf("kernel: supervisor pipe: %w", err)
	}
	args := append(append(append([]string{}, dirs...), "--", cmd.Path), cmd.Args[1:]...)
	sup := exec.Command(tools.Supervisor, args...)
	sup.Dir, sup.Env, sup.Stdout, sup.Stderr = cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr
	sup.Stdin = ctlR
	sup.ExtraFiles = []*os.File{repW}
	// Its own process group: the terminal's Ctrl-C and hang-up do not reach
	// it (the REPL interrupts cells through the control channel instead).
	sup.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = sup.Start()
	_ = ctlR.Close()
	_ = repW.Close()
	if err != nil {
		_ = ctlW.Close()
		_ = repR.Close()
		return nil, fmt.Errorf("kernel: start the supervisor %s: %w", tools.Supervisor, err)
	}
	p := &kernelProc{cmd: sup, ctl: ctlW, acks: make(chan struct{}, 16), gone: make(chan struct{})}
	pids := make(chan int, 1)
	go p.readReports(repR, pids)
	select {
	case pid, ok := <-pids:
		if ok {
			p.pid = pid
			return p, nil
		}
	case <-time.After(supervisorReply):
	}
	p.stop()
	p.kill()
	_ = p.wait()
	return nil, fmt.Errorf("kernel: the supervisor did not start %s", cmd.Path)
}

// readReports reads the supervisor's report lines until it exits.
func (p *kernelProc) readReports(r *os.File, pids chan<- int) {
	defer close(p.gone)
	defer func() { _ = r.Close() }()
	sent := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		switch word {
		case "pid":
			if pid, err := strconv.Atoi(rest); err == nil && !sent {
				pids <- pid
				sent = true
			}
		case "clean":
			select {
			case p.acks <- struct{}{}:
			default:
			}
		case "exit":
			p.exit.Store(&rest)
		}
	}
	if !sent {
		close(pids)
	}
}

// wait waits for the supervisor to exit, which it does once the kernel has
// exited and what it started is dead, and returns how the kernel exited.
func (p *kernelProc) wait() error {
	err := p.cmd.Wait()
	p.waited.Store(true)
	<-p.gone
	if desc := p.exit.Load(); desc != nil {
		if *desc == "exit status 0" {
			return nil
		}
		return errors.New(*desc)
	}
	return err
}

// stop asks the supervisor to kill the kernel and everything it started.
func (p *kernelProc) stop() {
	p.once.Do(func() { _ = p.ctl.Close() })
}

// kill kills the kernel's process group and the supervisor, should the
// supervisor not have ended after stop.
func (p *kernelProc) kill() {
	if p.waited.Load() {
		return
	}
	if p.pid > 0 {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// cellStarted tells the supervisor that a cell runs.
func (p *kernelProc) cellStarted() { _, _ = p.ctl.Write([]byte{'r'}) }

// cellEnded tells the supervisor that the cell ended and waits until it has
// killed what the cell left behind.
func (p *kernelProc) cellEnded() {
	if _, err := p.ctl.Write([]byte{'c'}); err != nil {
		return
	}
	select {
	case <-p.acks:
	case <-p.gone:
	case <-time.After(supervisorReply):
	}
}
