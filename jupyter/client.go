package jupyter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

// ProtocolVersion is the messaging protocol version the client speaks (the notebook page's, 5.3).
const ProtocolVersion = "5.3"

// Header is a Jupyter message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	MsgType  string `json:"msg_type"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	Version  string `json:"version"`
}

// Message is a Jupyter message as the server's websocket carries it (JSON, with its channel).
type Message struct {
	Header       Header          `json:"header"`
	ParentHeader Header          `json:"parent_header"`
	Metadata     map[string]any  `json:"metadata"`
	Content      json.RawMessage `json:"content"`
	Channel      string          `json:"channel"`
	Buffers      []any           `json:"buffers"`
}

// Type is the message's msg_type.
func (m *Message) Type() string { return m.Header.MsgType }

// Reply is everything a request brought back: its reply and its iopub messages, in arrival order.
type Reply struct {
	// Reply is the *_reply message (nil if it never came).
	Reply *Message
	// IOPub holds the iopub messages whose parent is the request, status messages included.
	IOPub []*Message
	// Idle tells whether the iopub "idle" status of the request arrived.
	Idle bool
}

// Types lists the msg_type of every message of the reply, iopub ones and the reply ("execute_reply") in
// arrival order; status messages appear as "status:busy" and "status:idle".
func (r *Reply) Types() []string {
	var out []string
	for _, m := range r.IOPub {
		t := m.Type()
		if t == "status" {
			var c struct {
				State string `json:"execution_state"`
			}
			_ = json.Unmarshal(m.Content, &c)
			t += ":" + c.State
		}
		out = append(out, t)
	}
	if r.Reply != nil {
		out = append(out, r.Reply.Type())
	}
	return out
}

// Status is the reply's status ("ok", "error", "aborted"), or "" without a reply.
func (r *Reply) Status() string {
	if r.Reply == nil {
		return ""
	}
	var c struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(r.Reply.Content, &c)
	return c.Status
}

