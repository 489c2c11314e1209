// Package kernel is a Go client of the Jupyter messaging protocol (v5.3) made
// to drive the GoNB kernel (github.com/janpfeifer/gonb) from Go: nbtest runs
// every notebook with it, and the terminal REPL steps through the papers with it.
//
// A Kernel is started with [Start]. Start builds (once, then caches) the gonb
// and goimports binaries pinned by this module's go.mod (they are Go tool
// dependencies, never installed "@latest"), creates a private folder (mode
// 0700, removed on shutdown) holding its own connection file (an HMAC-SHA256
// key, mode 0600) and the Unix sockets of the five ZeroMQ channels (shell,
// iopub, control, stdin and heartbeat), and connects them through the pure-Go
// github.com/go-zeromq/zmq4. No other user can reach the kernel; loopback TCP
// is used only on request ([Options.TCP]). When the folder's path is too long
// for a socket address (a long TMPDIR), the sockets go to a short private
// folder under /tmp instead; if even that fails, Start says in one line how to
// fix TMPDIR. It never falls back to TCP on its own.
//
// On Linux the kernel runs under a supervisor (package kernel/supervisor), a
// child subreaper: every process the kernel starts stays below it, also one
// that left the kernel's process group and session (setsid). When a cell ends,
// whatever it left running is killed; a cell whose program has ended is not
// kept busy by a child still holding its output open; and when the driving
// process shuts the kernel down or dies, even by SIGKILL, the supervisor kills
// every process of the kernel and removes its folders. Elsewhere the kernel
// runs in its own process group with a watchdog that kills the group when the
// driving process dies. Folders that a death of the supervisor itself leaves
// behind are removed by the next Start in another process.
//
// Cell programs and "!" shell commands read end-of-file from standard input
// (GoNB would keep it open until the cell's timeout). A cell with a line
// longer than [MaxLineBytes] is refused before it is sent ([ErrLineTooLong]):
// GoNB's time grows faster than linearly with a line's length.
//
// With [Options.Completion] the pinned gopls (go.mod's tool block) is built
// once and put on the kernel's PATH, where GoNB finds it and answers complete
// and inspect requests through it; [InstallKernelSpec] writes the kernelspec
// (named [KernelSpecName]) that Jupyter starts the same kernel with.
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
// [Kernel.Execute] returns only once every output of the cell has arrived
// (the iopub idle status), however long the output.
//
// This package knows nothing about models (data flows one way: data → model →
// train → plots → notebook/REPL).
package kernel
