package nbformat

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// cellIDPattern is the nbformat 4.5 cell id: 1 to 64 letters, digits, '-' or '_'.
var cellIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// maxProblems bounds the problems ValidationError lists.
const maxProblems = 10

// ValidationError lists where a notebook breaks the nbformat 4 schema.
type ValidationError struct {
	// Problems, each naming the cell (1-based) or field.
	Problems []string
}

// Error implements error.
func (e *ValidationError) Error() string {
	ps := e.Problems
	more := ""
	if len(ps) > maxProblems {
		more = fmt.Sprintf("\n  … (%d more)", len(ps)-maxProblems)
		ps = ps[:maxProblems]
	}
	return "nbformat: not a valid nbformat 4 notebook (Jupyter will refuse it):\n  " + strings.Join(ps, "\n  ") + more
}

// Validate checks data against the parts of the nbformat 4 JSON schema
// (v4.5 when nbformat_minor ≥ 5) that Jupyter enforces when it opens or
// executes a notebook: the required fields of the notebook, its cells and
// outputs; no unknown fields in cells and outputs; multiline strings; cell
// ids (required from 4.5 on, pattern ^[a-zA-Z0-9-_]+$, at most 64
// characters, unique); and cell tags (unique strings without commas). It
// returns a *ValidationError listing every problem found, or a JSON syntax
// error.
func Validate(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return syntaxError(data, err)
	}
	v := &validator{}
	v.allowed("notebook", top, "cells", "metadata", "nbformat", "nbformat_minor")
	var major, minor int
	if v.integer("notebook", top, "nbformat", &major) && major != 4 {
		v.add("notebook: nbformat is %d, want 4", major)
	}
	v.integer("notebook", top, "nbformat_minor", &minor)
	if md, ok := v.object("notebook", top, "metadata"); ok {
		v.notebookMetadata(md)
	}
	raw, ok := top["cells"]
	var cells []json.RawMessage
	switch {
	case !ok:
		v.add("notebook: missing required field \"cells\"")
	case json.Unmarshal(raw, &cells) != nil:
		v.add("notebook: \"cells\" is not a list")
	}
	ids := map[string]int{}
	for i, rc := range cells {
		v.cell(i+1, rc, minor, ids)
	}
	if len(v.problems) > 0 {
		return &ValidationError{Problems: v.problems}
	}
	return nil
}

// validator collects schema problems.
type validator struct{ problems []string }

