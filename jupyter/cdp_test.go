package jupyter

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// DefaultChromium is Debian's Chromium (package chromium).
const DefaultChromium = "/usr/bin/chromium"

// chromiumFlags run Chromium headless without a sandbox (root in CI), GPU, QUIC or any network service of its
// own; the user data folder is fresh for each run.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
	"--remote-debugging-port=0", "--window-size=1280,2000"}

// browser is a headless Chromium driven over the Chrome DevTools Protocol (a few Page and Runtime methods on
// one page target, over the page's websocket).
type browser struct {
	cmd     *exec.Cmd
	ws      *websocket.Conn
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpReply
	readErr error
	ended   chan struct{}
}

// cdpReply is the answer to one CDP command.
type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// devtoolsLine is Chromium's announcement of its DevTools endpoint on standard error.
var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)`)

// startBrowser starts Chromium headless with a fresh profile and connects to its first page.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(DefaultChromium, append(append([]string(nil), chromiumFlags...),
		"--user-data-dir="+profile, "--remote-allow-origins=http://127.0.0.1", "about:blank")...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{cmd: cmd, pending: map[int]chan cdpReply{}, ended: make(chan struct{})}
	t.Cleanup(b.close)
	port := make(chan string, 1)
	var errLog strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsLine.FindStringSubmatch(sc.Text()); m != nil {
				port <- m[2]
			} else if errLog.Len() < 4096 {
				errLog.WriteString(sc.Text() + "\n")
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(time.Minute):
		t.Fatalf("chromium announced no DevTools endpoint within a minute:\n%s", errLog.String())
	}
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	resp, err := http.Get("http://127.0.0.1:" + p + "/json/list")
	if err != nil {
		t.Fatalf("chromium targets: %v", err)
	}
	err = json.NewDecoder(resp.Body).Decode(&targets)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("chromium targets: %v", err)
	}
	for _, tg := range targets {
		if tg.Type == "page" {
			ws, err := websocket.Dial(tg.WS, "", "http://127.0.0.1")
			if err != nil {
				t.Fatalf("connect to the page: %v", err)
			}
			ws.MaxPayloadBytes = 256 << 20
			b.ws = ws
			go b.readLoop()
			return b
		}
	}
	t.Fatalf("chromium has no page target: %+v", targets)
	return nil
}

// readLoop delivers command replies; events are ignored.
func (b *browser) readLoop() {
	defer close(b.ended)
	for {
		var data []byte
		if err := websocket.Message.Receive(b.ws, &data); err != nil {
			b.mu.Lock()
			b.readErr = err
			b.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(data, &m) != nil || m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

// call sends a CDP command and decodes its result into out (when not nil).
func (b *browser) call(ctx context.Context, method string, params map[string]any, out any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpReply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	data, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := websocket.Message.Send(b.ws, string(data)); err != nil {
		return fmt.Errorf("cdp %s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("cdp %s: %s", method, r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-b.ended:
		return fmt.Errorf("cdp %s: connection ended: %v", method, b.readErr)
	case <-ctx.Done():
		return fmt.Errorf("cdp %s: %w", method, ctx.Err())
	}
}

// eval evaluates a JavaScript expression in the page (awaiting a promise) and decodes its value into out.
func (b *browser) eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := b.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true,
		"awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("javascript %q: %s %s", expr, r.Exception.Text, r.Exception.Exception.Description)
	}
	if out == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// screenshot saves a PNG of the viewport to path.
func (b *browser) screenshot(ctx context.Context, path string) error {
	var r struct {
		Data []byte `json:"data"`
	}
	if err := b.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return err
	}
	return os.WriteFile(path, r.Data, 0o644)
}

// close ends the browser and its processes.
func (b *browser) close() {
	if b.ws != nil {
		_ = b.ws.Close()
	}
	if b.cmd.Process != nil {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		_ = b.cmd.Wait()
	}
}
