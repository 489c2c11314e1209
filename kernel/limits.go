package kernel

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLineBytes is the longest line of a cell that Execute sends to GoNB.
// GoNB's time on a cell grows faster than linearly with the length of its
// longest line, and a declaration costs that time again in every later cell
// (measured with GoNB v0.11.5, one "var s = "…"" line: 16 KB 0.2 s, 64 KB
// 1.6 s, 128 KB 13 s, 256 KB 78 s above a short cell; a 1 MB line ran for
// over 10 minutes and ignored interrupts).
const MaxLineBytes = 16 << 10

// ErrLineTooLong is returned (wrapped) by Execute, before anything is sent
// to the kernel, for a cell with a line longer than MaxLineBytes.
var ErrLineTooLong = errors.New("kernel: cell line too long")

// checkLineLengths returns an ErrLineTooLong error for the first line of code
// longer than MaxLineBytes.
func checkLineLengths(code string) error {
	for n := 1; code != ""; n++ {
		line, rest, _ := strings.Cut(code, "\n")
		if len(line) > MaxLineBytes {
			return fmt.Errorf("%w: line %d has %d bytes, over the %d GoNB handles in reasonable time "+
				"(split it, or read long data from a file)", ErrLineTooLong, n, len(line), MaxLineBytes)
		}
		code = rest
	}
	return nil
}
