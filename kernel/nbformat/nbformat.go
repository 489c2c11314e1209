// Package nbformat reads and writes Jupyter notebooks (nbformat 4) and turns
// kernel outputs into notebook outputs, keeping cell ids and metadata intact.
//
// Reading validates what nbtest and the REPL rely on and reports any problem
// as an error naming the cell and field: a broken notebook is never a panic.
package nbformat

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Cell types.
const (
	CellCode     = "code"
	CellMarkdown = "markdown"
	CellRaw      = "raw"
)

// Notebook is an nbformat 4 notebook.
type Notebook struct {
	// Cells in order.
	Cells []*Cell
	// Metadata is kept verbatim (kernelspec, language_info, ...).
	Metadata json.RawMessage
	// NBFormat is the major format version (always 4).
	NBFormat int
	// NBFormatMinor is the minor format version; from 5 on, cells have ids.
	NBFormatMinor int
}

// Cell is one notebook cell.
type Cell struct {
	// ID is the cell id (nbformat ≥ 4.5).
	ID string
	// Type is CellCode, CellMarkdown or CellRaw.
	Type string
	// Metadata is kept verbatim; Tags reads its "tags".
	Metadata json.RawMessage
	// Source is the cell's text.
	Source string
	// Outputs of a code cell.
	Outputs []*Output
	// ExecutionCount of a code cell; nil when never run.
	ExecutionCount *int
	// Attachments of markdown/raw cells, kept verbatim.
	Attachments json.RawMessage
}

// Output is one output of a code cell.
type Output struct {
	// Type is "stream", "display_data", "execute_result" or "error".
	Type string
	// Name is the stream name ("stdout" or "stderr").
	Name string
	// Text of a stream output.
	Text string
	// Data is the MIME bundle of display_data and execute_result; text
	// values are strings, "image/png" is base64, JSON types are objects.
	Data map[string]any
	// Metadata of the MIME bundle.
	Metadata map[string]any
	// ExecutionCount of an execute_result.
	ExecutionCount *int
	// EName, EValue and Traceback of an error output.
	EName, EValue string
	// Traceback of an error output.
	Traceback []string
	// DisplayID is the transient display id; it is not saved.
	DisplayID string
}

// Tags returns the cell's metadata tags.
func (c *Cell) Tags() []string {
	var md struct {
		Tags []string `json:"tags"`
	}
	if len(c.Metadata) == 0 || json.Unmarshal(c.Metadata, &md) != nil {
		return nil
	}
	return md.Tags
}

