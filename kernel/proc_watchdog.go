//go:build unix && !linux

package kernel

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// kernelProc is the kernel process and the watchdog that kills its process
// group (kernel, compiler, cell programs) when this process dies. Without
// Linux's child subreaper, a process that leaves the group (setsid) is out of
// reach, and a cell whose leftover child keeps its output open stays busy
// until interrupted.
type kernelProc struct {
	cmd      *exec.Cmd
	pid      int
	watchdog io.Closer
}

// ensureSupervisor is Linux-only: elsewhere the watchdog is a shell.
func ensureSupervisor(context.Context, string, string) (string, error) { return "", nil }

// startKernelProc starts cmd (the kernel) as the leader of a new process
// group, so that the cell programs and shell commands it spawns can be killed
// with it and the terminal's Ctrl-C does not reach it (the REPL interrupts it
// through the control channel instead), then starts its watchdog.
func startKernelProc(_ *Tools, cmd *exec.Cmd, _ []string) (*kernelProc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("kernel: start %s: %w", cmd.Path, err)
	}
	p := &kernelProc{cmd: cmd, pid: cmd.Process.Pid}
	w, err := startWatchdog(cmd)
	if err != nil {
		p.kill()
		_ = cmd.Wait()
		return nil, err
	}
	p.watchdog = w
	return p, nil
}

// wait waits for the kernel to exit.
func (p *kernelProc) wait() error { return p.cmd.Wait() }

// stop kills the kernel's process group and its watchdog.
func (p *kernelProc) stop() {
	p.kill()
	if p.watchdog != nil {
		_ = p.watchdog.Close()
	}
}

// kill kills the kernel's whole process group (kernel, compiler, cell
// programs), ignoring processes already gone.
func (p *kernelProc) kill() {
	if p.pid <= 0 || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
}

// cellStarted has nothing to do without a supervisor.
func (p *kernelProc) cellStarted() {}

// cellEnded has nothing to do without a supervisor.
func (p *kernelProc) cellEnded() {}

// startWatchdog starts a small shell in the kernel's process group that kills
// the whole group (kernel, compiler, cell programs) as soon as this process
// dies, however it dies: it waits for the end of a pipe whose only writer is
// this process. Closing the returned writer has the same effect, so close it
// only once the kernel is to go.
func startWatchdog(kernel *exec.Cmd) (io.Closer, error) {
	r, w, err := os.Pipe() // close-on-exec: the kernel and its cells do not inherit w
	if err != nil {
		return nil, fmt.Errorf("kernel: watchdog pipe: %w", err)
	}
	pgid := kernel.Process.Pid
	cmd := exec.Command("/bin/sh", "-c", `cat >/dev/null; kill -KILL -"$1"`, "convnotes-kernel-watchdog", strconv.Itoa(pgid))
	cmd.Stdin = r
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
	err = cmd.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("kernel: start watchdog: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return w, nil
}
