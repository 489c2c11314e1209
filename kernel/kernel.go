package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Defaults of Options.
const (
	DefaultStartTimeout      = 90 * time.Second
	DefaultHeartbeatInterval = 2 * time.Second
	DefaultHeartbeatTimeout  = 20 * time.Second
	// interruptGrace is how long a timed-out cell is given to stop after the
	// interrupt: GoNB sends SIGINT, then SIGKILL after 5 s.
	interruptGrace = 12 * time.Second
	// sendTimeout bounds every ZeroMQ send.
	sendTimeout = 10 * time.Second
)

// idleQuiet is how long Execute waits, after the execute_reply, for the next
// iopub message of the cell before it declares the output incomplete. GoNB may
// reply before a long output is fully published, so the wait restarts with
// every message. A variable so that tests can shorten it.
var idleQuiet = 30 * time.Second

// Options configures Start.
type Options struct {
	// ModuleRoot is this checkout (the directory of go.mod). Empty: found
	// from the working directory with FindModuleRoot.
	ModuleRoot string
	// ToolsDir caches the gonb and goimports binaries. Empty: DefaultToolsDir.
	ToolsDir string
	// Dir is the kernel's working directory (a notebook's folder). Empty: ModuleRoot.
	Dir string
	// Env holds extra KEY=VALUE variables for the kernel and the cells it runs
	// (e.g. CONVNOTES_QUICK=1). They override the inherited ones.
	Env []string
	// CellTimeout bounds each Execute; 0 means no limit besides the context.
	CellTimeout time.Duration
	// StartTimeout bounds starting the kernel and its first handshake.
	StartTimeout time.Duration
	// HeartbeatInterval is the time between heartbeat pings.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a ping may go unanswered before the kernel
	// is declared dead (and killed).
	HeartbeatTimeout time.Duration
	// Log receives the kernel's own log (its stderr). Nil: discarded; the last
	// lines are kept either way and reported when the kernel dies.
	Log io.Writer
	// OnInput answers the kernel's input requests (stdin channel). Nil: the
	// kernel is told the front-end does not support input, and cell programs
	// and "!" commands get an empty standard input (a read ends at once
	// instead of waiting for input that can never come).
	OnInput func(prompt string, password bool) (string, error)
	// TCP connects to the kernel over loopback TCP ports instead of Unix
	// sockets in a private folder (the default). Any local process can reach
	// TCP ports.
	TCP bool
	// HTMLErrors makes GoNB render compile errors as HTML (as in Jupyter);
	// by default they are plain text (gonb --raw_error), for terminals and nbtest.
	HTMLErrors bool
	// Completion builds the pinned gopls (once) and puts it on the kernel's PATH, where GoNB finds it and
	// answers complete and inspect requests through it. Off, those replies are empty and no gopls runs.
	Completion bool
}

// State is the execution state of a kernel.
type State string

// Kernel states.
const (
	StateStarting State = "starting"
	StateIdle     State = "idle"
	StateBusy     State = "busy"
	StateDead     State = "dead"
)

// DeadError reports that the kernel died: its process exited or it stopped
// answering the heartbeat.
type DeadError struct {
	// Reason says how the death was detected.
	Reason string
	// LogTail holds the last lines the kernel wrote to its log.
	LogTail string
}

// Error implements error.
func (e *DeadError) Error() string {
	if e.LogTail == "" {
		return "kernel died: " + e.Reason
	}
	return "kernel died: " + e.Reason + "\nlast kernel log lines:\n" + e.LogTail
}

// ErrCellTimeout is returned (wrapped) by Execute when a cell ran past its
// timeout; the cell was interrupted.
var ErrCellTimeout = errors.New("kernel: cell timed out")

// ErrShutdown is returned by calls on a kernel that was shut down.
var ErrShutdown = errors.New("kernel: shut down")

// Kernel is a running GoNB kernel and the client connected to it.
// Its methods are safe for concurrent use.
type Kernel struct {
	opts  Options
	tools *Tools

	mu           sync.Mutex
	s            *session
	closed       bool
	shutdownDone chan struct{} // closed when the first Shutdown has finished
	badSigs      atomic.Int64
	badMsgs      atomic.Int64
}

