package bench

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	_ "github.com/gomlx/compute/gobackend"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"default", func(*Config) {}, true},
		{"quick", func(c *Config) { *c = QuickConfig() }, true},
		{"unknown model", func(c *Config) { c.Models = []string{"vgg"} }, false},
		{"unknown mode", func(c *Config) { c.Modes = []string{"eval"} }, false},
		{"unknown column", func(c *Config) { c.Columns = []string{"jax"} }, false},
		{"no models", func(c *Config) { c.Models = nil }, false},
		{"zero rounds", func(c *Config) { c.Rounds = 0 }, false},
		{"max < min steps", func(c *Config) { c.MinSteps, c.MaxSteps = 3, 2 }, false},
		{"negative batch", func(c *Config) { c.Batch = map[string]int{SmallCNN: -1} }, true}, // falls back to default
	} {
		c := DefaultConfig()
		tc.edit(&c)
		if err := c.validate(); (err == nil) != tc.ok {
			t.Errorf("%s: validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if b := DefaultConfig().BatchFor(SmallCNN); b != 64 {
		t.Errorf("default small CNN batch %d, want 64", b)
	}
	if b := DefaultConfig().BatchFor(ResNet20); b != 128 {
		t.Errorf("default ResNet-20 batch %d, want 128", b)
	}
}

func TestMeasurementMedian(t *testing.T) {
	m := Measurement{Batch: 10, StepTimes: []time.Duration{3 * time.Second, time.Second, 2 * time.Second}}
	if got := m.Median(); got != 2*time.Second {
		t.Errorf("Median = %v, want 2s", got)
	}
	if got := m.ImagesPerSec(); got != 5 {
		t.Errorf("ImagesPerSec = %v, want 5", got)
	}
	if got := (Measurement{Batch: 10}).ImagesPerSec(); got != 0 {
		t.Errorf("ImagesPerSec without steps = %v, want 0", got)
	}
}

func TestParseTorchJSON(t *testing.T) {
	out := []byte("RESULT torch1.13 ...\nJSON {\"torch\": \"1.13\", \"step_seconds\": [0.5, 0.25], \"maxrss_kib\": 2048}\n")
	res, err := parseTorchJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.steps) != 2 || res.steps[1] != 250*time.Millisecond || res.maxRSS != 2048*1024 {
		t.Errorf("parsed %+v", res)
	}
	for _, bad := range []string{"RESULT only\n", "JSON {not json}\n", "JSON {\"step_seconds\": []}\n"} {
		if _, err := parseTorchJSON([]byte(bad)); err == nil {
			t.Errorf("parseTorchJSON(%q) succeeded", bad)
		}
	}
}

func TestReportWrite(t *testing.T) {
	r := &Report{Backend: "test backend", TorchNote: "PyTorch column skipped: no torch",
		Measurements: []Measurement{
			{Model: SmallCNN, Mode: Train, Column: ColumnProject, Batch: 8, StepTimes: []time.Duration{time.Second}, PeakBytes: 3 << 20},
			{Model: SmallCNN, Mode: Train, Column: ColumnStock, Batch: 8, StepTimes: []time.Duration{4 * time.Second}},
			{Model: SmallCNN, Mode: Train, Column: ColumnTorch, Batch: 8, Err: errors.New("PyTorch not available")},
		}}
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"8.0", "2.0", "4.00x", "n/a", "no torch", "test backend"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

// TestRunGoColumns runs a tiny benchmark of both Go columns (no PyTorch) end to end.
func TestRunGoColumns(t *testing.T) {
	backend, err := cnbackend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	cfg := QuickConfig()
	cfg.Models, cfg.Modes = []string{SmallCNN}, []string{Train, Infer}
	cfg.Columns = []string{ColumnProject, ColumnStock}
	cfg.Batch = map[string]int{SmallCNN: 2}
	cfg.MaxSteps, cfg.MinSeconds = 1, 0
	report, err := Run(context.Background(), backend, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Measurements) != 4 {
		t.Fatalf("got %d measurements, want 4", len(report.Measurements))
	}
	for _, m := range report.Measurements {
		if m.Err != nil || m.ImagesPerSec() <= 0 || m.PeakBytes == 0 {
			t.Errorf("%s %s %s: err=%v, %.1f images/s, peak %d", m.Model, m.Mode, m.Column, m.Err, m.ImagesPerSec(), m.PeakBytes)
		}
	}
	if _, ok := report.Find(SmallCNN, Train, ColumnTorch); ok {
		t.Error("torch column present although not asked for")
	}
}
