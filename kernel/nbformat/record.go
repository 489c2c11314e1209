package nbformat

import (
	"strings"

	"github.com/convnotes/convnotes/kernel"
)

// Recorder turns a cell's stream of kernel outputs into notebook outputs the
// way Jupyter front-ends do: consecutive stream chunks of the same name are
// merged, update_display_data replaces the display with the same id, and
// clear_output clears (at once, or before the next output when "wait" is set).
// The zero value is ready to use.
type Recorder struct {
	// Outputs recorded so far.
	Outputs      []*Output
	pendingClear bool
	// stream accumulates the text of the last output when it is a stream:
	// strings.Builder.String does not copy, so appending stays linear in
	// the output's size however many chunks a long output comes in.
	stream *strings.Builder
}

// Add records one kernel output.
func (r *Recorder) Add(o kernel.Output) {
	if o.Type == kernel.OutputClearOutput {
		if o.Wait {
			r.pendingClear = true
		} else {
			r.Outputs, r.pendingClear, r.stream = nil, false, nil
		}
		return
	}
	if o.Type == kernel.OutputUpdateDisplayData {
		for _, prev := range r.Outputs {
			if o.DisplayID != "" && prev.DisplayID == o.DisplayID {
				prev.Data, prev.Metadata = o.Data, o.Metadata
			}
		}
		return
	}
	if r.pendingClear {
		r.Outputs, r.pendingClear, r.stream = nil, false, nil
	}
	if o.Type != kernel.OutputStream {
		r.stream = nil
	}
	switch o.Type {
	case kernel.OutputStream:
		if n := len(r.Outputs); n > 0 && r.stream != nil && r.Outputs[n-1].Name == o.Name {
			r.stream.WriteString(o.Text)
			r.Outputs[n-1].Text = r.stream.String()
			return
		}
		r.stream = &strings.Builder{}
		r.stream.WriteString(o.Text)
		r.Outputs = append(r.Outputs, &Output{Type: "stream", Name: o.Name, Text: r.stream.String()})
	case kernel.OutputDisplayData, kernel.OutputExecuteResult:
		out := &Output{Type: o.Type, Data: o.Data, Metadata: o.Metadata, DisplayID: o.DisplayID}
		if o.Type == kernel.OutputExecuteResult {
			n := o.ExecutionCount
			out.ExecutionCount = &n
		}
		r.Outputs = append(r.Outputs, out)
	case kernel.OutputError:
		r.Outputs = append(r.Outputs, &Output{Type: "error", EName: o.EName, EValue: o.EValue, Traceback: o.Traceback})
	}
}

// Text returns all the text of the outputs: stream text, error values and
// tracebacks, and the text/plain, text/markdown and text/html parts of
// display data, each ending with a newline.
func (r *Recorder) Text() string { return OutputsText(r.Outputs) }

// OutputsText returns the text of outputs (see Recorder.Text).
func OutputsText(outs []*Output) string {
	var b []byte
	add := func(s string) {
		if s != "" {
			b = append(b, s...)
			if s[len(s)-1] != '\n' {
				b = append(b, '\n')
			}
		}
	}
	for _, o := range outs {
		switch o.Type {
		case "stream":
			add(o.Text)
		case "error":
			add(o.EName + ": " + o.EValue)
			for _, l := range o.Traceback {
				add(l)
			}
		default:
			for _, mime := range []string{"text/plain", "text/markdown", "text/html"} {
				if s, ok := o.Data[mime].(string); ok {
					add(s)
				}
			}
		}
	}
	return string(b)
}

// HasMIME reports whether any output carries data of the given MIME type.
func HasMIME(outs []*Output, mime string) bool {
	for _, o := range outs {
		if _, ok := o.Data[mime]; ok {
			return true
		}
	}
	return false
}
