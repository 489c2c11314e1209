// Package reproduce is the frame of convnotes' reproductions: an [Experiment] names its paper, the claim, the
// paper's number and how we measure ours; running it trains or computes what is needed, writes its figures and
// returns our number with a verdict. Each section package (one per paper) lists its experiments in a [Section];
// `convnotes reproduce` runs them and prints the table paper | ours | verdict | time.
package reproduce

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/train"
)

// Experiment is one named reproduction.
type Experiment struct {
	Name    string // short id used on the command line, e.g. "mnist-mlp".
	Section string // notebook section, e.g. "01".
	Paper   string // citation, e.g. "LeCun et al. 1998, §III.C".
	Claim   string // what the paper says, in our words.
	// PaperValue is the paper's number as printed in the table (e.g. "3.05% test error").
	PaperValue string
	// Measure says how we measure ours (data, model, steps; quick-profile differences).
	Measure string
	// Run performs the experiment.
	Run func(env *Env) (*Result, error)
	// Long marks an experiment whose full profile does not fit the main job's 30-minute budget (the paper's
	// 50,000 steps, say): `convnotes reproduce` with no names lists it as skipped, with the command that runs it;
	// naming it, or --all, runs it. In the quick profile it always runs.
	Long bool
	// FullMinutes is the measured wall-clock time of the full profile on 2 cores, for Long experiments.
	FullMinutes float64
	// Timed marks an experiment whose number is a wall-clock measurement: two runs never agree to the digit, so
	// a notebook's row of it is not held to equal results.json's.
	Timed bool
}

// Env is what an experiment run gets: backend, output folder, profile and writers.
type Env struct {
	Backend  compute.Backend
	OutDir   string        // figures and artefacts go here (created by Run).
	Profile  train.Profile // quick, full or paper.
	Quick    bool          // the quick profile is on (Profile == train.ProfileQuick).
	Progress io.Writer     // training progress (default os.Stderr).
	Log      io.Writer     // human-readable notes (default os.Stdout).
}

// Path returns the path of a file name under the output folder.
func (e *Env) Path(name string) string { return filepath.Join(e.OutDir, name) }

// Result is what an experiment measured.
type Result struct {
	Ours  string  // our number as printed in the table, e.g. "97.9% test accuracy".
	Value float64 // the number the verdict is computed from.
	// Judgement is the verdict given by [Judge] (or [Env.Judge]) with the claim and estimate behind it; a
	// result without one is an error of the experiment.
	Judgement Judgement
	Notes     string   // deviations and context, one or two sentences.
	Figures   []string // paths of the figures written.
	Seconds   float64  // wall-clock time of the run (filled in by Run).
}

// Verdict is the result's verdict.
func (r *Result) Verdict() Verdict { return r.Judgement.Verdict }

// Row is an experiment together with its result (or error) for the results table.
type Row struct {
	Experiment Experiment
	Result     *Result
	Err        error
	// Skipped is set for a Long experiment left out of the main job.
	Skipped bool
}

// Section is one notebook's reproductions: its number ("05"), its title and its experiments, in the order the
// notebook presents them. Section packages export one (optimization.Section, alexnet.Section, …) and
// cmd/convnotes lists them explicitly.
type Section struct {
	ID          string
	Title       string
	Experiments []Experiment
}

// Validate reports a section whose experiments are incomplete, belong to another section, or repeat a name.
func Validate(sections ...Section) error {
	seen := map[string]string{}
	for _, s := range sections {
		if s.ID == "" || s.Title == "" {
			return fmt.Errorf("reproduce: section %q has no id or title", s.ID)
		}
		for _, e := range s.Experiments {
			if e.Name == "" || e.Run == nil || e.Paper == "" || e.PaperValue == "" || e.Measure == "" || e.Claim == "" {
				return fmt.Errorf("reproduce: %q (section %s) is missing a name, run function, paper, claim, paper value or measure",
					e.Name, s.ID)
			}
			if e.Section != s.ID {
				return fmt.Errorf("reproduce: %q says section %q but is listed in section %s", e.Name, e.Section, s.ID)
			}
			if prev, dup := seen[e.Name]; dup {
				return fmt.Errorf("reproduce: %q is listed in sections %s and %s", e.Name, prev, s.ID)
			}
			seen[e.Name] = s.ID
		}
	}
	return nil
}

// All returns the experiments of the sections, in section order then the order each section lists them.
func All(sections ...Section) []Experiment {
	var out []Experiment
	for _, s := range sections {
		out = append(out, s.Experiments...)
	}
	return out
}

// ErrUnknown is wrapped by Select for a name that is not registered.
var ErrUnknown = errors.New("unknown experiment")

