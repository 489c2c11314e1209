// Command convnotes runs the reproductions of the classic CNN papers, checks the data, and hosts the
// benchmark and the REPL.
//
//	convnotes reproduce [names…] [--quick] [--out DIR] [--backend NAME]
//	convnotes list
//	convnotes data
//	convnotes bench [flags]
//	convnotes repl [flags]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its one-line help and its entry point (args exclude the subcommand name).
type command struct {
	help string
	run  func(args []string) error
}

// commands is filled by the init functions of this package's files, one file per subcommand.
var commands = map[string]command{}

// errUsage marks errors that are the user's (bad flags or arguments): the exit code is 2.
var errUsage = errors.New("usage")

func usage() {
	fmt.Fprintln(os.Stderr, "usage: convnotes <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].help)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'convnotes <command> -h' for the flags of a command.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "convnotes: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "convnotes %s: %s\n", os.Args[1], errorLine(os.Args[1], err))
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// parseInterleaved parses flags that may come after positional arguments ("reproduce mnist-mlp --quick").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// errorLine is err's message without a leading "<name>: " that would repeat
// the command's name after "convnotes <name>: " (packages prefix their errors
// with their own name, as package bench does).
func errorLine(name string, err error) string {
	msg := strings.TrimSpace(err.Error())
	for strings.HasPrefix(msg, name+": ") {
		msg = strings.TrimPrefix(msg, name+": ")
	}
	return msg
}