// Stream returns the text of the request's stream outputs named name ("stdout" or "stderr").
func (r *Reply) Stream(name string) string {
	var b strings.Builder
	for _, m := range r.IOPub {
		if m.Type() != "stream" {
			continue
		}
		var c struct {
			Name string `json:"name"`
			Text string `json:"text"`
		}
		if json.Unmarshal(m.Content, &c) == nil && c.Name == name {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// Count returns how many iopub messages of type msgType the request brought.
func (r *Reply) Count(msgType string) int {
	n := 0
	for _, m := range r.IOPub {
		if m.Type() == msgType {
			n++
		}
	}
	return n
}

// MIMETypes returns the MIME types of the request's display_data and execute_result outputs, in order.
func (r *Reply) MIMETypes() []string {
	var out []string
	for _, m := range r.IOPub {
		if t := m.Type(); t != "display_data" && t != "execute_result" && t != "update_display_data" {
			continue
		}
		var c struct {
			Data map[string]any `json:"data"`
		}
		if json.Unmarshal(m.Content, &c) == nil {
			for k := range c.Data {
				out = append(out, k)
			}
		}
	}
	return out
}

// call is a request waiting for its reply and idle status.
type call struct {
	reply Reply
	done  chan struct{}
}

// Kernel is a kernel of a Server, spoken to over the server's websocket channels as the notebook page does.
type Kernel struct {
	// ID is the server's kernel id.
	ID string
	// Session is the client session id (the websocket's session_id and every message's header.session).
	Session string

	srv       *Server
	sessionID string // the REST session (/api/sessions) owning the kernel; "" for /api/kernels

	mu      sync.Mutex
	ws      *websocket.Conn
	calls   map[string]*call
	sendMu  sync.Mutex
	readErr error
	readEnd chan struct{}
}

// newID returns a random 128-bit id in hex.
func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprintf("%032x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b)
}

// OpenNotebook starts a kernel for the notebook at nbPath (relative to the server's root) as the notebook page
// does, through /api/sessions (the kernel runs in the notebook's folder), and connects to it.
func (s *Server) OpenNotebook(ctx context.Context, nbPath, kernelName string) (*Kernel, error) {
	var sess struct {
		ID     string `json:"id"`
		Kernel struct {
			ID string `json:"id"`
		} `json:"kernel"`
	}
	body := map[string]any{"path": nbPath, "name": path.Base(nbPath), "type": "notebook",
		"kernel": map[string]string{"name": kernelName}}
	if err := s.API(ctx, http.MethodPost, "/api/sessions", body, &sess); err != nil {
		return nil, err
	}
	k := &Kernel{ID: sess.Kernel.ID, Session: newID(), srv: s, sessionID: sess.ID}
	if err := k.connect(ctx); err != nil {
		_ = s.API(context.Background(), http.MethodDelete, "/api/sessions/"+sess.ID, nil, nil)
		return nil, err
	}
	return k, nil
}

// StartKernel starts a kernel of the kernelspec kernelName through /api/kernels and connects to it.
func (s *Server) StartKernel(ctx context.Context, kernelName string) (*Kernel, error) {
	var model struct {
		ID string `json:"id"`
	}
	if err := s.API(ctx, http.MethodPost, "/api/kernels", map[string]string{"name": kernelName}, &model); err != nil {
		return nil, err
	}
	k := &Kernel{ID: model.ID, Session: newID(), srv: s}
	if err := k.connect(ctx); err != nil {
		_ = s.API(context.Background(), http.MethodDelete, "/api/kernels/"+model.ID, nil, nil)
		return nil, err
	}
	return k, nil
}

// connect opens the kernel's websocket channels and sends kernel_info_request until it is answered, as the
// notebook page does when it connects.
func (k *Kernel) connect(ctx context.Context) error {
	u, err := url.Parse(k.srv.URL)
	if err != nil {
		return fmt.Errorf("jupyter: server URL: %w", err)
	}
	cfg, err := websocket.NewConfig(fmt.Sprintf("ws://%s/api/kernels/%s/channels?session_id=%s", u.Host, k.ID, k.Session), k.srv.URL)
	if err != nil {
		return fmt.Errorf("jupyter: websocket config: %w", err)
	}
	cfg.Header = http.Header{"Authorization": {"token " + k.srv.Token}}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ws, err := cfg.DialContext(dctx)
	if err != nil {
		return fmt.Errorf("jupyter: connect to kernel %s: %w", k.ID, err)
	}
	// Messages with binary buffers are the only large ones; GoNB sends none. Allow big outputs (figures).
	ws.MaxPayloadBytes = 256 << 20
	k.mu.Lock()
	k.ws, k.calls, k.readErr, k.readEnd = ws, map[string]*call{}, nil, make(chan struct{})
	k.mu.Unlock()
	go k.readLoop(ws, k.readEnd)
	ictx, icancel := context.WithTimeout(ctx, 2*time.Minute)
	defer icancel()
	if _, err := k.Request(ictx, "kernel_info_request", map[string]any{}); err != nil {
		return fmt.Errorf("jupyter: kernel %s: first kernel_info_request: %w", k.ID, err)
	}
	return nil
}

// readLoop routes the websocket's messages to the calls they answer until the connection ends.
func (k *Kernel) readLoop(ws *websocket.Conn, end chan struct{}) {
	defer close(end)
	for {
		var data []byte
		if err := websocket.Message.Receive(ws, &data); err != nil {
			k.mu.Lock()
			k.readErr = err
			k.mu.Unlock()
			return
		}
		var m Message
		if err := json.Unmarshal(data, &m); err != nil {
			k.mu.Lock()
			k.readErr = fmt.Errorf("jupyter: undecodable websocket message (%d bytes): %w", len(data), err)
			k.mu.Unlock()
			return
		}
		k.mu.Lock()
		c := k.calls[m.ParentHeader.MsgID]
		if c != nil {
			c.add(&m)
		}
		k.mu.Unlock()
	}
}

// add records m and ends the call once both its reply and its idle status arrived.
func (c *call) add(m *Message) {
	select {
	case <-c.done:
		return
	default:
	}
	switch {
	case m.Channel == "iopub":
		c.reply.IOPub = append(c.reply.IOPub, m)
		if m.Type() == "status" {
			var st struct {
				State string `json:"execution_state"`
			}
			if json.Unmarshal(m.Content, &st) == nil && st.State == "idle" {
				c.reply.Idle = true
			}
		}
	case strings.HasSuffix(m.Type(), "_reply"):
		c.reply.Reply = m
	}
	if c.reply.Reply != nil && c.reply.Idle {
		close(c.done)
	}
}

// ErrIncomplete is returned (wrapped) when a request's reply or idle status did not arrive in time.
var ErrIncomplete = errors.New("jupyter: request incomplete")

// Request sends a shell request and waits for its reply and its idle status. On a timeout it returns what
// arrived with an error wrapping ErrIncomplete that lists it.
func (k *Kernel) Request(ctx context.Context, msgType string, content any) (*Reply, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("jupyter: %s content: %w", msgType, err)
	}
	m := Message{
		Header: Header{MsgID: newID(), MsgType: msgType, Session: k.Session, Username: "convnotes-test",
			Date: time.Now().UTC().Format(time.RFC3339Nano), Version: ProtocolVersion},
		Metadata: map[string]any{}, Content: raw, Channel: "shell", Buffers: []any{},
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("jupyter: %s: %w", msgType, err)
	}
	c := &call{done: make(chan struct{})}
	k.mu.Lock()
	ws, end := k.ws, k.readEnd
	if ws == nil {
		k.mu.Unlock()
		return nil, fmt.Errorf("jupyter: kernel %s: not connected", k.ID)
	}
	k.calls[m.Header.MsgID] = c
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		delete(k.calls, m.Header.MsgID)
		k.mu.Unlock()
	}()
	k.sendMu.Lock()
	err = websocket.Message.Send(ws, string(data))
	k.sendMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("jupyter: send %s: %w", msgType, err)
	}
	snapshot := func() *Reply {
		k.mu.Lock()
		defer k.mu.Unlock()
		r := c.reply
		r.IOPub = append([]*Message(nil), r.IOPub...)
		return &r
	}
	select {
	case <-c.done:
		return snapshot(), nil
	case <-end:
		k.mu.Lock()
		rerr := k.readErr
		k.mu.Unlock()
		return snapshot(), fmt.Errorf("jupyter: %s: the websocket closed: %v", msgType, rerr)
	case <-ctx.Done():
		r := snapshot()
		return r, fmt.Errorf("%w: %s: %v after receiving %v", ErrIncomplete, msgType, ctx.Err(), r.Types())
	}
}

