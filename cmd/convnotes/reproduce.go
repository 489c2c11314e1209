package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/experiments"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

func init() {
	commands["reproduce"] = command{"run reproductions and write the results table and figures", reproduceCmd}
	commands["list"] = command{"list the registered reproductions", listCmd}
}

func reproduceCmd(args []string) error {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	quick := fs.Bool("quick", train.Quick(), "quick profile: small data and few steps (also CONVNOTES_QUICK=1)")
	out := fs.String("out", "out", "output folder for results.md and the figures")
	backendName := fs.String("backend", "", "backend: go (default), go:<options>, xla:cpu, xla:cuda (also GOMLX_BACKEND)")
	all := fs.Bool("all", false, "with no names: also run the long experiments (their full profile exceeds the main job's budget)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convnotes reproduce [names or sections or globs…] [--quick] [--out DIR] [--backend NAME]")
		fs.PrintDefaults()
	}
	names, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutDir(*out); err != nil {
		return err
	}
	train.SetQuick(*quick)
	exps, err := experiments.Select(names...)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var skipped []experiments.Experiment
	if len(names) == 0 && !*all {
		exps, skipped = experiments.MainJob(exps, *quick)
	}
	env, err := experiments.NewEnv(*backendName, *out)
	if err != nil {
		return err
	}
	profile := "full"
	if env.Quick {
		profile = "quick"
	}
	fmt.Printf("convnotes reproduce: %d experiment(s), %s profile, %s\n", len(exps), profile, backend.Describe(env.Backend))
	start := time.Now()
	rows := append(experiments.Run(env, exps), experiments.SkippedRows(skipped)...)
	fmt.Println()
	if err := experiments.WriteText(os.Stdout, rows); err != nil {
		return err
	}
	header := fmt.Sprintf("# convnotes results\n\nMeasured %s with `%s` (%s profile, %s), %.0fs in all.",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		strings.Join(append(append([]string{"convnotes", "reproduce"}, names...), flags(env.Quick, *all)...), " "),
		profile, backend.Describe(env.Backend), time.Since(start).Seconds())
	mdPath := filepath.Join(*out, "results.md")
	f, err := os.Create(mdPath)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if err := experiments.WriteMarkdown(f, rows, header, *out); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", mdPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", mdPath, err)
	}
	fmt.Printf("\nwrote %s and %d figure(s) under %s (%.0fs)\n", mdPath, countFigures(rows), *out, time.Since(start).Seconds())
	if n := experiments.Failures(rows); n > 0 {
		return fmt.Errorf("%d of %d experiment(s) failed", n, len(rows))
	}
	return nil
}

func flags(quick, all bool) []string {
	var f []string
	if quick {
		f = append(f, "--quick")
	}
	if all {
		f = append(f, "--all")
	}
	return f
}

func countFigures(rows []experiments.Row) int {
	n := 0
	for _, r := range rows {
		if r.Result != nil {
			n += len(r.Result.Figures)
		}
	}
	return n
}

func listCmd(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: list takes no arguments", errUsage)
	}
	for _, e := range experiments.All() {
		fmt.Printf("%-18s §%s  %s\n%-18s       paper: %s\n", e.Name, e.Section, e.Paper, "", e.PaperValue)
	}
	return nil
}
