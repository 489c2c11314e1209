package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// IDX format constants (LeCun et al., "THE MNIST DATABASE of handwritten digits", section
// "FILE FORMATS FOR THE MNIST DATABASE"): a 4-byte magic 00 00 <type> <rank>, then rank big-endian
// uint32 dimensions, then the data in row-major (C) order.
const (
	// IDXTypeUbyte is the element-type code for unsigned bytes, the only type this package reads.
	IDXTypeUbyte = 0x08
	// MaxIDXRank is the largest rank accepted (images with channels are N×H×W×C).
	MaxIDXRank = 4
	// MaxIDXBytes caps the payload size announced by a header; larger headers fail with ErrTooLarge
	// before anything is allocated. MNIST's largest file holds 47,040,000 bytes.
	MaxIDXBytes = 1 << 31

	gzipMagic0, gzipMagic1 = 0x1f, 0x8b
	// initialBufferBytes bounds the up-front allocation: the buffer grows only as data actually
	// arrives, so a tiny file claiming a huge payload costs nothing.
	initialBufferBytes = 4 << 20
	// trailingCountLimit bounds how many trailing bytes are counted for the error message.
	trailingCountLimit = 1 << 20
)

// remedyCorrupt is the generic advice for a damaged file of unknown origin.
const remedyCorrupt = "the file is damaged or is not an IDX file; delete it and download it again"

// IDX is a parsed IDX file of unsigned bytes.
type IDX struct {
	// Name is the path or name the file was read from, for messages.
	Name string
	// Type is the element-type code from the magic number (always IDXTypeUbyte here).
	Type byte
	// Dims are the dimensions from the header, outermost first.
	Dims []int
	// Data holds prod(Dims) bytes in row-major order.
	Data []byte
}

// ReadIDX reads and parses the IDX file at path, gzip-compressed or raw (detected by content, not
// by the file name). Errors are *FileError values wrapping the package's sentinel errors.
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(path, err)
	}
	defer f.Close()
	return ParseIDX(f, path)
}

// openError classifies an os.Open failure.
func openError(path string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return &FileError{Path: path, Op: "open", Err: fmt.Errorf("%w: %w", ErrNotFound, err),
			Remedy: "check the path"}
	}
	return &FileError{Path: path, Op: "open", Err: err, Remedy: "check the file's permissions"}
}

