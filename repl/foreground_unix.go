//go:build unix

package repl

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeTerminal puts the REPL into a process group of its own and makes that group the terminal's foreground
// group, so that Ctrl-C while a cell runs reaches the REPL alone. Started by a program such as make, the REPL
// would otherwise share make's group: make gets the SIGINT too and, whatever the REPL does with it, stops with
// "Interrupt" as soon as the REPL exits. Started as a job by an interactive shell, the REPL already leads its
// own foreground group and nothing changes. The returned function gives the terminal back to the group that
// had it.
func takeTerminal(tty *os.File) (restore func()) {
	fd := int(tty.Fd())
	orig, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || orig != syscall.Getpgrp() || syscall.Getpgrp() == syscall.Getpid() {
		return func() {}
	}
	// Changing the foreground group from outside it raises SIGTTOU, which would stop the REPL.
	signal.Ignore(syscall.SIGTTOU)
	if err := syscall.Setpgid(0, 0); err != nil {
		return func() {}
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, syscall.Getpid()); err != nil {
		_ = syscall.Setpgid(0, orig)
		return func() {}
	}
	return func() {
		_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, orig)
		_ = syscall.Setpgid(0, orig)
	}
}
