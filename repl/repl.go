// Package repl is a terminal REPL on a GoNB kernel, made to step through
// the papers' notebooks: ":open notebooks/NN_name.ipynb", then ":next" shows
// each markdown cell as readable text and shows then runs each code cell.
// Go snippets typed at the prompt run as GoNB cells (with %magics and !shell
// lines), continuing over several lines until the snippet is complete.
//
// Ctrl-C interrupts the running cell and keeps the session; Ctrl-D shuts the
// kernel down; a dead kernel is reported and restarted; SIGTERM or SIGHUP
// (terminal closed) shuts it down and ends the REPL as the signal would.
// Images are drawn inline on kitty, iTerm2 and sixel terminals, else saved
// to the user's private folder and their paths printed. Notebooks for other
// kernels than Go are refused. When standard input is not a terminal the REPL reads
// commands and snippets line by line without prompts, so scripts and tests
// can drive it.
package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chzyer/readline"
	"github.com/convnotes/convnotes/kernel"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// Config configures Run.
type Config struct {
	// In, Out and Err default to the process's standard streams.
	In       io.Reader
	Out, Err io.Writer
	// HistoryFile keeps the prompt history. Empty: <user cache>/convnotes/repl_history.
	HistoryFile string
	// ImageDir receives images the terminal cannot draw. Empty: the user's
	// private <temp>/convnotes-repl-images-<uid> (mode 0700, files 0600).
	ImageDir string
	// Open is a notebook to open at start.
	Open string
	// Kernel configures the kernel (its Dir is set to the open notebook's folder).
	Kernel kernel.Options
}

// ErrFailed is returned (wrapped) by Run in non-interactive mode when a
// snippet or cell failed, so scripts see the failure in the exit status.
var ErrFailed = errors.New("repl: some cells failed")

// REPL is one session: a kernel, an optional open notebook and the terminal.
type REPL struct {
	cfg         Config
	kmu         sync.Mutex // guards k, read by the termination watch
	k           *kernel.Kernel
	rend        *renderer
	interactive bool
	term        *termination
	pending     []string
	failures    int

	nb     *nbformat.Notebook
	nbPath string
	pos    int // index of the cell last shown; -1 before the first
}

// Run starts a kernel and runs the REPL until Ctrl-D, :quit or the end of
// the input; the kernel is shut down on the way out.
func Run(ctx context.Context, cfg Config) error {
	if cfg.In == nil {
		cfg.In = os.Stdin
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Err == nil {
		cfg.Err = os.Stderr
	}
	r := &REPL{cfg: cfg, interactive: isTerminal(cfg.In) && isTerminal(cfg.Out), pos: -1}
	r.rend = &renderer{out: cfg.Out, errOut: cfg.Err, st: plainStyle, width: 80,
		images: DetectImageMode(r.interactive), imageDir: cfg.ImageDir}
	if r.interactive {
		r.rend.st = ansiStyle
		if w := readline.GetScreenWidth(); w > 20 {
			r.rend.width = min(w, 100)
		}
	}
	dir := cfg.Kernel.Dir
	if cfg.Open != "" {
		if abs, err := filepath.Abs(cfg.Open); err == nil {
			dir = filepath.Dir(abs)
		}
	}
	if r.interactive {
		if tty, ok := cfg.In.(*os.File); ok {
			defer takeTerminal(tty)()
		}
		fmt.Fprintln(cfg.Out, "starting the GoNB kernel… (:help for help, Ctrl-D to quit)")
	}
	// Deferred first, so run last: the signals stay caught during the clean-up.
	r.term = watchTermination(r)
	defer r.term.stop()
	if err := r.startKernel(ctx, dir); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
		defer cancel()
		_ = r.kernel().Shutdown(sctx)
	}()
	if cfg.Open != "" {
		r.open(ctx, cfg.Open)
	}
	var err error
	if r.interactive {
		err = r.loopInteractive(ctx)
	} else {
		err = r.loopLines(ctx)
	}
	if err != nil {
		return err
	}
	if !r.interactive && r.failures > 0 {
		return fmt.Errorf("%w: %d", ErrFailed, r.failures)
	}
	return nil
}

// isTerminal reports whether v is a terminal file.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}

// isDir reports whether path is a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// startKernel (re)starts the kernel in dir.
func (r *REPL) startKernel(ctx context.Context, dir string) error {
	if old := r.kernel(); old != nil {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = old.Shutdown(sctx)
		cancel()
	}
	opts := r.cfg.Kernel
	opts.Dir = dir
	k, err := kernel.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("repl: %w", err)
	}
	r.kmu.Lock()
	r.k = k
	r.kmu.Unlock()
	return nil
}

