package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/notebook"
	"github.com/convnotes/convnotes/gomlx_models/reproduce"
	"github.com/convnotes/convnotes/gomlx_models/train"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// Adopt makes the run in outDir (its results.json, from `make run`) the committed results of the checkout at
// root, recording note as what was said of it. Only the full profile's main job is accepted: a quick run, or one
// of named experiments, is not what the README reports.
func Adopt(root, outDir, note string) (reproduce.Results, error) {
	src := filepath.Join(outDir, reproduce.ResultsFileName)
	res, err := reproduce.ReadResults(src)
	if err != nil {
		return res, err
	}
	switch {
	case res.Run.Profile != train.ProfileFull:
		return res, fmt.Errorf("results: %s is a %s-profile run; the README reports the full profile's `make run`", src,
			res.Run.Profile)
	case !res.Run.MainJob():
		return res, fmt.Errorf("results: %s is a run of %s only (`%s`); the README reports the whole main job, `make run`",
			src, strings.Join(res.Run.Names, ", "), res.Run.Command)
	}
	if note != "" {
		res.Run.Note = note
	}
	if err := os.MkdirAll(filepath.Join(root, Dir), 0o755); err != nil {
		return res, fmt.Errorf("results: %w", err)
	}
	return res, res.WriteFile(filepath.Join(root, ResultsFile))
}

// Collect copies the closing-table snapshots of the notebooks at paths (globs allowed; none means every notebook)
// from their output folders (out/notebooks/NN/closing_table.json, which their last run wrote) into
// results/notebooks, after checking that each is a full-profile run and is the very table the notebook's saved
// outputs show (a quick run or another run since would differ). It returns the snapshots written and an error
// naming every notebook it could not collect.
func Collect(root string, paths ...string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{filepath.Join(root, NotebooksDir, "*.ipynb")}
	}
	var nbs []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("results: %w", err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("results: no notebook matches %s", p)
		}
		nbs = append(nbs, m...)
	}
	slices.Sort(nbs)
	nbs = slices.Compact(nbs)
	var written []string
	var errs []error
	for _, p := range nbs {
		out, err := collectOne(root, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if out != "" {
			written = append(written, out)
		}
	}
	return written, errors.Join(errs...)
}

func collectOne(root, path string) (string, error) {
	base := strings.TrimSuffix(filepath.Base(path), ".ipynb")
	sec, ok := SectionOf(base)
	if !ok {
		return "", fmt.Errorf("results: %s is not named NN_name.ipynb", path)
	}
	nb, err := nbformat.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	if _, ok := ClosingCell(nb); !ok {
		return "", nil
	}
	saved, err := Saved(nb)
	if err != nil {
		return "", fmt.Errorf("results: %s: %w", base, err)
	}
	src := filepath.Join(root, "out", "notebooks", sec, notebook.ClosingFile)
	snap, err := ReadSnapshot(src)
	if err != nil {
		return "", err
	}
	if snap.Profile != train.ProfileFull {
		return "", fmt.Errorf("results: %s is a %s-profile run; collect after `make notebooks` (full profile)", src, snap.Profile)
	}
	if d := Diff(saved, SnapshotTable(snap)); len(d) > 0 {
		return "", fmt.Errorf("results: %s is not the run saved in %s (%s): re-run `make notebooks NB=%s/%s.ipynb`", src,
			filepath.Base(path), d[0], NotebooksDir, base)
	}
	dst := filepath.Join(root, SnapshotsDir, base+".json")
	return dst, WriteSnapshot(dst, snap)
}
