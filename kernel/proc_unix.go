//go:build unix

package kernel

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// setProcessGroup makes the kernel the leader of a new process group, so that
// the cell programs and shell commands it spawns can be killed with it and
// the terminal's Ctrl-C does not reach it (the REPL interrupts it through the
// control channel instead).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the kernel's whole process group (kernel, compiler, cell
// programs), ignoring processes already gone.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

// startWatchdog starts a small shell in the kernel's process group that kills
// the whole group (kernel, compiler, cell programs) as soon as this process
// dies, however it dies: it waits for the end of a pipe whose only writer is
// this process. Closing the returned writer has the same effect, so close it
// only once the kernel is to go.
//
// The parent-death signal alone is not enough: it reaches the kernel only,
// and the cell program it was running would go on under init.
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

// processGone reports whether no process has id pid.
func processGone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}
