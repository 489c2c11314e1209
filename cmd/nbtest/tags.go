package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// tagPrefix starts every nbtest cell tag.
const tagPrefix = "nbtest:"

// cellRules are the nbtest rules a cell's tags declare (see doc.go).
type cellRules struct {
	skip, skipQuick, allowError, expectError, expectPNG bool
	mimes                                               []string
	patterns                                            []*regexp.Regexp
	timeout                                             time.Duration
}

// metadataKey is the cell metadata field that holds nbtest rules whose
// values may contain commas, which nbformat forbids in tags:
// "nbtest": {"expect": ["REGEX", ...]}.
const metadataKey = "nbtest"

// cellMetadata is the "nbtest" object of a cell's metadata.
type cellMetadata struct {
	// Expect holds Go regular expressions the cell's text output must match.
	Expect []string `json:"expect"`
}

// parseRules reads a cell's nbtest rules: its tags, then the "nbtest" object
// of its metadata. Unknown tags or fields are errors.
func parseRules(tags []string, metadata json.RawMessage) (cellRules, error) {
	r, err := parseTags(tags)
	if err != nil {
		return r, err
	}
	var md map[string]json.RawMessage
	if len(metadata) == 0 || json.Unmarshal(metadata, &md) != nil {
		return r, nil
	}
	raw, ok := md[metadataKey]
	if !ok {
		return r, nil
	}
	var m cellMetadata
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return r, fmt.Errorf("cell metadata %q: want {\"expect\": [\"REGEX\", ...]}: %w", metadataKey, err)
	}
	for _, p := range m.Expect {
		if p == "" {
			return r, fmt.Errorf("cell metadata %q: empty expect pattern", metadataKey)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return r, fmt.Errorf("cell metadata %q: expect %q: %w", metadataKey, p, err)
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// parseTags reads the nbtest tags of a cell; unknown nbtest tags are errors.
func parseTags(tags []string) (cellRules, error) {
	var r cellRules
	for _, tag := range tags {
		if !strings.HasPrefix(tag, tagPrefix) {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(tag, tagPrefix), "=")
		switch {
		case name == "skip" && !hasValue:
			r.skip = true
		case name == "skip-quick" && !hasValue:
			r.skipQuick = true
		case name == "allow-error" && !hasValue:
			r.allowError = true
		case name == "expect-error" && !hasValue:
			r.expectError = true
		case name == "expect-png" && !hasValue:
			r.expectPNG = true
		case name == "expect-mime" && value != "":
			r.mimes = append(r.mimes, value)
		case name == "expect" && value != "":
			re, err := regexp.Compile(value)
			if err != nil {
				return r, fmt.Errorf("tag %q: %w", tag, err)
			}
			r.patterns = append(r.patterns, re)
		case name == "timeout" && value != "":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return r, fmt.Errorf("tag %q: want a positive Go duration like 90s", tag)
			}
			r.timeout = d
		default:
			return r, fmt.Errorf("unknown tag %q (see go doc ./cmd/nbtest)", tag)
		}
	}
	return r, nil
}
