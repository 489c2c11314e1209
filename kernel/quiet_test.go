//go:build unix

package kernel

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// TestQuietKernelReported drives Execute against a fake kernel that replies
// to a cell, keeps publishing its output for a while, then goes silent
// without the idle status: Execute must keep reading while messages come,
// then say that the output may be incomplete.
func TestQuietKernelReported(t *testing.T) {
	old := idleQuiet
	idleQuiet = 500 * time.Millisecond
	t.Cleanup(func() { idleQuiet = old })

	dir := t.TempDir()
	conn, ok := newIPCConnectionInfo(dir)
	if !ok {
		t.Skip("temporary folder path too long for a socket address")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := zmq4.WithLogger(discardLogger)
	shell, iopub := zmq4.NewRouter(ctx, opt), zmq4.NewPub(ctx, opt)
	others := []zmq4.Socket{zmq4.NewRouter(ctx, opt), zmq4.NewRouter(ctx, opt), zmq4.NewRep(ctx, opt)}
	for i, sck := range append([]zmq4.Socket{shell, iopub}, others...) {
		if err := sck.Listen(conn.endpoint(i + 1)); err != nil {
			t.Fatal(err)
		}
		defer sck.Close()
	}

	k := &Kernel{opts: Options{}}
	sctx, scancel := context.WithCancel(context.Background())
	s := &session{k: k, proc: &kernelProc{cmd: &exec.Cmd{}}, dir: dir, conn: conn, key: []byte(conn.Key), id: newID(),
		ctx: sctx, cancel: scancel, exited: make(chan struct{}), dead: make(chan struct{}),
		logTail: newTailBuffer(1024), st: StateIdle, pending: map[string]*pending{}}
	close(s.exited)
	if err := s.connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	go s.readLoop(s.shell, false)
	go s.readLoop(s.iopub, true)
	k.s = s

	const chunks = 8 // one every 200 ms: 1.6 s of output after the reply, beyond idleQuiet
	go func() {
		zm, err := shell.Recv()
		if err != nil {
			return
		}
		req, err := decode(zm.Frames, s.key)
		if err != nil {
			return
		}
		send := func(sck zmq4.Socket, ids [][]byte, msgType string, content string) {
			m, _ := newMessage("fake", msgType, nil)
			m.Identities, m.ParentHeader, m.Content = ids, req.Header, []byte(content)
			frames, _ := m.encode(s.key)
			_ = sck.SendMulti(zmq4.NewMsgFrom(frames...))
		}
		// Publish "busy" until the client has seen it: the iopub subscription is live.
		for deadline := time.Now().Add(20 * time.Second); s.state() != StateBusy && time.Now().Before(deadline); {
			send(iopub, nil, "status", `{"execution_state": "busy"}`)
			time.Sleep(20 * time.Millisecond)
		}
		send(shell, req.Identities, "execute_reply", `{"status": "ok", "execution_count": 1}`)
		for range chunks {
			time.Sleep(200 * time.Millisecond)
			send(iopub, nil, "stream", `{"name": "stdout", "text": "chunk\n"}`)
		}
	}()

	var got collect
	start := time.Now()
	_, err := k.Execute(ctx, "fmt.Println(1)", got.add)
	took := time.Since(start)
	if !errors.Is(err, ErrOutputIncomplete) || !strings.Contains(err.Error(), "no idle status") {
		t.Fatalf("Execute error = %v, want ErrOutputIncomplete", err)
	}
	if n := strings.Count(got.stream("stdout"), "chunk\n"); n != chunks {
		t.Errorf("got %d chunks, want all %d (published while messages kept coming)", n, chunks)
	}
	if took < time.Duration(chunks)*200*time.Millisecond {
		t.Errorf("Execute gave up after %s, while output was still coming", took)
	}
}
