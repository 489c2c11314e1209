package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Output types, as the msg_type of the iopub messages that carry them.
const (
	OutputStream            = "stream"
	OutputDisplayData       = "display_data"
	OutputUpdateDisplayData = "update_display_data"
	OutputExecuteResult     = "execute_result"
	OutputError             = "error"
	OutputClearOutput       = "clear_output"
)

// Output is one output of a running cell, streamed to Execute's callback.
type Output struct {
	// Type is one of the Output* constants.
	Type string
	// Name is the stream name ("stdout" or "stderr") of a stream output.
	Name string
	// Text is the text of a stream output.
	Text string
	// Data is the MIME bundle of display_data, update_display_data and
	// execute_result outputs ("text/plain", "text/html", "image/png" base64, ...).
	Data map[string]any
	// Metadata is the metadata of a MIME bundle.
	Metadata map[string]any
	// DisplayID identifies a display that update_display_data replaces.
	DisplayID string
	// ExecutionCount is set on execute_result outputs.
	ExecutionCount int
	// EName, EValue and Traceback describe an error output.
	EName, EValue string
	// Traceback lines of an error output.
	Traceback []string
	// Wait is clear_output's "wait until the next output" flag.
	Wait bool
}

// outputContent is the union of the iopub output message contents.
type outputContent struct {
	Name           string          `json:"name"`
	Text           string          `json:"text"`
	Data           map[string]any  `json:"data"`
	Metadata       map[string]any  `json:"metadata"`
	Transient      json.RawMessage `json:"transient"`
	ExecutionCount int             `json:"execution_count"`
	EName          string          `json:"ename"`
	EValue         string          `json:"evalue"`
	Traceback      []string        `json:"traceback"`
	Wait           bool            `json:"wait"`
}

// outputOf converts an iopub message into an Output; ok is false for
// messages that are not cell outputs (execute_input, comm messages, ...).
func outputOf(m *Message) (out Output, ok bool) {
	switch m.Header.MsgType {
	case OutputStream, OutputDisplayData, OutputUpdateDisplayData, OutputExecuteResult, OutputError, OutputClearOutput:
	default:
		return Output{}, false
	}
	var c outputContent
	if err := json.Unmarshal(m.Content, &c); err != nil {
		return Output{}, false
	}
	out = Output{Type: m.Header.MsgType, Name: c.Name, Text: c.Text, Data: c.Data, Metadata: c.Metadata,
		ExecutionCount: c.ExecutionCount, EName: c.EName, EValue: c.EValue, Traceback: c.Traceback, Wait: c.Wait}
	if len(c.Transient) > 0 {
		var t struct {
			DisplayID string `json:"display_id"`
		}
		if json.Unmarshal(c.Transient, &t) == nil {
			out.DisplayID = t.DisplayID
		}
	}
	return out, true
}

// Result is the outcome of executing one cell.
type Result struct {
	// Status is the execute_reply status: "ok", "error" or "aborted".
	Status string
	// ExecutionCount is the cell's execution counter.
	ExecutionCount int
	// EName, EValue and Traceback describe the error of a failed cell.
	EName, EValue string
	// Traceback lines of a failed cell.
	Traceback []string
	// ExitMessages are the "exit status N" / "signal: ..." lines GoNB wrote on
	// stderr for programs that failed. For a shell command (a "!" line or a
	// %%bash cell) this is the only sign of failure: GoNB still replies "ok".
	ExitMessages []string
}

// CellError is the error of a cell that failed: a compile error, a panic, a
// non-zero exit of the cell's program, or a failed shell command.
type CellError struct {
	// EName is the error name ("ERROR", "ExitStatus", ...).
	EName string
	// EValue is the error message.
	EValue string
	// Traceback holds the error's traceback lines.
	Traceback []string
}