// Head returns the first n lines of the cell's source.
func (c *Cell) Head(n int) string {
	lines := strings.Split(strings.TrimRight(c.Source, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

// ReadFile reads and validates the notebook at path.
func ReadFile(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nbformat: %w", err)
	}
	nb, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// rawNotebook and rawCell mirror the JSON, with the polymorphic fields left raw.
type rawNotebook struct {
	Cells         *[]json.RawMessage `json:"cells"`
	Metadata      json.RawMessage    `json:"metadata"`
	NBFormat      *int               `json:"nbformat"`
	NBFormatMinor *int               `json:"nbformat_minor"`
}

type rawCell struct {
	ID             *string           `json:"id"`
	CellType       string            `json:"cell_type"`
	Metadata       json.RawMessage   `json:"metadata"`
	Source         json.RawMessage   `json:"source"`
	Outputs        []json.RawMessage `json:"outputs"`
	ExecutionCount *int              `json:"execution_count"`
	Attachments    json.RawMessage   `json:"attachments"`
}

type rawOutput struct {
	OutputType     string                     `json:"output_type"`
	Name           string                     `json:"name"`
	Text           json.RawMessage            `json:"text"`
	Data           map[string]json.RawMessage `json:"data"`
	Metadata       map[string]any             `json:"metadata"`
	ExecutionCount *int                       `json:"execution_count"`
	EName          string                     `json:"ename"`
	EValue         string                     `json:"evalue"`
	Traceback      []string                   `json:"traceback"`
}

// syntaxError describes a JSON syntax error with its line and column.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, b := range data[:min(int(se.Offset), len(data))] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Errorf("nbformat: invalid JSON at line %d, column %d: %w", line, col, err)
	}
	return fmt.Errorf("nbformat: invalid notebook JSON: %w", err)
}

// Parse decodes and validates a notebook.
func Parse(data []byte) (*Notebook, error) {
	var raw rawNotebook
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, syntaxError(data, err)
	}
	if raw.NBFormat == nil || *raw.NBFormat != 4 {
		got := "missing"
		if raw.NBFormat != nil {
			got = fmt.Sprint(*raw.NBFormat)
		}
		return nil, fmt.Errorf("nbformat: nbformat is %s, only version 4 is supported", got)
	}
	if raw.Cells == nil {
		return nil, errors.New("nbformat: no \"cells\" list")
	}
	nb := &Notebook{Metadata: raw.Metadata, NBFormat: 4}
	if raw.NBFormatMinor != nil {
		nb.NBFormatMinor = *raw.NBFormatMinor
	}
	if len(nb.Metadata) == 0 || string(nb.Metadata) == "null" {
		nb.Metadata = json.RawMessage("{}")
	} else if !isObject(nb.Metadata) {
		return nil, errors.New("nbformat: notebook metadata is not an object")
	}
	for i, rc := range *raw.Cells {
		c, err := parseCell(rc)
		if err != nil {
			return nil, fmt.Errorf("nbformat: cell %d: %w", i+1, err)
		}
		nb.Cells = append(nb.Cells, c)
	}
	return nb, nil
}

// isObject reports whether raw JSON is an object.
func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

func parseCell(data json.RawMessage) (*Cell, error) {
	var rc rawCell
	if err := json.Unmarshal(data, &rc); err != nil {
		return nil, fmt.Errorf("not a cell object: %w", err)
	}
	switch rc.CellType {
	case CellCode, CellMarkdown, CellRaw:
	case "":
		return nil, errors.New("missing cell_type")
	default:
		return nil, fmt.Errorf("unknown cell_type %q", rc.CellType)
	}
	src, err := multiline(rc.Source)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	c := &Cell{Type: rc.CellType, Source: src, Metadata: rc.Metadata, Attachments: rc.Attachments}
	if rc.ID != nil {
		c.ID = *rc.ID
	}
	if len(c.Metadata) == 0 || string(c.Metadata) == "null" {
		c.Metadata = json.RawMessage("{}")
	} else if !isObject(c.Metadata) {
		return nil, errors.New("metadata is not an object")
	}
	if string(c.Attachments) == "null" {
		c.Attachments = nil
	}
	if c.Type != CellCode {
		return c, nil
	}
	c.ExecutionCount = rc.ExecutionCount
	for j, ro := range rc.Outputs {
		o, err := parseOutput(ro)
		if err != nil {
			return nil, fmt.Errorf("output %d: %w", j+1, err)
		}
		c.Outputs = append(c.Outputs, o)
	}
	return c, nil
}

func parseOutput(data json.RawMessage) (*Output, error) {
	var ro rawOutput
	if err := json.Unmarshal(data, &ro); err != nil {
		return nil, fmt.Errorf("not an output object: %w", err)
	}
	o := &Output{Type: ro.OutputType, Name: ro.Name, Metadata: ro.Metadata, ExecutionCount: ro.ExecutionCount,
		EName: ro.EName, EValue: ro.EValue, Traceback: ro.Traceback}
	switch ro.OutputType {
	case "stream":
		text, err := multiline(ro.Text)
		if err != nil {
			return nil, fmt.Errorf("text: %w", err)
		}
		o.Text = text
	case "display_data", "execute_result":
		o.Data = map[string]any{}
		for mime, v := range ro.Data {
			if s, err := multiline(v); err == nil {
				o.Data[mime] = s
				continue
			}
			var anyV any
			if err := json.Unmarshal(v, &anyV); err != nil {
				return nil, fmt.Errorf("data %q: %w", mime, err)
			}
			o.Data[mime] = anyV
		}
	case "error":
	case "":
		return nil, errors.New("missing output_type")
	default:
		return nil, fmt.Errorf("unknown output_type %q", ro.OutputType)
	}
	return o, nil
}

