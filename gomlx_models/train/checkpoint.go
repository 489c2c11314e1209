package train

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// A checkpoint file is the magic line, a digest line
//
//	sha256:<64 hex digits of SHA-256(payload)> <payload length in bytes>
//
// and the payload: one gob-encoded savedRun (variables, data position and
// history). The digest covers every byte of the payload, so flipped bits in a
// weight or in the history, a truncated file and a header-only file are all
// refused instead of training on, or reporting, silently wrong numbers.
const (
	checkpointMagic = "convnotes-checkpoint-v2\n"
	// checkpointPrefix starts the magic of every format version.
	checkpointPrefix = "convnotes-checkpoint-v"
	// digestPrefix starts the digest line.
	digestPrefix = "sha256:"
)

// checkpointRemedy ends every error about an unusable checkpoint file.
const checkpointRemedy = "delete it and train again"

// ErrCheckpoint is wrapped by every error reading a checkpoint.
var ErrCheckpoint = errors.New("bad checkpoint")

type savedVar struct {
	Path      string
	DType     int32
	Dims      []int
	Trainable bool
	Data      []byte
}

type savedRun struct {
	Name            string
	Step            int
	Epoch           int
	BatchInEpoch    int
	BatchesPerEpoch int
	Seconds         float64
	History         History
	Vars            []savedVar
}

// SaveCheckpoint writes every variable of the run's store (weights, optimizer state, global step, RNG state), the
// data position and the history to path, atomically: a temporary file in the same folder is written, synced and
// renamed over path, so a crash never leaves a half-written checkpoint.
func (r *Run) SaveCheckpoint(path string) error {
	s := savedRun{Name: r.Options.Name, Step: r.Step(), Epoch: r.epoch, BatchInEpoch: r.batchInEpoch,
		BatchesPerEpoch: r.batchesPerEpoch, Seconds: r.Seconds, History: r.History}
	for v := range r.Store.IterVariables() {
		if strings.HasPrefix(v.Path(), "/metrics/") {
			continue // metric accumulators are named with a fresh UUID per trainer: they cannot be restored.
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, v.Path(), err)
		}
		sv := savedVar{Path: v.Path(), DType: int32(t.DType()), Dims: slices.Clone(t.Shape().Dimensions), Trainable: v.Trainable}
		if err := t.ConstBytes(func(b []byte) { sv.Data = slices.Clone(b) }); err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, v.Path(), err)
		}
		s.Vars = append(s.Vars, sv)
	}
	slices.SortFunc(s.Vars, func(a, b savedVar) int {
		if a.Path < b.Path {
			return -1
		} else if a.Path > b.Path {
			return 1
		}
		return 0
	})
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename.
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(&s); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("checkpoint %s: encoding: %w", path, err)
	}
	sum := sha256.Sum256(payload.Bytes())
	w := bufio.NewWriter(tmp)
	_, err = fmt.Fprintf(w, "%s%s%x %d\n", checkpointMagic, digestPrefix, sum, payload.Len())
	if err == nil {
		_, err = w.Write(payload.Bytes())
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s: writing: %w", path, err)
	}
	return nil
}

// LoadCheckpoint restores a run saved by SaveCheckpoint: variables (created in the store, so the graphs built
// afterwards use them), data position, elapsed time and history. Call it before the first training step.
func (r *Run) LoadCheckpoint(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	defer f.Close()
	s, err := readCheckpoint(path, bufio.NewReader(f))
	if err != nil {
		return err
	}
	for _, sv := range s.Vars {
		dt := dtypes.DType(sv.DType)
		shape := shapes.Make(dt, sv.Dims...)
		if int(shape.Memory()) != len(sv.Data) {
			return fmt.Errorf("checkpoint %s: %w: variable %s has %d bytes for shape %s (%s)", path, ErrCheckpoint,
				sv.Path, len(sv.Data), shape, checkpointRemedy)
		}
		t := tensors.FromShape(shape)
		if err := t.MutableBytes(func(b []byte) { copy(b, sv.Data) }); err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, sv.Path, err)
		}
		if v := r.Store.GetVariable(sv.Path); v != nil {
			if !v.Shape().Equal(shape) {
				return fmt.Errorf("checkpoint %s: %w: variable %s has shape %s, model has %s", path, ErrCheckpoint,
					sv.Path, shape, v.Shape())
			}
			if err := v.SetValue(t); err != nil {
				return fmt.Errorf("checkpoint %s: variable %s: %w", path, sv.Path, err)
			}
			v.SetTrainable(sv.Trainable)
			continue
		}
		v, err := r.Store.CreateVariable(sv.Path, t)
		if err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, sv.Path, err)
		}
		v.SetTrainable(sv.Trainable)
	}
	r.epoch, r.batchInEpoch, r.Seconds, r.History = s.Epoch, s.BatchInEpoch, s.Seconds, s.History
	if s.BatchesPerEpoch > 0 {
		r.batchesPerEpoch = s.BatchesPerEpoch
	}
	return nil
}

// readCheckpoint reads and verifies a checkpoint file: magic, digest line,
// payload length and SHA-256, then decodes the payload. Every failure is a
// one-line error wrapping ErrCheckpoint that names the file and the remedy.
func readCheckpoint(path string, br *bufio.Reader) (*savedRun, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint %s: %w: %s (%s)", path, ErrCheckpoint, fmt.Sprintf(format, args...), checkpointRemedy)
	}
	magic, err := br.ReadString('\n')
	switch {
	case magic == checkpointMagic:
	case strings.HasPrefix(magic, checkpointPrefix) && strings.HasSuffix(magic, "\r\n"):
		return nil, bad("its first line ends in CRLF (\\r\\n): something converted its line endings (a text-mode copy, " +
			"git's autocrlf), which also alters the binary payload")
	case strings.HasPrefix(magic, checkpointPrefix) && err == nil:
		return nil, bad("format %q, this build reads %q", strings.TrimSuffix(magic, "\n"), strings.TrimSuffix(checkpointMagic, "\n"))
	default:
		return nil, bad("not a convnotes checkpoint")
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, bad("no payload after the header (the file is truncated)")
	}
	var hexSum string
	var size int64
	if n, err := fmt.Sscanf(line, digestPrefix+"%64s %d\n", &hexSum, &size); n != 2 || err != nil || size < 0 {
		return nil, bad("malformed digest line %q", strings.TrimSpace(line))
	}
	want, err := hex.DecodeString(hexSum)
	if err != nil || len(want) != sha256.Size {
		return nil, bad("malformed digest line %q", strings.TrimSpace(line))
	}
	payload, err := io.ReadAll(io.LimitReader(br, size+1))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	switch {
	case int64(len(payload)) < size:
		return nil, bad("truncated: %d of %d payload bytes", len(payload), size)
	case int64(len(payload)) > size:
		return nil, bad("data after the %d payload bytes", size)
	}
	if got := sha256.Sum256(payload); !bytes.Equal(got[:], want) {
		return nil, bad("payload checksum mismatch (the weights or the history are corrupted)")
	}
	var s savedRun
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&s); err != nil {
		return nil, bad("payload: %v", err)
	}
	return &s, nil
}
