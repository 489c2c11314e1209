package train

import (
	"bufio"
	"encoding/gob"
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

// checkpointMagic starts every convnotes checkpoint (a gob stream follows).
const checkpointMagic = "convnotes-checkpoint-v1\n"

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
	w := bufio.NewWriter(tmp)
	if _, err := w.WriteString(checkpointMagic); err == nil {
		err = gob.NewEncoder(w).Encode(&s)
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
	br := bufio.NewReader(f)
	head := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != checkpointMagic {
		return fmt.Errorf("checkpoint %s: %w: not a convnotes checkpoint (delete it to start afresh)", path, ErrCheckpoint)
	}
	var s savedRun
	if err := gob.NewDecoder(br).Decode(&s); err != nil {
		return fmt.Errorf("checkpoint %s: %w: %v (delete it to start afresh)", path, ErrCheckpoint, err)
	}
	for _, sv := range s.Vars {
		dt := dtypes.DType(sv.DType)
		shape := shapes.Make(dt, sv.Dims...)
		if int(shape.Memory()) != len(sv.Data) {
			return fmt.Errorf("checkpoint %s: %w: variable %s has %d bytes for shape %s", path, ErrCheckpoint,
				sv.Path, len(sv.Data), shape)
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