// multiline decodes nbformat's "multiline string": a string or a list of strings.
func multiline(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("want a string or a list of strings")
	}
	return strings.Join(parts, ""), nil
}

// splitLines splits s into nbformat's list form: lines keeping their "\n".
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if lines == nil {
		lines = []string{}
	}
	return lines
}

// textMIME reports whether a MIME type's value is stored as a multiline string.
func textMIME(mime string) bool {
	return strings.HasPrefix(mime, "text/") || mime == "image/svg+xml" || mime == "application/javascript"
}

// newCellID returns a random 8-hex-digit cell id.
func newCellID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Marshal encodes the notebook as Jupyter writes it: one-space indentation,
// sorted keys, no HTML escaping, a final newline. Cells without an id get one
// when the format (≥ 4.5) requires it.
func (nb *Notebook) Marshal() ([]byte, error) {
	cells := make([]map[string]any, 0, len(nb.Cells))
	for _, c := range nb.Cells {
		m := map[string]any{"cell_type": c.Type, "metadata": c.Metadata, "source": splitLines(c.Source)}
		if len(c.Metadata) == 0 {
			m["metadata"] = json.RawMessage("{}")
		}
		if c.ID == "" && nb.NBFormatMinor >= 5 {
			c.ID = newCellID()
		}
		if c.ID != "" {
			m["id"] = c.ID
		}
		if c.Type == CellCode {
			m["execution_count"] = c.ExecutionCount
			outs := make([]map[string]any, 0, len(c.Outputs))
			for _, o := range c.Outputs {
				outs = append(outs, o.marshalMap())
			}
			m["outputs"] = outs
		} else if len(c.Attachments) > 0 {
			m["attachments"] = c.Attachments
		}
		cells = append(cells, m)
	}
	md := nb.Metadata
	if len(md) == 0 {
		md = json.RawMessage("{}")
	}
	doc := map[string]any{"cells": cells, "metadata": md, "nbformat": 4, "nbformat_minor": nb.NBFormatMinor}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("nbformat: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// marshalMap returns the output as nbformat JSON fields.
func (o *Output) marshalMap() map[string]any {
	m := map[string]any{"output_type": o.Type}
	switch o.Type {
	case "stream":
		m["name"] = o.Name
		m["text"] = splitLines(o.Text)
	case "display_data", "execute_result":
		data := map[string]any{}
		keys := make([]string, 0, len(o.Data))
		for k := range o.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, mime := range keys {
			v := o.Data[mime]
			if s, ok := v.(string); ok && textMIME(mime) {
				data[mime] = splitLines(s)
			} else {
				data[mime] = v
			}
		}
		m["data"] = data
		md := o.Metadata
		if md == nil {
			md = map[string]any{}
		}
		m["metadata"] = md
		if o.Type == "execute_result" {
			m["execution_count"] = o.ExecutionCount
		}
	case "error":
		m["ename"], m["evalue"] = o.EName, o.EValue
		tb := o.Traceback
		if tb == nil {
			tb = []string{}
		}
		m["traceback"] = tb
	}
	return m
}

// WriteFile saves the notebook atomically (temporary file, then rename).
// When path is a symbolic link, the file it points to is replaced and the
// link kept.
func (nb *Notebook) WriteFile(path string) error {
	data, err := nb.Marshal()
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("nbformat: write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("nbformat: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("nbformat: write %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil {
		_ = os.Chmod(tmp.Name(), fi.Mode().Perm())
	} else {
		_ = os.Chmod(tmp.Name(), 0o644)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("nbformat: write %s: %w", path, err)
	}
	return nil
}