// kernel returns the current kernel (nil before the first start).
func (r *REPL) kernel() *kernel.Kernel {
	r.kmu.Lock()
	defer r.kmu.Unlock()
	return r.k
}

// shutdownWait bounds the wait for the kernel's shutdown and clean-up
// (Kernel.Shutdown itself takes at most about 15 s).
const shutdownWait = 30 * time.Second

// prompt returns the prompt for the next line.
func (r *REPL) prompt() string {
	if len(r.pending) > 0 {
		return "...  "
	}
	if r.nb != nil {
		return fmt.Sprintf("%s[%d/%d]> ", filepath.Base(r.nbPath), r.pos+1, len(r.nb.Cells))
	}
	return "go> "
}

// loopInteractive reads lines with readline: history, completion, Ctrl-C/Ctrl-D.
func (r *REPL) loopInteractive(ctx context.Context) error {
	history := r.cfg.HistoryFile
	if history == "" {
		if c, err := os.UserCacheDir(); err == nil {
			history = filepath.Join(c, "convnotes", "repl_history")
			_ = os.MkdirAll(filepath.Dir(history), 0o755)
		}
	}
	if history != "" {
		privateFile(history)
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            r.prompt(),
		HistoryFile:       history,
		AutoComplete:      &completer{r: r},
		InterruptPrompt:   "^C",
		EOFPrompt:         "",
		HistorySearchFold: true,
		Stdout:            r.cfg.Out,
		Stderr:            r.cfg.Err,
	})
	if err != nil {
		return fmt.Errorf("repl: terminal: %w", err)
	}
	defer closeReadline(rl)
	for {
		rl.SetPrompt(r.prompt())
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			r.pending = nil // Ctrl-C at the prompt drops the unfinished snippet
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(r.cfg.Out, "shutting the kernel down")
			return nil
		case err != nil:
			return fmt.Errorf("repl: read: %w", err)
		}
		if r.handleLine(ctx, line) {
			return nil
		}
	}
}

// privateFile creates path readable by its owner only, or makes it so: the
// history holds the code typed at the prompt (readline would create it 0644).
func privateFile(path string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		_ = f.Close()
	}
	_ = os.Chmod(path, 0o600)
}

// loopLines reads lines from a non-terminal input, without prompts.
func (r *REPL) loopLines(ctx context.Context) error {
	sc := bufio.NewScanner(r.cfg.In)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if r.handleLine(ctx, sc.Text()) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("repl: read input: %w", err)
	}
	if len(r.pending) > 0 { // the input ended inside a snippet: run what there is
		code := strings.Join(r.pending, "\n")
		r.pending = nil
		r.execute(ctx, autoMain(code))
	}
	return nil
}

// handleLine processes one input line; it returns true to quit.
func (r *REPL) handleLine(ctx context.Context, line string) bool {
	trimmed := strings.TrimSpace(line)
	if len(r.pending) == 0 {
		if trimmed == "" {
			return false
		}
		if strings.HasPrefix(trimmed, ":") {
			return r.command(ctx, trimmed)
		}
	}
	r.pending = append(r.pending, line)
	if !snippetComplete(r.pending) {
		return false
	}
	code := strings.Join(r.pending, "\n")
	r.pending = nil
	r.execute(ctx, autoMain(code))
	return false
}

// autoMain prefixes GoNB's "%%" (main body) marker to a typed snippet made
// of statements, so "fmt.Println(x)" runs as it would in a main function.
// Declarations, magics, shell lines and snippets that already have "%%" are
// left alone.
func autoMain(code string) string {
	for _, l := range strings.Split(code, "\n") {
		if strings.TrimSpace(l) == "%%" {
			return code
		}
	}
	first := strings.TrimSpace(code)
	for _, p := range []string{"%", "!", "import", "func", "type", "var", "const", "package", "//", "/*"} {
		if strings.HasPrefix(first, p) {
			return code
		}
	}
	return "%%\n" + code
}

