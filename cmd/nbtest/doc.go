// Command nbtest executes GoNB notebooks top to bottom, each in a fresh
// kernel, and fails on anything a reader of the notebook would call broken.
//
// Usage:
//
//	nbtest [--write] [--timeout D] [--quick=true] [--kernel-log FILE] [paths or globs...]
//	nbtest --install-kernel [--kernel-name convnotes-go] [--jupyter-dir DIR]
//
// With no paths it runs notebooks/*.ipynb. A directory stands for the
// notebooks in it. Flags come before the paths. The last line printed is
// exactly "N passed, N failed"; the exit status is 1 when any notebook failed
// and 2 on a usage error. An empty set of notebooks prints "0 passed, 0 failed"
// and exits 0. SIGINT, SIGTERM or SIGHUP stops the running cell, shuts its
// kernel down (the kernel's folder removed) and starts no other notebook;
// nbtest then exits with 128 + the signal's number (143 for SIGTERM).
//
// The kernel gets CONVNOTES_QUICK=1 in the quick profile (the default, as in
// CI) and CONVNOTES_QUICK=0 with --quick=false; notebooks read it to shrink
// their experiments. The kernel's working directory is the notebook's folder.
//
// A notebook fails on: invalid notebook JSON or a notebook that breaks the
// nbformat 4 schema (Jupyter refuses those: missing fields or cell ids, tags
// with commas, ...); a notebook for another language's kernel ("not a Go
// notebook"); a cell line longer than kernel.MaxLineBytes; a compile error; a panic; a
// program that exits non-zero; a "!" or %%bash shell command that exits
// non-zero (GoNB itself only prints "exit status N" there); kernel death; a
// cell running past its timeout; or an expectation declared in the cell's
// tags or "nbtest" metadata that is not met. Execution stops at the first cell that
// fails to run (later cells depend on it); expectation failures are all
// reported. Each failure names the notebook, the cell number (1-based,
// counting every cell, as the REPL's :list does), the cell's first lines and
// the error text: at most 40 lines of at most 300 bytes each, and for an
// output that does not match, its last 10 lines and its size.
//
// A cell ends when its program ends; on Linux whatever it left running
// (background children, setsid ones included) is killed then (see package
// kernel).
//
// --write saves each executed notebook in place with its new outputs (images
// included) as nbformat 4 JSON, keeping cell ids and metadata; cells that were
// skipped keep their old outputs. A notebook named through a symbolic link is
// written to the link's target; the link stays.
//
// --install-kernel writes the Jupyter kernelspec (kernel.json, named convnotes-go)
// that runs the pinned gonb, with the pinned gopls, on this checkout (make
// kernel), and prints where it went, where its kernels log and how to remove it.
//
// # Cell tags
//
// Tags live in the cell metadata ("metadata": {"tags": [...]}; JupyterLab:
// property inspector → Cell Tags). Every tag starting with "nbtest:" must be
// one of these, or the notebook fails (a typo must not silently disable a check):
//
//	nbtest:skip             do not run the cell (its saved outputs are kept)
//	nbtest:skip-quick       do not run the cell in the quick profile
//	nbtest:allow-error      the cell may fail; later cells still run
//	nbtest:expect-error     the cell must fail (e.g. it shows a compile error)
//	nbtest:expect-png       the cell must display an image/png output
//	nbtest:expect-mime=T    the cell must display an output of MIME type T
//	nbtest:expect=REGEX     the cell's text output (streams, errors, and the
//	                        text/plain, text/markdown, text/html of displays)
//	                        must match the Go regular expression REGEX
//	nbtest:timeout=D        this cell's timeout (a Go duration, e.g. 90s) in the
//	                        quick profile; with --quick=false the larger of D
//	                        and --timeout (full-profile cells take longer)
//
// Several expect patterns must all match.
//
// nbformat forbids commas in tags, so patterns that need one (and, for
// uniformity, every pattern in the project's notebooks) go into the cell's
// metadata instead:
//
//	"metadata": {"tags": ["nbtest:expect-png"], "nbtest": {"expect": ["REGEX", "REGEX, with a comma"]}}
//
// The "nbtest" object accepts only "expect"; anything else is an error.
// expect-to-metadata.jq converts nbtest:expect= tags into this form.
package main
