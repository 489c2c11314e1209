package repl

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// termination ends the REPL on SIGHUP (terminal closed) or SIGTERM: it shuts
// the kernel down (the kernel runs in its own process group and would
// otherwise be left running), then lets the signal end the process as it
// would have, so the exit status says which signal it was (143 for SIGTERM).
// The signals stay caught from start until the REPL has cleaned up, so a
// second signal cannot cut the clean-up short.
type termination struct {
	r     *REPL
	sigs  chan os.Signal
	ended chan struct{} // closed by stop when no signal arrived

	mu      sync.Mutex
	caught  bool // a signal arrived: the REPL is ending
	stopped bool // the REPL cleaned up without a signal
}

// watchTermination starts catching SIGHUP and SIGTERM for r.
func watchTermination(r *REPL) *termination {
	t := &termination{r: r, sigs: make(chan os.Signal, 1), ended: make(chan struct{})}
	signal.Notify(t.sigs, syscall.SIGHUP, syscall.SIGTERM)
	go t.wait()
	return t
}

// terminating reports whether a termination signal arrived.
func (t *termination) terminating() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.caught
}

// wait shuts the kernel down on the first signal, then ends the process.
func (t *termination) wait() {
	var sig os.Signal
	select {
	case sig = <-t.sigs:
	case <-t.ended:
		return
	}
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.caught = true
	t.mu.Unlock()
	// Wait for the whole clean-up (it is bounded), also when the main
	// goroutine started it first.
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	if k := t.r.kernel(); k != nil {
		_ = k.Shutdown(ctx)
	}
	cancel()
	signal.Reset(sig)
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Signal(sig)
	}
	// Reached only when the signal's default action is to be ignored (a process started under
	// nohup inherits SIGHUP ignored, and Reset restores that): end the process as the signal meant to.
	time.Sleep(time.Second)
	if s, ok := sig.(syscall.Signal); ok {
		os.Exit(128 + int(s))
	}
	os.Exit(1)
}

// stop is called once the REPL has cleaned up: it stops catching the signals,
// unless one arrived, in which case it waits for wait to end the process.
func (t *termination) stop() {
	t.mu.Lock()
	if t.caught {
		t.mu.Unlock()
		select {} // wait ends the process
	}
	t.stopped = true
	t.mu.Unlock()
	signal.Stop(t.sigs)
	close(t.ended)
}
