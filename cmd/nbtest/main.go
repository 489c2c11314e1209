package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
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
	if failed > 0 {
		return 1
	}
	return 0
}
