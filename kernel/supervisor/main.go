//go:build linux

// Command supervisor runs a GoNB kernel for package kernel (Linux only) and
// keeps every process the kernel starts within reach: it is a child
// subreaper (PR_SET_CHILD_SUBREAPER), so a process whose parent exits, also
// one that left the kernel's process group and session with setsid, becomes
// the supervisor's child instead of init's, and can be killed.
//
// Package kernel builds it from its embedded source and starts it as
//
//	supervisor DIR... -- PROGRAM [ARGS...]
//
// It starts PROGRAM (gonb) in a new process group with standard input
// /dev/null, and reads one-byte commands from its own standard input, a pipe
// whose only writer is the client:
//
//	r  a cell starts: watch for a cell program that ended while processes it
//	   left behind still hold its output open (GoNB waits for the end of the
//	   output before it ends the cell), and kill those processes
//	c  the cell ended: kill every process it left behind
//	end of input (the client shut the kernel down, or died however it died):
//	   kill the kernel and every process it started, remove each DIR, exit
//
// It reports on file descriptor 3, one line each: "pid N" once the kernel
// started, "clean" after each c, and "exit STATUS" when the kernel exited on
// its own; it then kills what the kernel left and exits with the kernel's
// status (128+N for signal N). SIGTERM and SIGHUP are treated as the end of
// input.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER of prctl(2).
const prSetChildSubreaper = 36

// A running cell is checked for a stuck end (a scan of /proc, about 3 ms)
// every watchFirst at first, then less and less often, down to every
// watchLast: a short cell ends at once, a long one costs little.
const (
	watchFirst = 200 * time.Millisecond
	watchLast  = time.Second
)

func main() {
	dirs, argv, ok := splitArgs(os.Args[1:])
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: supervisor DIR... -- PROGRAM [ARGS...]")
		os.Exit(2)
	}
	s := &supervisor{dirs: dirs, self: os.Getpid(), report: os.NewFile(3, "report")}
	if err := s.run(argv[0], argv); err != nil {
		fmt.Fprintf(os.Stderr, "convnotes kernel supervisor: %v\n", err)
		os.Exit(1)
	}
}

// splitArgs splits "DIR... -- PROGRAM [ARGS...]"; the folders must be absolute.
func splitArgs(args []string) (dirs, argv []string, ok bool) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:], i+1 < len(args)
		}
		if !filepath.IsAbs(a) {
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// supervisor is the state of one supervised kernel.
type supervisor struct {
	dirs   []string // the kernel's private folders, removed when the client goes
	self   int      // this process's id
	kernel int      // the kernel's process id
	report *os.File // lines to the client
	cells  int      // cells running (r minus c)
	// zombies are the kernel's children seen ended but not yet reaped by the
	// kernel at the previous check: GoNB reaps a cell's program only once its
	// output pipes are closed.
	zombies map[int]bool
}

// run starts the kernel and serves commands until the end.
func (s *supervisor) run(program string, argv []string) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return fmt.Errorf("become a child subreaper: %w", e)
	}
	// Caught, not ignored: an ignored signal would stay ignored in the
	// kernel and its cells across exec, and GoNB interrupts cells with SIGINT.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGHUP)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)

	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	pid, err := syscall.ForkExec(program, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{devNull.Fd(), os.Stdout.Fd(), os.Stderr.Fd()},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	_ = devNull.Close()
	if err != nil {
		return fmt.Errorf("start %s: %w", program, err)
	}
	s.kernel = pid
	s.say("pid " + strconv.Itoa(pid))

	commands := make(chan byte)
	go func() {
		r := bufio.NewReader(os.Stdin)
		for {
			b, err := r.ReadByte()
			if err != nil {
				close(commands)
				return
			}
			commands <- b
		}
	}()
	interval := watchFirst
	tick := time.NewTimer(interval)
	for {
		select {
		case b, ok := <-commands:
			if !ok {
				s.end(0)
			}
			switch b {
			case 'r':
				if s.cells == 0 {
					interval = watchFirst
					tick.Reset(interval)
				}
				s.cells++
			case 'c':
				if s.cells > 0 {
					s.cells--
				}
				if s.cells == 0 {
					s.killLeftovers()
					s.zombies = nil
				}
				s.say("clean")
			}
		case <-children:
			s.reap()
		case <-tick.C:
			if s.cells > 0 {
				s.watch()
				interval = min(interval*5/4, watchLast)
			}
			tick.Reset(interval)
		case sig := <-stop:
			s.end(128 + int(sig.(syscall.Signal)))
		}
	}
}