// Execute runs code as a cell, as the notebook page sends it, and returns its reply and outputs.
func (k *Kernel) Execute(ctx context.Context, code string) (*Reply, error) {
	return k.Request(ctx, "execute_request", map[string]any{"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": true, "stop_on_error": true})
}

// Complete asks for completions of code at cursor (a character offset) and returns the matches.
func (k *Kernel) Complete(ctx context.Context, code string, cursor int) ([]string, *Reply, error) {
	r, err := k.Request(ctx, "complete_request", map[string]any{"code": code, "cursor_pos": cursor})
	if err != nil {
		return nil, r, err
	}
	var c struct {
		Matches []string `json:"matches"`
	}
	if err := json.Unmarshal(r.Reply.Content, &c); err != nil {
		return nil, r, fmt.Errorf("jupyter: complete_reply: %w", err)
	}
	return c.Matches, r, nil
}

// Interrupt interrupts the kernel through the REST API (POST /api/kernels/ID/interrupt), as the page's
// "interrupt" button does.
func (k *Kernel) Interrupt(ctx context.Context) error {
	return k.srv.API(ctx, http.MethodPost, "/api/kernels/"+k.ID+"/interrupt", map[string]any{}, nil)
}

// Restart restarts the kernel as the page's "restart" does: it closes the websocket, asks the server to restart
// the kernel (POST /api/kernels/ID/restart, which returns once the new kernel answered a kernel_info_request)
// and connects again.
func (k *Kernel) Restart(ctx context.Context) error {
	k.disconnect()
	if err := k.srv.API(ctx, http.MethodPost, "/api/kernels/"+k.ID+"/restart", map[string]any{}, nil); err != nil {
		return err
	}
	return k.connect(ctx)
}

// disconnect closes the websocket and waits for its reader to end.
func (k *Kernel) disconnect() {
	k.mu.Lock()
	ws, end := k.ws, k.readEnd
	k.ws = nil
	k.mu.Unlock()
	if ws != nil {
		_ = ws.Close()
		<-end
	}
}

// Close disconnects and shuts the kernel down (deleting its REST session, if it has one).
func (k *Kernel) Close() error {
	k.disconnect()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if k.sessionID != "" {
		return k.srv.API(ctx, http.MethodDelete, "/api/sessions/"+k.sessionID, nil, nil)
	}
	return k.srv.API(ctx, http.MethodDelete, "/api/kernels/"+k.ID, nil, nil)
}
