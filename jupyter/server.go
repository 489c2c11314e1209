package jupyter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultJupyter is Debian's jupyter command (package jupyter-notebook), on the system's Python.
const DefaultJupyter = "/usr/bin/jupyter"

// ServerOptions configures StartServer.
type ServerOptions struct {
	// Root is the folder the server serves (its notebook directory). Required.
	Root string
	// DataDir is the server's JUPYTER_DATA_DIR, where it finds kernelspecs (DataDir/kernels/NAME).
	// Empty: a "data" folder inside the server's private folder (see Server.DataDir).
	DataDir string
	// Env holds extra KEY=VALUE variables for the server, which its kernels inherit (e.g. CONVNOTES_QUICK=1).
	Env []string
	// Log receives the server's output, which includes its kernels' standard error. Nil: kept in memory only.
	Log io.Writer
	// Jupyter is the jupyter command. Empty: DefaultJupyter.
	Jupyter string
	// StartTimeout bounds the wait for the server to answer. Zero: one minute.
	StartTimeout time.Duration
}

// Server is a running Jupyter Notebook server.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// Token authenticates every request.
	Token string
	// Dir is the server's private folder (config, runtime files and, by default, data); removed by Close.
	Dir string
	// DataDir is the server's JUPYTER_DATA_DIR.
	DataDir string

	cmd    *exec.Cmd
	exited chan struct{}
	log    *lockedBuffer
	client *http.Client
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes and reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartServer starts `jupyter notebook` headless on 127.0.0.1, on a free port, with a random token and private
// config and runtime folders (the user's own Jupyter set-up is neither read nor changed), and waits until it
// answers.
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	if opts.Root == "" {
		return nil, errors.New("jupyter: ServerOptions.Root is required")
	}
	if opts.Jupyter == "" {
		opts.Jupyter = DefaultJupyter
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = time.Minute
	}
	if _, err := exec.LookPath(opts.Jupyter); err != nil {
		return nil, fmt.Errorf("jupyter: %s not found (apt-get install jupyter-notebook): %w", opts.Jupyter, err)
	}
	dir, err := os.MkdirTemp("", "convnotes-jupyter-*")
	if err != nil {
		return nil, fmt.Errorf("jupyter: server folder: %w", err)
	}
	s := &Server{Dir: dir, DataDir: opts.DataDir, exited: make(chan struct{}), log: &lockedBuffer{},
		client: &http.Client{Timeout: 2 * time.Minute}}
	if s.DataDir == "" {
		s.DataDir = filepath.Join(dir, "data")
	}
	for _, d := range []string{s.DataDir, filepath.Join(dir, "config"), filepath.Join(dir, "runtime")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("jupyter: server folder: %w", err)
		}
	}
	token := make([]byte, 24)
	if _, err := rand.Read(token); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("jupyter: token: %w", err)
	}
	s.Token = hex.EncodeToString(token)
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"notebook", "--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port), "--port-retries=0",
		"--NotebookApp.token=" + s.Token, "--notebook-dir=" + opts.Root}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root")
	}
	s.cmd = exec.Command(opts.Jupyter, args...)
	s.cmd.Dir = opts.Root
	s.cmd.Env = append(serverEnv(os.Environ(), s.DataDir, dir), opts.Env...)
	var out io.Writer = s.log
	if opts.Log != nil {
		out = io.MultiWriter(s.log, opts.Log)
	}
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("jupyter: start %s: %w", opts.Jupyter, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, opts.StartTimeout); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// buildSettings are the Go settings of the Makefile (and of a test run under it) that a user's Jupyter server,
// started from a plain shell, does not have: the server gets none of them, so the kernels get only what the
// kernelspec gives them.
var buildSettings = map[string]bool{"GOEXPERIMENT": true, "GOFLAGS": true, "GOMLX_NO_AUTO_INSTALL": true,
	"GOPROXY": true, "GOTOOLCHAIN": true, "GOWORK": true}

// serverEnv returns environ without the caller's Jupyter folders and Go build settings, with the system's
// PATH and the server's private Jupyter folders.
func serverEnv(environ []string, dataDir, dir string) []string {
	env := make([]string, 0, len(environ)+6)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "JUPYTER_") || buildSettings[name] || name == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PATH=/usr/local/bin:/usr/bin:/bin")
	return append(env, "JUPYTER_DATA_DIR="+dataDir, "JUPYTER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"), "JUPYTER_PLATFORM_DIRS=0",
		"PYDEVD_DISABLE_FILE_VALIDATION=1")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("jupyter: find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls /api/status until the server answers, it exits, or the timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if err := s.API(ctx, http.MethodGet, "/api/status", nil, nil); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("jupyter: the server exited at start:\n%s", s.Log())
		case <-ctx.Done():
			return fmt.Errorf("jupyter: the server did not answer within %s:\n%s", timeout, s.Log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Log returns what the server (and its kernels) wrote so far.
func (s *Server) Log() string { return s.log.String() }

// API sends a REST request (JSON body in, JSON out when out is not nil) and fails on any status over 299.
func (s *Server) API(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("jupyter: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return fmt.Errorf("jupyter: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("jupyter: %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("jupyter: %s %s: %w", method, path, err)
	}
	if resp.StatusCode > 299 {
		return fmt.Errorf("jupyter: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("jupyter: %s %s: reply: %w", method, path, err)
		}
	}
	return nil
}

// Close shuts every kernel down through the API, stops the server (SIGTERM, then SIGKILL after 15 s) and
// removes its private folder.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var kernels []struct {
		ID string `json:"id"`
	}
	if err := s.API(ctx, http.MethodGet, "/api/kernels", nil, &kernels); err == nil {
		for _, k := range kernels {
			_ = s.API(ctx, http.MethodDelete, "/api/kernels/"+k.ID, nil, nil)
		}
	}
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	_ = os.RemoveAll(s.Dir)
}
