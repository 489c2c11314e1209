package main

import (
	"slices"
	"testing"
)

func TestReplConfigProfile(t *testing.T) {
	tests := []struct {
		env  string
		args []string
		want string
	}{
		{"", nil, "CONVNOTES_QUICK=0"},
		{"1", nil, "CONVNOTES_QUICK=1"},
		{"true", nil, "CONVNOTES_QUICK=1"},
		{"0", nil, "CONVNOTES_QUICK=0"},
		{"1", []string{"--quick=false"}, "CONVNOTES_QUICK=0"},
		{"", []string{"--quick"}, "CONVNOTES_QUICK=1"},
	}
	for _, tc := range tests {
		t.Setenv("CONVNOTES_QUICK", tc.env)
		cfg, err := replConfig(tc.args)
		if err != nil {
			t.Fatalf("replConfig(%q) with CONVNOTES_QUICK=%q: %v", tc.args, tc.env, err)
		}
		if !slices.Contains(cfg.Kernel.Env, tc.want) {
			t.Errorf("replConfig(%q) with CONVNOTES_QUICK=%q: kernel env %q, want %s", tc.args, tc.env, cfg.Kernel.Env, tc.want)
		}
		if !cfg.Kernel.Completion {
			t.Errorf("replConfig(%q): the kernel has no completion", tc.args)
		}
	}
}
