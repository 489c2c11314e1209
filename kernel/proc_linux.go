//go:build linux

package kernel

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks Linux to kill the kernel if this process dies
// without shutting it down (crash, SIGKILL), so no kernel is left behind.
// Linux sends it when the OS thread that started the kernel ends; Go only
// ends threads when a goroutine exits while locked to one (LockOSThread),
// which a process driving kernels has no reason to do.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
