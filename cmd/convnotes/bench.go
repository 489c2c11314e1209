package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/bench"
)

func init() {
	commands["bench"] = command{
		help: "train/infer the small CNN and ResNet-20: project layers vs GoMLX stock vs PyTorch",
		run:  benchCmd,
	}
}

// benchCmd runs `convnotes bench`: see package bench.
func benchCmd(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "CI-sized run: batch 8, one round, one timed step per column")
	modelsFlag := fs.String("models", "", "comma-separated models: lenet (the small CNN), resnet20 (default both)")
	modesFlag := fs.String("modes", "", "comma-separated modes: train, infer (default both)")
	columnsFlag := fs.String("columns", "", "comma-separated columns: project, stock, torch (default all)")
	batchLeNet := fs.Int("batch-lenet", 0, "batch of the small CNN (default 64, 8 with --quick)")
	batchResNet := fs.Int("batch-resnet", 0, "batch of ResNet-20 (default 128, 8 with --quick)")
	rounds := fs.Int("rounds", 0, "interleaving rounds (default 3, 1 with --quick)")
	warmup := fs.Int("warmup", -1, "warm-up steps per column (default 1)")
	minSeconds := fs.Float64("min-seconds", -1, "time each column at least this long per round (default 3)")
	maxSteps := fs.Int("max-steps", 0, "at most this many timed steps per column per round (default 20)")
	backendName := fs.String("backend", "", "GoMLX backend for the Go columns (default: the embedded go backend)")
	python := fs.String("python", "", "Python interpreter with torch (default /usr/bin/python3)")
	script := fs.String("torch-script", "", "path of torch_bench.py (default scripts/torch_bench.py, searched upwards)")
	threads := fs.Int("threads", 0, "torch.set_num_threads for PyTorch (default 2)")
	torchDevice := fs.String("torch-device", "cpu", "device of the PyTorch column (cpu or cuda)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if err := checkListFlags(fs, "models", "modes", "columns"); err != nil {
		return err
	}
	cfg := bench.DefaultConfig()
	if *quick {
		cfg = bench.QuickConfig()
	}
	if *modelsFlag != "" {
		cfg.Models = splitList(*modelsFlag)
	}
	if *modesFlag != "" {
		cfg.Modes = splitList(*modesFlag)
	}
	if *columnsFlag != "" {
		cfg.Columns = splitList(*columnsFlag)
	}
	if cfg.Batch == nil {
		cfg.Batch = map[string]int{}
	}
	if *batchLeNet > 0 {
		cfg.Batch[bench.SmallCNN] = *batchLeNet
	}
	if *batchResNet > 0 {
		cfg.Batch[bench.ResNet20] = *batchResNet
	}
	if *rounds > 0 {
		cfg.Rounds = *rounds
	}
	if *warmup >= 0 {
		cfg.Warmup = *warmup
	}
	if *minSeconds >= 0 {
		cfg.MinSeconds = *minSeconds
	}
	if *maxSteps > 0 {
		cfg.MaxSteps = *maxSteps
		cfg.MinSteps = min(cfg.MinSteps, cfg.MaxSteps)
	}
	if *python != "" {
		cfg.Torch.Python = *python
	}
	if *script != "" {
		cfg.Torch.Script = *script
	}
	if *threads > 0 {
		cfg.Torch.Threads = *threads
	}
	cfg.Torch.Device = *torchDevice
	cfg.Progress = func(line string) { fmt.Fprintln(os.Stderr, line) }
	if err := checkBenchFlags(cfg, *batchLeNet, *batchResNet, *rounds, *maxSteps, *threads); err != nil {
		return err
	}

	be, err := backend.New(*backendName)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	host, _ := os.Hostname()
	fmt.Printf("convnotes bench — %s — %s, %d CPUs visible — %s\n", time.Now().Format("2006-01-02 15:04 MST"), host,
		runtime.NumCPU(), backend.Describe(be))
	report, err := bench.Run(ctx, be, cfg)
	if report != nil && len(report.Measurements) > 0 {
		if werr := report.Write(os.Stdout); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// checkBenchFlags rejects flag values bench.Run would refuse, as usage errors
// (exit status 2) before anything starts.
func checkBenchFlags(cfg bench.Config, ints ...int) error {
	for _, set := range []struct {
		flag   string
		values []string
		known  []string
	}{
		{"--models", cfg.Models, []string{bench.SmallCNN, bench.ResNet20}},
		{"--modes", cfg.Modes, []string{bench.Train, bench.Infer}},
		{"--columns", cfg.Columns, []string{bench.ColumnProject, bench.ColumnStock, bench.ColumnTorch}},
		{"--torch-device", []string{cfg.Torch.Device}, []string{"cpu", "cuda"}},
	} {
		for _, v := range set.values {
			if !slices.Contains(set.known, v) {
				return fmt.Errorf("%w: %s: unknown value %q (want %s)", errUsage, set.flag, v, strings.Join(set.known, ", "))
			}
		}
	}
	for _, n := range ints {
		if n < 0 {
			return fmt.Errorf("%w: batch, rounds, max-steps and threads must not be negative", errUsage)
		}
	}
	return nil
}

// checkListFlags rejects list flags that were given but name nothing
// (an empty --models), which would otherwise silently mean all.
func checkListFlags(fs *flag.FlagSet, names ...string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && slices.Contains(names, f.Name) && len(splitList(f.Value.String())) == 0 {
			err = fmt.Errorf("%w: --%s is empty; name at least one, or leave the flag out for all", errUsage, f.Name)
		}
	})
	return err
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
