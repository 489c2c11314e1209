package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

func init() {
	commands["reproduce"] = command{"run reproductions and write the results table and figures", reproduceCmd}
	commands["list"] = command{"list the registered reproductions", listCmd}
}

func reproduceCmd(args []string) error {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "quick profile: small data and few steps (also CONVNOTES_QUICK=1); same as --profile quick")
	profileName := fs.String("profile", "", "quick, full (default) or paper: the papers' own data and schedules, for users with the data sets and a GPU (also CONVNOTES_PROFILE)")
	out := fs.String("out", "out", "output folder for results.md, results.json and the figures")
	backendName := fs.String("backend", "", "backend: go (default), go:<options>, xla:cpu, xla:cuda (also GOMLX_BACKEND)")
	all := fs.Bool("all", false, "with no names: also run the long experiments (their full profile exceeds the main job's budget)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convnotes reproduce [names or sections or globs…] [--quick | --profile P] [--out DIR] [--backend NAME]")
		fs.PrintDefaults()
	}
	names, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	profile := train.CurrentProfile()
	if *quick {
		profile = train.ProfileQuick
	}
	if *profileName != "" {
		if profile, err = train.ParseProfile(*profileName); err != nil {
			return fmt.Errorf("%w: --profile: %v", errUsage, err)
		}
		if *quick && profile != train.ProfileQuick {
			return fmt.Errorf("%w: --quick contradicts --profile %s", errUsage, profile)
		}
	}
	train.SetProfile(profile)
	exps, err := reproduce.Select(sections(), names...)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var skipped []reproduce.Experiment
	if len(names) == 0 && !*all {
		exps, skipped = reproduce.MainJob(exps, profile == train.ProfileQuick)
	}
	env, err := reproduce.NewEnv(*backendName, *out)
	if err != nil {
		return err
	}
	// Last of the checks, as it creates the folder: a bad flag or name leaves nothing behind.
	if err := checkOutDir(*out); err != nil {
		return err
	}
	fmt.Printf("convnotes reproduce: %d experiment(s), %s profile, %s\n", len(exps), profile, backend.Describe(env.Backend))
	start := time.Now()
	rows := append(reproduce.Run(env, exps), reproduce.SkippedRows(skipped)...)
	fmt.Println()
	if err := reproduce.WriteText(os.Stdout, rows); err != nil {
		return err
	}
	run := reproduce.RunInfo{Finished: time.Now().UTC(),
		Command: strings.Join(append(append([]string{"convnotes", "reproduce"}, names...), flags(profile, *all, *out)...), " "),
		Profile: profile, Backend: backend.Describe(env.Backend), Seconds: time.Since(start).Seconds(), Names: names, All: *all,
		Machine: machine()}
	mdPath := filepath.Join(*out, "results.md")
	if err := writeResultsMarkdown(mdPath, rows, run, *out); err != nil {
		return err
	}
	jsonPath := filepath.Join(*out, reproduce.ResultsFileName)
	if err := reproduce.NewResults(run, sections(), rows, *out).WriteFile(jsonPath); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s, %s and %d figure(s) under %s (%.0fs)\n", mdPath, jsonPath, countFigures(rows), *out, time.Since(start).Seconds())
	if n := reproduce.Failures(rows); n > 0 {
		return fmt.Errorf("%d of %d experiment(s) failed", n, len(rows))
	}
	return nil
}

// flags are the command line's flags as results.md records them.
func flags(profile train.Profile, all bool, out string) []string {
	var f []string
	if profile == train.ProfileQuick {
		f = append(f, "--quick")
	} else if profile != train.ProfileFull {
		f = append(f, "--profile", string(profile))
	}
	if all {
		f = append(f, "--all")
	}
	return append(f, "--out", out)
}

// machine describes where this process runs: OS and architecture, CPUs, Go version and the GOEXPERIMENT it
// was built with.
func machine() string {
	m := fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOEXPERIMENT" && s.Value != "" {
				m += ", GOEXPERIMENT=" + s.Value
			}
		}
	}
	return m
}

// resultsHeader is results.md's first lines: when, how, in which profile and on which backend the run was
// measured; a quick-profile run says that its verdicts are indicative.
func resultsHeader(run reproduce.RunInfo) string {
	h := fmt.Sprintf("# convnotes results\n\nMeasured %s with `%s` (%s profile, %s; %s), %.0fs in all.",
		run.Finished.Format("2006-01-02 15:04 UTC"), run.Command, run.Profile, run.Backend, run.Machine, run.Seconds)
	if run.Profile == train.ProfileQuick {
		h += " The quick profile trains on reduced data for a few steps and one seed: its verdicts are indicative " +
			"only (marked so); the full profile's (`make run`) are the ones that count."
	}
	return h
}

func writeResultsMarkdown(path string, rows []reproduce.Row, run reproduce.RunInfo, outDir string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if err := reproduce.WriteMarkdown(f, rows, resultsHeader(run), outDir); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func countFigures(rows []reproduce.Row) int {
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
	for _, e := range reproduce.All(sections()...) {
		fmt.Printf("%-18s §%s  %s\n%-18s       paper: %s\n", e.Name, e.Section, e.Paper, "", e.PaperValue)
	}
	return nil
}
