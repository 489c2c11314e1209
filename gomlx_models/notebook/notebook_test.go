package notebook

import (
	"bytes"
	"encoding/json"
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
	t.Setenv("GONB_TMP_DIR", "")
	env, out := testEnv(t)
	if err := env.Closing(); err == nil {
		t.Error("an empty closing table printed without an error")
	}
	near := func(ref, v float64) reproduce.Judgement {
		return env.Judge(reproduce.Equals(ref, 0.01), reproduce.Exact(v))
	}
	Check(env.Record(Row{Item: "GD threshold", Paper: "0.2", Ours: "0.2000", Verdict: near(0.2, 0.2)},
		Row{Item: "momentum threshold", Paper: "0.38", Ours: "0.3801", Verdict: near(0.38, 0.3801)}))
	Check(env.Record(Row{Item: "GD threshold", Paper: "0.2", Ours: "0.1999", Verdict: near(0.2, 0.1999)}))
	out.Reset()
	Check(env.Closing())
	got := out.String()
	for _, want := range []string{"paper / notes", "ours (quick profile)", "verdict", "0.1999", "0.3801", "reproduced (indicative)"} {
		if !strings.Contains(got, want) {
			t.Errorf("closing table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "0.2000") || strings.Index(got, "GD threshold") > strings.Index(got, "momentum") {
		t.Errorf("a re-recorded row must replace the old one in place:\n%s", got)
	}
	raw, err := os.ReadFile(filepath.Join(env.OutDir, ClosingFile))
	var snap Closing
	if err != nil || json.Unmarshal(raw, &snap) != nil || len(snap.Rows) != 2 || snap.Profile != train.ProfileQuick ||
		snap.Rows[0].Verdict.Verdict != reproduce.Reproduced {
		t.Errorf("snapshot %s: %v\n%s", ClosingFile, err, raw)
	}
	if err := env.Record(Row{Item: "no verdict", Paper: "p", Ours: "o"}); err == nil || !strings.Contains(err.Error(), "no verdict") {
		t.Errorf("a row without a verdict: got %v", err)
	}
	Check(env.Start())
	if err := env.Closing(); err == nil {
		t.Error("Start did not forget the earlier run's rows")
	}
	if err := os.WriteFile(env.closingPath(), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := env.Record(Row{Item: "x", Paper: "y", Ours: "z", Verdict: near(1, 1)}); err == nil || !strings.Contains(err.Error(), "first cell") {
		t.Errorf("a corrupt table file: got %v", err)
	}
}

// TestTable: outside GoNB a table prints as aligned text; a table needs its header.
func TestTable(t *testing.T) {
	env, out := testEnv(t)
	Check(env.Table([]string{"k", "RMSE"}, []string{"1", "0.301"}, []string{"8", "0.019"}))
	if got := out.String(); got != "k  RMSE\n1  0.301\n8  0.019\n" {
		t.Errorf("table:\n%q", got)
	}
	if err := env.Table(); err == nil {
		t.Error("a table without a header was accepted")
	}
}

// TestClosingTablePerKernel: two kernels running the same notebook keep their rows apart (each GoNB kernel has
// its own $GONB_TMP_DIR), so one run's Start cannot delete the other's rows.
func TestClosingTablePerKernel(t *testing.T) {
	a, outA := testEnv(t)
	b, outB := testEnv(t)
	b.OutDir = a.OutDir
	kernelA, kernelB := t.TempDir(), t.TempDir()
	row := func(env *Env, ours string) Row {
		return Row{Item: "value", Paper: "1", Ours: ours, Verdict: env.Judge(reproduce.Holds(0), reproduce.Exact(0))}
	}
	t.Setenv("GONB_TMP_DIR", kernelA)
	Check(a.Start())
	Check(a.Record(row(a, "from kernel A")))
	t.Setenv("GONB_TMP_DIR", kernelB)
	Check(b.Start())
	Check(b.Record(row(b, "from kernel B")))
	t.Setenv("GONB_TMP_DIR", kernelA)
	outA.Reset()
	Check(a.Closing())
	t.Setenv("GONB_TMP_DIR", kernelB)
	outB.Reset()
	Check(b.Closing())
	if !strings.Contains(outA.String(), "from kernel A") || strings.Contains(outA.String(), "kernel B") ||
		!strings.Contains(outB.String(), "from kernel B") || strings.Contains(outB.String(), "kernel A") {
		t.Errorf("runs mixed:\nA: %s\nB: %s", outA.String(), outB.String())
	}
}

// TestRecordResult: an experiment's result becomes the row `convnotes reproduce` prints.
func TestRecordResult(t *testing.T) {
	t.Setenv("GONB_TMP_DIR", "")
	env, out := testEnv(t)
	sec := reproduce.Section{ID: "01", Title: "t", Experiments: []reproduce.Experiment{{Name: "exp", Section: "01",
		Claim: "the claim", PaperValue: "3.05%"}}}
	res := &reproduce.Result{Ours: "2.40%", Judgement: env.Judge(reproduce.Below(3.05), reproduce.MeanSE(2.4, 0.15))}
	Check(env.RecordResult(sec, "exp", res))
	if err := env.RecordResult(sec, "nope", res); err == nil {
		t.Error("an unknown experiment was accepted")
	}
	Check(env.Closing())
	for _, want := range []string{"the claim", "3.05%", "2.40%", "reproduced (indicative)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("row lacks %q:\n%s", want, out.String())
		}
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
