package reproduce

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/convnotes/convnotes/gomlx_models/train"
)

// ResultsFileName is the machine-readable results table `convnotes reproduce` writes beside results.md.
const ResultsFileName = "results.json"

// RunInfo is how a results table was measured: when, by which command, in which profile, on which backend.
type RunInfo struct {
	// Finished is when the run ended (UTC).
	Finished time.Time `json:"finished"`
	// Command is the command line, e.g. "convnotes reproduce --out out".
	Command string        `json:"command"`
	Profile train.Profile `json:"profile"`
	Backend string        `json:"backend"`
	// Seconds is the wall-clock time of the whole run.
	Seconds float64 `json:"seconds"`
	// Names are the experiments, sections or globs named on the command line; none for the main job.
	Names []string `json:"names,omitempty"`
	// All is set when --all ran the Long experiments too.
	All bool `json:"all,omitempty"`
	// Machine describes where it ran: OS/architecture, CPUs, Go version and GOEXPERIMENT.
	Machine string `json:"machine,omitempty"`
	// Note is what the person who committed the run said of it (e.g. "nothing else running").
	Note string `json:"note,omitempty"`
}

// MainJob reports whether the run is the main job (`make run`: every experiment, the Long ones listed as
// skipped unless --all ran them).
func (r RunInfo) MainJob() bool { return len(r.Names) == 0 }

// SectionTitle is a section's number and title.
type SectionTitle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Record is one row of results.json: the experiment as registered and what the run gave.
type Record struct {
	Experiment string `json:"experiment"`
	Section    string `json:"section"`
	Paper      string `json:"paper"`
	Claim      string `json:"claim"`
	PaperValue string `json:"paper_value"`
	Measure    string `json:"measure"`
	Long       bool   `json:"long,omitempty"`
	// FullMinutes is a Long experiment's measured full-profile time on 2 cores.
	FullMinutes float64 `json:"full_minutes,omitempty"`
	// Timed marks an experiment whose number is a wall-clock measurement.
	Timed bool `json:"timed,omitempty"`
	// Skipped is set for a Long experiment the main job left out; Command runs it.
	Skipped bool   `json:"skipped,omitempty"`
	Command string `json:"command,omitempty"`
	// Verdict is the label the tables print: the judgement's label, "skipped" or "error".
	Verdict   string     `json:"verdict"`
	Judgement *Judgement `json:"judgement,omitempty"`
	Ours      string     `json:"ours,omitempty"`
	Value     jsonFloat  `json:"value"`
	Notes     string     `json:"notes,omitempty"`
	Seconds   float64    `json:"seconds,omitempty"`
	// Figures are the paths of the figures, relative to the folder results.json is in.
	Figures []string `json:"figures,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Results is results.json: the run's header, its sections and one record per row of results.md.
type Results struct {
	Run      RunInfo        `json:"run"`
	Sections []SectionTitle `json:"sections"`
	Rows     []Record       `json:"rows"`
}

// NewResults turns the rows of a run into results.json's form; figure paths become relative to outDir.
func NewResults(run RunInfo, sections []Section, rows []Row, outDir string) Results {
	res := Results{Run: run}
	for _, s := range sections {
		res.Sections = append(res.Sections, SectionTitle{ID: s.ID, Title: s.Title})
	}
	for _, r := range rows {
		e := r.Experiment
		rec := Record{Experiment: e.Name, Section: e.Section, Paper: e.Paper, Claim: e.Claim, PaperValue: e.PaperValue,
			Measure: e.Measure, Long: e.Long, FullMinutes: e.FullMinutes, Timed: e.Timed}
		ours, verdict, _ := cells(r)
		rec.Verdict = verdict
		switch {
		case r.Skipped:
			rec.Skipped, rec.Command = true, SkipCommand(e)
		case r.Err != nil:
			rec.Error = r.Err.Error()
		}
		if r.Result != nil {
			j := r.Result.Judgement
			rec.Judgement = &j
			rec.Ours, rec.Value, rec.Notes, rec.Seconds = ours, jsonFloat(r.Result.Value), r.Result.Notes, r.Result.Seconds
			for _, f := range r.Result.Figures {
				rel, err := filepath.Rel(outDir, f)
				if err != nil {
					rel = f
				}
				rec.Figures = append(rec.Figures, filepath.ToSlash(rel))
			}
		}
		res.Rows = append(res.Rows, rec)
	}
	return res
}

// SkipCommand is the command that runs a Long experiment the main job skips.
func SkipCommand(e Experiment) string { return "convnotes reproduce " + e.Name }

// Find returns the record of the experiment named name.
func (r Results) Find(name string) (Record, bool) {
	i := slices.IndexFunc(r.Rows, func(x Record) bool { return x.Experiment == name })
	if i < 0 {
		return Record{}, false
	}
	return r.Rows[i], true
}

// Write writes the results as indented JSON.
func (r Results) Write(w io.Writer) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	_, err = w.Write(append(raw, '\n'))
	return err
}

// WriteFile writes the results to path (through a temporary file, so a reader never sees half of it).
func (r Results) WriteFile(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := r.Write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ReadResults reads a results.json that [Results.WriteFile] wrote, and checks that every row names an
// experiment and a section and has a verdict.
func ReadResults(path string) (Results, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Results{}, fmt.Errorf("results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(raw, &r); err != nil {
		return Results{}, fmt.Errorf("results: %s: %w", path, err)
	}
	if len(r.Rows) == 0 {
		return Results{}, fmt.Errorf("results: %s has no rows", path)
	}
	for i, row := range r.Rows {
		if row.Experiment == "" || row.Section == "" || row.Verdict == "" {
			return Results{}, fmt.Errorf("results: %s: row %d lacks its experiment, section or verdict", path, i+1)
		}
	}
	if r.Run.Profile == "" {
		return Results{}, errors.New("results: " + path + " does not say its profile")
	}
	return r, nil
}
