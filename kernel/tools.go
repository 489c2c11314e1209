package kernel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the import path of this project's module; cells import its packages.
const ModulePath = "github.com/convnotes/convnotes"

// gonbPackage, goimportsPackage and goplsPackage are the Go tool dependencies (go.mod "tool" block) that
// provide the kernel, the import fixer GoNB runs on each cell, and the language server GoNB asks for
// completions and hover help.
const (
	gonbPackage      = "github.com/janpfeifer/gonb"
	goimportsPackage = "golang.org/x/tools/cmd/goimports"
	goplsPackage     = "golang.org/x/tools/gopls"
)

// Tools locates the pinned binaries a GoNB kernel needs.
type Tools struct {
	// Dir holds the binaries; it is put first on the kernel's PATH.
	Dir string
	// Gonb is the path of the gonb binary.
	Gonb string
	// Goimports is the path of the goimports binary.
	Goimports string
	// Go is Dir/go, a link to the go command of the toolchain this module's go.mod needs (from the module
	// cache when the caller selected it with GOTOOLCHAIN), so that GoNB compiles cells with that toolchain
	// under GOTOOLCHAIN=local, offline.
	Go string
	// Supervisor runs the kernel and reaps what it starts (Linux; empty elsewhere): see package kernel/supervisor.
	Supervisor string
	// LSPDir holds gopls, alone: a kernel finds it (and GoNB starts it, for completion and hover) only when
	// this folder is on its PATH, so kernels that need no completion (nbtest) do not spend CPU on it.
	LSPDir string
	// Gopls is LSPDir/gopls, built by EnsureGopls.
	Gopls string
	// Key names the pinned versions (gonb, x/tools, gopls, Go) the binaries were built from.
	Key string
	// GonbVersion and GoVersion are the pinned GoNB module version and the Go toolchain version.
	GonbVersion, GoVersion string
}

// Describe names the pinned GoNB and Go versions, e.g. "GoNB v0.11.5, go1.27.3".
func (t *Tools) Describe() string { return "GoNB " + t.GonbVersion + ", " + t.GoVersion }

// FindModuleRoot walks up from dir to the directory whose go.mod declares
// ModulePath, and returns it.
func FindModuleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("kernel: find module root from %q: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module "+ModulePath+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("kernel: no go.mod of module %s above %q", ModulePath, abs)
		}
	}
}

// DefaultToolsDir is where EnsureTools caches binaries when no directory is
// given: $CONVNOTES_BIN_DIR if set, otherwise <user cache dir>/convnotes/bin.
func DefaultToolsDir() (string, error) {
	if d := os.Getenv("CONVNOTES_BIN_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kernel: no cache directory for the gonb binaries (set CONVNOTES_BIN_DIR): %w", err)
	}
	return filepath.Join(c, "convnotes", "bin"), nil
}

// goCmd runs the go command goBin in dir with GOTOOLCHAIN=local and returns its trimmed standard output.
func goCmd(ctx context.Context, goBin, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// toolchainGo returns the go command of the toolchain that the go command on PATH selects for moduleRoot under
// the caller's GOTOOLCHAIN (go.mod's "go" and "toolchain" lines): its own binary, or one it fetched into the
// module cache. With Debian's Go (GOTOOLCHAIN=local in its go.env) and an older go on PATH this fails unless the
// caller exported GOTOOLCHAIN, as the Makefile and scripts do.
func toolchainGo(ctx context.Context, moduleRoot string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOROOT")
	cmd.Dir = moduleRoot
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kernel: find the Go toolchain %s/go.mod needs (export the GOTOOLCHAIN the Makefile sets): %w\n%s",
			moduleRoot, err, strings.TrimSpace(stderr.String()))
	}
	goBin := filepath.Join(strings.TrimSpace(stdout.String()), "bin", "go")
	if fi, err := os.Stat(goBin); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("kernel: no go command at %s (GOROOT of the selected toolchain)", goBin)
	}
	return goBin, nil
}

// linkGo makes link a symbolic link to target, replacing whatever link was there, atomically.
func linkGo(target, link string) error {
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", link, os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("kernel: link %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("kernel: link %s: %w", link, err)
	}
	return nil
}

