//go:build !unix

package repl

import "os"

// takeTerminal does nothing where there are no process groups.
func takeTerminal(*os.File) (restore func()) { return func() {} }
