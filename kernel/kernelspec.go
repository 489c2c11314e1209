package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KernelSpecName is the name of the kernelspec `make kernel` installs and the notebooks' metadata names. It is
// not GoNB's own "gonb", so a user's GoNB kernel is left as it is.
const KernelSpecName = "convnotes-go"

// SystemPath is the search path a kernel started by Jupyter gets after the tools' folders: the system's own
// programs (a C compiler for cgo, a shell for "!" lines), never the folders of the shell that installed it.
const SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// projectEnv is the build environment of the Makefile, which cells compile with too: the SIMD matmul of GoMLX's
// Go backend (and the build cache the Makefile's builds filled), no VCS stamping, and no plugin downloads.
var projectEnv = []string{"GOEXPERIMENT=simd", "GOFLAGS=-buildvcs=false", "GOMLX_NO_AUTO_INSTALL=1"}

// ProjectEnv returns the Makefile's build settings (KEY=VALUE) that every kernel of this project runs with.
func ProjectEnv() []string { return append([]string(nil), projectEnv...) }

// withProjectEnv returns environ plus each project setting it does not set itself (the Makefile's, or a user's
// own choice such as GOEXPERIMENT= to build without SIMD, wins).
func withProjectEnv(environ []string) []string {
	set := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		set[name] = true
	}
	out := append([]string(nil), environ...)
	for _, kv := range projectEnv {
		if name, _, _ := strings.Cut(kv, "="); !set[name] {
			out = append(out, kv)
		}
	}
	return out
}

// quietLogFlags are GoNB's logging flags for a kernel started by Jupyter: its log goes to logFile, not to the
// Jupyter server's terminal, which then shows none of GoNB's start-up test lines ("Info message", "Warning
// message", "Error message") or the stack traces it logs for every compile error; only a fatal error still
// reaches the terminal. GoNB sends informational lines to --extra_log (without it they go to a nil file) and
// klog the others to -log_file, once each (-one_output); klog truncates the file when it passes 16 MB.
func quietLogFlags(logFile string) []string {
	return []string{"--extra_log=" + logFile, "-logtostderr=false", "-alsologtostderr=false",
		"-stderrthreshold=FATAL", "-one_output", "-log_file=" + logFile, "-log_file_max_size=16"}
}

// KernelSpec is a Jupyter kernelspec (kernel.json).
type KernelSpec struct {
	// Argv starts the kernel; "{connection_file}" is replaced by Jupyter.
	Argv []string `json:"argv"`
	// DisplayName is shown in JupyterLab's launcher.
	DisplayName string `json:"display_name"`
	// Language of the kernel.
	Language string `json:"language"`
	// InterruptMode "message": Jupyter interrupts with interrupt_request.
	InterruptMode string `json:"interrupt_mode"`
	// Env is added to the kernel's environment.
	Env map[string]string `json:"env"`
}

// JupyterDataDir returns where Jupyter looks for user kernelspecs:
// $JUPYTER_DATA_DIR, else ~/.local/share/jupyter (Linux, BSD) or
// ~/Library/Jupyter (macOS).
func JupyterDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("kernel: home directory: %w", err)
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Jupyter"), nil
	case "windows":
		return "", fmt.Errorf("kernel: set JUPYTER_DATA_DIR to install the kernelspec on %s", runtime.GOOS)
	default:
		return filepath.Join(home, ".local", "share", "jupyter"), nil
	}
}

// SpecConfig is what a kernelspec is made from.
type SpecConfig struct {
	// Tools are the pinned binaries, gopls included.
	Tools *Tools
	// ModuleRoot is the checkout the notebooks import (GoNB's --go_work).
	ModuleRoot string
	// ModCache is the Go module cache the kernel compiles from, offline (go env GOMODCACHE).
	ModCache string
	// LogFile receives GoNB's log.
	LogFile string
}

// NewKernelSpec returns the kernelspec that runs the pinned gonb against the checkout, offline: tools, gopls and
// the linked Go toolchain first on PATH, then SystemPath; GOPROXY=off, GOTOOLCHAIN=local, the module cache the
// tools were built from, and the Makefile's build settings (ProjectEnv), so cells compile as `make` builds and
// share its build cache. Nothing comes from the environment of the process that installs it.
func NewKernelSpec(c SpecConfig) *KernelSpec {
	env := map[string]string{
		"PATH":        strings.Join([]string{c.Tools.Dir, c.Tools.LSPDir, SystemPath}, string(os.PathListSeparator)),
		"GOPROXY":     "off",
		"GOTOOLCHAIN": "local",
		"GOMODCACHE":  c.ModCache,
	}
	for _, kv := range projectEnv {
		name, value, _ := strings.Cut(kv, "=")
		env[name] = value
	}
	argv := append([]string{c.Tools.Gonb, "--kernel", "{connection_file}", "--go_work=" + c.ModuleRoot}, quietLogFlags(c.LogFile)...)
	return &KernelSpec{
		Argv:          argv,
		DisplayName:   "Go · convnotes (" + c.Tools.Describe() + ")",
		Language:      "go",
		InterruptMode: "message",
		Env:           env,
	}
}

// Installation says where InstallKernelSpec put things.
type Installation struct {
	// Name is the kernelspec's name.
	Name string
	// Dir is the kernelspec's folder (kernel.json); removing it uninstalls the kernel.
	Dir string
	// Spec is the kernelspec written.
	Spec *KernelSpec
	// LogFile is where the kernels log.
	LogFile string
}

// InstallKernelSpec builds the pinned tools and gopls if needed and writes the kernelspec named name (the
// notebooks name KernelSpecName) under dataDir/kernels (dataDir "" means JupyterDataDir). The kernels log to
// kernel.log beside the tools.
func InstallKernelSpec(ctx context.Context, moduleRoot, toolsDir, dataDir, name string) (*Installation, error) {
	if name == "" || filepath.Base(name) != name || name == "." || name == ".." {
		return nil, fmt.Errorf("kernel: invalid kernelspec name %q", name)
	}
	root, err := filepath.Abs(moduleRoot)
	if err != nil {
		return nil, fmt.Errorf("kernel: module root: %w", err)
	}
	tools, err := EnsureTools(ctx, root, toolsDir)
	if err != nil {
		return nil, err
	}
	if err := tools.EnsureGopls(ctx, root); err != nil {
		return nil, err
	}
	modCache, err := goCmd(ctx, tools.Go, root, "env", "GOMODCACHE")
	if err != nil {
		return nil, fmt.Errorf("kernel: module cache: %w", err)
	}
	if dataDir == "" {
		if dataDir, err = JupyterDataDir(); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(dataDir, "kernels", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("kernel: kernelspec dir: %w", err)
	}
	logFile := filepath.Join(filepath.Dir(tools.Dir), "kernel.log")
	spec := NewKernelSpec(SpecConfig{Tools: tools, ModuleRoot: root, ModCache: modCache, LogFile: logFile})
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("kernel: kernelspec: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("kernel: write kernelspec: %w", err)
	}
	return &Installation{Name: name, Dir: dir, Spec: spec, LogFile: logFile}, nil
}
