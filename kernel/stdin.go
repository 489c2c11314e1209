package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stdinEOFFile is the name of the file installStdinEOF adds to GoNB's cell package.
const stdinEOFFile = "convnotes_stdin_eof.go"

// stdinEOFSource gives every cell program an empty standard input. GoNB hands
// a cell program a stdin pipe that it closes only when the program ends, and
// feeds it only through input requests, which this client declines when
// Options.OnInput is nil: a cell reading os.Stdin would wait until its
// timeout. The file declares no names, so it cannot clash with a cell's.
const stdinEOFSource = `// Code installed by convnotes (kernel package): the front-end answers no
// input requests, so standard input is empty and reads end at once.

package main

import "os"

func init() {
	if f, err := os.Open(os.DevNull); err == nil {
		os.Stdin = f
	}
}
`

// installStdinEOF writes stdinEOFSource into GoNB's cell package folder,
// which GoNB creates at start under the kernel's TMPDIR (tmp) as gonb_<id>
// and builds as a whole ("go build" of the folder) for every cell.
func installStdinEOF(tmp string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		dirs, _ := filepath.Glob(filepath.Join(tmp, "gonb_*"))
		if len(dirs) == 1 {
			if err := os.WriteFile(filepath.Join(dirs[0], stdinEOFFile), []byte(stdinEOFSource), 0o600); err != nil {
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