// Error implements error.
func (e *CellError) Error() string {
	msg := strings.TrimSpace(e.EValue)
	if len(e.Traceback) > 0 {
		tb := strings.TrimSpace(stripANSI(strings.Join(e.Traceback, "\n")))
		if tb != "" && tb != msg {
			msg = strings.TrimSpace(msg + "\n" + tb)
		}
	}
	if e.EName != "" {
		return e.EName + ": " + msg
	}
	return msg
}

// Err returns a *CellError when the cell failed (error status, or a program
// or shell command that exited non-zero), else nil.
func (r *Result) Err() error {
	switch {
	case r == nil:
		return nil
	case r.Status == "error" || r.Status == "aborted":
		name := r.EName
		if name == "" {
			name = r.Status
		}
		return &CellError{EName: name, EValue: r.EValue, Traceback: r.Traceback}
	case len(r.ExitMessages) > 0:
		return &CellError{EName: "ExitStatus", EValue: "a command failed: " + strings.Join(r.ExitMessages, "; ")}
	}
	return nil
}

// exitLine matches the line GoNB writes to stderr after a program it ran
// (cell binary or shell command) exits non-zero or is killed by a signal.
var exitLine = regexp.MustCompile(`(?m)^(?:\^C)?(exit status [1-9][0-9]*|signal: [a-z][a-z ]*)\r?$`)

// ansiSeq matches ANSI terminal escape sequences.
var ansiSeq = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// stripANSI removes ANSI escape sequences (GoNB colours error locations).
func stripANSI(s string) string { return ansiSeq.ReplaceAllString(s, "") }

