package reproduce

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

func cells(r Row) (ours, verdict, secs string) {
	switch {
	case r.Skipped:
		return fmt.Sprintf("not run: long (%.0f min); %s", r.Experiment.FullMinutes, SkipCommand(r.Experiment)), "skipped", "—"
	case r.Err != nil:
		return "—", string(Failed), "—"
	case r.Result == nil:
		return "—", "—", "—"
	}
	return r.Result.Ours, r.Result.Judgement.Label(), fmt.Sprintf("%.0fs", r.Result.Seconds)
}

// WriteText prints the results as an aligned table: experiment | paper | ours | verdict | time.
func WriteText(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "experiment\tpaper\tours\tverdict\ttime")
	for _, r := range rows {
		ours, verdict, secs := cells(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Experiment.Name, r.Experiment.PaperValue, ours, verdict, secs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Err != nil {
			fmt.Fprintf(w, "error in %s: %v\n", r.Experiment.Name, r.Err)
		}
	}
	return nil
}

// WriteMarkdown writes the results as a Markdown document: a header line (command, backend, profile), the table
// paper | ours | verdict | time with the paper cited, notes, and links to the figures relative to outDir.
func WriteMarkdown(w io.Writer, rows []Row, header, outDir string) error {
	var b strings.Builder
	if header != "" {
		b.WriteString(header + "\n\n")
	}
	b.WriteString("| experiment | paper | claim | paper's number | ours | verdict | time |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ours, verdict, secs := cells(r)
		e := r.Experiment
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", e.Name, esc(e.Paper), esc(e.Claim), esc(e.PaperValue),
			esc(ours), verdict, secs)
	}
	b.WriteString("\n")
	for _, r := range rows {
		e := r.Experiment
		fmt.Fprintf(&b, "### %s\n\n- How we measure: %s\n", e.Name, esc(e.Measure))
		if r.Skipped {
			fmt.Fprintf(&b, "- Not run by the main job: its full profile takes about %.0f minutes on 2 cores; run `%s`.\n",
				e.FullMinutes, SkipCommand(e))
		}
		if r.Err != nil {
			fmt.Fprintf(&b, "- Error: `%v`\n", r.Err)
		}
		if r.Result != nil {
			if j := r.Result.Judgement; j.Verdict != "" {
				fmt.Fprintf(&b, "- Verdict: %s. Claim: %s; %s.\n", j.Label(), esc(j.Claim.String()), esc(j.Reason))
			}
			if r.Result.Notes != "" {
				fmt.Fprintf(&b, "- Notes: %s\n", r.Result.Notes)
			}
			for _, f := range r.Result.Figures {
				rel, err := filepath.Rel(outDir, f)
				if err != nil {
					rel = f
				}
				fmt.Fprintf(&b, "\n![%s](%s)\n", filepath.Base(f), filepath.ToSlash(rel))
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
