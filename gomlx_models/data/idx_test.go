package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// makeIDX builds an IDX file: magic 00 00 typ rank, big-endian dims, then payload.
func makeIDX(typ byte, dims []uint32, payload []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
	}
	return append(b, payload...)
}

// gz compresses b.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seq returns n bytes 0,1,2,… (mod 256).
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// modified returns a copy of b with f applied.
func modified(b []byte, f func([]byte) []byte) []byte { return f(slices.Clone(b)) }

// assertFileError checks that err is a one-line *FileError of class want that names path.
func assertFileError(t *testing.T, err, want error, path string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %q is not %v", err, want)
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %q (%T) is not a *FileError", err, err)
	}
	if fe.Path != path {
		t.Errorf("FileError.Path = %q, want %q", fe.Path, path)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("message %q does not name the file %q", msg, path)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message %q spans several lines", msg)
	}
	if fe.Remedy == "" || !strings.Contains(msg, fe.Remedy) {
		t.Errorf("message %q lacks a remedy (Remedy=%q)", msg, fe.Remedy)
	}
}

func TestParseIDX(t *testing.T) {
	img3 := makeIDX(IDXTypeUbyte, []uint32{2, 3, 4}, seq(24))
	lbl1 := makeIDX(IDXTypeUbyte, []uint32{5}, []byte{0, 1, 2, 3, 9})
	img4 := makeIDX(IDXTypeUbyte, []uint32{1, 2, 2, 3}, seq(12))
	img3gz := gz(t, img3)
	tests := []struct {
		name     string
		in       []byte
		wantErr  error
		wantDims []int
		wantData []byte
	}{
		{"good 3-D raw", img3, nil, []int{2, 3, 4}, seq(24)},
		{"good 3-D gzip", img3gz, nil, []int{2, 3, 4}, seq(24)},
		{"good 1-D raw", lbl1, nil, []int{5}, []byte{0, 1, 2, 3, 9}},
		{"good 1-D gzip", gz(t, lbl1), nil, []int{5}, []byte{0, 1, 2, 3, 9}},
		{"good 4-D", img4, nil, []int{1, 2, 2, 3}, seq(12)},
		{"zero-sized dim", makeIDX(IDXTypeUbyte, []uint32{0, 28, 28}, nil), nil, []int{0, 28, 28}, []byte{}},
		{"empty", nil, ErrTruncated, nil, nil},
		{"short magic", []byte{0, 0, 8}, ErrTruncated, nil, nil},
		{"wrong magic", []byte("PK\x03\x04 not idx at all"), ErrBadMagic, nil, nil},
		{"wrong magic short", []byte("P"), ErrTruncated, nil, nil},
		{"wrong magic 3 bytes", []byte("PK\x03"), ErrBadMagic, nil, nil},
		{"bad type float32", makeIDX(0x0D, []uint32{2}, make([]byte, 8)), ErrBadType, nil, nil},
		{"bad type int8", makeIDX(0x09, []uint32{2}, []byte{1, 2}), ErrBadType, nil, nil},
		{"rank 0", []byte{0, 0, 8, 0, 1}, ErrBadRank, nil, nil},
		{"rank 5", makeIDX(IDXTypeUbyte, []uint32{1, 1, 1, 1, 1}, []byte{7}), ErrBadRank, nil, nil},
		{"truncated dims", img3[:9], ErrTruncated, nil, nil},
		{"truncated data", img3[:len(img3)-1], ErrTruncated, nil, nil},
		{"truncated data gzip", gz(t, img3[:20]), ErrTruncated, nil, nil},
		{"trailing data", append(slices.Clone(img3), 0xAA), ErrTrailingData, nil, nil},
		{"trailing data gzip", gz(t, append(slices.Clone(img3), 1, 2, 3)), ErrTrailingData, nil, nil},
		{"huge dims overflow", makeIDX(IDXTypeUbyte, []uint32{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, nil), ErrTooLarge, nil, nil},
		{"huge dims just over limit", makeIDX(IDXTypeUbyte, []uint32{1 << 16, 1<<15 + 1}, nil), ErrTooLarge, nil, nil},
		{"large dims tiny file", makeIDX(IDXTypeUbyte, []uint32{1 << 15, 1 << 15}, seq(10)), ErrTruncated, nil, nil},
		{"gzip bad header", []byte{0x1f, 0x8b, 0x00, 0x00, 0x00}, ErrGzip, nil, nil},
		{"gzip truncated stream", img3gz[:len(img3gz)-12], ErrGzip, nil, nil},
		{"gzip corrupt crc", modified(img3gz, func(b []byte) []byte { b[len(b)-8] ^= 0xFF; return b }), ErrGzip, nil, nil},
		{"gzip corrupt deflate", modified(img3gz, func(b []byte) []byte { b[10] = 0xFF; b[11] = 0xFF; return b }), ErrGzip, nil, nil},
		{"gzip then garbage", append(slices.Clone(img3gz), "garbage"...), ErrGzip, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "testdata/" + strings.ReplaceAll(tc.name, " ", "_") + ".idx"
			got, err := ParseIDX(bytes.NewReader(tc.in), name)
			if tc.wantErr != nil {
				if got != nil {
					t.Errorf("got %+v with the error", got)
				}
				assertFileError(t, err, tc.wantErr, name)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !slices.Equal(got.Dims, tc.wantDims) || !bytes.Equal(got.Data, tc.wantData) {
				t.Errorf("got dims %v data %v, want %v %v", got.Dims, got.Data, tc.wantDims, tc.wantData)
			}
			if got.Type != IDXTypeUbyte || got.Name != name {
				t.Errorf("got Type %#x Name %q", got.Type, got.Name)
			}
		})
	}
}

func TestReadIDX(t *testing.T) {
	dir := t.TempDir()
	good := makeIDX(IDXTypeUbyte, []uint32{3}, []byte{1, 2, 3})
	files := map[string][]byte{"raw.idx": good, "comp.gz": gz(t, good), "plain-named-but-gz": gz(t, good),
		"short.idx": good[:len(good)-1]}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		file    string
		wantErr error
	}{
		{"raw.idx", nil},
		{"comp.gz", nil},
		{"plain-named-but-gz", nil},
		{"short.idx", ErrTruncated},
		{"missing.idx", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			got, err := ReadIDX(path)
			if tc.wantErr != nil {
				assertFileError(t, err, tc.wantErr, path)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Data, []byte{1, 2, 3}) {
				t.Errorf("data %v", got.Data)
			}
		})
	}
	if _, err := ReadIDX(filepath.Join(dir, "missing.idx")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestFromIDX(t *testing.T) {
	imgs := &IDX{Name: "imgs", Dims: []int{3, 2, 2}, Data: []byte{0, 255, 51, 102, 0, 0, 0, 0, 255, 255, 255, 255}}
	imgs4 := &IDX{Name: "imgs4", Dims: []int{1, 1, 2, 3}, Data: []byte{0, 51, 102, 153, 204, 255}}
	lbls := &IDX{Name: "lbls", Dims: []int{3}, Data: []byte{9, 0, 4}}
	tests := []struct {
		name      string
		imgs, lbl *IDX
		wantErr   error
		wantPath  string
	}{
		{"good", imgs, lbls, nil, ""},
		{"good NHWC", imgs4, &IDX{Name: "l1", Dims: []int{1}, Data: []byte{3}}, nil, ""},
		{"count mismatch", imgs, &IDX{Name: "lbls2", Dims: []int{2}, Data: []byte{1, 2}}, ErrCountMismatch, "lbls2"},
		{"label out of range", imgs, &IDX{Name: "lbls10", Dims: []int{3}, Data: []byte{1, 10, 2}}, ErrLabelRange, "lbls10"},
		{"images given as labels", imgs, imgs, ErrBadRank, "imgs"},
		{"labels given as images", lbls, lbls, ErrBadRank, "lbls"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := FromIDX("x", tc.imgs, tc.lbl, MNISTClasses)
			if tc.wantErr != nil {
				assertFileError(t, err, tc.wantErr, tc.wantPath)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if im.N*im.H*im.W*im.C != len(im.Pixels) || len(im.Labels) != im.N {
				t.Fatalf("inconsistent %d×%d×%d×%d, %d pixels, %d labels", im.N, im.H, im.W, im.C, len(im.Pixels), len(im.Labels))
			}
			for i, p := range im.Pixels {
				if want := float32(tc.imgs.Data[i]) / 255; p != want {
					t.Fatalf("pixel %d = %v, want %v", i, p, want)
				}
			}
		})
	}
	if _, err := FromIDX("nil", nil, lbls, MNISTClasses); err == nil {
		t.Error("FromIDX(nil images) succeeded")
	}
}

func TestFileErrorMessage(t *testing.T) {
	e := &FileError{Path: "/d/f.gz", Op: "parse IDX", Err: ErrTruncated, Remedy: "get it again"}
	if got, want := e.Error(), "/d/f.gz: parse IDX: truncated file (fix: get it again)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrTruncated) || errors.Is(e, ErrTrailingData) {
		t.Error("errors.Is does not see exactly the wrapped sentinel")
	}
}