// execute runs code in the kernel, printing its outputs. Ctrl-C (SIGINT)
// interrupts the cell; a dead kernel is reported and restarted. It returns
// the cell's failure, if any.
func (r *REPL) execute(ctx context.Context, code string) error {
	if err := r.k.Err(); err != nil {
		r.restartDead(ctx, err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		// GoNB interrupts only a running program, not the compiler: after a
		// Ctrl-C, repeat the interrupt every 2 s until the cell is over.
		var again <-chan time.Time
		interrupt := func() {
			ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := r.k.Interrupt(ictx); err != nil {
				fmt.Fprintf(r.cfg.Err, "interrupt failed: %v\n", err)
			}
			cancel()
			again = time.After(2 * time.Second)
		}
		for {
			select {
			case <-sigs:
				fmt.Fprintln(r.cfg.Err, "^C — interrupting the cell")
				interrupt()
			case <-again:
				interrupt()
			case <-done:
				return
			}
		}
	}()
	r.rend.startCell()
	res, err := r.k.Execute(ctx, code, r.rend.output)
	signal.Stop(sigs)
	close(done)
	if err != nil {
		r.failures++
		var dead *kernel.DeadError
		switch {
		case r.term != nil && r.term.terminating():
			// Shut down on SIGTERM or SIGHUP: the REPL is ending, nothing to say.
		case errors.As(err, &dead):
			r.restartDead(ctx, err)
		default:
			fmt.Fprintf(r.cfg.Err, "%v\n", err)
		}
		return err
	}
	if cellErr := res.Err(); cellErr != nil {
		r.failures++
		return cellErr
	}
	return nil
}

// restartDead reports a dead kernel and starts a new one, unless the REPL
// is ending on a signal (which shut the kernel down).
func (r *REPL) restartDead(ctx context.Context, err error) {
	if r.term != nil && r.term.terminating() {
		return
	}
	var dead *kernel.DeadError
	reason := err.Error()
	if errors.As(err, &dead) {
		reason = dead.Reason
	}
	fmt.Fprintf(r.cfg.Err, "kernel died (%s); restarting it — definitions are lost\n", reason)
	if rerr := r.k.Restart(ctx); rerr != nil {
		fmt.Fprintf(r.cfg.Err, "restart failed: %v\n", rerr)
	}
}

// command runs a ":" command; it returns true to quit.
func (r *REPL) command(ctx context.Context, line string) bool {
	name, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case ":quit", ":q", ":exit":
		return true
	case ":help", ":h", ":?":
		r.help()
	case ":open", ":o":
		if arg == "" {
			fmt.Fprintln(r.cfg.Err, "usage: :open notebooks/NN_name.ipynb")
			break
		}
		r.open(ctx, arg)
	case ":next", ":n":
		if !r.needNotebook() {
			break
		}
		if r.pos+1 >= len(r.nb.Cells) {
			fmt.Fprintln(r.cfg.Out, "(end of the notebook)")
			break
		}
		r.pos++
		r.showCell(ctx, r.pos, true)
	case ":run", ":r":
		if !r.needNotebook() {
			break
		}
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > len(r.nb.Cells) {
			fmt.Fprintf(r.cfg.Err, "usage: :run N, with N from 1 to %d\n", len(r.nb.Cells))
			break
		}
		r.pos = n - 1
		r.showCell(ctx, r.pos, true)
	case ":back", ":b":
		if !r.needNotebook() {
			break
		}
		if r.pos <= 0 {
			fmt.Fprintln(r.cfg.Out, "(at the first cell)")
			r.pos = -1
			break
		}
		r.pos--
		r.showCell(ctx, r.pos, false)
	case ":list", ":l":
		if r.needNotebook() {
			r.list()
		}
	case ":where", ":w":
		r.where()
	case ":restart":
		if err := r.k.Restart(ctx); err != nil {
			fmt.Fprintf(r.cfg.Err, "restart failed: %v\n", err)
		} else {
			fmt.Fprintln(r.cfg.Out, "kernel restarted")
		}
	default:
		fmt.Fprintf(r.cfg.Err, "unknown command %s (:help lists them)\n", name)
	}
	return false
}

// help prints the commands.
func (r *REPL) help() {
	w := r.cfg.Out
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %-6s %s\n", c.name, c.args, c.help)
	}
	_, _ = io.WriteString(w, `Anything else is a GoNB cell: Go declarations, statements (run as the body of
main), "%%" blocks, %magics and !shell lines. A snippet continues on the next
line until its brackets close; a %%bash cell ends with an empty line.
Tab completes commands, notebook paths and Go (through the kernel).
Ctrl-C interrupts a running cell; Ctrl-D quits.
`)
}

// needNotebook reports whether a notebook is open, and says so if not.
func (r *REPL) needNotebook() bool {
	if r.nb == nil {
		fmt.Fprintln(r.cfg.Err, "no notebook open: :open notebooks/NN_name.ipynb")
		return false
	}
	return true
}

