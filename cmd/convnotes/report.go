package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/results"
)

func init() {
	commands["report"] = command{"commit a run's results and regenerate the README's results tables from them", reportCmd}
}

func reportCmd(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	from := fs.String("from", "", "make the run in this folder (its results.json, from `make run`) the committed results/results.json")
	note := fs.String("note", "", "with --from: what to say of the run in the README (e.g. \"nothing else running\")")
	collect := fs.Bool("collect-notebooks", false, "copy the closing tables of the notebooks named (default: all) from out/notebooks/NN/ "+
		"into results/notebooks, after checking each is the full-profile run the notebook shows")
	readme := fs.Bool("readme", false, "regenerate the README's results tables from the committed results")
	check := fs.Bool("check", false, "check that the README and every notebook's closing table agree with the committed results")
	rootFlag := fs.String("root", "", "the convnotes checkout (default: the one around the current folder)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convnotes report [--from DIR [--note TEXT]] [--collect-notebooks [notebooks…]] [--readme] [--check] [--root DIR]\n\n"+
			"Steps run in the order --from, --collect-notebooks, --readme, --check. `make report` is --from out --readme;\n"+
			"`make notebooks` ends with --collect-notebooks --readme.")
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *from == "" && !*collect && !*readme && !*check:
		return fmt.Errorf("%w: say what to do: --from DIR, --collect-notebooks, --readme and/or --check", errUsage)
	case len(paths) > 0 && !*collect:
		return fmt.Errorf("%w: notebooks %v named without --collect-notebooks", errUsage, paths)
	case *note != "" && *from == "":
		return fmt.Errorf("%w: --note goes with --from", errUsage)
	}
	root := *rootFlag
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if root, err = results.Root(wd); err != nil {
			return err
		}
	}
	if *from != "" {
		res, err := results.Adopt(root, *from, *note)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s: %d rows of `%s` (%s)\n", rel(root, filepath.Join(root, results.ResultsFile)), len(res.Rows),
			res.Run.Command, res.Run.Finished.Format("2006-01-02 15:04 UTC"))
	}
	if *collect {
		written, err := results.Collect(root, paths...)
		for _, w := range written {
			fmt.Printf("wrote %s\n", rel(root, w))
		}
		if err != nil {
			return err
		}
	}
	if *readme {
		if err := writeReadme(root); err != nil {
			return err
		}
	}
	if *check {
		errs := results.Check(root)
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, e)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d disagreement(s) with the committed results", len(errs))
		}
		fmt.Println("the README and the notebooks' closing tables agree with the committed results")
	}
	return nil
}

// writeReadme regenerates the README's results tables between the markers.
func writeReadme(root string) error {
	c, err := results.Load(root)
	if err != nil {
		return err
	}
	path := filepath.Join(root, results.ReadmeFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("README: %w", err)
	}
	out, err := results.Splice(string(raw), results.Tables(c))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if out == string(raw) {
		fmt.Printf("%s is up to date\n", rel(root, path))
		return nil
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		return fmt.Errorf("README: %w", err)
	}
	fmt.Printf("regenerated the results tables of %s from %s and %d notebook snapshot(s)\n", rel(root, path),
		results.ResultsFile, len(c.Snapshots))
	return nil
}

// rel is path relative to root when it lies under it.
func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