// Select returns the experiments of sections with the given names (all of them when names is empty), in section
// order. A name may be a section number ("01") or a glob ("mnist-*").
func Select(sections []Section, names ...string) ([]Experiment, error) {
	all := All(sections...)
	if len(names) == 0 {
		return all, nil
	}
	var out []Experiment
	for _, n := range names {
		found := false
		for _, e := range all {
			ok, _ := filepath.Match(n, e.Name)
			if ok || e.Name == n || e.Section == n {
				if !slices.ContainsFunc(out, func(x Experiment) bool { return x.Name == e.Name }) {
					out = append(out, e)
				}
				found = true
			}
		}
		if !found {
			known := make([]string, len(all))
			for i, e := range all {
				known[i] = e.Name
			}
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknown, n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// MainJob splits exps into those the main job runs and the Long ones it skips in the full profile.
func MainJob(exps []Experiment, quick bool) (run, skipped []Experiment) {
	for _, e := range exps {
		if e.Long && !quick {
			skipped = append(skipped, e)
		} else {
			run = append(run, e)
		}
	}
	return run, skipped
}

// SkippedRows are the table rows of experiments left out of the main job.
func SkippedRows(exps []Experiment) []Row {
	rows := make([]Row, len(exps))
	for i, e := range exps {
		rows[i] = Row{Experiment: e, Skipped: true}
	}
	return rows
}

// Run runs each experiment in turn in env, never stopping at a failure: a failed experiment is a row with its
// error. Before each it prints a header to env.Log.
func Run(env *Env, exps []Experiment) []Row {
	if env.Progress == nil {
		env.Progress = os.Stderr
	}
	if env.Log == nil {
		env.Log = os.Stdout
	}
	rows := make([]Row, 0, len(exps))
	for i, e := range exps {
		fmt.Fprintf(env.Log, "\n[%d/%d] %s — %s\n      paper: %s: %s\n      ours:  %s\n", i+1, len(exps), e.Name, e.Paper,
			e.Claim, e.PaperValue, e.Measure)
		t0 := time.Now()
		res, err := safeRun(e, env)
		if err == nil && res != nil && res.Judgement.Verdict == "" {
			res, err = nil, fmt.Errorf("%s: the result has no verdict (judge it with reproduce.Judge)", e.Name)
		}
		if res != nil {
			res.Seconds = time.Since(t0).Seconds()
			fmt.Fprintf(env.Log, "      => %s (%s) in %.1fs\n", res.Ours, res.Judgement.Label(), res.Seconds)
		}
		if err != nil {
			fmt.Fprintf(env.Log, "      => error: %v\n", err)
		}
		rows = append(rows, Row{Experiment: e, Result: res, Err: err})
	}
	return rows
}

func safeRun(e Experiment, env *Env) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("%s: panic: %v", e.Name, p)
		}
	}()
	if err := os.MkdirAll(env.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: output folder: %w", e.Name, err)
	}
	res, err = e.Run(env)
	if err != nil {
		return res, fmt.Errorf("%s: %w", e.Name, err)
	}
	return res, nil
}

// NewEnv returns an Env for the backend chosen by name ("" for the default), writing under outDir, in the
// profile given by train.CurrentProfile().
func NewEnv(backendName, outDir string) (*Env, error) {
	b, err := backend.New(backendName)
	if err != nil {
		return nil, err
	}
	p := train.CurrentProfile()
	return &Env{Backend: b, OutDir: outDir, Profile: p, Quick: p == train.ProfileQuick, Progress: os.Stderr, Log: os.Stdout}, nil
}

// Failures counts rows whose experiment returned an error.
func Failures(rows []Row) int {
	n := 0
	for _, r := range rows {
		if r.Err != nil {
			n++
		}
	}
	return n
}

// Finding is one line of a notebook's closing table: what the paper (or the notes) says, what we measured, and
// the verdict.
type Finding struct {
	Item, Paper, Ours string
	// Verdict is the row's judgement by [Judge]; every row of a closing table has one.
	Verdict Judgement `json:"verdict"`
	// Experiment names the reproduction whose result the row shows (`convnotes reproduce NAME`), if it is one:
	// the row then holds the same numbers as that experiment's row in results.md for the same profile.
	Experiment string `json:"experiment,omitempty"`
}

// FindingOf is the closing-table row of an experiment's result: its claim, the paper's number, our number and
// the verdict, exactly as `convnotes reproduce` prints them.
func FindingOf(e Experiment, res *Result) Finding {
	return Finding{Item: e.Claim, Paper: e.PaperValue, Ours: res.Ours, Verdict: res.Judgement, Experiment: e.Name}
}

// Find returns the experiment of sec named name.
func (s Section) Find(name string) (Experiment, error) {
	for _, e := range s.Experiments {
		if e.Name == name {
			return e, nil
		}
	}
	return Experiment{}, fmt.Errorf("%w %q in section %s", ErrUnknown, name, s.ID)
}
