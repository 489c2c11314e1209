package nbformat

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/convnotes/convnotes/kernel"
)

const sample = `{
 "cells": [
  {"cell_type": "markdown", "id": "md-1", "metadata": {"tags": ["intro"]}, "source": ["# Title\n", "text <b>&</b>"]},
  {"cell_type": "code", "execution_count": 3, "id": "c-2", "metadata": {"tags": ["nbtest:expect-png"], "collapsed": false},
   "outputs": [
    {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]},
    {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<img>"]}, "metadata": {}},
    {"output_type": "execute_result", "execution_count": 3, "data": {"application/json": {"k": [1, 2]}}, "metadata": {}},
    {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t1", "t2"]}
   ],
   "source": "x := 1\nfmt.Println(x)"},
  {"cell_type": "raw", "metadata": {}, "source": ""}
 ],
 "metadata": {"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"}},
 "nbformat": 4,
 "nbformat_minor": 5
}`

func TestParseAndRoundTrip(t *testing.T) {
	nb, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(nb.Cells) != 3 {
		t.Fatalf("%d cells", len(nb.Cells))
	}
	c := nb.Cells[1]
	if c.ID != "c-2" || c.Source != "x := 1\nfmt.Println(x)" || *c.ExecutionCount != 3 {
		t.Errorf("code cell = %+v", c)
	}
	if got := c.Tags(); !reflect.DeepEqual(got, []string{"nbtest:expect-png"}) {
		t.Errorf("tags = %q", got)
	}
	if nb.Cells[0].Source != "# Title\ntext <b>&</b>" || c.Outputs[0].Text != "a\nb\n" {
		t.Errorf("multiline strings not joined: %q %q", nb.Cells[0].Source, c.Outputs[0].Text)
	}
	if !HasMIME(c.Outputs, "image/png") || HasMIME(c.Outputs, "image/svg+xml") {
		t.Error("HasMIME")
	}
	out, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `\u003c`) || !strings.HasSuffix(string(out), "}\n") {
		t.Errorf("output escapes HTML or lacks the final newline:\n%s", out)
	}
	nb2, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, out)
	}
	// The third cell had no id: format 4.5 requires one, so it got one.
	if nb2.Cells[2].ID == "" {
		t.Error("missing cell id not generated")
	}
	for i := range nb.Cells {
		a, b := nb.Cells[i], nb2.Cells[i]
		if a.ID != b.ID || a.Source != b.Source || !jsonEqual(t, a.Metadata, b.Metadata) || len(a.Outputs) != len(b.Outputs) {
			t.Errorf("cell %d changed: %+v vs %+v", i, a, b)
		}
	}
	if !jsonEqual(t, nb.Metadata, nb2.Metadata) {
		t.Errorf("notebook metadata changed: %s vs %s", nb.Metadata, nb2.Metadata)
	}
	again, _ := nb2.Marshal()
	if string(again) != string(out) {
		t.Errorf("Marshal is not stable:\n%s\nvs\n%s", out, again)
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{"cells": [`, "invalid JSON at line 1"},
		{"syntax error line", "{\n\"cells\": [],\n \"nbformat\": 4,,\n}", "line 3"},
		{"wrong type", `[]`, "invalid notebook JSON"},
		{"nbformat 3", `{"cells": [], "nbformat": 3}`, "nbformat is 3"},
		{"nbformat missing", `{"cells": []}`, "nbformat is missing"},
		{"no cells", `{"nbformat": 4}`, `no "cells"`},
		{"cell not object", `{"nbformat": 4, "cells": [1]}`, "cell 1: not a cell object"},
		{"missing type", `{"nbformat": 4, "cells": [{"source": ""}]}`, "cell 1: missing cell_type"},
		{"bad type", `{"nbformat": 4, "cells": [{"cell_type": "python"}]}`, `unknown cell_type "python"`},
		{"bad source", `{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}`, "source: want a string"},
		{"bad metadata", `{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": [], "source": ""}]}`, "metadata is not an object"},
		{"bad output", `{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "outputs": [{"output_type": "bogus"}]}]}`, "cell 1: output 1: unknown output_type"},
		{"bad stream text", `{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "text": {}}]}]}`, "text: want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWriteFileReadFile(t *testing.T) {
	nb, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "n.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Cells) != 3 {
		t.Errorf("read back %d cells", len(back.Cells))
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.ipynb")); err == nil {
		t.Error("ReadFile(missing) succeeded")
	}
}

func TestRecorder(t *testing.T) {
	stream := func(name, text string) kernel.Output {
		return kernel.Output{Type: kernel.OutputStream, Name: name, Text: text}
	}
	display := func(id, text string) kernel.Output {
		return kernel.Output{Type: kernel.OutputDisplayData, DisplayID: id, Data: map[string]any{"text/plain": text}}
	}
	tests := []struct {
		name string
		in   []kernel.Output
		want string // OutputsText
		n    int    // number of outputs
	}{
		{"streams merge", []kernel.Output{stream("stdout", "a"), stream("stdout", "b\n")}, "ab\n", 1},
		{"stdout and stderr stay apart", []kernel.Output{stream("stdout", "a"), stream("stderr", "b"), stream("stdout", "c")}, "a\nb\nc\n", 3},
		{"update display", []kernel.Output{display("d1", "old"), stream("stdout", "x"),
			{Type: kernel.OutputUpdateDisplayData, DisplayID: "d1", Data: map[string]any{"text/plain": "new"}}}, "new\nx\n", 2},
		{"clear now", []kernel.Output{stream("stdout", "a"), {Type: kernel.OutputClearOutput}, stream("stdout", "b")}, "b\n", 1},
		{"clear on wait", []kernel.Output{stream("stdout", "a"), {Type: kernel.OutputClearOutput, Wait: true}}, "a\n", 1},
		{"error", []kernel.Output{{Type: kernel.OutputError, EName: "E", EValue: "v", Traceback: []string{"tb"}}}, "E: v\ntb\n", 1},
		{"execute result", []kernel.Output{{Type: kernel.OutputExecuteResult, ExecutionCount: 2, Data: map[string]any{"text/plain": "42"}}}, "42\n", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Recorder
			for _, o := range tc.in {
				r.Add(o)
			}
			if got := r.Text(); got != tc.want || len(r.Outputs) != tc.n {
				t.Errorf("Text() = %q (%d outputs), want %q (%d)", got, len(r.Outputs), tc.want, tc.n)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"nbformat": 4, "cells": [{"cell_type": "code", "source": ["a", "b"], "outputs": []}]}`))
	f.Add([]byte(`{"nbformat": 4, "cells": null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := Parse(data)
		if err != nil {
			return
		}
		out, err := nb.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed notebook: %v", err)
		}
		nb2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of marshalled notebook: %v\n%s", err, out)
		}
		if len(nb2.Cells) != len(nb.Cells) {
			t.Fatalf("cells %d → %d", len(nb.Cells), len(nb2.Cells))
		}
		for i := range nb.Cells {
			if nb.Cells[i].Source != nb2.Cells[i].Source {
				t.Fatalf("cell %d source %q → %q", i, nb.Cells[i].Source, nb2.Cells[i].Source)
			}
		}
	})
}
