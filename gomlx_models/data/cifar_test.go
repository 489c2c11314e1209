package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cifarBatch builds n CIFAR-10 records: record i has label labels(i) and pixel byte
// (i + 7·plane + 3·position) mod 256 at (plane, position).
func cifarBatch(n int, labels func(i int) byte) []byte {
	b := make([]byte, 0, n*CIFAR10RecordBytes)
	for i := range n {
		b = append(b, labels(i))
		for c := range CIFAR10Channels {
			for j := range cifarPlaneSize {
				b = append(b, byte(i+7*c+3*j))
			}
		}
	}
	return b
}

// cyclic labels i mod 10.
func cyclic(i int) byte { return byte(i % 10) }

// tarGz builds a gzip-compressed tar archive of the given members (name → content), in order of names.
func tarGz(t *testing.T, names []string, members map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range names {
		content := members[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestParseCIFAR10Batch(t *testing.T) {
	const name = "test_batch.bin"
	good := cifarBatch(3, cyclic)
	tests := []struct {
		desc    string
		in      []byte
		records int
		want    error
	}{
		{"exact count", good, 3, nil},
		{"any count", good, 0, nil},
		{"partial record", good[:len(good)-1], 0, ErrTruncated},
		{"fewer records", good, 4, ErrTruncated},
		{"more records", good, 2, ErrTrailingData},
		{"extra byte", append(good[:len(good):len(good)], 0), 3, ErrTrailingData},
		{"label 10", cifarBatch(2, func(i int) byte { return byte(9 + i) }), 2, ErrLabelRange},
		{"label 255", cifarBatch(1, func(int) byte { return 255 }), 0, ErrLabelRange},
		{"empty", nil, 0, ErrTruncated},
		{"only a label", []byte{1}, 1, ErrTruncated},
	}
	// An endless stream of valid records (all zero: label 0, black pixels) is cut off at the bound.
	t.Run("endless", func(t *testing.T) {
		im, err := ParseCIFAR10Batch(zeros{}, name, 0)
		if im != nil {
			t.Errorf("returned images with error")
		}
		assertFileError(t, err, ErrTooLarge, name)
	})
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			im, err := ParseCIFAR10Batch(bytes.NewReader(tc.in), name, tc.records)
			if tc.want != nil {
				if im != nil {
					t.Errorf("returned images with error")
				}
				assertFileError(t, err, tc.want, name)
				if tc.want != ErrLabelRange && (strings.Contains(err.Error(), "IDX") || !strings.Contains(err.Error(), "CIFAR-10 record")) {
					t.Errorf("error %q: want it in CIFAR-10 records, not IDX", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if im.N != 3 || im.H != 32 || im.W != 32 || im.C != 3 || len(im.Pixels) != 3*3072 {
				t.Fatalf("got N=%d %dx%dx%d with %d pixels", im.N, im.H, im.W, im.C, len(im.Pixels))
			}
			for i := range 3 {
				if im.Labels[i] != int32(i) {
					t.Errorf("label %d = %d", i, im.Labels[i])
				}
				// HWC: pixel (y, x) channel c comes from plane c, position 32y+x.
				for _, p := range [][3]int{{0, 0, 0}, {0, 1, 2}, {31, 31, 1}, {5, 17, 2}} {
					y, x, c := p[0], p[1], p[2]
					got := im.Image(i)[(y*32+x)*3+c]
					want := float32(byte(i+7*c+3*(32*y+x))) / 255
					if got != want {
						t.Errorf("image %d pixel (%d,%d,%d) = %v, want %v", i, y, x, c, got, want)
					}
				}
			}
		})
	}
}

// writeCIFARDir writes the six batch files of records each into dir.
func writeCIFARDir(t *testing.T, dir string, records int) {
	t.Helper()
	for _, f := range append(append([]string{}, CIFAR10TrainFiles...), CIFAR10TestFile) {
		writeFile(t, filepath.Join(dir, f), cifarBatch(records, cyclic))
	}
}

// cifarMembers returns the archive layout of CIFAR-10 with records per file, in the published order.
func cifarMembers(records int) ([]string, map[string][]byte) {
	names := []string{CIFAR10Dir + "/", CIFAR10Dir + "/batches.meta.txt"}
	members := map[string][]byte{CIFAR10Dir + "/batches.meta.txt": []byte(strings.Join(CIFAR10Classes, "\n"))}
	for i, f := range append(append([]string{}, CIFAR10TrainFiles...), CIFAR10TestFile) {
		n := CIFAR10Dir + "/" + f
		names = append(names, n)
		members[n] = cifarBatch(records, func(j int) byte { return byte((i + j) % 10) })
	}
	delete(members, CIFAR10Dir+"/")
	return names, members
}

func TestLoadCIFARSources(t *testing.T) {
	const records = 3
	root := t.TempDir()
	dir := filepath.Join(root, CIFAR10Dir)
	writeCIFARDir(t, dir, records)

	names, members := cifarMembers(records)
	names = names[1:] // tarGz writes regular files only: drop the directory entry.
	archive := tarGz(t, names, members)
	archivePath := filepath.Join(root, CIFAR10Archive)
	writeFile(t, archivePath, archive)
	spec := cifarSpec{records: records, md5: md5Hex(archive)}

	truncatedPath := filepath.Join(root, "truncated.tar.gz")
	writeFile(t, truncatedPath, archive[:len(archive)/2])
	missing := tarGz(t, names[:3], members)
	missingPath := filepath.Join(root, "missing.tar.gz")
	writeFile(t, missingPath, missing)
	notGzip := []byte("this is not a gzip file")
	notGzipPath := filepath.Join(root, "plain.tar.gz")
	writeFile(t, notGzipPath, notGzip)
	badMembers := map[string][]byte{}
	for k, v := range members {
		badMembers[k] = v
	}
	badMembers[CIFAR10Dir+"/test_batch.bin"] = cifarBatch(records, func(int) byte { return 10 })
	badLabel := tarGz(t, names, badMembers)
	badLabelPath := filepath.Join(root, "badlabel.tar.gz")
	writeFile(t, badLabelPath, badLabel)
	shortDir := filepath.Join(root, "short", CIFAR10Dir)
	writeCIFARDir(t, shortDir, records)
	writeFile(t, filepath.Join(shortDir, "data_batch_3.bin"), cifarBatch(records, cyclic)[:CIFAR10RecordBytes*2+5])
	emptyDir := filepath.Join(root, "empty", CIFAR10Dir)
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}

	// Incompressible members larger than any read-ahead buffer: the split that stops before the end of the
	// archive must still hash all of it.
	bigRng := rand.New(rand.NewPCG(1, 2))
	bigMembers := map[string][]byte{}
	for k, v := range members {
		bigMembers[k] = v
	}
	for _, f := range append(append([]string{}, CIFAR10TrainFiles...), CIFAR10TestFile) {
		b := make([]byte, 0, 40*CIFAR10RecordBytes)
		for i := range 40 {
			b = append(b, byte(i%10))
			for range CIFAR10RecordBytes - 1 {
				b = append(b, byte(bigRng.IntN(256)))
			}
		}
		bigMembers[CIFAR10Dir+"/"+f] = b
	}
	big := tarGz(t, names, bigMembers)
	bigPath := filepath.Join(root, "big.tar.gz")
	writeFile(t, bigPath, big)
	bigSpec := cifarSpec{records: 40, md5: md5Hex(big)}

	tests := []struct {
		desc     string
		src      string
		split    Split
		spec     cifarSpec
		n        int
		want     error
		errPath  string
		firstLbl int32
	}{
		{"dir train", dir, Train, spec, 5 * records, nil, "", 0},
		{"dir test", dir, Test, spec, records, nil, "", 0},
		{"archive train", archivePath, Train, spec, 5 * records, nil, "", 0},
		{"archive test", archivePath, Test, spec, records, nil, "", 5},
		{"large archive train", bigPath, Train, bigSpec, 5 * 40, nil, "", 0},
		{"large archive test", bigPath, Test, bigSpec, 40, nil, "", 0},
		{"archive wrong MD5", archivePath, Test, cifarSpec{records, CIFAR10ArchiveMD5}, 0, ErrChecksum, archivePath, 0},
		{"archive truncated", truncatedPath, Train, spec, 0, ErrChecksum, truncatedPath, 0},
		{"archive missing member", missingPath, Test, cifarSpec{records, md5Hex(missing)}, 0, ErrNotFound, missingPath, 0},
		{"archive not gzip", notGzipPath, Test, cifarSpec{records, md5Hex(notGzip)}, 0, ErrGzip, notGzipPath, 0},
		{"archive bad label", badLabelPath, Test, cifarSpec{records, md5Hex(badLabel)}, 0, ErrLabelRange,
			badLabelPath + ":" + CIFAR10Dir + "/test_batch.bin", 0},
		{"archive wrong record count", archivePath, Test, cifarSpec{records + 1, md5Hex(archive)}, 0, ErrTruncated,
			archivePath + ":" + CIFAR10Dir + "/test_batch.bin", 0},
		{"dir short file", shortDir, Train, spec, 0, ErrTruncated, filepath.Join(shortDir, "data_batch_3.bin"), 0},
		{"dir missing file", emptyDir, Test, spec, 0, ErrNotFound, filepath.Join(emptyDir, CIFAR10TestFile), 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			im, err := loadCIFAR(tc.src, tc.split, tc.spec)
			if tc.want != nil {
				assertFileError(t, err, tc.want, tc.errPath)
				if !strings.Contains(err.Error(), "cs.toronto.edu") {
					t.Errorf("message %q does not say where to get CIFAR-10", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if im.N != tc.n || im.C != 3 || len(im.Labels) != tc.n || len(im.Pixels) != tc.n*3072 {
				t.Fatalf("N=%d C=%d labels=%d pixels=%d, want N=%d", im.N, im.C, len(im.Labels), len(im.Pixels), tc.n)
			}
			if im.Labels[0] != tc.firstLbl {
				t.Errorf("first label %d, want %d", im.Labels[0], tc.firstLbl)
			}
		})
	}
}

func TestLocateCIFAR10(t *testing.T) {
	root := hermetic(t)
	_, err := LocateCIFAR10()
	assertFileError(t, err, ErrNotFound, CIFAR10Archive)
	if msg := err.Error(); !strings.Contains(msg, EnvDataDir) || !strings.Contains(msg, CIFAR10ArchiveMD5) {
		t.Errorf("message %q lacks where to put the archive or its MD5", msg)
	}
	im, name, err := CIFAR10OrFashionMNIST(Test)
	if name != DatasetFashionMNIST || im != nil || !errors.Is(err, ErrNotFound) {
		t.Errorf("without any data: %v, %q, %v; want nil, %q, ErrNotFound", im, name, err, DatasetFashionMNIST)
	}

	steps := []struct {
		desc string
		make string // path created (a directory if it ends in "/")
		want string
	}{
		{"extracted dir at the root", CIFAR10Dir + "/", CIFAR10Dir},
		{"archive at the root wins over the dir", CIFAR10Archive, CIFAR10Archive},
		{"subdirectory wins over the root", cifarName + "/" + CIFAR10Dir + "/", cifarName + "/" + CIFAR10Dir},
		{"archive in the subdirectory", cifarName + "/" + CIFAR10Archive, cifarName + "/" + CIFAR10Archive},
	}
	for _, s := range steps {
		p := filepath.Join(root, filepath.FromSlash(s.make))
		if strings.HasSuffix(s.make, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else {
			writeFile(t, p, []byte("x"))
		}
		got, err := LocateCIFAR10()
		if err != nil || got != filepath.Join(root, filepath.FromSlash(s.want)) {
			t.Errorf("%s: got %q, %v; want %q", s.desc, got, err, s.want)
		}
	}
	// Present but damaged: an error about CIFAR-10, no fall-back.
	_, name, err = CIFAR10OrFashionMNIST(Test)
	if name != DatasetCIFAR10 || !errors.Is(err, ErrChecksum) {
		t.Errorf("damaged CIFAR-10: got %q, %v; want %q and ErrChecksum", name, err, DatasetCIFAR10)
	}
}

// TestCIFAR10FullSizeFile loads a full-size (10,000-record) test batch through the public entry points.
func TestCIFAR10FullSizeFile(t *testing.T) {
	root := hermetic(t)
	dir := filepath.Join(root, CIFAR10Dir)
	writeFile(t, filepath.Join(dir, CIFAR10TestFile), cifarBatch(CIFAR10RecordsPerFile, cyclic))
	im, name, err := CIFAR10OrFashionMNIST(Test)
	if err != nil {
		t.Fatal(err)
	}
	if name != DatasetCIFAR10 || im.N != CIFAR10RecordsPerFile || im.Labels[9999] != 9 || im.Name != "cifar-10-test" {
		t.Errorf("got %q N=%d last label %d name %q", name, im.N, im.Labels[9999], im.Name)
	}
	// The training files are missing: a one-line error naming the first one.
	_, err = CIFAR10(Train)
	assertFileError(t, err, ErrNotFound, filepath.Join(dir, CIFAR10TrainFiles[0]))
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
