package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckOutDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		readOnly = "/proc" // root may write anywhere else
	}
	tests := []struct {
		name, dir, want string
	}{
		{"empty", "", "--out is empty"},
		{"blank", "  ", "--out is empty"},
		{"file", file, "is a file"},
		{"under a file", filepath.Join(file, "sub"), "not a directory"},
		{"missing parent made", filepath.Join(dir, "x", "y"), ""},
		{"read-only", readOnly, "not writable"},
		{"existing", dir, ""},
		{"new nested", filepath.Join(dir, "a", "b"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOutDir(tc.dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if fi, err := os.Stat(tc.dir); err != nil || !fi.IsDir() {
					t.Errorf("%s not created: %v", tc.dir, err)
				}
				if left, _ := filepath.Glob(filepath.Join(tc.dir, ".convnotes-write-check-*")); len(left) > 0 {
					t.Errorf("probe files left: %v", left)
				}
				return
			}
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("checkOutDir(%q) = %v, want a usage error with %q", tc.dir, err, tc.want)
			}
		})
	}
}

// TestReproduceChecksOutFirst runs reproduce with unusable --out values: it
// must refuse at once (exit 2), before any experiment starts.
func TestReproduceChecksOutFirst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"", file} {
		stdout, stderr, code := convnotes(t, nil, "reproduce", "mnist-mlp", "--quick", "--out", out)
		if code != 2 || strings.Contains(stdout, "experiment(s)") || !strings.Contains(stderr, "--out") {
			t.Errorf("--out %q: exit %d\nstdout:\n%s\nstderr:\n%s", out, code, stdout, stderr)
		}
	}
}

// TestReproduceBadFlagsCreateNothing: an unknown name, a bad --profile or a
// contradictory --quick is a usage error (exit 2) that leaves no --out folder.
func TestReproduceBadFlagsCreateNothing(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-paper"},
		{"mnist-mlp", "--profile", "bogus"},
		{"mnist-mlp", "--quick", "--profile", "full"},
		{"mnist-mlp", "--quick", "--profile", "paper"},
	} {
		out := filepath.Join(t.TempDir(), "new-out")
		stdout, stderr, code := convnotes(t, nil, append(append([]string{"reproduce"}, args...), "--out", out)...)
		if code != 2 || strings.Contains(stdout, "experiment(s)") {
			t.Errorf("%q: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: --out %s was created (%v)", args, out, err)
		}
	}
}