// Execute runs code as one cell and streams its outputs to onOutput (which
// may be nil), in order, from a single goroutine. It returns when the kernel
// has replied and published all outputs, which it marks with the iopub idle
// status: however long the output, none is dropped. Should the idle status
// not come, Execute waits while the cell's messages keep arriving and gives
// up only after a quiet period (30 s) with ErrOutputIncomplete.
//
// A failing cell is not an error of Execute: see Result.Err. Execute's error
// is non-nil when the cell could not run to completion: a line too long to
// send (ErrLineTooLong), kernel death (*DeadError), incomplete output
// (ErrOutputIncomplete), timeout (ErrCellTimeout; the cell is interrupted
// first), the context's error, or ErrShutdown. A partial Result may come
// with it. Once the cell is over, whatever processes it left running are
// killed (on Linux; see package kernel/supervisor).
func (k *Kernel) Execute(ctx context.Context, code string, onOutput func(Output)) (*Result, error) {
	if err := checkLineLengths(code); err != nil {
		return nil, err
	}
	s, err := k.session()
	if err != nil {
		return nil, err
	}
	if err := s.deadErr(); err != nil {
		return nil, err
	}
	m, err := newMessage(s.id, "execute_request", map[string]any{
		"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{},
		"allow_stdin": k.opts.OnInput != nil, "stop_on_error": true,
	})
	if err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		stderr strings.Builder
	)
	p := s.register(m.Header.MsgID, func(im *Message) {
		out, ok := outputOf(im)
		if !ok {
			return
		}
		if out.Type == OutputStream && out.Name == "stderr" {
			mu.Lock()
			stderr.WriteString(out.Text)
			mu.Unlock()
		}
		if onOutput != nil {
			onOutput(out)
		}
	})
	defer s.unregister(m.Header.MsgID)

	var timeout <-chan time.Time
	if k.opts.CellTimeout > 0 {
		t := time.NewTimer(k.opts.CellTimeout)
		defer t.Stop()
		timeout = t.C
	}
	// The supervisor watches the cell while it runs and, once it has ended,
	// kills whatever it left running (see kernelProc).
	s.proc.cellStarted()
	defer s.proc.cellEnded()
	if err := s.send(s.shell, m); err != nil {
		return nil, err
	}

	res := &Result{}
	var reply *Message
	idle := p.idle
	// After the reply, wait for the idle status as long as messages for
	// this cell keep coming; quiet is reset by each of them.
	var quiet *time.Timer
	var quietC <-chan time.Time
	defer func() {
		if quiet != nil {
			quiet.Stop()
		}
	}()
	var stopErr error // set once the cell was interrupted for timeout/cancel
	var interrupt <-chan time.Time
	var giveUp <-chan time.Time
	done := ctx.Done()
	for reply == nil || idle != nil {
		select {
		case reply = <-p.reply:
			if idle != nil {
				quiet = time.NewTimer(idleQuiet)
				quietC = quiet.C
			}
		case <-p.activity:
			if quiet != nil {
				quiet.Reset(idleQuiet)
			}
		case <-idle:
			idle = nil
		case <-quietC:
			res.ExitMessages = exitMessages(&mu, &stderr)
			return res, fmt.Errorf("%w: the kernel replied but sent no idle status and no message for %s", ErrOutputIncomplete, idleQuiet)
		case <-s.dead:
			res.ExitMessages = exitMessages(&mu, &stderr)
			return res, s.deadErr()
		case <-timeout:
			timeout, done = nil, nil
			stopErr = fmt.Errorf("%w after %s", ErrCellTimeout, k.opts.CellTimeout)
			interrupt, giveUp = time.After(0), time.After(interruptGrace)
		case <-done:
			timeout, done = nil, nil
			stopErr = fmt.Errorf("kernel: cell stopped: %w", context.Cause(ctx))
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				stopErr = fmt.Errorf("%w: %w", ErrCellTimeout, ctx.Err())
			}
			interrupt, giveUp = time.After(0), time.After(interruptGrace)
		case <-interrupt:
			// The interrupt only reaches a running program, not the compiler:
			// repeat it until the cell is over.
			_ = s.interrupt()
			interrupt = time.After(2 * time.Second)
		case <-giveUp:
			res.ExitMessages = exitMessages(&mu, &stderr)
			return res, fmt.Errorf("%w; the kernel did not stop it within %s", stopErr, interruptGrace)
		}
	}
	var c struct {
		Status         string   `json:"status"`
		ExecutionCount int      `json:"execution_count"`
		EName          string   `json:"ename"`
		EValue         string   `json:"evalue"`
		Traceback      []string `json:"traceback"`
	}
	if err := json.Unmarshal(reply.Content, &c); err != nil {
		return nil, fmt.Errorf("kernel: malformed execute_reply: %w", err)
	}
	res.Status, res.ExecutionCount, res.EName, res.EValue, res.Traceback = c.Status, c.ExecutionCount, c.EName, c.EValue, c.Traceback
	res.ExitMessages = exitMessages(&mu, &stderr)
	return res, stopErr
}

// ErrOutputIncomplete is returned (wrapped) by Execute when the kernel
// replied to a cell but then went quiet without its idle status: outputs
// still in flight may be missing.
var ErrOutputIncomplete = errors.New("kernel: the cell's output may be incomplete")

// exitMessages extracts the exit lines from the collected stderr.
func exitMessages(mu *sync.Mutex, stderr *strings.Builder) []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for _, m := range exitLine.FindAllStringSubmatch(stripANSI(stderr.String()), -1) {
		out = append(out, m[1])
	}
	return out
}

// interrupt sends an interrupt_request without waiting for the reply.
func (s *session) interrupt() error {
	m, err := newMessage(s.id, "interrupt_request", map[string]any{})
	if err != nil {
		return err
	}
	return s.send(s.control, m)
}

// request sends a request of msgType on the shell (or control) channel and
// returns its reply's content.
func (k *Kernel) request(ctx context.Context, control bool, msgType string, content any) (json.RawMessage, error) {
	s, err := k.session()
	if err != nil {
		return nil, err
	}
	if err := s.deadErr(); err != nil {
		return nil, err
	}
	m, err := newMessage(s.id, msgType, content)
	if err != nil {
		return nil, err
	}
	p := s.register(m.Header.MsgID, nil)
	defer s.unregister(m.Header.MsgID)
	sck := s.shell
	if control {
		sck = s.control
	}
	if err := s.send(sck, m); err != nil {
		return nil, err
	}
	select {
	case r := <-p.reply:
		return r.Content, nil
	case <-s.dead:
		return nil, s.deadErr()
	case <-ctx.Done():
		return nil, fmt.Errorf("kernel: %s: %w", msgType, ctx.Err())
	}
}

