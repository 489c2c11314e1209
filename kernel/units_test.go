package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestKernelEnv(t *testing.T) {
	env := kernelEnv([]string{"PATH=/usr/bin", "GOWORK=/x/go.work", "GOPROXY=https://proxy", "HOME=/root", "TMPDIR=/tmp"},
		"/tools", "/sess/tmp", []string{"CONVNOTES_QUICK=1"})
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = v
	}
	want := map[string]string{
		"PATH": "/tools" + string(os.PathListSeparator) + "/usr/bin", "HOME": "/root", "TMPDIR": "/sess/tmp",
		"GOPROXY": "off", "GOTOOLCHAIN": "local", "CONVNOTES_QUICK": "1",
		"GOEXPERIMENT": "simd", "GOFLAGS": "-buildvcs=false", "GOMLX_NO_AUTO_INSTALL": "1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env = %v\nwant %v", got, want)
	}
	// A setting of the caller's own (here: build without SIMD) wins over the project's.
	env = kernelEnv([]string{"PATH=/usr/bin", "GOEXPERIMENT="}, "/tools", "/sess/tmp", nil)
	if !slices.Contains(env, "GOEXPERIMENT=") || slices.Contains(env, "GOEXPERIMENT=simd") {
		t.Errorf("env = %v, want the caller's empty GOEXPERIMENT kept", env)
	}
}

func TestExitLine(t *testing.T) {
	tests := []struct {
		stderr string
		want   []string
	}{
		{"exit status 3\n", []string{"exit status 3"}},
		{"^Cexit status 2\n", []string{"exit status 2"}},
		{"some output\nsignal: killed\n", []string{"signal: killed"}},
		{"\x1b[31mexit status 1\x1b[0m\n", []string{"exit status 1"}},
		{"exit status 0\n", nil},
		{"the exit status 4 of x\n", nil},
		{"", nil},
	}
	for _, tc := range tests {
		var b strings.Builder
		b.WriteString(tc.stderr)
		got := exitMessages(new(sync.Mutex), &b)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("exitMessages(%q) = %q, want %q", tc.stderr, got, tc.want)
		}
	}
}

func TestResultErr(t *testing.T) {
	tests := []struct {
		name    string
		r       *Result
		wantErr string // "" for nil
	}{
		{"ok", &Result{Status: "ok"}, ""},
		{"nil", nil, ""},
		{"error", &Result{Status: "error", EName: "ERROR", EValue: "undefined: x"}, "ERROR: undefined: x"},
		{"aborted", &Result{Status: "aborted"}, "aborted"},
		{"shell exit", &Result{Status: "ok", ExitMessages: []string{"exit status 3"}}, "ExitStatus: a command failed: exit status 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Err()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			var ce *CellError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("Err() = %v, want a *CellError starting with %q", err, tc.wantErr)
			}
		})
	}
}

func TestFindModuleRoot(t *testing.T) {
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "kernel", "kernel.go")); err != nil {
		t.Errorf("root %q does not hold kernel/kernel.go: %v", root, err)
	}
	if _, err := FindModuleRoot(t.TempDir()); err == nil {
		t.Error("FindModuleRoot(temp dir) succeeded, want an error")
	}
}