func (v *validator) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// allowed reports the fields of obj outside names (the schema's
// additionalProperties: false).
func (v *validator) allowed(where string, obj map[string]json.RawMessage, names ...string) {
	ok := map[string]bool{}
	for _, n := range names {
		ok[n] = true
	}
	var extra []string
	for k := range obj {
		if !ok[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		v.add("%s: unknown field %q", where, k)
	}
}

// required reports the missing fields among names.
func (v *validator) required(where string, obj map[string]json.RawMessage, names ...string) {
	for _, n := range names {
		if _, ok := obj[n]; !ok {
			v.add("%s: missing required field %q", where, n)
		}
	}
}

// integer decodes the required integer field name into dst.
func (v *validator) integer(where string, obj map[string]json.RawMessage, name string, dst *int) bool {
	raw, ok := obj[name]
	if !ok {
		v.add("%s: missing required field %q", where, name)
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		v.add("%s: %q is not an integer", where, name)
		return false
	}
	return true
}

// object decodes the required object field name.
func (v *validator) object(where string, obj map[string]json.RawMessage, name string) (map[string]json.RawMessage, bool) {
	raw, ok := obj[name]
	if !ok {
		v.add("%s: missing required field %q", where, name)
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		v.add("%s: %q is not an object", where, name)
		return nil, false
	}
	return m, true
}

// multiline checks a multiline string field (a string or a list of strings).
func (v *validator) multiline(where string, obj map[string]json.RawMessage, name string) {
	if raw, ok := obj[name]; ok {
		if _, err := multiline(raw); err != nil || string(raw) == "null" {
			v.add("%s: %q is not a string or a list of strings", where, name)
		}
	}
}

// notebookMetadata checks the kernelspec and language_info the schema describes.
func (v *validator) notebookMetadata(md map[string]json.RawMessage) {
	if raw, ok := md["kernelspec"]; ok {
		var ks map[string]json.RawMessage
		if json.Unmarshal(raw, &ks) != nil || ks == nil {
			v.add("notebook metadata: \"kernelspec\" is not an object")
		} else {
			v.required("notebook metadata kernelspec", ks, "name", "display_name")
		}
	}
	if raw, ok := md["language_info"]; ok {
		var li map[string]json.RawMessage
		if json.Unmarshal(raw, &li) != nil || li == nil {
			v.add("notebook metadata: \"language_info\" is not an object")
		} else {
			v.required("notebook metadata language_info", li, "name")
		}
	}
}

// cell checks cell n (1-based).
func (v *validator) cell(n int, raw json.RawMessage, minor int, ids map[string]int) {
	where := fmt.Sprintf("cell %d", n)
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil || c == nil {
		v.add("%s: not an object", where)
		return
	}
	var typ string
	if rawType, ok := c["cell_type"]; !ok || json.Unmarshal(rawType, &typ) != nil {
		v.add("%s: missing or invalid \"cell_type\"", where)
		return
	}
	fields := []string{"cell_type", "metadata", "source"}
	if minor >= 5 {
		fields = append(fields, "id")
	}
	switch typ {
	case CellCode:
		v.required(where, c, append(fields, "outputs", "execution_count")...)
		v.allowed(where, c, "id", "cell_type", "metadata", "source", "outputs", "execution_count")
	case CellMarkdown, CellRaw:
		v.required(where, c, fields...)
		v.allowed(where, c, "id", "cell_type", "metadata", "source", "attachments")
	default:
		v.add("%s: unknown cell_type %q", where, typ)
		return
	}
	if rawID, ok := c["id"]; ok {
		var id string
		switch {
		case json.Unmarshal(rawID, &id) != nil:
			v.add("%s: \"id\" is not a string", where)
		case !cellIDPattern.MatchString(id):
			v.add("%s: id %q must be 1 to 64 letters, digits, '-' or '_'", where, id)
		case ids[id] > 0:
			v.add("%s: id %q is already the id of cell %d", where, id, ids[id])
		default:
			ids[id] = n
		}
	}
	v.multiline(where, c, "source")
	if md, ok := c["metadata"]; ok {
		v.cellMetadata(where, md)
	}
	if typ != CellCode {
		return
	}
	if raw, ok := c["execution_count"]; ok && string(raw) != "null" {
		var count int
		if json.Unmarshal(raw, &count) != nil || count < 0 {
			v.add("%s: \"execution_count\" is not null or a non-negative integer", where)
		}
	}
	if raw, ok := c["outputs"]; ok {
		var outs []json.RawMessage
		if json.Unmarshal(raw, &outs) != nil || outs == nil {
			v.add("%s: \"outputs\" is not a list", where)
		}
		for j, o := range outs {
			v.output(fmt.Sprintf("%s output %d", where, j+1), o)
		}
	}
}

// cellMetadata checks a cell's metadata and its tags.
func (v *validator) cellMetadata(where string, raw json.RawMessage) {
	var md map[string]json.RawMessage
	if err := json.Unmarshal(raw, &md); err != nil || md == nil {
		v.add("%s: \"metadata\" is not an object", where)
		return
	}
	rawTags, ok := md["tags"]
	if !ok {
		return
	}
	var tags []string
	if err := json.Unmarshal(rawTags, &tags); err != nil || tags == nil {
		v.add("%s: metadata \"tags\" is not a list of strings", where)
		return
	}
	seen := map[string]bool{}
	for _, tag := range tags {
		switch {
		case tag == "":
			v.add("%s: empty tag", where)
		case strings.Contains(tag, ","):
			v.add("%s: tag %q contains a comma, which nbformat forbids in tags", where, tag)
		case seen[tag]:
			v.add("%s: tag %q appears twice", where, tag)
		}
		seen[tag] = true
	}
}

// output checks one output of a code cell.
func (v *validator) output(where string, raw json.RawMessage) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		v.add("%s: not an object", where)
		return
	}
	var typ string
	if rawType, ok := o["output_type"]; !ok || json.Unmarshal(rawType, &typ) != nil {
		v.add("%s: missing or invalid \"output_type\"", where)
		return
	}
	switch typ {
	case "stream":
		v.required(where, o, "name", "text")
		v.allowed(where, o, "output_type", "name", "text")
		v.multiline(where, o, "text")
	case "display_data":
		v.required(where, o, "data", "metadata")
		v.allowed(where, o, "output_type", "data", "metadata")
	case "execute_result":
		v.required(where, o, "data", "metadata", "execution_count")
		v.allowed(where, o, "output_type", "data", "metadata", "execution_count")
	case "error":
		v.required(where, o, "ename", "evalue", "traceback")
		v.allowed(where, o, "output_type", "ename", "evalue", "traceback")
	default:
		v.add("%s: unknown output_type %q", where, typ)
	}
}

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = errors.New("nbformat: invalid notebook")

// Is makes errors.Is(err, ErrInvalid) true for validation errors.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }
