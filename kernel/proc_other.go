//go:build !unix

package kernel

import (
	"context"
	"fmt"
	"io/fs"
	"os/exec"
)

// kernelProc is the kernel process; without process groups only the kernel
// itself can be killed, so Shutdown must be called.
type kernelProc struct {
	cmd *exec.Cmd
	pid int
}

// ensureSupervisor is Linux-only.
func ensureSupervisor(context.Context, string, string) (string, error) { return "", nil }

// startKernelProc starts cmd, the kernel.
func startKernelProc(_ *Tools, cmd *exec.Cmd, _ []string) (*kernelProc, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("kernel: start %s: %w", cmd.Path, err)
	}
	return &kernelProc{cmd: cmd, pid: cmd.Process.Pid}, nil
}

// wait waits for the kernel to exit.
func (p *kernelProc) wait() error { return p.cmd.Wait() }

// stop kills the kernel.
func (p *kernelProc) stop() { p.kill() }

// kill kills the kernel.
func (p *kernelProc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// cellStarted has nothing to do without a supervisor.
func (p *kernelProc) cellStarted() {}

// cellEnded has nothing to do without a supervisor.
func (p *kernelProc) cellEnded() {}

// processGone cannot tell without process signals: it says no.
func processGone(int) bool { return false }

// noFollow: O_EXCL alone refuses an existing symbolic link.
const noFollow = 0

// ownerOf cannot tell file owners here.
func ownerOf(fs.FileInfo) (uid int, ok bool) { return 0, false }
