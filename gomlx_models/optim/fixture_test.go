package optim

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestTorchFixtureJSON: the embedded copy is the file on disk, it parses, and callers cannot
// modify it through the returned slice.
func TestTorchFixtureJSON(t *testing.T) {
	disk, err := os.ReadFile(filepath.Join("testdata", "torch_trajectories.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := TorchFixtureJSON()
	if !bytes.Equal(got, disk) {
		t.Fatal("embedded fixture differs from testdata/torch_trajectories.json")
	}
	var f fixture
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatalf("parsing the embedded fixture: %v", err)
	}
	if len(f.Cases) != 16 || f.Steps != 100 {
		t.Errorf("embedded fixture has %d cases of %d steps, want 16 of 100", len(f.Cases), f.Steps)
	}
	got[0] ^= 0xff
	if !bytes.Equal(TorchFixtureJSON(), disk) {
		t.Error("modifying the returned slice changed the embedded fixture")
	}
}
