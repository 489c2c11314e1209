package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// GoNB starts every cell program and every "!" shell command with a stdin
// pipe that it closes only when the program ends, and feeds that pipe only
// through input requests, which this client declines when Options.OnInput is
// nil: whatever reads standard input would wait until the cell's timeout. Two
// pieces of code make standard input end-of-file for every reader instead:
// stdinEOFSource in the cell programs, stdinEOFBash in "!" commands.

// stdinEOFFile is the name of the file installStdinEOF adds to GoNB's cell package.
const stdinEOFFile = "convnotes_stdin_eof.go"

// stdinEOFSource returns the Go file that makes /dev/null the standard input
// (file descriptor 0) of every cell program before its main runs, so that
// os.Stdin, os.NewFile(0, "") and child processes given os.Stdin all read
// end-of-file; it also hands the user's BASH_ENV back to the programs the
// cell starts. The file declares no names, so it cannot clash with a cell's.
func stdinEOFSource(goos string) string {
	imports, redirect := `"os"`, `os.Stdin = f`
	switch goos {
	case "linux": // linux/arm64 has no dup2
		imports, redirect = `"os"; "syscall"`, `_ = syscall.Dup3(int(f.Fd()), 0, 0); _ = f.Close()`
	case "aix", "darwin", "dragonfly", "freebsd", "illumos", "netbsd", "openbsd", "solaris":
		imports, redirect = `"os"; "syscall"`, `_ = syscall.Dup2(int(f.Fd()), 0); _ = f.Close()`
	}
	return `// Code installed by convnotes (kernel package): the front-end answers no
// input requests, so standard input is empty and reads end at once.

package main

import (` + imports + `)

func init() {
	if f, err := os.Open(os.DevNull); err == nil {
		` + redirect + `
	}
	if v, ok := os.LookupEnv("` + userBashEnv + `"); ok {
		_ = os.Setenv("BASH_ENV", v)
		_ = os.Unsetenv("` + userBashEnv + `")
	} else {
		_ = os.Unsetenv("BASH_ENV")
	}
}
`
}

// stdinEOFBash is the BASH_ENV script of the kernel: a "!" command, which
// GoNB runs as "bash -c COMMAND", reads end-of-file from standard input. A
// %%bash cell (bash reading its script from standard input) is left alone.
// The user's own BASH_ENV is then restored and read.
const stdinEOFBash = `# Installed by convnotes (kernel package): the front-end answers no input
# requests, so a "!" command reads end-of-file from standard input.
case $- in *c*) exec </dev/null ;; esac
if [ -n "${` + userBashEnv + `+set}" ]; then
	BASH_ENV=$` + userBashEnv + `
	unset ` + userBashEnv + `
	if [ -r "$BASH_ENV" ]; then . "$BASH_ENV"; fi
else
	unset BASH_ENV
fi
`

// userBashEnv holds the user's BASH_ENV while the kernel's is in force.
const userBashEnv = "CONVNOTES_USER_BASH_ENV"

// withBashEnv writes stdinEOFBash into dir and returns env with BASH_ENV
// naming it (the user's BASH_ENV, if any, moved to userBashEnv).
func withBashEnv(env []string, dir string) ([]string, error) {
	path := filepath.Join(dir, "stdin_eof.bash")
	if err := os.WriteFile(path, []byte(stdinEOFBash), 0o600); err != nil {
		return nil, fmt.Errorf("kernel: give shell commands an empty stdin: %w", err)
	}
	out := make([]string, 0, len(env)+2)
	user, set := "", false
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case "BASH_ENV":
			user, set = value, true
			continue
		case userBashEnv:
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "BASH_ENV="+path)
	if set {
		out = append(out, userBashEnv+"="+user)
	}
	return out, nil
}

// installStdinEOF writes stdinEOFSource into GoNB's cell package folder,
// which GoNB creates at start under the kernel's TMPDIR (tmp) as gonb_<id>
// and builds as a whole ("go build" of the folder) for every cell.
func installStdinEOF(tmp string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		dirs, _ := filepath.Glob(filepath.Join(tmp, "gonb_*"))
		if len(dirs) == 1 {
			if err := os.WriteFile(filepath.Join(dirs[0], stdinEOFFile), []byte(stdinEOFSource(runtime.GOOS)), 0o600); err != nil {
				return fmt.Errorf("kernel: give cells an empty stdin: %w", err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kernel: give cells an empty stdin: want one gonb_* folder in %s, found %d", tmp, len(dirs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
