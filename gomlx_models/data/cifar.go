package data

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// CIFAR-10 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images", ch. 3), binary version, as
// published at https://www.cs.toronto.edu/~kriz/cifar.html: one archive holding a directory of six batch files of
// 10,000 records each; a record is 1 label byte followed by 3,072 pixel bytes, the 32×32 red plane, then green,
// then blue, each plane row-major.
const (
	// CIFAR10Archive is the name of the published archive.
	CIFAR10Archive = "cifar-10-binary.tar.gz"
	// CIFAR10ArchiveMD5 is the archive's MD5 digest, as given on the dataset's page.
	CIFAR10ArchiveMD5 = "c32a1d4ab5d03f1284b67883e8d87530"
	// CIFAR10Dir is the directory the archive extracts to.
	CIFAR10Dir = "cifar-10-batches-bin"
	// CIFAR10Side is the height and width of every image; CIFAR10Channels its colour planes.
	CIFAR10Side, CIFAR10Channels = 32, 3
	// CIFAR10RecordBytes is the size of one record: the label byte and the three planes.
	CIFAR10RecordBytes = 1 + CIFAR10Side*CIFAR10Side*CIFAR10Channels
	// CIFAR10RecordsPerFile is the number of records in every batch file.
	CIFAR10RecordsPerFile = 10000

	cifarName      = "cifar-10"
	cifarPlaneSize = CIFAR10Side * CIFAR10Side
)

// CIFAR10TrainFiles are the five training batches (50,000 images); CIFAR10TestFile the test batch (10,000).
var (
	CIFAR10TrainFiles = []string{
		"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
	}
	CIFAR10TestFile = "test_batch.bin"
)

// CIFAR10Classes are CIFAR-10's class names, index = label (batches.meta.txt of the archive).
var CIFAR10Classes = []string{
	"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
}

// ErrBadArchive: a tar archive is corrupt, or a member is not a regular file.
var ErrBadArchive = errors.New("corrupt tar archive")

// cifarRemedy tells where to get CIFAR-10 and where to put it.
var cifarRemedy = fmt.Sprintf("download %s (MD5 %s) from https://www.cs.toronto.edu/~kriz/cifar.html "+
	"and put it, or its extracted %s/, in $%s or $%s/%s", CIFAR10Archive, CIFAR10ArchiveMD5, CIFAR10Dir,
	EnvDataDir, EnvDataDir, cifarName)

// cifarSpec is what a CIFAR-10 source must satisfy: the records per batch file and the archive's MD5. The real
// dataset uses [CIFAR10RecordsPerFile] and [CIFAR10ArchiveMD5]; tests build smaller sets with their own digest.
type cifarSpec struct {
	records int
	md5     string
}

var cifarReal = cifarSpec{records: CIFAR10RecordsPerFile, md5: CIFAR10ArchiveMD5}

// CIFAR10 loads a split of CIFAR-10: 32×32×3 colour images (HWC, pixels scaled to [0,1]) in the ten classes of
// [CIFAR10Classes]; Train is the five data batches in order (50,000 images), Test the test batch (10,000).
//
// It reads $CONVNOTES_DATA/cifar-10/ or $CONVNOTES_DATA/, in that order, and in each the archive
// [CIFAR10Archive] (read directly, its MD5 checked) before the extracted [CIFAR10Dir]/ (whose files have no
// published digests: they are checked for size and labels only). Every batch file must hold exactly 10,000
// records with labels 0..9. The result is cached in-process; it holds 50,000×3,072 float32 values (600 MiB)
// for Train. Errors are one-line *FileError values naming the file and the remedy; errors.Is(err, ErrNotFound)
// when the user has no CIFAR-10 at all.
func CIFAR10(split Split) (*Images, error) {
	src, err := LocateCIFAR10()
	if err != nil {
		return nil, err
	}
	return loadCIFARCached(src, split, cifarReal)
}