// ParseIDX parses an IDX stream, gzip-compressed (magic 1f 8b) or raw. name is used in error
// messages only. The payload must be exactly prod(dims) bytes: a short stream fails with
// ErrTruncated, a long one with ErrTrailingData. ParseIDX never panics, whatever the input.
func ParseIDX(r io.Reader, name string) (idx *IDX, err error) {
	defer func() {
		// Belt and braces: the parser is written not to panic, but a panic here must never cross
		// the package boundary.
		if p := recover(); p != nil {
			idx, err = nil, &FileError{Path: name, Op: "parse IDX",
				Err: fmt.Errorf("internal parser failure: %v", p), Remedy: remedyCorrupt}
		}
	}()
	fail := func(cause error) (*IDX, error) {
		return nil, &FileError{Path: name, Op: "parse IDX", Err: cause, Remedy: remedyCorrupt}
	}

	br := bufio.NewReader(r)
	head, peekErr := br.Peek(2)
	gzipped := len(head) == 2 && head[0] == gzipMagic0 && head[1] == gzipMagic1
	if peekErr != nil && !errors.Is(peekErr, io.EOF) {
		return fail(fmt.Errorf("read: %w", peekErr))
	}
	var src io.Reader = br
	if gzipped {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fail(fmt.Errorf("%w: %w", ErrGzip, err))
		}
		defer zr.Close()
		src = gzipErrReader{zr}
	}
	// classify turns a read error into the right class. A damaged gzip stream (bad CRC, bad
	// deflate data, cut-off compressed stream) is ErrGzip; a clean end of data too early is
	// ErrTruncated.
	classify := func(what string, err error) error {
		if errors.Is(err, ErrGzip) {
			return fmt.Errorf("while reading %s: %w", what, err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: the IDX file ends inside the %s", ErrTruncated, what)
		}
		return fmt.Errorf("read %s: %w", what, err)
	}

	var magic [4]byte
	if n, err := io.ReadFull(src, magic[:]); err != nil {
		if n >= 2 && (magic[0] != 0 || magic[1] != 0) {
			return fail(fmt.Errorf("%w: got % x, want 00 00 08 <rank> or gzip 1f 8b", ErrBadMagic, magic[:n]))
		}
		return fail(classify(fmt.Sprintf("4-byte magic number (got %d bytes)", n), err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return fail(fmt.Errorf("%w: got % x, want 00 00 08 <rank> or gzip 1f 8b", ErrBadMagic, magic[:]))
	}
	if magic[2] != IDXTypeUbyte {
		return fail(fmt.Errorf("%w: type code 0x%02x, only 0x%02x (unsigned byte) is supported",
			ErrBadType, magic[2], IDXTypeUbyte))
	}
	rank := int(magic[3])
	if rank < 1 || rank > MaxIDXRank {
		return fail(fmt.Errorf("%w: rank %d, want 1..%d", ErrBadRank, rank, MaxIDXRank))
	}

	var dimBytes [4 * MaxIDXRank]byte
	if _, err := io.ReadFull(src, dimBytes[:4*rank]); err != nil {
		return fail(classify(fmt.Sprintf("header's %d dimensions", rank), err))
	}
	dims := make([]int, rank)
	total := uint64(1)
	for i := range dims {
		b := dimBytes[4*i : 4*i+4]
		d := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
		dims[i] = int(d)
		// d < 2^32 and total <= MaxIDXBytes < 2^32 before the multiply, so the product cannot
		// overflow uint64; checking after every step keeps it that way.
		total *= d
		if total > MaxIDXBytes {
			// Report only once all dims are known, for a useful message.
			for j := i + 1; j < rank; j++ {
				dims[j] = int(uint32(dimBytes[4*j])<<24 | uint32(dimBytes[4*j+1])<<16 |
					uint32(dimBytes[4*j+2])<<8 | uint32(dimBytes[4*j+3]))
			}
			return fail(fmt.Errorf("%w: IDX dims %v describe more than %d bytes", ErrTooLarge, dims, uint64(MaxIDXBytes)))
		}
	}
	if total > math.MaxInt {
		return fail(fmt.Errorf("%w: IDX dims %v do not fit in memory", ErrTooLarge, dims))
	}
	want := int64(total)

	var buf bytes.Buffer
	buf.Grow(int(min(want+1, initialBufferBytes)))
	if _, err := buf.ReadFrom(io.LimitReader(src, want+1)); err != nil {
		return fail(classify(fmt.Sprintf("payload (%d of %d bytes read)", buf.Len(), want), err))
	}
	got := int64(buf.Len())
	switch {
	case got < want:
		return fail(fmt.Errorf("%w: IDX dims %v need %d data bytes, the file has %d", ErrTruncated, dims, want, got))
	case got > want:
		extra, _ := io.CopyN(io.Discard, src, trailingCountLimit)
		extra++ // the byte read past want.
		qual := ""
		if extra > trailingCountLimit {
			qual = "more than "
			extra = trailingCountLimit
		}
		return fail(fmt.Errorf("%w: IDX dims %v need %d data bytes, the file has %s%d more",
			ErrTrailingData, dims, want, qual, extra))
	}
	return &IDX{Name: name, Type: magic[2], Dims: dims, Data: buf.Bytes()}, nil
}

// gzipErrReader marks every failure of the gzip decompressor other than a clean io.EOF as ErrGzip,
// so that a damaged compressed stream is not mistaken for a short IDX payload.
type gzipErrReader struct{ r io.Reader }

// Read implements io.Reader.
func (g gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrGzip, err)
	}
	return n, err
}
