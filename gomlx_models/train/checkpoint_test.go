package train

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// savedCheckpoint trains a few steps and returns the checkpoint's bytes and
// its decoded payload.
func savedCheckpoint(t *testing.T) ([]byte, *savedRun) {
	t.Helper()
	ck := filepath.Join(t.TempDir(), "run.ckpt")
	o := opts(t, 3)
	o.Checkpoint = ck
	if _, err := Fit(o); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	s, err := readCheckpoint(ck, bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("reading a fresh checkpoint: %v", err)
	}
	return data, s
}

// flipIn returns a copy of data with one byte flipped in the middle of the
// first occurrence of part.
func flipIn(t *testing.T, data, part []byte) []byte {
	t.Helper()
	i := bytes.Index(data, part)
	if i < 0 || len(part) == 0 {
		t.Fatalf("part of %d bytes not found in the checkpoint", len(part))
	}
	out := bytes.Clone(data)
	out[i+len(part)/2] ^= 0x40
	return out
}

// TestCheckpointIntegrity corrupts a checkpoint in the ways a disk, a copy or
// an editor does and checks that loading refuses it with a one-line error
// naming the file and the remedy, before any variable is touched.
func TestCheckpointIntegrity(t *testing.T) {
	data, s := savedCheckpoint(t)
	var weights []byte
	for _, v := range s.Vars {
		if strings.Contains(v.Path, "hidden") && len(v.Data) >= 32 {
			weights = v.Data
			break
		}
	}
	if weights == nil {
		t.Fatal("no hidden-layer weights in the checkpoint")
	}
	header := data[:bytes.IndexByte(data[len(checkpointMagic):], '\n')+len(checkpointMagic)+1]
	// The history edited after saving (a better loss, say), under the original checksum.
	edited := *s
	edited.History.Steps = slices.Clone(s.History.Steps)
	edited.History.Steps[len(edited.History.Steps)-1].Loss /= 2
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(&edited); err != nil {
		t.Fatal(err)
	}
	digest, _, _ := strings.Cut(string(header[len(checkpointMagic):]), " ")
	editedFile := fmt.Appendf(nil, "%s%s %d\n%s", checkpointMagic, digest, payload.Len(), payload.Bytes())
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"flipped weight bytes", flipIn(t, data, weights), "checksum mismatch"},
		{"edited history", editedFile, "checksum mismatch"},
		{"truncated", data[:len(data)-len(data)/3], "truncated"},
		{"header only", header, "truncated: 0 of"},
		{"magic only", []byte(checkpointMagic), "no payload after the header"},
		{"trailing data", append(bytes.Clone(data), 0), "data after the"},
		{"old format", append([]byte("convnotes-checkpoint-v1\n"), data[len(header):]...), `format "convnotes-checkpoint-v1"`},
		{"CRLF magic line", bytes.Replace(data, []byte("\n"), []byte("\r\n"), 1), "ends in CRLF"},
		{"CRLF lines", bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")), "ends in CRLF"},
		{"foreign file", []byte("not a checkpoint"), "not a convnotes checkpoint"},
		{"empty file", nil, "not a convnotes checkpoint"},
		{"bad digest line", append([]byte(checkpointMagic+"md5:00 3\n"), "abc"...), "malformed digest line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ck := filepath.Join(t.TempDir(), "bad.ckpt")
			if err := os.WriteFile(ck, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			o := opts(t, 4)
			o.Checkpoint, o.Resume = ck, true
			_, err := Fit(o)
			if !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("Fit = %v, want ErrCheckpoint", err)
			}
			msg := err.Error()
			for _, want := range []string{tc.want, ck, checkpointRemedy} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if m := regexp.MustCompile(`format "([^"]*)", this build reads "([^"]*)"`).FindStringSubmatch(msg); m != nil && m[1] == m[2] {
				t.Errorf("error names two identical-looking formats: %q", msg)
			}
			after, err := os.ReadFile(ck)
			if err != nil || !bytes.Equal(after, tc.file) {
				t.Errorf("the refused checkpoint was overwritten")
			}
		})
	}
}
