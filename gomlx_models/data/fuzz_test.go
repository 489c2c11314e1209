package data

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// sentinels are the error classes ParseIDX may report.
var sentinels = []error{ErrGzip, ErrBadMagic, ErrBadType, ErrBadRank, ErrTooLarge, ErrTruncated, ErrTrailingData}

// FuzzParseIDX checks that ParseIDX never panics and that its result is either a consistent IDX
// or a one-line *FileError of a known class naming the input.
func FuzzParseIDX(f *testing.F) {
	img := makeIDX(IDXTypeUbyte, []uint32{2, 2, 3}, seq(12))
	f.Add(img)
	f.Add(gz(f, img))
	f.Add(makeIDX(IDXTypeUbyte, []uint32{3}, []byte{1, 2, 3}))
	f.Add(gz(f, makeIDX(IDXTypeUbyte, []uint32{1, 1, 1, 2}, []byte{9, 9})))
	f.Add(makeIDX(IDXTypeUbyte, []uint32{0xFFFFFFFF, 2}, nil))
	f.Add(makeIDX(0x0B, []uint32{2}, []byte{0, 1, 0, 2}))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{})
	const name = "fuzz-input.idx"
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ParseIDX(bytes.NewReader(in), name)
		if err != nil {
			if got != nil {
				t.Fatalf("returned %+v with error %v", got, err)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != name {
				t.Fatalf("error %v (%T) is not a *FileError for %q", err, err, name)
			}
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error %v has no known class", err)
			}
			if msg := err.Error(); !strings.Contains(msg, name) || strings.Contains(msg, "\n") {
				t.Fatalf("bad message %q", msg)
			}
			return
		}
		if len(got.Dims) < 1 || len(got.Dims) > MaxIDXRank || got.Type != IDXTypeUbyte {
			t.Fatalf("accepted rank %d type %#x", len(got.Dims), got.Type)
		}
		size := 1
		for _, d := range got.Dims {
			size *= d
		}
		if size != len(got.Data) || size > MaxIDXBytes {
			t.Fatalf("dims %v (%d bytes) but %d data bytes", got.Dims, size, len(got.Data))
		}
		// A raw (non-gzip) input must be exactly header + data.
		if len(in) > 0 && in[0] == 0 && len(in) != 4+4*len(got.Dims)+size {
			t.Fatalf("accepted %d-byte raw input for dims %v", len(in), got.Dims)
		}
	})
}