// LocateCIFAR10 returns the path of the CIFAR-10 source [CIFAR10] would read (an archive or an extracted
// directory), without reading it, or a *FileError wrapping ErrNotFound.
func LocateCIFAR10() (string, error) {
	root := os.Getenv(EnvDataDir)
	if root == "" {
		return "", &FileError{Path: CIFAR10Archive, Op: "locate",
			Err: fmt.Errorf("%w: $%s is not set", ErrNotFound, EnvDataDir), Remedy: cifarRemedy}
	}
	dirs := []string{filepath.Join(root, cifarName), root}
	for _, dir := range dirs {
		if p := filepath.Join(dir, CIFAR10Archive); isRegular(p) {
			return p, nil
		}
		if p := filepath.Join(dir, CIFAR10Dir); isDir(p) {
			return p, nil
		}
	}
	return "", &FileError{Path: CIFAR10Archive, Op: "locate",
		Err: fmt.Errorf("%w: searched %s for %s and %s/", ErrNotFound, strings.Join(dirs, ", "),
			CIFAR10Archive, CIFAR10Dir),
		Remedy: cifarRemedy}
}

// CIFAR10OrFashionMNIST returns CIFAR-10's split if the user has CIFAR-10 (see [CIFAR10]), else Fashion-MNIST's,
// and the name of the dataset returned ("CIFAR-10" or "Fashion-MNIST"), to be printed beside every number
// measured on it. A CIFAR-10 that is present but damaged is an error, not a silent fall-back.
func CIFAR10OrFashionMNIST(split Split) (im *Images, name string, err error) {
	if _, locErr := LocateCIFAR10(); locErr == nil {
		im, err = CIFAR10(split)
		return im, DatasetCIFAR10, err
	}
	im, err = FashionMNIST(split)
	return im, DatasetFashionMNIST, err
}

// Dataset names as reported by [CIFAR10OrFashionMNIST].
const (
	DatasetCIFAR10      = "CIFAR-10"
	DatasetFashionMNIST = "Fashion-MNIST"
)

// isRegular reports whether p is an existing regular file.
func isRegular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

var (
	cifarMu    sync.Mutex
	cifarCache = map[string]*cacheEntry{}
)

// loadCIFARCached loads (src, split) once per process; failures are not kept.
func loadCIFARCached(src string, split Split, spec cifarSpec) (*Images, error) {
	key := src + "\x00" + split.String()
	cifarMu.Lock()
	e := cifarCache[key]
	if e == nil {
		e = &cacheEntry{}
		cifarCache[key] = e
	}
	cifarMu.Unlock()
	e.once.Do(func() { e.im, e.err = loadCIFAR(src, split, spec) })
	if e.err != nil {
		cifarMu.Lock()
		if cifarCache[key] == e {
			delete(cifarCache, key)
		}
		cifarMu.Unlock()
		return nil, e.err
	}
	out := *e.im
	return &out, nil
}

// cifarFiles returns the batch files of split, in order.
func cifarFiles(split Split) ([]string, error) {
	switch split {
	case Train:
		return CIFAR10TrainFiles, nil
	case Test:
		return []string{CIFAR10TestFile}, nil
	}
	return nil, fmt.Errorf("data: %s: unknown split %v, want data.Train or data.Test", cifarName, split)
}

// loadCIFAR reads split from src, an archive (a regular file) or an extracted directory.
func loadCIFAR(src string, split Split, spec cifarSpec) (*Images, error) {
	files, err := cifarFiles(split)
	if err != nil {
		return nil, err
	}
	name := cifarName + "-" + split.String()
	if isDir(src) {
		parts := make([]*Images, len(files))
		for i, f := range files {
			p := filepath.Join(src, f)
			content, err := os.ReadFile(p)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, &FileError{Path: p, Op: "read", Err: fmt.Errorf("%w: %w", ErrNotFound, err), Remedy: cifarRemedy}
				}
				return nil, &FileError{Path: p, Op: "read", Err: err, Remedy: "check the file's permissions"}
			}
			if parts[i], err = ParseCIFAR10Batch(bytes.NewReader(content), p, spec.records); err != nil {
				return nil, err
			}
		}
		return concatCIFAR(name, parts), nil
	}
	parts, err := readCIFARArchive(src, files, spec)
	if err != nil {
		return nil, err
	}
	return concatCIFAR(name, parts), nil
}

