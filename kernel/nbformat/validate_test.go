package nbformat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validNotebook is a minimal nbformat 4.5 notebook; cells replaces %s.
const validNotebook = `{"cells": [%s], "metadata": {"kernelspec": {"name": "gonb", "display_name": "Go (gonb)"}},
 "nbformat": 4, "nbformat_minor": 5}`

const goodCode = `{"cell_type": "code", "id": "c1", "metadata": {"tags": ["a", "nbtest:expect-png"], "nbtest": {"expect": ["x, y"]}},
 "source": ["fmt.Println(1)\n"], "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}], "execution_count": 1}`

func TestValidate(t *testing.T) {
	nb := func(cells ...string) []byte {
		return []byte(strings.Replace(validNotebook, "%s", strings.Join(cells, ","), 1))
	}
	tests := []struct {
		name string
		data []byte
		want string // "" = valid
	}{
		{"valid", nb(goodCode, `{"cell_type": "markdown", "id": "m_1-x", "metadata": {}, "source": "# hi"}`), ""},
		{"comma in tag", nb(`{"cell_type": "markdown", "id": "m1", "metadata": {"tags": ["nbtest:expect=a, b"]}, "source": ""}`),
			`cell 1: tag "nbtest:expect=a, b" contains a comma`},
		{"duplicate tag", nb(`{"cell_type": "markdown", "id": "m1", "metadata": {"tags": ["a", "a"]}, "source": ""}`), `tag "a" appears twice`},
		{"missing id", nb(`{"cell_type": "markdown", "metadata": {}, "source": ""}`), `cell 1: missing required field "id"`},
		{"bad id", nb(`{"cell_type": "markdown", "id": "a b", "metadata": {}, "source": ""}`), `id "a b" must be`},
		{"duplicate id", nb(goodCode, strings.Replace(goodCode, `"x, y"`, `"z"`, 1)), `cell 2: id "c1" is already the id of cell 1`},
		{"code without outputs", nb(`{"cell_type": "code", "id": "c", "metadata": {}, "source": "", "execution_count": null}`),
			`missing required field "outputs"`},
		{"unknown cell field", nb(`{"cell_type": "markdown", "id": "m", "metadata": {}, "source": "", "outputs": []}`), `unknown field "outputs"`},
		{"bad stream", nb(`{"cell_type": "code", "id": "c", "metadata": {}, "source": "", "execution_count": null,
			"outputs": [{"output_type": "stream", "text": "x"}]}`), `cell 1 output 1: missing required field "name"`},
		{"bad source", nb(`{"cell_type": "raw", "id": "r", "metadata": {}, "source": 3}`), `"source" is not a string`},
		{"no cells", []byte(`{"metadata": {}, "nbformat": 4, "nbformat_minor": 5}`), `missing required field "cells"`},
		{"kernelspec without name", []byte(`{"cells": [], "metadata": {"kernelspec": {}}, "nbformat": 4, "nbformat_minor": 5}`),
			`kernelspec: missing required field "name"`},
		{"4.4 needs no ids", []byte(`{"cells": [{"cell_type": "raw", "metadata": {}, "source": ""}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}`), ""},
		{"syntax", []byte("{\n\"cells\": [\n"), "invalid JSON at line 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.data)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate error = %v, want %q", err, tc.want)
			}
		})
	}
	if err := Validate(nb(`{"cell_type": "markdown", "metadata": {"tags": ["a,b"]}, "source": ""}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
}

// TestCommittedNotebooksValid checks the project's notebooks and the
// written form of a parsed notebook against the schema.
func TestCommittedNotebooksValid(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "notebooks", "*.ipynb"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(data); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		nb, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out, err := nb.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(out); err != nil {
			t.Errorf("%s as written by Marshal: %v", p, err)
		}
	}
}
