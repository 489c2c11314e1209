package data

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParseCIFAR10Batch checks that ParseCIFAR10Batch never panics and that its result is either a consistent
// dataset (whole records, labels 0..9, pixels in [0,1]) or a one-line *FileError of a known class naming the input.
func FuzzParseCIFAR10Batch(f *testing.F) {
	good := cifarBatch(2, cyclic)
	f.Add(good, uint8(2))
	f.Add(good, uint8(0))
	f.Add(good[:CIFAR10RecordBytes+10], uint8(0))
	f.Add(cifarBatch(1, func(int) byte { return 10 }), uint8(1))
	f.Add([]byte{}, uint8(1))
	const name = "fuzz-input.bin"
	f.Fuzz(func(t *testing.T, in []byte, records uint8) {
		want := int(records % 4)
		got, err := ParseCIFAR10Batch(bytes.NewReader(in), name, want)
		if err != nil {
			if got != nil {
				t.Fatalf("returned %d images with error %v", got.N, err)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != name {
				t.Fatalf("error %v (%T) is not a *FileError for %q", err, err, name)
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTrailingData) && !errors.Is(err, ErrLabelRange) {
				t.Fatalf("error %v has no known class", err)
			}
			if msg := err.Error(); !strings.Contains(msg, name) || strings.Contains(msg, "\n") {
				t.Fatalf("bad message %q", msg)
			}
			return
		}
		if got.N < 1 || len(in) != got.N*CIFAR10RecordBytes || (want > 0 && got.N != want) {
			t.Fatalf("accepted %d bytes as %d records (want %d)", len(in), got.N, want)
		}
		if len(got.Pixels) != got.N*3072 || len(got.Labels) != got.N || got.H != 32 || got.W != 32 || got.C != 3 {
			t.Fatalf("inconsistent result N=%d %dx%dx%d", got.N, got.H, got.W, got.C)
		}
		for i, l := range got.Labels {
			if l < 0 || l > 9 || int(in[i*CIFAR10RecordBytes]) != int(l) {
				t.Fatalf("label %d = %d", i, l)
			}
		}
		for _, p := range got.Pixels {
			if p < 0 || p > 1 {
				t.Fatalf("pixel %v outside [0,1]", p)
			}
		}
	})
}
