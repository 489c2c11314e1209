//go:build unix

package kernel

import (
	"os/exec"
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
