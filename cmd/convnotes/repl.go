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
	fs := flag.NewFlagSet("repl", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "quick profile: CONVNOTES_QUICK=1 in the kernel")
	images := fs.String("images", "", "folder for images the terminal cannot draw (default: your private $TMPDIR/convnotes-repl-images-UID)")
	history := fs.String("history", "", "history file (default: <user cache>/convnotes/repl_history)")
	timeout := fs.Duration("timeout", 0, "per-cell timeout (0: none; Ctrl-C interrupts)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convnotes repl [--quick] [--images DIR] [--history FILE] [--timeout D] [notebook.ipynb]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("%w: at most one notebook, got %q", errUsage, fs.Args())
	}
	if *timeout < 0 {
		return fmt.Errorf("%w: --timeout must not be negative", errUsage)
	}
	root, err := kernel.FindModuleRoot(".")
	if err != nil {
		return err
	}
	q := "0"
	if *quick {
		q = "1"
	}
	cfg := repl.Config{
		HistoryFile: *history,
		ImageDir:    *images,
		Open:        fs.Arg(0),
		Kernel: kernel.Options{
			ModuleRoot:  root,
			Env:         []string{"CONVNOTES_QUICK=" + q},
			CellTimeout: *timeout,
		},
	}
	return repl.Run(context.Background(), cfg)
}
