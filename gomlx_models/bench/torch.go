package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TorchConfig says how to run the PyTorch column.
type TorchConfig struct {
	// Python is the interpreter; Debian's python3-torch lives under /usr/bin/python3.
	Python string
	// Script is scripts/torch_bench.py; if relative it is looked up from the working directory upwards.
	Script string
	// Threads for torch.set_num_threads (the issue compares on 2).
	Threads int
	// Device is "cpu" (default) or "cuda" (the script's DEV).
	Device string
	// Timeout of one invocation of the script.
	Timeout time.Duration
}

// DefaultTorchConfig runs /usr/bin/python3 scripts/torch_bench.py on 2 threads.
func DefaultTorchConfig() TorchConfig {
	return TorchConfig{Python: "/usr/bin/python3", Script: "scripts/torch_bench.py", Threads: 2, Device: "cpu",
		Timeout: 10 * time.Minute}
}

// installHint is printed when PyTorch cannot be run.
const installHint = "install Debian's PyTorch with `sudo apt-get install python3-torch` (CPU build, used through " +
	"/usr/bin/python3), or pass --python to an interpreter that has torch"

type torchRunner struct {
	cfg     TorchConfig
	script  string
	version string
}

type torchResult struct {
	steps  []time.Duration
	maxRSS uint64
}

func newTorchRunner(cfg TorchConfig) *torchRunner { return &torchRunner{cfg: cfg} }

// findScript resolves a relative script path against the working directory and its parents.
func findScript(path string) (string, error) {
	if filepath.IsAbs(path) {
		if _, err := os.Stat(path); err != nil {
			return "", err
		}
		return path, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, path)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found in the working directory or its parents", path)
		}
		dir = parent
	}
}

// check finds the script and asks the interpreter for torch's version.
func (t *torchRunner) check(ctx context.Context) error {
	script, err := findScript(t.cfg.Script)
	if err != nil {
		return fmt.Errorf("PyTorch column skipped: %w", err)
	}
	t.script = script
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, t.cfg.Python, "-c", "import torch; print(torch.__version__)").CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Errorf("PyTorch column skipped: %s cannot import torch (%v: %s); %s", t.cfg.Python, err, msg, installHint)
	}
	t.version = strings.TrimSpace(string(out))
	return nil
}

// run runs the script once: warm-up steps (on the first round), then timed steps bounded like the Go columns.
func (t *torchRunner) run(ctx context.Context, modelName, mode string, batch int, cfg Config, first bool) (*torchResult, error) {
	warmup := 1
	if first {
		warmup = max(cfg.Warmup, 1)
	}
	timeout := t.cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{t.script, modelName, mode, strconv.Itoa(max(t.cfg.Threads, 1)), strconv.Itoa(batch),
		strconv.Itoa(warmup), strconv.Itoa(cfg.MaxSteps), "--min-steps", strconv.Itoa(cfg.MinSteps),
		"--min-seconds", strconv.FormatFloat(cfg.MinSeconds, 'f', -1, 64), "--json"}
	cmd := exec.CommandContext(ctx, t.cfg.Python, args...)
	dev := t.cfg.Device
	if dev == "" {
		dev = "cpu"
	}
	cmd.Env = append(os.Environ(), "DEV="+dev)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("torch_bench.py %s %s: %w: %s", modelName, mode, err, strings.TrimSpace(stderr.String()))
	}
	return parseTorchJSON(out)
}

// torchJSON is the line the script prints with --json.
type torchJSON struct {
	Torch     string    `json:"torch"`
	StepsSecs []float64 `json:"step_seconds"`
	MaxRSSKiB uint64    `json:"maxrss_kib"`
}

// parseTorchJSON reads the script's "JSON {...}" line.
func parseTorchJSON(out []byte) (*torchResult, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "JSON ")
		if !ok {
			continue
		}
		var j torchJSON
		if err := json.Unmarshal([]byte(rest), &j); err != nil {
			return nil, fmt.Errorf("torch_bench.py output: %w", err)
		}
		if len(j.StepsSecs) == 0 {
			return nil, errors.New("torch_bench.py reported no steps")
		}
		res := &torchResult{maxRSS: j.MaxRSSKiB * 1024}
		for _, s := range j.StepsSecs {
			res.steps = append(res.steps, time.Duration(s*float64(time.Second)))
		}
		return res, nil
	}
	return nil, fmt.Errorf("torch_bench.py printed no JSON line; output: %q", string(out))
}

// processPeakRSS is this process's VmHWM from /proc/self/status, 0 where unavailable.
func processPeakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 1 {
				kib, err := strconv.ParseUint(fields[0], 10, 64)
				if err == nil {
					return kib * 1024
				}
			}
		}
	}
	return 0
}
