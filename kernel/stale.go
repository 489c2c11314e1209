package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// folderPrefix names every kernel folder in the temporary directory.
const folderPrefix = "convnotes-kernel-"

// ownerFile, in a kernel folder, holds the process id of the program that
// started the kernel.
const ownerFile = "owner.pid"

// writeOwner records this process as the owner of the kernel folder dir.
func writeOwner(dir string) error {
	err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	if err != nil {
		return fmt.Errorf("kernel: record the folder's owner: %w", err)
	}
	return nil
}

// removeStaleFolders removes the kernel folders in tmpDir whose owner process
// is gone: what a killed nbtest or REPL left behind (the connection file with
// its key, the sockets, the cells' temporary files). Folders without an owner
// file, or whose owner lives, are left alone. It returns the folders removed.
func removeStaleFolders(tmpDir string) []string {
	dirs, _ := filepath.Glob(filepath.Join(tmpDir, folderPrefix+"*"))
	var removed []string
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || pid == os.Getpid() || !processGone(pid) {
			continue
		}
		if os.RemoveAll(d) == nil {
			removed = append(removed, d)
		}
	}
	return removed
}

// staleOnce makes the first Start of a process clean up stale folders.
var staleOnce sync.Once