// say writes one report line; a client that is gone cannot read it anyway.
func (s *supervisor) say(line string) {
	_, _ = io.WriteString(s.report, line+"\n")
}

// end kills the kernel and everything it started, removes the kernel's
// folders and exits with code.
func (s *supervisor) end(code int) {
	s.killAll()
	for _, d := range s.dirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// reap collects every ended child; when the kernel itself ended, what it left
// is killed and the supervisor exits with the kernel's status.
func (s *supervisor) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if pid != s.kernel {
			continue
		}
		code, desc := 0, "exit status 0"
		switch {
		case ws.Exited():
			code, desc = ws.ExitStatus(), "exit status "+strconv.Itoa(ws.ExitStatus())
		case ws.Signaled():
			code, desc = 128+int(ws.Signal()), "signal: "+ws.Signal().String()
		}
		s.say("exit " + desc)
		s.killAll()
		os.Exit(code)
	}
}

// watch kills the processes a cell left behind once its program has ended
// while they keep its output open: the program is then a child of the kernel
// that has ended but is not reaped, at two checks in a row.
func (s *supervisor) watch() {
	procs := scan()
	now := map[int]bool{}
	stuck := false
	for pid, p := range procs {
		if p.ppid == s.kernel && p.state == 'Z' {
			now[pid] = true
			stuck = stuck || s.zombies[pid]
		}
	}
	s.zombies = now
	if stuck {
		s.killLeftovers()
	}
}

// killLeftovers kills the processes that lost their parent (now children of
// the supervisor, other than the kernel) and everything they started.
func (s *supervisor) killLeftovers() {
	s.killUntilNone(func(procs map[int]proc) []int {
		var roots []int
		for pid, p := range procs {
			if p.ppid == s.self && pid != s.kernel {
				roots = append(roots, pid)
			}
		}
		return descendants(procs, roots)
	})
}

// killAll kills the kernel and every process below the supervisor.
func (s *supervisor) killAll() {
	_ = syscall.Kill(-s.kernel, syscall.SIGKILL)
	s.killUntilNone(func(procs map[int]proc) []int {
		return descendants(procs, []int{s.self})[1:]
	})
}

// killUntilNone kills the processes pick returns, reaps them, and repeats
// (a process may fork while its parent is killed) until pick returns none,
// for at most about two seconds.
func (s *supervisor) killUntilNone(pick func(map[int]proc) []int) {
	for range 100 {
		var alive []int
		for _, pid := range pick(scan()) {
			if p, ok := readProc(pid); ok && p.state != 'Z' {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			s.reapOthers()
			return
		}
		for _, pid := range alive {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
		s.reapOthers()
	}
}

// reapOthers collects ended children other than the kernel, whose status
// reap must see.
func (s *supervisor) reapOthers() {
	procs := scan()
	for pid, p := range procs {
		if p.ppid == s.self && pid != s.kernel && p.state == 'Z' {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

// proc is what the supervisor needs of a process.
type proc struct {
	ppid  int
	state byte
}

// scan reads every process's parent and state from /proc.
func scan() map[int]proc {
	procs := map[int]proc{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return procs
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			procs[pid] = p
		}
	}
	return procs
}

// readProc reads /proc/PID/stat: "PID (COMM) STATE PPID ...", where COMM may
// hold spaces and parentheses.
func readProc(pid int) (proc, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return proc{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return proc{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return proc{}, false
	}
	return proc{ppid: ppid, state: f[0][0]}, true
}

// descendants returns roots and every process below them, roots first.
func descendants(procs map[int]proc, roots []int) []int {
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	out := append([]int(nil), roots...)
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}