// Start builds or locates the pinned GoNB tools and starts a kernel.
func Start(ctx context.Context, opts Options) (*Kernel, error) {
	if opts.ModuleRoot == "" {
		root, err := FindModuleRoot(".")
		if err != nil {
			return nil, err
		}
		opts.ModuleRoot = root
	}
	root, err := filepath.Abs(opts.ModuleRoot)
	if err != nil {
		return nil, fmt.Errorf("kernel: module root: %w", err)
	}
	opts.ModuleRoot = root
	if opts.Dir == "" {
		opts.Dir = opts.ModuleRoot
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if opts.HeartbeatTimeout <= 0 {
		opts.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	tools, err := EnsureTools(ctx, opts.ModuleRoot, opts.ToolsDir)
	if err != nil {
		return nil, err
	}
	if opts.Completion {
		if err := tools.EnsureGopls(ctx, opts.ModuleRoot); err != nil {
			return nil, err
		}
	}
	k := &Kernel{opts: opts, tools: tools}
	s, err := k.startSession(ctx)
	if err != nil {
		return nil, err
	}
	k.s = s
	return k, nil
}

// Tools returns the binaries the kernel runs with.
func (k *Kernel) Tools() *Tools { return k.tools }

// session returns the current session, or ErrShutdown.
func (k *Kernel) session() (*session, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || k.s == nil {
		return nil, ErrShutdown
	}
	return k.s, nil
}

// Pid returns the process id of the kernel process (0 after shutdown).
func (k *Kernel) Pid() int {
	s, err := k.session()
	if err != nil {
		return 0
	}
	return s.proc.pid
}

// State returns the kernel's last known execution state.
func (k *Kernel) State() State {
	s, err := k.session()
	if err != nil {
		return StateDead
	}
	return s.state()
}

// Dead returns a channel closed when the current kernel process dies.
func (k *Kernel) Dead() <-chan struct{} {
	s, err := k.session()
	if err != nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.dead
}

// Err returns the *DeadError of a dead kernel, ErrShutdown after Shutdown,
// or nil while the kernel is alive.
func (k *Kernel) Err() error {
	s, err := k.session()
	if err != nil {
		return err
	}
	return s.deadErr()
}

// BadSignatures returns how many received messages were dropped because
// their signature did not verify.
func (k *Kernel) BadSignatures() int64 { return k.badSigs.Load() }

// MalformedMessages returns how many received messages were dropped because
// they could not be parsed.
func (k *Kernel) MalformedMessages() int64 { return k.badMsgs.Load() }

// Restart stops the kernel (politely, then by force) and starts a fresh one
// with the same options: all definitions and the execution counter are lost.
func (k *Kernel) Restart(ctx context.Context) error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return ErrShutdown
	}
	old := k.s
	k.s = nil
	k.mu.Unlock()
	if old != nil {
		old.shutdown(ctx)
	}
	s, err := k.startSession(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		return fmt.Errorf("kernel: restart: %w", err)
	}
	if k.closed {
		s.close()
		return ErrShutdown
	}
	k.s = s
	return nil
}

// Shutdown asks the kernel to exit (control channel shutdown_request), kills
// it and everything it started if it does not exit within the context or
// 5 s, and removes its connection file and temporary files. It returns the
// error of the kernel's death if it had died before. Later and concurrent
// calls wait for the first one to finish (or for their context), then return nil.
func (k *Kernel) Shutdown(ctx context.Context) error {
	k.mu.Lock()
	if k.closed {
		done := k.shutdownDone
		k.mu.Unlock()
		// Another caller is shutting down: wait until it is done, so that
		// every caller may rely on the cleanup having happened.
		select {
		case <-done:
		case <-ctx.Done():
		}
		return nil
	}
	k.closed = true
	k.shutdownDone = make(chan struct{})
	defer close(k.shutdownDone)
	s := k.s
	k.s = nil
	k.mu.Unlock()
	if s == nil {
		return nil
	}
	prior := s.deadErr()
	s.shutdown(ctx)
	return prior
}

