package nbformat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckGo(t *testing.T) {
	tests := []struct {
		metadata string
		wantGo   bool
	}{
		{`{}`, true},
		{`{"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"}}`, true},
		{`{"kernelspec": {"name": "convnotes-go", "display_name": "Go"}, "language_info": {"name": "go"}}`, true},
		{`{"kernelspec": {"name": "gonb"}}`, true},
		{`{"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}`, false},
		{`{"kernelspec": {"name": "python3"}}`, false},
		{`{"language_info": {"name": "python"}}`, false},
		{`{"kernelspec": {"name": "gonb", "language": "go"}, "language_info": {"name": "R"}}`, false},
	}
	for _, tc := range tests {
		nb := &Notebook{Metadata: json.RawMessage(tc.metadata)}
		err := nb.CheckGo()
		if tc.wantGo != (err == nil) || (err != nil && !errors.Is(err, ErrNotGo)) {
			t.Errorf("CheckGo(%s) = %v, want Go: %v", tc.metadata, err, tc.wantGo)
		}
	}
}

// TestWriteFileThroughSymlink: saving a notebook opened through a symbolic
// link updates the file it points to and keeps the link.
func TestWriteFileThroughSymlink(t *testing.T) {
	nb, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "real", "n.ipynb")
	if err := os.Mkdir(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.ipynb")
	if err := os.Symlink(filepath.Join("real", "n.ipynb"), link); err != nil {
		t.Fatal(err)
	}
	if err := nb.WriteFile(link); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil {
		t.Fatal(err)
	} else if fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a file of mode %v", fi.Mode())
	}
	back, err := ReadFile(target)
	if err != nil || len(back.Cells) != 3 {
		t.Fatalf("the target was not written: %v", err)
	}
	if fi, err := os.Stat(target); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o640 {
		t.Errorf("the target's mode changed to %v", fi.Mode().Perm())
	}
}
