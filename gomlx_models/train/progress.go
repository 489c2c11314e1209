package train

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
)

// progress shows training progress: an in-place HTML bar inside GoNB, a carriage-return line on a terminal, and
// a line every ~10% (or 30 s) when the output is a file or pipe (CI logs).
type progress struct {
	w        io.Writer
	name     string
	target   int
	tty      bool
	html     string // GoNB display id; "" when not in a notebook.
	last     time.Time
	lastFrac int
}

func newProgress(w io.Writer, name string, target int) *progress {
	p := &progress{w: w, name: name, target: target, lastFrac: -1}
	if w == io.Discard {
		return p
	}
	if gonbui.IsNotebook {
		p.html = "convnotes-progress-" + gonbui.UniqueID()
		gonbui.UpdateHTML(p.html, p.renderHTML(0, "starting…"))
		return p
	}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) line(r StepRecord, eval string) string {
	var b strings.Builder
	if p.name != "" {
		fmt.Fprintf(&b, "%s: ", p.name)
	}
	if p.target > 0 {
		fmt.Fprintf(&b, "step %d/%d (%3.0f%%)", r.Step, p.target, 100*float64(r.Step)/float64(p.target))
	} else {
		fmt.Fprintf(&b, "step %d", r.Step)
	}
	fmt.Fprintf(&b, " loss %.4f", r.Loss)
	if r.Accuracy == r.Accuracy { // not NaN
		fmt.Fprintf(&b, " acc %.3f", r.Accuracy)
	}
	fmt.Fprintf(&b, " | %.0f ex/s | %.0fs", r.ExamplesPerSec, r.Seconds)
	if eval != "" {
		fmt.Fprintf(&b, " | %s", eval)
	}
	return b.String()
}

func (p *progress) renderHTML(frac float64, text string) string {
	return fmt.Sprintf(`<div style="font-family:monospace"><progress value="%.3f" max="1" style="width:40%%"></progress> %s</div>`,
		frac, html.EscapeString(text))
}

func (p *progress) update(r StepRecord, eval string) {
	if p.w == io.Discard {
		return
	}
	now := time.Now()
	frac := -1
	if p.target > 0 {
		frac = 10 * r.Step / p.target
	}
	switch {
	case p.html != "":
		if now.Sub(p.last) < 250*time.Millisecond {
			return
		}
		f := 0.0
		if p.target > 0 {
			f = float64(r.Step) / float64(p.target)
		}
		gonbui.UpdateHTML(p.html, p.renderHTML(f, p.line(r, eval)))
	case p.tty:
		if now.Sub(p.last) < 100*time.Millisecond {
			return
		}
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(r, eval))
	default:
		if frac == p.lastFrac && now.Sub(p.last) < 30*time.Second {
			return
		}
		p.lastFrac = frac
		fmt.Fprintln(p.w, p.line(r, eval))
	}
	p.last = now
}

func (p *progress) finish(step int, seconds float64, eval string) {
	if p.w == io.Discard {
		return
	}
	msg := fmt.Sprintf("%s: done, %d steps in %.1fs", p.name, step, seconds)
	if eval != "" {
		msg += " | " + eval
	}
	switch {
	case p.html != "":
		gonbui.UpdateHTML(p.html, p.renderHTML(1, msg))
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K%s\n", msg)
	default:
		fmt.Fprintln(p.w, msg)
	}
}

func (p *progress) close() {}