// open loads a notebook and moves the kernel to its folder (fresh state).
func (r *REPL) open(ctx context.Context, path string) {
	nb, err := nbformat.ReadFile(path)
	if err != nil {
		fmt.Fprintf(r.cfg.Err, "%v\n", err)
		return
	}
	if err := nb.CheckGo(); err != nil {
		fmt.Fprintf(r.cfg.Err, "%s: %v\n", path, err)
		return
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		fmt.Fprintf(r.cfg.Err, "%v\n", err)
		return
	}
	if err := r.startKernel(ctx, filepath.Dir(abs)); err != nil {
		fmt.Fprintf(r.cfg.Err, "%v\n", err)
		return
	}
	r.nb, r.nbPath, r.pos = nb, path, -1
	code := 0
	for _, c := range nb.Cells {
		if c.Type == nbformat.CellCode {
			code++
		}
	}
	fmt.Fprintf(r.cfg.Out, "opened %s: %d cells (%d code) in a fresh kernel — :next steps through, :list lists\n",
		path, len(nb.Cells), code)
}

// showCell prints cell i; code cells are run when run is set.
func (r *REPL) showCell(ctx context.Context, i int, run bool) {
	c := r.nb.Cells[i]
	st, w := r.rend.st, r.cfg.Out
	title := fmt.Sprintf("── [%d/%d] %s ", i+1, len(r.nb.Cells), c.Type)
	fmt.Fprintf(w, "%s%s%s%s\n", st.dim, title, strings.Repeat("─", max(0, min(r.rend.width, 60)-runeLen(title))), st.reset)
	switch c.Type {
	case nbformat.CellMarkdown:
		fmt.Fprintln(w, renderMarkdown(c.Source, st, r.rend.width))
	case nbformat.CellCode:
		for _, l := range strings.Split(strings.TrimRight(c.Source, "\n"), "\n") {
			fmt.Fprintf(w, "%s│%s %s\n", st.dim, st.reset, l)
		}
		if run && strings.TrimSpace(c.Source) != "" {
			fmt.Fprintf(w, "%s▶ running…%s\n", st.dim, st.reset)
			if err := r.execute(ctx, c.Source); err == nil {
				fmt.Fprintf(w, "%s✓ cell %d done%s\n", st.dim, i+1, st.reset)
			} else {
				fmt.Fprintf(w, "%s✗ cell %d failed%s\n", st.dim, i+1, st.reset)
			}
		}
	default:
		fmt.Fprintln(w, c.Source)
	}
}

// list prints one line per cell, marking the current one.
func (r *REPL) list() {
	for i, c := range r.nb.Cells {
		mark := "  "
		if i == r.pos {
			mark = "> "
		}
		first := firstLine(c.Source)
		if runeLen(first) > 60 {
			first = string([]rune(first)[:59]) + "…"
		}
		fmt.Fprintf(r.cfg.Out, "%s%3d %-8s %s\n", mark, i+1, c.Type, first)
	}
}

// firstLine returns the first line of a cell that says what it does: not blank, and not GoNB's "%%"
// marker that starts most code cells.
func firstLine(src string) string {
	for _, l := range strings.Split(src, "\n") {
		if t := strings.TrimSpace(l); t != "" && t != "%%" {
			return t
		}
	}
	return ""
}

// where prints the notebook, the position and the current section heading.
func (r *REPL) where() {
	if r.nb == nil {
		fmt.Fprintf(r.cfg.Out, "no notebook open; kernel %s (pid %d)\n", r.k.State(), r.k.Pid())
		return
	}
	section := ""
	for i := 0; i <= r.pos && i < len(r.nb.Cells); i++ {
		c := r.nb.Cells[i]
		if c.Type != nbformat.CellMarkdown {
			continue
		}
		for _, l := range strings.Split(c.Source, "\n") {
			if m := mdHeading.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				section = m[2]
			}
		}
	}
	at := "before the first cell"
	if r.pos >= 0 {
		at = fmt.Sprintf("at cell %d of %d (%s)", r.pos+1, len(r.nb.Cells), r.nb.Cells[r.pos].Type)
	}
	fmt.Fprintf(r.cfg.Out, "%s: %s", r.nbPath, at)
	if section != "" {
		fmt.Fprintf(r.cfg.Out, ", section %q", section)
	}
	fmt.Fprintf(r.cfg.Out, "; kernel %s (pid %d)\n", r.k.State(), r.k.Pid())
}

// readlineCloseWait bounds closeReadline.
const readlineCloseWait = 2 * time.Second

// closeReadline closes the line editor, waiting at most readlineCloseWait: a
// Ctrl-D typed while a cell's last output arrives reaches the terminal outside
// raw mode, where chzyer/readline's reader takes the end-of-file as its own end
// (chzyer/readline#222) and Close then waits forever for it. The terminal is
// already back in its normal mode after the last Readline.
func closeReadline(rl *readline.Instance) {
	done := make(chan struct{})
	go func() {
		_ = rl.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(readlineCloseWait):
	}
}
