package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/convnotes/convnotes/kernel"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs nbtest with args and returns the exit status.
func realMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nbtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	write := fs.Bool("write", false, "save executed notebooks with their outputs")
	timeout := fs.Duration("timeout", 10*time.Minute, "per-cell timeout (tag nbtest:timeout=D overrides it)")
	quick := fs.Bool("quick", true, "quick profile: CONVNOTES_QUICK=1 in the kernel")
	kernelLog := fs.String("kernel-log", "", "append the kernels' own logs to this file")
	install := fs.Bool("install-kernel", false, "install the Jupyter kernelspec for this checkout and exit")
	kernelName := fs.String("kernel-name", kernel.KernelSpecName, "kernelspec name for --install-kernel (the notebooks name "+kernel.KernelSpecName+")")
	jupyterDir := fs.String("jupyter-dir", "", "Jupyter data dir for --install-kernel (default $JUPYTER_DATA_DIR or the user's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nbtest [--write] [--timeout D] [--quick=true] [--kernel-log FILE] [paths or globs...]")
		fmt.Fprintln(stderr, "       nbtest --install-kernel [--kernel-name "+kernel.KernelSpecName+"] [--jupyter-dir DIR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "nbtest: --timeout must be positive")
		return 2
	}
	ctx, stopped, stop := stopOnSignals()
	defer stop()
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		fmt.Fprintf(stderr, "nbtest: %v\n", err)
		return 2
	}
	if *install {
		inst, err := kernel.InstallKernelSpec(ctx, root, "", *jupyterDir, *kernelName)
		if err != nil {
			fmt.Fprintf(stderr, "nbtest: %v\n", err)
			return 1
		}
		printInstallation(stdout, inst)
		return 0
	}
	cfg := config{quick: *quick, write: *write, timeout: *timeout, moduleRoot: root, out: stdout}
	if *kernelLog != "" {
		f, err := os.OpenFile(*kernelLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "nbtest: kernel log: %v\n", err)
			return 2
		}
		defer func() { _ = f.Close() }()
		cfg.kernelLog = f
	}
	passed, failed, err := run(ctx, cfg, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "nbtest: %v\n", err)
		failed++
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if sig := stopped(); sig != 0 {
		return 128 + int(sig)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// stopOnSignals returns a context cancelled by SIGINT, SIGTERM or SIGHUP, a
// function returning the signal that cancelled it (0: none), and one that
// stops catching them. The signals stay caught until then, so that a second
// one cannot cut the kernels' clean-up short; nbtest then exits with status
// 128 + the signal's number (143 for SIGTERM), as the signal would have.
func stopOnSignals() (ctx context.Context, stopped func() syscall.Signal, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var got atomic.Int32
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			s, _ := sig.(syscall.Signal)
			got.Store(int32(s))
			cancel(fmt.Errorf("stopped by %v", sig))
		case <-done:
		}
	}()
	return ctx, func() syscall.Signal { return syscall.Signal(got.Load()) }, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
