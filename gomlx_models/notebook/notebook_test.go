package notebook

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/plots"
)

func testEnv(t *testing.T) (*Env, *bytes.Buffer) {
	t.Helper()
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return &Env{Env: &reproduce.Env{Backend: b, OutDir: t.TempDir(), Profile: train.ProfileQuick, Quick: true},
		Section: "01", out: &out}, &out
}

func TestClosingTable(t *testing.T) {
	env, out := testEnv(t)
	if err := env.Closing(); err == nil {
		t.Error("an empty closing table printed without an error")
	}
	Check(env.Record(Row{Item: "GD threshold", Paper: "0.2", Ours: "0.2000"}, Row{Item: "momentum threshold", Paper: "0.38", Ours: "0.3801"}))
	Check(env.Record(Row{Item: "GD threshold", Paper: "0.2", Ours: "0.1999"}))
	out.Reset()
	Check(env.Closing())
	got := out.String()
	for _, want := range []string{"paper / notes", "ours (quick profile)", "0.1999", "0.3801"} {
		if !strings.Contains(got, want) {
			t.Errorf("closing table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "0.2000") || strings.Index(got, "GD threshold") > strings.Index(got, "momentum") {
		t.Errorf("a re-recorded row must replace the old one in place:\n%s", got)
	}
	Check(env.Start())
	if err := env.Closing(); err == nil {
		t.Error("Start did not forget the earlier run's rows")
	}
	if err := os.WriteFile(env.closingPath(), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := env.Record(Row{Item: "x", Paper: "y", Ours: "z"}); err == nil || !strings.Contains(err.Error(), "first cell") {
		t.Errorf("a corrupt table file: got %v", err)
	}
}

func TestShow(t *testing.T) {
	env, out := testEnv(t)
	fig, err := plots.Curves("t", "", "", []plots.Series{{Y: []float64{1, 2, 3}}}, plots.SizePixels(120, 80))
	if err != nil {
		t.Fatal(err)
	}
	Check(env.Show("01 loss/curve", fig))
	want := filepath.Join(env.OutDir, "01_loss_curve.png")
	if _, err := os.Stat(want); err != nil || !strings.Contains(out.String(), want) {
		t.Errorf("figure not saved and reported at %s: %v\n%s", want, err, out.String())
	}
	Check(env.Show("pair", fig, fig))
	for _, n := range []string{"pair_1.png", "pair_2.png"} {
		if _, err := os.Stat(filepath.Join(env.OutDir, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if err := env.Show("x", nil); err == nil {
		t.Error("a nil figure was accepted")
	}
	if err := env.Show("../..", fig); err == nil {
		t.Error("an unusable name was accepted")
	}
}

func TestMust(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Must did not stop on an error")
		}
	}()
	if Must(3, nil) != 3 {
		t.Error("Must changed the value")
	}
	Must(0, os.ErrNotExist)
}

func TestOpenRejectsBadSection(t *testing.T) {
	for _, s := range []string{"", "../x", "a b"} {
		if _, err := Open(s); err == nil {
			t.Errorf("Open(%q) accepted", s)
		}
	}
}
