// Package reprotest runs a section's reproductions in the quick profile inside a Go test, as CI does, and checks
// that each returns a number, a verdict and usable PNG figures, and that the results tables list it.
package reprotest

import (
	"bytes"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/gomlx/compute"
)

// QuickProfile runs every experiment of sec in the quick profile and checks its result, figures and table rows.
func QuickProfile(t *testing.T, sec reproduce.Section) {
	t.Helper()
	if err := reproduce.Validate(sec); err != nil {
		t.Fatal(err)
	}
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	env := &reproduce.Env{Backend: b, OutDir: t.TempDir(), Profile: train.ProfileQuick, Quick: true,
		Progress: io.Discard, Log: io.Discard}
	rows := reproduce.Run(env, sec.Experiments)
	for _, r := range rows {
		if r.Err != nil {
			t.Error(r.Err)
			continue
		}
		if r.Result.Ours == "" || r.Result.Verdict() == "" || len(r.Result.Figures) == 0 {
			t.Errorf("%s: incomplete result %+v", r.Experiment.Name, r.Result)
		}
		for _, f := range r.Result.Figures {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Errorf("%s: %v", r.Experiment.Name, err)
				continue
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil || img.Bounds().Dx() < 100 {
				t.Errorf("%s: figure %s is not a usable PNG: %v", r.Experiment.Name, f, err)
			}
		}
	}
	var text, md bytes.Buffer
	if err := reproduce.WriteText(&text, rows); err != nil {
		t.Fatal(err)
	}
	if err := reproduce.WriteMarkdown(&md, rows, "# results", env.OutDir); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !strings.Contains(text.String(), r.Experiment.Name) || !strings.Contains(md.String(), "| "+r.Experiment.Name+" |") {
			t.Errorf("%s missing from the tables", r.Experiment.Name)
		}
	}
	if !strings.Contains(md.String(), "![") {
		t.Error("markdown links no figure")
	}
}

// Backend returns the default backend for a test, failing the test when it cannot be created.
func Backend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := backend.New("")
	if err != nil {
		t.Fatalf("creating the backend: %v", err)
	}
	return b
}
