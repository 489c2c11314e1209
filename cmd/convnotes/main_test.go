package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the tests run this binary as the convnotes command: with CONVNOTES_AS_MAIN=1 the test binary is
// the command.
func TestMain(m *testing.M) {
	if os.Getenv("CONVNOTES_AS_MAIN") == "1" {
		os.Args = append([]string{"convnotes"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func convnotes(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), "CONVNOTES_AS_MAIN=1"), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestCommandErrors(t *testing.T) {
	// A corrupt MNIST file under CONVNOTES_DATA: a clear one-line error naming the file and the remedy, exit 1,
	// no stack trace, and the results table still written.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data", "mnist"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if err := os.WriteFile(filepath.Join(dir, "data", "mnist", name), []byte("\x1f\x8bnot really gzip"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		contains []string
	}{
		{"corrupt data", []string{"CONVNOTES_DATA=" + filepath.Join(dir, "data")}, []string{"reproduce", "mnist-mlp", "--quick", "--out", out},
			1, []string{"train-images-idx3-ubyte.gz", "checksum", "1 of 1 experiment(s) failed"}},
		{"unknown experiment", nil, []string{"reproduce", "no-such-paper"}, 2, []string{"unknown experiment", "mnist-mlp"}},
		{"bad flag", nil, []string{"reproduce", "--frobnicate"}, 2, []string{"frobnicate"}},
		{"unknown command", nil, []string{"frobnicate"}, 2, []string{"unknown command"}},
		{"xla without plugin", []string{"GOMLX_BACKEND=xla:cpu", "PJRT_PLUGIN_LIBRARY_PATH=" + dir}, []string{"reproduce", "mnist-mlp", "--quick", "--out", out},
			1, []string{"PJRT", "plugin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := convnotes(t, tc.env, tc.args...)
			all := stdout + stderr
			if code != tc.code {
				t.Errorf("exit code %d, want %d\n%s", code, tc.code, all)
			}
			for _, s := range tc.contains {
				if !strings.Contains(all, s) {
					t.Errorf("output lacks %q:\n%s", s, all)
				}
			}
			if strings.Contains(all, "goroutine ") || strings.Contains(all, "panic:") {
				t.Errorf("stack trace in output:\n%s", all)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "results.md")); err != nil {
		t.Errorf("results.md not written after a failed experiment: %v", err)
	}
}

// TestDataCommand checks that `convnotes data` refuses an unusable
// CONVNOTES_DATA and prints the path of every file it read.
func TestDataCommand(t *testing.T) {
	loop := filepath.Join(t.TempDir(), "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	for _, value := range []string{"", loop, filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		_, stderr, code := convnotes(t, []string{"CONVNOTES_DATA=" + value}, "data")
		if code != 1 || !strings.Contains(stderr, "CONVNOTES_DATA="+value+": ") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("CONVNOTES_DATA=%q: exit %d, stderr %q; want 1 and one line naming the variable", value, code, stderr)
		}
	}
	stdout, stderr, code := convnotes(t, nil, "data")
	if code != 0 {
		t.Skipf("datasets not installed here (exit %d): %s", code, stderr)
	}
	for _, file := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if n := strings.Count(stdout, string(filepath.Separator)+file); n != 2 {
			t.Errorf("%s printed %d times, want twice (MNIST and Fashion-MNIST):\n%s", file, n, stdout)
		}
	}
}

// TestBenchErrors checks bench's usage errors: exit status 2 and the
// command's name said once.
func TestBenchErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--models", "foo"},
		{"bench", "--modes", "fly"},
		{"bench", "--columns", "jax"},
		{"bench", "--torch-device", "tpu"},
		{"bench", "--rounds", "-1"},
		{"bench", "extra"},
		{"bench", "--no-such-flag"},
		{"bench", "--models", ""},
		{"bench", "--models", " , "},
		{"bench", "--modes="},
		{"bench", "--columns", ""},
	} {
		_, stderr, code := convnotes(t, nil, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, stderr)
		}
		if strings.Contains(stderr, "bench: bench:") {
			t.Errorf("%q: repeated prefix: %s", args, stderr)
		}
	}
	if got := errorLine("bench", errors.New("bench: bench: unknown model")); got != "unknown model" {
		t.Errorf("errorLine = %q", got)
	}
}
