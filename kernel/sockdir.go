package kernel

import (
	"fmt"
	"os"
)

// socketBase is where shortSocketFolder makes a folder when the kernel
// folder's path is too long for a socket address: short on every Unix.
var socketBase = "/tmp"

// ipcConnection returns the connection over Unix sockets for a kernel whose
// folder is dir: inside dir when its path fits a socket address, else inside
// a new private folder under socketBase (returned as sockDir, for removal
// with dir). It never falls back to TCP: with no short folder either, the
// error says how to fix TMPDIR.
func ipcConnection(dir string) (conn *connectionInfo, sockDir string, err error) {
	if c, ok := newIPCConnectionInfo(dir); ok {
		return c, "", nil
	}
	tooLong := func(why string) error {
		return fmt.Errorf("kernel: the kernel folder %s is too long for a Unix socket address (at most %d bytes) and %s: "+
			"set TMPDIR to a shorter folder (e.g. export TMPDIR=/tmp)", dir, maxSocketPath, why)
	}
	sockDir, err = os.MkdirTemp(socketBase, folderPrefix)
	if err != nil {
		return nil, "", tooLong(fmt.Sprintf("no folder could be made in %s: %v", socketBase, err))
	}
	fail := func(err error) (*connectionInfo, string, error) {
		_ = os.RemoveAll(sockDir)
		return nil, "", err
	}
	if err := checkPrivate(sockDir); err != nil {
		return fail(tooLong(err.Error()))
	}
	if err := writeOwner(sockDir); err != nil {
		return fail(err)
	}
	c, ok := newIPCConnectionInfo(sockDir)
	if !ok {
		return fail(tooLong(socketBase + " is too"))
	}
	return c, sockDir, nil
}
