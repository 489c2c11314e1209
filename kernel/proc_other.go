//go:build !unix

package kernel

import (
	"io"
	"os/exec"
)

// setProcessGroup is a no-op where process groups do not exist.
func setProcessGroup(cmd *exec.Cmd) {}

// killGroup kills the kernel process.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// startWatchdog is Unix-only; elsewhere Shutdown must be called.
func startWatchdog(*exec.Cmd) (io.Closer, error) { return io.NopCloser(nil), nil }

// processGone cannot tell without process signals: it says no.
func processGone(int) bool { return false }