// session is one kernel process and the sockets connected to it.
type session struct {
	k        *Kernel
	proc     *kernelProc // the kernel process and what keeps its descendants in check
	dir      string      // temporary dir: connection file, sockets, owner, TMPDIR of the kernel
	dirs     []string    // dir, and the short folder of the sockets when dir's path is too long for them
	conn     *connectionInfo
	key      []byte
	id       string // client session id
	ctx      context.Context
	cancel   context.CancelFunc
	shell    zmq4.Socket
	control  zmq4.Socket
	stdin    zmq4.Socket
	iopub    zmq4.Socket
	hb       zmq4.Socket
	sendMu   sync.Mutex
	exited   chan struct{}
	dead     chan struct{}
	deadOnce sync.Once
	logTail  *tailBuffer

	mu       sync.Mutex
	st       State
	death    *DeadError
	pending  map[string]*pending
	closeErr error
}

// pending is a request waiting for its reply and, for execute requests, its outputs.
type pending struct {
	reply    chan *Message
	onIOPub  func(*Message)
	idle     chan struct{}
	idleOnce sync.Once
	activity chan struct{} // signalled (without blocking) on every iopub message
}

// startSession starts a kernel process and connects to it.
func (k *Kernel) startSession(ctx context.Context) (*session, error) {
	ctx, cancelStart := context.WithTimeout(ctx, k.opts.StartTimeout)
	defer cancelStart()

	staleOnce.Do(func() {
		removeStaleFolders(os.TempDir())
		if socketBase != os.TempDir() {
			removeStaleFolders(socketBase)
		}
	})
	dir, err := os.MkdirTemp("", folderPrefix)
	if err != nil {
		return nil, fmt.Errorf("kernel: temporary dir: %w", err)
	}
	if err := checkPrivate(dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := writeOwner(dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	var conn *connectionInfo
	var sockDir string // a short folder for the sockets, when dir's path is too long
	if k.opts.TCP {
		conn, err = newConnectionInfo()
	} else {
		conn, sockDir, err = ipcConnection(dir)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	dirs := []string{dir}
	if sockDir != "" {
		dirs = append(dirs, sockDir)
	}
	removeDirs := func() {
		for _, d := range dirs {
			_ = os.RemoveAll(d)
		}
	}
	id := newID()
	connFile, err := conn.write(dir, uuidFormat(id))
	if err != nil {
		removeDirs()
		return nil, err
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		removeDirs()
		return nil, fmt.Errorf("kernel: temporary dir: %w", err)
	}

	args := []string{"--kernel", connFile, "--go_work", k.opts.ModuleRoot}
	if !k.opts.HTMLErrors {
		args = append(args, "--raw_error")
	}
	cmd := exec.Command(k.tools.Gonb, args...)
	cmd.Dir = k.opts.Dir
	pathDirs := k.tools.Dir
	if k.opts.Completion {
		pathDirs += string(os.PathListSeparator) + k.tools.LSPDir
	}
	cmd.Env = kernelEnv(os.Environ(), pathDirs, tmp, k.opts.Env)
	if k.opts.OnInput == nil {
		if cmd.Env, err = withBashEnv(cmd.Env, dir); err != nil {
			removeDirs()
			return nil, err
		}
	}
	tail := newTailBuffer(8 << 10)
	var logw io.Writer = tail
	if k.opts.Log != nil {
		logw = io.MultiWriter(tail, k.opts.Log)
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	proc, err := startKernelProc(k.tools, cmd, dirs)
	if err != nil {
		removeDirs()
		if t := strings.TrimSpace(tail.String()); t != "" {
			err = fmt.Errorf("%w\n%s", err, t)
		}
		return nil, err
	}

	sctx, cancel := context.WithCancel(context.Background())
	s := &session{
		k: k, proc: proc, dirs: dirs, dir: dir, conn: conn, key: []byte(conn.Key), id: id,
		ctx: sctx, cancel: cancel,
		exited: make(chan struct{}), dead: make(chan struct{}),
		logTail: tail, st: StateStarting, pending: map[string]*pending{},
	}
	go func() {
		err := proc.wait()
		close(s.exited)
		reason := "process exited"
		if err != nil {
			reason = "process exited: " + err.Error()
		}
		s.markDead(reason)
	}()

	if err := s.connect(ctx); err != nil {
		s.close()
		return nil, err
	}
	go s.readLoop(s.shell, false)
	go s.readLoop(s.iopub, true)
	go s.stdinLoop()
	if err := s.handshake(ctx); err != nil {
		s.close()
		return nil, err
	}
	if k.opts.OnInput == nil {
		if err := installStdinEOF(tmp, 5*time.Second); err != nil {
			s.close()
			return nil, err
		}
	}
	go s.heartbeatLoop()
	return s, nil
}

// uuidFormat formats a 32-hex-digit id as a UUID (GoNB extracts the kernel
// id from a connection file named kernel-<uuid>.json).
func uuidFormat(id string) string {
	return id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
}

// kernelEnv returns the environment of the kernel process: the inherited one
// with the tools directories (a PATH list) first on PATH, TMPDIR set to the session's
// directory (removed at shutdown, so nothing is left behind even if the
// kernel is killed), no fetching of modules (GOPROXY=off), the local Go
// toolchain, no outer go.work, the Makefile's build settings where the
// environment has none (ProjectEnv), and then extra (which wins).
func kernelEnv(environ []string, toolsDir, tmpDir string, extra []string) []string {
	drop := map[string]bool{"GOWORK": true, "GOPROXY": true, "GOTOOLCHAIN": true, "TMPDIR": true, "PATH": true}
	path := ""
	env := make([]string, 0, len(environ)+6+len(extra))
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if name == "PATH" {
			path = value
		}
		if drop[name] {
			continue
		}
		env = append(env, kv)
	}
	if path == "" {
		path = toolsDir
	} else {
		path = toolsDir + string(os.PathListSeparator) + path
	}
	env = append(withProjectEnv(env), "PATH="+path, "TMPDIR="+tmpDir, "GOPROXY=off", "GOTOOLCHAIN=local")
	return append(env, extra...)
}

// connect dials the five channels, retrying until the kernel listens, the
// process exits or ctx ends.
func (s *session) connect(ctx context.Context) error {
	// Shell, control and stdin share one identity: GoNB answers control
	// requests on the shell socket, and its ROUTER routes by identity.
	ident := zmq4.WithID(zmq4.SocketIdentity(s.id))
	opts := []zmq4.Option{zmq4.WithDialerRetry(50 * time.Millisecond), zmq4.WithDialerMaxRetries(-1),
		zmq4.WithTimeout(sendTimeout), zmq4.WithLogger(discardLogger)}
	s.shell = zmq4.NewDealer(s.ctx, append(opts, ident)...)
	s.control = zmq4.NewDealer(s.ctx, append(opts, ident)...)
	s.stdin = zmq4.NewDealer(s.ctx, append(opts, ident)...)
	s.iopub = zmq4.NewSub(s.ctx, opts...)
	s.hb = zmq4.NewReq(s.ctx, opts...)
	if err := s.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		return fmt.Errorf("kernel: subscribe iopub: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		for _, c := range []struct {
			sck  zmq4.Socket
			port int
			name string
		}{
			{s.hb, s.conn.HBPort, "heartbeat"}, {s.iopub, s.conn.IOPubPort, "iopub"},
			{s.shell, s.conn.ShellPort, "shell"}, {s.control, s.conn.ControlPort, "control"},
			{s.stdin, s.conn.StdinPort, "stdin"},
		} {
			if err := c.sck.Dial(s.conn.endpoint(c.port)); err != nil {
				done <- fmt.Errorf("kernel: connect %s channel: %w", c.name, err)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-s.dead:
		return s.deadErr()
	case <-ctx.Done():
		s.cancel() // stops the dialing
		return fmt.Errorf("kernel: connect to gonb: %w", ctx.Err())
	}
}

// handshake sends kernel_info_request until both its reply (shell) and a
// status message (iopub) arrived: only then is the iopub subscription known to
// be live, so no output of the first cell can be lost.
func (s *session) handshake(ctx context.Context) error {
	for {
		m, err := newMessage(s.id, "kernel_info_request", map[string]any{})
		if err != nil {
			return err
		}
		p := s.register(m.Header.MsgID, nil)
		if err := s.send(s.shell, m); err != nil {
			s.unregister(m.Header.MsgID)
			return err
		}
		t := time.NewTimer(time.Second)
		gotReply, gotIdle, idle := false, false, p.idle
	wait:
		for !gotReply || !gotIdle {
			select {
			case <-p.reply:
				gotReply = true
			case <-idle:
				gotIdle, idle = true, nil
			case <-t.C:
				break wait
			case <-s.dead:
				break wait
			case <-ctx.Done():
				break wait
			}
		}
		t.Stop()
		s.unregister(m.Header.MsgID)
		if gotReply && gotIdle {
			return nil
		}
		if err := s.deadErr(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("kernel: no kernel_info_reply from gonb: %w\n%s", ctx.Err(), s.logTail.String())
		}
	}
}

// register records a pending request; onIOPub receives its iopub messages
// other than status.
func (s *session) register(msgID string, onIOPub func(*Message)) *pending {
	p := &pending{reply: make(chan *Message, 1), onIOPub: onIOPub, idle: make(chan struct{}), activity: make(chan struct{}, 1)}
	s.mu.Lock()
	s.pending[msgID] = p
	s.mu.Unlock()
	return p
}

// unregister forgets a pending request.
func (s *session) unregister(msgID string) {
	s.mu.Lock()
	delete(s.pending, msgID)
	s.mu.Unlock()
}

// lookup returns the pending request msgID answers, if any.
func (s *session) lookup(msgID string) *pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending[msgID]
}

// send signs and sends m on sck.
func (s *session) send(sck zmq4.Socket, m *Message) error {
	frames, err := m.encode(s.key)
	if err != nil {
		return err
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if err := sck.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		if d := s.deadErr(); d != nil {
			return d
		}
		return fmt.Errorf("kernel: send %s: %w", m.Header.MsgType, err)
	}
	return nil
}

// receive decodes a wire message, counting and dropping bad ones.
func (s *session) receive(frames [][]byte) *Message {
	m, err := decode(frames, s.key)
	if err != nil {
		if errors.Is(err, ErrBadSignature) {
			s.k.badSigs.Add(1)
		} else {
			s.k.badMsgs.Add(1)
		}
		return nil
	}
	return m
}

// readLoop receives messages from the shell or iopub socket and routes them
// to the pending request they answer.
func (s *session) readLoop(sck zmq4.Socket, iopub bool) {
	for {
		zm, err := sck.Recv()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			// One connection of the socket failed (zmq4 reports each once and
			// drops it). If the kernel is exiting, its Wait reports the death;
			// otherwise keep reading the socket's other connections.
			select {
			case <-s.exited:
				return
			case <-time.After(2 * time.Second):
			}
			continue
		}
		m := s.receive(zm.Frames)
		if m == nil {
			continue
		}
		s.route(m, iopub)
	}
}

// route delivers a verified message.
func (s *session) route(m *Message, iopub bool) {
	p := s.lookup(m.ParentHeader.MsgID)
	if !iopub {
		if p != nil {
			select {
			case p.reply <- m:
			default:
			}
		}
		return
	}
	if p != nil {
		select {
		case p.activity <- struct{}{}:
		default:
		}
	}
	if m.Header.MsgType == "status" {
		var c struct {
			ExecutionState State `json:"execution_state"`
		}
		if json.Unmarshal(m.Content, &c) == nil && c.ExecutionState != "" {
			s.mu.Lock()
			if s.st != StateDead {
				s.st = c.ExecutionState
			}
			s.mu.Unlock()
			if p != nil && c.ExecutionState == StateIdle {
				p.idleOnce.Do(func() { close(p.idle) })
			}
		}
		return
	}
	if p != nil && p.onIOPub != nil {
		p.onIOPub(m)
	}
}

// stdinLoop answers the kernel's input requests.
func (s *session) stdinLoop() {
	for {
		zm, err := s.stdin.Recv()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			select { // a failed connection: see readLoop
			case <-s.exited:
				return
			case <-time.After(2 * time.Second):
			}
			continue
		}
		m := s.receive(zm.Frames)
		if m == nil || m.Header.MsgType != "input_request" {
			continue
		}
		var req struct {
			Prompt   string `json:"prompt"`
			Password bool   `json:"password"`
		}
		_ = json.Unmarshal(m.Content, &req)
		value := ""
		if f := s.k.opts.OnInput; f != nil {
			v, err := f(req.Prompt, req.Password)
			if err == nil {
				value = v
			}
		}
		reply, err := newMessage(s.id, "input_reply", map[string]any{"value": value})
		if err != nil {
			continue
		}
		reply.ParentHeader = m.Header
		_ = s.send(s.stdin, reply)
	}
}

// heartbeatLoop pings the kernel; a ping unanswered for HeartbeatTimeout
// declares the kernel dead and kills it.
func (s *session) heartbeatLoop() {
	interval, timeout := s.k.opts.HeartbeatInterval, s.k.opts.HeartbeatTimeout
	for {
		// Send and receive on one goroutine: zmq4's REQ socket fails a Recv
		// that is not preceded by a Send.
		res := make(chan error, 1)
		go func() {
			if err := s.hb.Send(zmq4.NewMsgString("ping")); err != nil {
				res <- err
				return
			}
			_, err := s.hb.Recv()
			res <- err
		}()
		t := time.NewTimer(timeout)
		select {
		case err := <-res:
			t.Stop()
			if err != nil {
				if s.ctx.Err() != nil {
					return
				}
				select { // an exiting kernel closes the connection: let Wait report it
				case <-s.exited:
					return
				case <-time.After(2 * time.Second):
				}
				s.markDead("heartbeat: " + err.Error())
				return
			}
		case <-t.C:
			s.markDead(fmt.Sprintf("no heartbeat reply in %s", timeout))
			return
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-s.dead:
			t.Stop()
			return
		}
		select {
		case <-time.After(interval):
		case <-s.ctx.Done():
			return
		case <-s.dead:
			return
		}
	}
}

// markDead records the kernel's death (the first reason wins), kills what is
// left of its process group and wakes every waiter.
func (s *session) markDead(reason string) {
	s.deadOnce.Do(func() {
		select {
		case <-s.exited:
		default:
			s.proc.stop()
			select {
			case <-s.exited:
			case <-time.After(5 * time.Second):
			}
		}
		// Kill what is left, should the kernel's process not have ended.
		s.proc.kill()
		s.proc.stop()
		s.mu.Lock()
		s.death = &DeadError{Reason: reason, LogTail: s.logTail.String()}
		s.st = StateDead
		s.mu.Unlock()
		close(s.dead)
	})
}

// deadErr returns the death of the kernel, or nil while it lives.
func (s *session) deadErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.death == nil {
		return nil
	}
	return s.death
}

// state returns the last known state.
func (s *session) state() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// shutdown asks the kernel to exit, then closes the session.
func (s *session) shutdown(ctx context.Context) {
	if s.deadErr() == nil {
		if m, err := newMessage(s.id, "shutdown_request", map[string]any{"restart": false}); err == nil {
			if s.send(s.control, m) == nil {
				t := time.NewTimer(5 * time.Second)
				select {
				case <-s.exited:
				case <-t.C:
				case <-ctx.Done():
				}
				t.Stop()
			}
		}
	}
	s.close()
}

// close kills the process group, closes the sockets and removes the
// temporary directory (connection file included).
func (s *session) close() {
	s.markDead("shut down")
	s.cancel()
	for _, sck := range []zmq4.Socket{s.shell, s.control, s.stdin, s.iopub, s.hb} {
		if sck != nil {
			_ = sck.Close()
		}
	}
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
	}
	for _, d := range s.dirs {
		_ = os.RemoveAll(d)
	}
}
