package data

import (
	"errors"
	"strings"
)

// Sentinel errors classify what went wrong while locating, verifying or parsing a dataset file.
// Every error returned by this package that concerns a file is a *FileError wrapping one of these
// (sometimes together with the underlying os or gzip error), so callers test the class with
// errors.Is(err, data.ErrTruncated) and read the file name and remedy from the *FileError.
var (
	// ErrNotFound: the file is in none of the places this package looks (see the package doc).
	ErrNotFound = errors.New("file not found")
	// ErrChecksum: the file's SHA-256 differs from the published file's digest.
	ErrChecksum = errors.New("SHA-256 checksum mismatch")
	// ErrGzip: the file starts like gzip (1f 8b) but the compressed stream is corrupt or cut short.
	ErrGzip = errors.New("corrupt or truncated gzip stream")
	// ErrBadMagic: the first bytes are neither gzip's 1f 8b nor the IDX magic 00 00 <type> <rank>.
	ErrBadMagic = errors.New("not an IDX file (bad magic number)")
	// ErrBadType: the IDX element type is not 0x08 (unsigned byte), the only type MNIST-style files use.
	ErrBadType = errors.New("unsupported IDX element type")
	// ErrBadRank: the IDX rank is outside 1..4, or is not the rank the dataset needs
	// (3 or 4 for images, 1 for labels).
	ErrBadRank = errors.New("unsupported IDX rank")
	// ErrTooLarge: the file (an IDX header's dimensions, or a CIFAR-10 batch) holds more data than this package
	// will allocate.
	ErrTooLarge = errors.New("too large to load")
	// ErrTruncated: the file ends before its data is complete: the data an IDX header announces, or whole
	// CIFAR-10 records. The message says which format.
	ErrTruncated = errors.New("truncated file")
	// ErrTrailingData: the file holds more bytes than its format allows: after the data an IDX header announces, or
	// after the expected number of CIFAR-10 records.
	ErrTrailingData = errors.New("trailing data")
	// ErrCountMismatch: an image file and its label file disagree on the number of examples.
	ErrCountMismatch = errors.New("image and label counts differ")
	// ErrLabelRange: a label lies outside 0..numClasses-1.
	ErrLabelRange = errors.New("label out of range")
)

// FileError reports a problem with one file: which file, what was being done, what went wrong and
// how to fix it. Err wraps one of the package's sentinel errors, so errors.Is works through it.
type FileError struct {
	// Path is the file's path (or the name given to ParseIDX).
	Path string
	// Op is what was being done, e.g. "parse IDX", "verify checksum", "locate".
	Op string
	// Err is the cause; it wraps a sentinel such as ErrTruncated.
	Err error
	// Remedy tells the user how to fix the problem, in one sentence.
	Remedy string
}

// Error returns one line: "<path>: <op>: <cause> (fix: <remedy>)".
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	b.WriteString(": ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("unknown error")
	}
	if e.Remedy != "" {
		b.WriteString(" (fix: ")
		b.WriteString(e.Remedy)
		b.WriteString(")")
	}
	// Keep it on one line even if a wrapped error carries newlines.
	return strings.ReplaceAll(b.String(), "\n", " ")
}

// Unwrap returns the cause, so errors.Is(err, data.ErrChecksum) and errors.As see through a FileError.
func (e *FileError) Unwrap() error { return e.Err }
