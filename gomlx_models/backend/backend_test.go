package backend

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/go-xla/pjrt"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name, explicit, convnotes, gomlx, want string
	}{
		{"default", "", "", "", Default},
		{"bare go", "go", "", "", Default},
		{"explicit wins", "xla:cuda", "go", "go", "xla:cuda"},
		{"convnotes env", "", "go:ops_parallel", "xla:cpu", "go:ops_parallel"},
		{"gomlx env", "", "", "xla:cpu", "xla:cpu"},
		{"bare xla", "xla", "", "", "xla:cpu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvBackend, tc.convnotes)
			t.Setenv(EnvGoMLXBackend, tc.gomlx)
			if got := Resolve(tc.explicit); got != tc.want {
				t.Errorf("Resolve(%q) = %q, want %q", tc.explicit, got, tc.want)
			}
		})
	}
}

func TestNewGo(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if !IsGo(b) {
		t.Errorf("New(go) gave %s", b.Name())
	}
	if d := Describe(b); !strings.Contains(d, "go") {
		t.Errorf("Describe = %q", d)
	}
	b2, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if b2 != b {
		t.Errorf("backends are not shared per configuration")
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("tpu-of-my-dreams"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown backend: got %v, want ErrUnknown", err)
	}
	if !XLAAvailable {
		if _, err := New("xla:cpu"); !errors.Is(err, ErrNoXLA) {
			t.Errorf("xla in a noxla build: got %v", err)
		}
		return
	}
	if _, ok := pjrt.AvailablePlugins()["cpu"]; ok {
		t.Skip("a cpu PJRT plugin is installed here: the no-plugin error cannot be observed")
	}
	t.Setenv(EnvAutoInstall, "")
	start := time.Now()
	_, err := New("xla:cpu")
	if !errors.Is(err, ErrNoPlugin) {
		t.Fatalf("xla:cpu without plugin: got %v, want ErrNoPlugin", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %s; it must fail fast", d)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, EnvPluginPath) {
		t.Errorf("error must be one line naming %s: %q", EnvPluginPath, msg)
	}
}
