// Package kernel is a Go client of the Jupyter messaging protocol (v5.3) made
// to drive the GoNB kernel (github.com/janpfeifer/gonb) from Go: nbtest runs
// every notebook with it, and the terminal REPL steps through the papers with it.
//
// A Kernel is started with [Start]. Start builds (once, then caches) the gonb
// and goimports binaries pinned by this module's go.mod (they are Go tool
// dependencies, never installed "@latest"), writes its own connection file
// (127.0.0.1 only, random free ports, an HMAC-SHA256 key, mode 0600, removed on
// shutdown) and connects the five ZeroMQ channels (shell, iopub, control, stdin
// and heartbeat) through the pure-Go github.com/go-zeromq/zmq4.
//
// Every message sent is signed, and every message received is verified: a
// message with a bad signature is dropped and counted ([Kernel.BadSignatures]).
//
// The kernel runs with a go.work that uses this checkout (gonb's --go_work), so
// notebook cells import github.com/convnotes/convnotes/... with no setup cell,
// and with GOPROXY=off and GOTOOLCHAIN=local, so the automatic "go get" GoNB
// runs before compiling a cell can only resolve what the module graph already
// pins: it never fetches a "@latest" version. The go command first on the
// kernel's PATH is a link to the toolchain go.mod needs (found when the tools
// are built, e.g. in the module cache under GOTOOLCHAIN=go1.27.3), so cells
// compile with the project's toolchain and nothing is downloaded at cell time.
//
// Kernel death is detected both by the heartbeat channel and by the kernel
// process exiting; either way every pending call returns a [*DeadError]
// instead of hanging. Cells can be given a timeout ([Options.CellTimeout] or a
// context deadline): the cell is interrupted and [ErrCellTimeout] returned.
//
// This package knows nothing about models (data flows one way: data → model →
// train → plots → notebook/REPL).
package kernel
