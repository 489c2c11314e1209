package kernel

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLineBytes is the longest line of a cell that Execute sends to GoNB.
// GoNB's time on a cell grows about quadratically with the length of a line
// (GoNB v0.11.5, a cell of one `var s = "…"` line in a fresh kernel, on a
// busy 2-core machine: 16 KiB 1.0 s, 32 KiB 1.4 s, 64 KiB 4.1 s, 128 KiB
// 17 s, against 0.8 s for a short cell; a 1 MB line ran for over 10 minutes
// and ignored interrupts).
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
