package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// checkOutDir makes sure reproduce can write its results into dir before any
// training starts, so that minutes of measurements are never thrown away at
// the end: dir must be named (an empty --out would write into the current
// folder), must not be a file, and must be a folder this process can create
// files in. A missing folder is created. Errors are the user's: they wrap
// errUsage (exit status 2).
func checkOutDir(dir string) error {
	if strings.TrimSpace(dir) == "" {
		return fmt.Errorf("%w: --out is empty; name the output folder (default: out)", errUsage)
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("%w: --out %s is a file, not a folder", errUsage, dir)
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%w: --out %s cannot be created: %v", errUsage, dir, err)
		}
	case err != nil:
		return fmt.Errorf("%w: --out %s: %v", errUsage, dir, err)
	}
	probe, err := os.CreateTemp(dir, ".convnotes-write-check-*")
	if err != nil {
		return fmt.Errorf("%w: --out %s is not writable: %v", errUsage, dir, err)
	}
	name := probe.Name()
	cerr := probe.Close()
	if rerr := os.Remove(name); cerr == nil {
		cerr = rerr
	}
	if cerr != nil {
		return fmt.Errorf("%w: --out %s: %v", errUsage, dir, cerr)
	}
	return nil
}