// Interrupt interrupts the running cell (control channel interrupt_request;
// GoNB sends SIGINT to the cell's program, SIGKILL 5 s later) and waits for
// the kernel's reply. The kernel keeps its state.
func (k *Kernel) Interrupt(ctx context.Context) error {
	raw, err := k.request(ctx, true, "interrupt_request", map[string]any{})
	if err != nil {
		return err
	}
	return replyStatus("interrupt_request", raw)
}

// replyStatus turns a reply with status "error" into an error.
func replyStatus(what string, raw json.RawMessage) error {
	var c struct {
		Status string `json:"status"`
		EName  string `json:"ename"`
		EValue string `json:"evalue"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("kernel: malformed reply to %s: %w", what, err)
	}
	if c.Status == "error" {
		return fmt.Errorf("kernel: %s failed: %s: %s", what, c.EName, c.EValue)
	}
	return nil
}

// Completion is the kernel's answer to a complete_request.
type Completion struct {
	// Matches are the candidate texts replacing code[CursorStart:CursorEnd].
	Matches []string `json:"matches"`
	// CursorStart and CursorEnd delimit (in runes) the text the matches replace.
	CursorStart int `json:"cursor_start"`
	// CursorEnd: see CursorStart.
	CursorEnd int `json:"cursor_end"`
	// Status is "ok" or "error".
	Status string `json:"status"`
}

// Complete asks for completions of code at cursor (a rune offset). GoNB
// completes through gopls, when gopls is on the kernel's PATH; otherwise the
// reply is empty.
func (k *Kernel) Complete(ctx context.Context, code string, cursor int) (*Completion, error) {
	raw, err := k.request(ctx, false, "complete_request", map[string]any{"code": code, "cursor_pos": cursor})
	if err != nil {
		return nil, err
	}
	var c Completion
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("kernel: malformed complete_reply: %w", err)
	}
	return &c, nil
}

// Inspection is the kernel's answer to an inspect_request.
type Inspection struct {
	// Status is "ok" or "error".
	Status string `json:"status"`
	// Found tells whether anything was found.
	Found bool `json:"found"`
	// Data is a MIME bundle describing the object under the cursor.
	Data map[string]any `json:"data"`
}

// Inspect asks for information on the identifier at cursor (a rune offset) in
// code; detail is 0 or 1.
func (k *Kernel) Inspect(ctx context.Context, code string, cursor, detail int) (*Inspection, error) {
	raw, err := k.request(ctx, false, "inspect_request", map[string]any{
		"code": code, "cursor_pos": cursor, "detail_level": detail})
	if err != nil {
		return nil, err
	}
	var in Inspection
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("kernel: malformed inspect_reply: %w", err)
	}
	return &in, nil
}

// Info is the kernel's answer to a kernel_info_request.
type Info struct {
	// ProtocolVersion is the messaging protocol version the kernel speaks.
	ProtocolVersion string `json:"protocol_version"`
	// Implementation names the kernel ("gonb").
	Implementation string `json:"implementation"`
	// ImplementationVersion is the kernel's version.
	ImplementationVersion string `json:"implementation_version"`
	// Banner is the kernel's banner text.
	Banner string `json:"banner"`
	// LanguageInfo describes the language.
	LanguageInfo struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"language_info"`
}

// KernelInfo asks the kernel to describe itself.
func (k *Kernel) KernelInfo(ctx context.Context) (*Info, error) {
	raw, err := k.request(ctx, false, "kernel_info_request", map[string]any{})
	if err != nil {
		return nil, err
	}
	var in Info
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("kernel: malformed kernel_info_reply: %w", err)
	}
	return &in, nil
}