// readCIFARArchive streams the archive once: the wanted members are parsed as they pass, and the MD5 of the whole
// file is compared with spec.md5 at the end (so a damaged archive is reported as such, even when the members it
// holds happen to parse).
func readCIFARArchive(archive string, files []string, spec cifarSpec) ([]*Images, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, openError(archive, err)
	}
	defer f.Close()
	sum := md5.New()
	// Every byte taken from f is hashed once: through the tee while the parser reads, then by the copy below.
	parts, parseErr := parseCIFARArchive(bufio.NewReader(io.TeeReader(f, sum)), archive, files, spec.records)
	// Hash what the parser did not read, then check the digest: a wrong digest explains any parse error.
	if _, err := io.Copy(sum, f); err != nil {
		return nil, &FileError{Path: archive, Op: "read", Err: err, Remedy: "check the file's permissions"}
	}
	if err := checkMD5(archive, sum, spec.md5); err != nil {
		return nil, err
	}
	return parts, parseErr
}

// checkMD5 compares the digest in h with want.
func checkMD5(archive string, h hash.Hash, want string) error {
	got := hex.EncodeToString(h.Sum(nil))
	if got == want {
		return nil
	}
	return &FileError{Path: archive, Op: "verify checksum",
		Err:    &wrapped{fmt.Sprintf("MD5 checksum mismatch: expected %s, got %s", want, got), ErrChecksum},
		Remedy: "the archive is corrupt or incomplete; delete it and " + cifarRemedy}
}

// parseCIFARArchive reads the gzip-compressed tar stream r and parses the members <dir>/<file> for each of files
// (whatever the directory is called), returning them in the order of files.
func parseCIFARArchive(r io.Reader, archive string, files []string, records int) ([]*Images, error) {
	fail := func(op string, err error) error {
		return &FileError{Path: archive, Op: op, Err: err, Remedy: "the archive is damaged; delete it and " + cifarRemedy}
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fail("read archive", fmt.Errorf("%w: %w", ErrGzip, err))
	}
	defer zr.Close()
	want := make(map[string]int, len(files))
	for i, f := range files {
		want[f] = i
	}
	parts := make([]*Images, len(files))
	found := 0
	tr := tar.NewReader(gzipErrReader{zr})
	for found < len(files) {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, ErrGzip) {
				return nil, fail("read archive", err)
			}
			return nil, fail("read archive", fmt.Errorf("%w: %w", ErrBadArchive, err))
		}
		i, ok := want[path.Base(hdr.Name)]
		if !ok || parts[i] != nil {
			continue
		}
		member := archive + ":" + hdr.Name
		if hdr.Typeflag != tar.TypeReg {
			return nil, &FileError{Path: member, Op: "read archive",
				Err: fmt.Errorf("%w: not a regular file (type %q)", ErrBadArchive, hdr.Typeflag), Remedy: cifarRemedy}
		}
		if parts[i], err = ParseCIFAR10Batch(tr, member, records); err != nil {
			return nil, err
		}
		found++
	}
	for i, p := range parts {
		if p == nil {
			return nil, &FileError{Path: archive, Op: "read archive",
				Err:    fmt.Errorf("%w: no member %s/%s in the archive", ErrNotFound, CIFAR10Dir, files[i]),
				Remedy: "the archive is not CIFAR-10's binary version; " + cifarRemedy}
		}
	}
	return parts, nil
}

// maxCIFARBatchBytes bounds a CIFAR-10 batch read with no expected record count: twice a published batch
// (30,730,000 bytes), so that a wrong or endless file fails with ErrTooLarge after 64 MiB instead of filling memory.
const maxCIFARBatchBytes = 1 << 26

