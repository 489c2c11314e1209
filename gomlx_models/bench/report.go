package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write prints the report as a table: images/s per column, the ratios project/stock and project/PyTorch, and
// peak memory, followed by notes on what was measured.
func (r *Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tmode\tbatch\tproject img/s\tstock img/s\ttorch img/s\tproject/stock\tproject/torch\t"+
		"peak MiB project\tstock\ttorch\t")
	seen := map[string]bool{}
	for _, m := range r.Measurements {
		key := m.Model + "/" + m.Mode
		if seen[key] {
			continue
		}
		seen[key] = true
		p, hasP := r.Find(m.Model, m.Mode, ColumnProject)
		s, hasS := r.Find(m.Model, m.Mode, ColumnStock)
		t, hasT := r.Find(m.Model, m.Mode, ColumnTorch)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Model, m.Mode, m.Batch,
			rate(p, hasP), rate(s, hasS), rate(t, hasT), ratio(p, hasP, s, hasS), ratio(p, hasP, t, hasT),
			mib(p, hasP), mib(s, hasS), mib(t, hasT))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	notes = append(notes, "Go backend: "+r.Backend)
	if r.TorchVersion != "" {
		notes = append(notes, "PyTorch "+r.TorchVersion+" (CPU)")
	}
	if r.TorchNote != "" {
		notes = append(notes, r.TorchNote)
	}
	for _, m := range r.Measurements {
		if m.Err != nil && m.Column == ColumnTorch && r.TorchNote == "" {
			notes = append(notes, fmt.Sprintf("torch %s %s: %v", m.Model, m.Mode, m.Err))
		}
	}
	notes = append(notes, "images/s at the median step; columns interleaved round by round",
		"peak memory: Go columns = peak live Go heap during their steps; torch = peak RSS of its process "+
			"(includes the Python runtime)",
		fmt.Sprintf("peak RSS of this Go process over the whole run: %.0f MiB", float64(r.ProcessPeakRSS)/(1<<20)))
	_, err := fmt.Fprintln(w, strings.Join(notes, "\n"))
	return err
}

func rate(m Measurement, ok bool) string {
	if !ok {
		return "-"
	}
	if m.Err != nil || len(m.StepTimes) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", m.ImagesPerSec())
}

func ratio(a Measurement, okA bool, b Measurement, okB bool) string {
	if !okA || !okB || a.ImagesPerSec() == 0 || b.ImagesPerSec() == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a.ImagesPerSec()/b.ImagesPerSec())
}

func mib(m Measurement, ok bool) string {
	if !ok || m.PeakBytes == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(m.PeakBytes)/(1<<20))
}
