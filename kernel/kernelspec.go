package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

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

// NewKernelSpec returns the kernelspec that runs the pinned gonb of tools
// against the checkout at moduleRoot, with the same environment Start gives
// the kernel: tools first on PATH (the PATH at install time), GOPROXY=off,
// GOTOOLCHAIN=local, and a go.work using the checkout, so notebooks import
// the project's packages with no setup cell and never fetch modules.
func NewKernelSpec(tools *Tools, moduleRoot string) *KernelSpec {
	path := tools.Dir
	if p := os.Getenv("PATH"); p != "" {
		path += string(os.PathListSeparator) + p
	}
	return &KernelSpec{
		Argv:          []string{tools.Gonb, "--kernel", "{connection_file}", "--go_work=" + moduleRoot},
		DisplayName:   "Go (gonb, convnotes)",
		Language:      "go",
		InterruptMode: "message",
		Env:           map[string]string{"PATH": path, "GOPROXY": "off", "GOTOOLCHAIN": "local"},
	}
}

// InstallKernelSpec builds the pinned tools if needed and writes the
// kernelspec named name (notebooks name "gonb") under dataDir/kernels
// (dataDir "" means JupyterDataDir). It returns the kernel.json path.
func InstallKernelSpec(ctx context.Context, moduleRoot, toolsDir, dataDir, name string) (string, error) {
	if name == "" || filepath.Base(name) != name || name == "." || name == ".." {
		return "", fmt.Errorf("kernel: invalid kernelspec name %q", name)
	}
	root, err := filepath.Abs(moduleRoot)
	if err != nil {
		return "", fmt.Errorf("kernel: module root: %w", err)
	}
	tools, err := EnsureTools(ctx, root, toolsDir)
	if err != nil {
		return "", err
	}
	if dataDir == "" {
		if dataDir, err = JupyterDataDir(); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(dataDir, "kernels", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("kernel: kernelspec dir: %w", err)
	}
	data, err := json.MarshalIndent(NewKernelSpec(tools, root), "", "  ")
	if err != nil {
		return "", fmt.Errorf("kernel: kernelspec: %w", err)
	}
	path := filepath.Join(dir, "kernel.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("kernel: write kernelspec: %w", err)
	}
	return path, nil
}
