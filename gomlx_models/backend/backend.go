// Package backend chooses and creates the GoMLX compute backend every convnotes program uses.
//
// The default is the embedded pure-Go backend in its fastest configuration ([Default]): it needs no C library
// and works offline. The choice can be overridden, in this order, by an explicit name passed to
// [New] (the --backend flag of the binaries), by $CONVNOTES_BACKEND, or by $GOMLX_BACKEND. Names:
//
//	go                 the embedded backend, as [Default]
//	go:<options>       the embedded backend with GoMLX's own options (e.g. "go:ops_parallel")
//	xla:cpu, xla:cuda  XLA through a PJRT plugin (pjrt_c_api_<cpu|cuda>_plugin.so) found in
//	                   $PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla or /usr/local/lib/go-xla
//
// XLA is never downloaded behind the user's back: GoMLX's auto-install is switched off unless
// CONVNOTES_XLA_AUTO_INSTALL=1, so asking for XLA without a plugin fails at once with a one-line error that says how
// to install one. Binaries built with the "noxla" tag leave XLA (and cgo) out altogether.
package backend

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers the embedded "go" backend.
)

// Default is the backend configuration used when nothing else is asked for: one op at a time (each large op is
// parallel inside), executed in the order the graph created them. The Go backend's other order, longest path to
// an output first, runs every kernel-gradient im2col matrix of a training step before any of their products,
// since they all sit a few ops from the optimizer's outputs; in creation order each is consumed as soon as it is
// built (ResNet-20 training at batch 128: about 1.2 GiB of Go heap at peak instead of 2.2 GiB, at the same speed).
const Default = "go:ops_sequential,creation_order"

// Environment variables read by [Resolve].
const (
	EnvBackend        = "CONVNOTES_BACKEND"
	EnvGoMLXBackend   = compute.ConfigEnvVar // "GOMLX_BACKEND"
	EnvAutoInstall    = "CONVNOTES_XLA_AUTO_INSTALL"
	EnvPluginPath     = "PJRT_PLUGIN_LIBRARY_PATH"
	envNoAutoInstallX = "GOMLX_NO_AUTO_INSTALL"
)

// ErrNoPlugin is returned (wrapped) when XLA is asked for and no PJRT plugin for the platform is installed.
var ErrNoPlugin = errors.New("no PJRT plugin")

// ErrNoXLA is returned (wrapped) when XLA is asked for in a binary built without XLA support (tag noxla).
var ErrNoXLA = errors.New("built without XLA support")

// ErrUnknown is returned (wrapped) for a backend name convnotes does not know.
var ErrUnknown = errors.New("unknown backend")

// Resolve returns the backend configuration string to use: explicit if not empty, else $CONVNOTES_BACKEND, else
// $GOMLX_BACKEND, else [Default]. A bare "go" becomes [Default]; a bare "xla" becomes "xla:cpu".
func Resolve(explicit string) string {
	cfg := strings.TrimSpace(explicit)
	if cfg == "" {
		cfg = strings.TrimSpace(os.Getenv(EnvBackend))
	}
	if cfg == "" {
		cfg = strings.TrimSpace(os.Getenv(EnvGoMLXBackend))
	}
	switch cfg {
	case "", "go":
		return Default
	case "xla":
		return "xla:cpu"
	}
	return cfg
}

// Kind is the family of a backend configuration: "go" or "xla".
func Kind(config string) string {
	name, _, _ := strings.Cut(config, ":")
	return name
}

var (
	cacheMu sync.Mutex
	cache   = map[string]compute.Backend{}
	configs = map[compute.Backend]string{}
)

// New returns the backend for the configuration chosen by [Resolve](explicit). Backends are created once per
// configuration and shared by the process (creating an XLA client is expensive). Errors are one line and say what
// to do.
func New(explicit string) (compute.Backend, error) {
	cfg := Resolve(explicit)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if b, ok := cache[cfg]; ok {
		return b, nil
	}
	var b compute.Backend
	var err error
	switch Kind(cfg) {
	case "go":
		b, err = compute.NewWithConfig(cfg)
	case "xla", "stablehlo", "hlo", "shlo":
		b, err = newXLA(cfg)
	default:
		return nil, fmt.Errorf("backend %q: %w (use go, go:<options>, xla:cpu or xla:cuda)", cfg, ErrUnknown)
	}
	if err != nil {
		if errors.Is(err, ErrNoPlugin) || errors.Is(err, ErrNoXLA) {
			return nil, err
		}
		return nil, fmt.Errorf("backend %q: %w", cfg, err)
	}
	cache[cfg] = b
	configs[b] = cfg
	return b, nil
}

// Describe is the one line every convnotes program prints about the backend it runs on.
func Describe(b compute.Backend) string {
	if b == nil {
		return "backend: <none>"
	}
	return fmt.Sprintf("backend: %s — %s", Config(b), b.Description())
}

// Config returns the configuration string b was created with by [New], or its GoMLX name for a backend created
// elsewhere.
func Config(b compute.Backend) string {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if cfg, ok := configs[b]; ok {
		return cfg
	}
	return b.Name()
}

// IsGo reports whether b is the embedded pure-Go backend.
func IsGo(b compute.Backend) bool {
	return b != nil && (Kind(Config(b)) == "go" || strings.HasPrefix(b.Name(), "Go "))
}

// autoInstallAllowed reports whether the user opted in to GoMLX's plugin download.
func autoInstallAllowed() bool {
	v := os.Getenv(EnvAutoInstall)
	return v == "1" || strings.EqualFold(v, "true")
}

// pluginRemedy is the install advice printed with ErrNoPlugin.
func pluginRemedy(platform string) string {
	return fmt.Sprintf("put pjrt_c_api_%s_plugin.so in a folder named by $%s (or ~/.local/lib/go-xla), "+
		"e.g. from the pip package jax-cuda13-pjrt for cuda (see scripts/bench_cuda.sh), "+
		"or set %s=1 to let GoMLX download it; the default embedded backend needs nothing (unset GOMLX_BACKEND)",
		platform, EnvPluginPath, EnvAutoInstall)
}

func init() {
	// GoMLX reads GOMLX_NO_AUTO_INSTALL in its own init; setting it here as well keeps child processes (gonb
	// kernels, benchmarks) offline too unless the user opted in.
	if !autoInstallAllowed() {
		if _, ok := os.LookupEnv(envNoAutoInstallX); !ok {
			_ = os.Setenv(envNoAutoInstallX, "1")
		}
	}
}