// EnsureTools returns the gonb and goimports binaries pinned by the go.mod in
// moduleRoot, building them with "go build" into a subdirectory of cacheDir
// named after the pinned versions (and the Go version) the first time, and
// reusing them afterwards. An empty cacheDir means DefaultToolsDir.
// Nothing is fetched: the versions come from the module graph, and the Go
// toolchain is the one the caller's go command selects for the module (linked
// into the directory as "go", so the kernel, first on its PATH, compiles cells
// with it under GOTOOLCHAIN=local).
func EnsureTools(ctx context.Context, moduleRoot, cacheDir string) (*Tools, error) {
	if cacheDir == "" {
		d, err := DefaultToolsDir()
		if err != nil {
			return nil, err
		}
		cacheDir = d
	}
	goBin, err := toolchainGo(ctx, moduleRoot)
	if err != nil {
		return nil, err
	}
	versions, err := goCmd(ctx, goBin, moduleRoot, "list", "-m", "-f", "{{.Path}}@{{.Version}}", gonbPackage, "golang.org/x/tools", goplsPackage)
	if err != nil {
		return nil, fmt.Errorf("kernel: pinned gonb/x/tools versions in %s: %w", moduleRoot, err)
	}
	goVersion, err := goCmd(ctx, goBin, moduleRoot, "env", "GOVERSION", "GOOS", "GOARCH")
	if err != nil {
		return nil, fmt.Errorf("kernel: go version: %w", err)
	}
	key := strings.Join(strings.Fields(versions+" "+goVersion), " ")
	sum := sha256.Sum256([]byte(key))
	t := &Tools{Dir: filepath.Join(cacheDir, hex.EncodeToString(sum[:6])), Key: key}
	for _, f := range strings.Fields(key) {
		if v, ok := strings.CutPrefix(f, gonbPackage+"@"); ok {
			t.GonbVersion = v
		}
		if strings.HasPrefix(f, "go1") {
			t.GoVersion = f
		}
	}
	t.Gonb = filepath.Join(t.Dir, "gonb")
	t.LSPDir = filepath.Join(t.Dir, "lsp")
	t.Gopls = filepath.Join(t.LSPDir, "gopls")
	t.Goimports = filepath.Join(t.Dir, "goimports")
	t.Go = filepath.Join(t.Dir, "go")
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("kernel: create tools dir: %w", err)
	}
	if err := linkGo(goBin, t.Go); err != nil {
		return nil, err
	}
	for _, b := range []struct{ pkg, out string }{{gonbPackage, t.Gonb}, {goimportsPackage, t.Goimports}} {
		if err := buildTool(ctx, goBin, moduleRoot, b.pkg, b.out); err != nil {
			return nil, err
		}
	}
	if t.Supervisor, err = ensureSupervisor(ctx, goBin, t.Dir); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(t.Dir, "VERSIONS"), []byte(key+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("kernel: write tools versions: %w", err)
	}
	return t, nil
}

// EnsureGopls builds the pinned gopls into t.LSPDir the first time (a few minutes on two cores) and reuses it.
func (t *Tools) EnsureGopls(ctx context.Context, moduleRoot string) error {
	if err := os.MkdirAll(t.LSPDir, 0o755); err != nil {
		return fmt.Errorf("kernel: create gopls dir: %w", err)
	}
	return buildTool(ctx, t.Go, moduleRoot, goplsPackage, t.Gopls)
}

// buildTool builds the tool package pkg, pinned by moduleRoot's go.mod, to out with goBin, unless an executable
// is there already. It builds to a unique name, then renames: concurrent builders never see a partial binary.
func buildTool(ctx context.Context, goBin, moduleRoot, pkg, out string) error {
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return fmt.Errorf("kernel: build %s: %w", pkg, err)
	}
	_ = tmp.Close()
	if _, err := goCmd(ctx, goBin, moduleRoot, "build", "-o", tmp.Name(), pkg); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("kernel: build pinned %s: %w", pkg, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("kernel: install %s: %w", out, err)
	}
	return nil
}
