package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotPrivate is returned (wrapped) by PrivateDir for a path that is not a
// folder of this user's that only this user can enter.
var ErrNotPrivate = errors.New("not a private folder")

// PrivateDir returns the folder parent/name, created with mode 0700 when
// missing, after checking that it is private: a real folder (not a symbolic
// link, which is never followed), owned by this user, with no access for
// group or others. Files written there cannot be read, replaced or redirected
// by another local user, even in a shared parent such as /tmp. A folder that
// fails the check is left untouched and reported with ErrNotPrivate.
func PrivateDir(parent, name string) (string, error) {
	dir := filepath.Join(parent, name)
	err := os.Mkdir(dir, 0o700) // never follows a symbolic link named dir
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("kernel: create %s: %w", dir, err)
	}
	if err := checkPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// checkPrivate checks that dir is a folder, not a symbolic link, owned by
// this user, with mode 0700 (it is made so when only the owner's own bits
// are missing, as a restrictive umask leaves them).
func checkPrivate(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("kernel: %s: %w: a symbolic link (remove it)", dir, ErrNotPrivate)
	case !fi.IsDir():
		return fmt.Errorf("kernel: %s: %w: not a folder (remove it)", dir, ErrNotPrivate)
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("kernel: %s: %w: owned by user %d, not by you (%d)", dir, ErrNotPrivate, uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("kernel: %s: %w: mode %04o lets others in (chmod 700 it)", dir, ErrNotPrivate, perm)
	} else if perm != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("kernel: %s: %w", dir, err)
		}
	}
	return nil
}

// CreatePrivateFile creates the file path with mode 0600, failing if
// anything, a symbolic link included, is already there.
func CreatePrivateFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
}
