//go:build !linux

package kernel

import "os/exec"

// setParentDeathSignal is Linux-only; elsewhere Shutdown must be called.
func setParentDeathSignal(cmd *exec.Cmd) {}
