package main

import (
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
