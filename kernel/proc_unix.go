//go:build unix

package kernel

import (
	"io/fs"
	"syscall"
)

// noFollow makes OpenFile refuse a symbolic link as the last path element.
const noFollow = syscall.O_NOFOLLOW

// processGone reports whether no process has id pid.
func processGone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// ownerOf returns the user id owning the file fi describes.
func ownerOf(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