func TestConnectionFile(t *testing.T) {
	c, err := newConnectionInfo()
	if err != nil {
		t.Fatal(err)
	}
	ports := map[int]bool{}
	for _, p := range []int{c.ShellPort, c.IOPubPort, c.StdinPort, c.ControlPort, c.HBPort} {
		if p <= 0 || ports[p] {
			t.Errorf("port %d invalid or repeated", p)
		}
		ports[p] = true
	}
	if c.IP != "127.0.0.1" || c.SignatureScheme != "hmac-sha256" || len(c.Key) < 32 {
		t.Errorf("connection = %+v", c)
	}
	path, err := c.write(t.TempDir(), uuidFormat(newID()))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("connection file mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestInstallKernelSpec(t *testing.T) {
	if testing.Short() {
		t.Skip("may build gonb and gopls")
	}
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	// The installing shell's PATH and Go settings must not reach the kernelspec.
	t.Setenv("PATH", "/opt/installer-only/shims:"+os.Getenv("PATH"))
	t.Setenv("GOEXPERIMENT", "")
	data := t.TempDir()
	tests := []struct {
		name    string
		wantErr bool
	}{{KernelSpecName, false}, {"../escape", true}, {"", true}}
	for _, tc := range tests {
		inst, err := InstallKernelSpec(context.Background(), root, "", data, tc.name)
		if (err != nil) != tc.wantErr {
			t.Fatalf("InstallKernelSpec(%q) error = %v, wantErr %v", tc.name, err, tc.wantErr)
		}
		if err != nil {
			continue
		}
		path := filepath.Join(inst.Dir, "kernel.json")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var spec KernelSpec
		if err := json.Unmarshal(raw, &spec); err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(data, "kernels", KernelSpecName, "kernel.json") || len(spec.Argv) < 4 ||
			spec.Argv[2] != "{connection_file}" || spec.Argv[3] != "--go_work="+root || spec.Env["GOPROXY"] != "off" ||
			spec.Env["GOTOOLCHAIN"] != "local" || spec.Env["GOEXPERIMENT"] != "simd" || spec.Env["GOMODCACHE"] == "" {
			t.Errorf("kernelspec at %s = %+v", path, spec)
		}
		if !strings.Contains(spec.DisplayName, "convnotes") || !strings.Contains(spec.DisplayName, "GoNB v") {
			t.Errorf("display name %q does not say it is the convnotes kernel and its GoNB", spec.DisplayName)
		}
		if !slices.Contains(spec.Argv, "-logtostderr=false") || !slices.Contains(spec.Argv, "-log_file="+inst.LogFile) {
			t.Errorf("kernelspec argv %q does not send GoNB's log to %s", spec.Argv, inst.LogFile)
		}
		dirs := strings.Split(spec.Env["PATH"], string(os.PathListSeparator))
		system := strings.Split(SystemPath, string(os.PathListSeparator))
		for _, d := range dirs {
			if !strings.HasPrefix(d, filepath.Dir(inst.LogFile)) && !slices.Contains(system, d) {
				t.Errorf("kernelspec PATH has %s, neither a tools folder nor a system one: %s", d, spec.Env["PATH"])
			}
		}
		for _, bin := range []string{spec.Argv[0], filepath.Join(dirs[0], "go"), filepath.Join(dirs[1], "gopls")} {
			if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("kernelspec program %s not executable: %v", bin, err)
			}
		}
	}
}

func TestIPCConnection(t *testing.T) {
	dir := t.TempDir()
	c, ok := newIPCConnectionInfo(dir)
	if !ok {
		t.Fatalf("no ipc connection for %s", dir)
	}
	eps := map[string]bool{}
	for _, p := range []int{c.ShellPort, c.IOPubPort, c.StdinPort, c.ControlPort, c.HBPort} {
		ep := c.endpoint(p)
		if !strings.HasPrefix(ep, "ipc://"+dir+"/") || eps[ep] {
			t.Errorf("endpoint %q not a distinct socket in %s", ep, dir)
		}
		eps[ep] = true
	}
	if c.SignatureScheme != "hmac-sha256" || len(c.Key) < 32 {
		t.Errorf("connection = %+v", c)
	}
	if _, ok := newIPCConnectionInfo("/" + strings.Repeat("d", 120)); ok {
		t.Error("a folder too long for a socket address was accepted")
	}
}

func TestEnsureToolsLinksModuleToolchain(t *testing.T) {
	if testing.Short() {
		t.Skip("may build gonb")
	}
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tools, err := EnsureTools(context.Background(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	// The kernel's PATH starts with tools.Dir, so its "go" is the linked toolchain: it must accept the
	// module's go.mod offline and without switching toolchains, as GoNB runs it for every cell.
	env := kernelEnv(os.Environ(), tools.Dir, t.TempDir(), nil)
	var path string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	first := filepath.Join(strings.Split(path, string(os.PathListSeparator))[0], "go")
	if first != tools.Go {
		t.Fatalf("first go on the kernel PATH = %s, want %s", first, tools.Go)
	}
	cmd := exec.Command(tools.Go, "list", "-m", "-f", "{{.GoVersion}}")
	cmd.Dir, cmd.Env = root, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s list -m under the kernel environment: %v\n%s", tools.Go, err, out)
	}
	if len(strings.TrimSpace(string(out))) == 0 {
		t.Errorf("go list -m printed no go version")
	}
}