// ParseCIFAR10Batch parses one CIFAR-10 batch file read from r: records of one label byte (0..9) and 3,072 pixel
// bytes (red, green, blue planes of 32×32). With records > 0 the file must hold exactly that many records (the
// published files hold [CIFAR10RecordsPerFile]); with records <= 0, any positive whole number. name is used in
// messages. Pixels are returned HWC, scaled to [0,1]. Errors are *FileError values: ErrTruncated (a partial
// record, or fewer records), ErrTrailingData (more records), ErrLabelRange. It never panics.
func ParseCIFAR10Batch(r io.Reader, name string, records int) (im *Images, err error) {
	defer func() {
		if p := recover(); p != nil {
			im, err = nil, &FileError{Path: name, Op: "parse CIFAR-10 batch",
				Err: fmt.Errorf("internal parser failure: %v", p), Remedy: cifarRemedy}
		}
	}()
	fail := func(cause error) (*Images, error) {
		return nil, &FileError{Path: name, Op: "parse CIFAR-10 batch", Err: cause,
			Remedy: "the file is damaged or is not a CIFAR-10 binary batch; " + cifarRemedy}
	}
	limit := int64(maxCIFARBatchBytes) + 1
	if records > 0 {
		limit = int64(records)*CIFAR10RecordBytes + 1
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(r, limit)); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(fmt.Errorf("%w: the file ends after %d bytes, inside a CIFAR-10 record (%w)", ErrTruncated, buf.Len(), err))
		}
		return fail(fmt.Errorf("read: %w", err))
	}
	content := buf.Bytes()
	n, rest := len(content)/CIFAR10RecordBytes, len(content)%CIFAR10RecordBytes
	switch {
	case records > 0 && len(content) > records*CIFAR10RecordBytes:
		return fail(fmt.Errorf("%w: more than %d CIFAR-10 records of %d bytes", ErrTrailingData, records, CIFAR10RecordBytes))
	case records <= 0 && len(content) > maxCIFARBatchBytes:
		return fail(fmt.Errorf("%w: more than %d bytes of CIFAR-10 records", ErrTooLarge, maxCIFARBatchBytes))
	case rest != 0:
		return fail(fmt.Errorf("%w: %d bytes is not a whole number of %d-byte CIFAR-10 records (%d records and %d bytes)",
			ErrTruncated, len(content), CIFAR10RecordBytes, n, rest))
	case records > 0 && n != records:
		return fail(fmt.Errorf("%w: %d CIFAR-10 records, want %d", ErrTruncated, n, records))
	case n == 0:
		return fail(fmt.Errorf("%w: no CIFAR-10 records", ErrTruncated))
	}
	const img = cifarPlaneSize * CIFAR10Channels
	out := &Images{Name: name, N: n, H: CIFAR10Side, W: CIFAR10Side, C: CIFAR10Channels,
		Pixels: make([]float32, n*img), Labels: make([]int32, n), Classes: CIFAR10Classes}
	for i := range n {
		rec := content[i*CIFAR10RecordBytes : (i+1)*CIFAR10RecordBytes]
		if int(rec[0]) >= len(CIFAR10Classes) {
			return fail(fmt.Errorf("%w: label %d of record %d, want 0..%d", ErrLabelRange, rec[0], i, len(CIFAR10Classes)-1))
		}
		out.Labels[i] = int32(rec[0])
		px := out.Pixels[i*img : (i+1)*img]
		for c := range CIFAR10Channels {
			plane := rec[1+c*cifarPlaneSize : 1+(c+1)*cifarPlaneSize]
			for j, b := range plane {
				px[j*CIFAR10Channels+c] = byteToUnit[b]
			}
		}
	}
	return out, nil
}

// concatCIFAR joins batches into one dataset named name.
func concatCIFAR(name string, parts []*Images) *Images {
	if len(parts) == 1 {
		out := *parts[0]
		out.Name = name
		return &out
	}
	out := &Images{Name: name, H: CIFAR10Side, W: CIFAR10Side, C: CIFAR10Channels, Classes: CIFAR10Classes}
	for _, p := range parts {
		out.N += p.N
	}
	out.Pixels = make([]float32, 0, out.N*out.ImageSize())
	out.Labels = make([]int32, 0, out.N)
	for _, p := range parts {
		out.Pixels = append(out.Pixels, p.Pixels...)
		out.Labels = append(out.Labels, p.Labels...)
	}
	return out
}
