package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/convnotes/convnotes/kernel"
	"github.com/convnotes/convnotes/repl"
)

func init() {
	commands["repl"] = command{"step through the papers' notebooks in a terminal, on a GoNB kernel", replCmd}
}

// replCmd runs the terminal REPL: "convnotes repl [--quick] [--images DIR] [notebook.ipynb]".
func replCmd(args []string) error {
	cfg, err := replConfig(args)
	if err != nil {
		return err
	}
	return repl.Run(context.Background(), cfg)
}

// replConfig parses the REPL's flags into its configuration. The profile follows CONVNOTES_QUICK, as the
// notebooks and nbtest do, unless --quick says otherwise; the kernel completes Go through gopls.
func replConfig(args []string) (repl.Config, error) {
	fs := flag.NewFlagSet("repl", flag.ContinueOnError)
	quick := fs.Bool("quick", repl.QuickFromEnv(), "quick profile: CONVNOTES_QUICK=1 in the kernel (default from $CONVNOTES_QUICK)")
	images := fs.String("images", "", "folder for images the terminal cannot draw (default: your private $TMPDIR/convnotes-repl-images-UID)")
	history := fs.String("history", "", "history file (default: <user cache>/convnotes/repl_history)")
	timeout := fs.Duration("timeout", 0, "per-cell timeout (0: none; Ctrl-C interrupts)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convnotes repl [--quick] [--images DIR] [--history FILE] [--timeout D] [notebook.ipynb]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return repl.Config{}, err
		}
		return repl.Config{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 1 {
		return repl.Config{}, fmt.Errorf("%w: at most one notebook, got %q", errUsage, fs.Args())
	}
	if *timeout < 0 {
		return repl.Config{}, fmt.Errorf("%w: --timeout must not be negative", errUsage)
	}
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		return repl.Config{}, err
	}
	return repl.Config{
		HistoryFile: *history,
		ImageDir:    *images,
		Open:        fs.Arg(0),
		Kernel: kernel.Options{
			ModuleRoot:  root,
			Env:         repl.ProfileEnv(*quick),
			CellTimeout: *timeout,
			Completion:  true,
		},
	}, nil
}
