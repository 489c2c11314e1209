//go:build linux

package main

import (
	"os"
	"reflect"
	"slices"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		args       []string
		dirs, argv []string
		ok         bool
	}{
		{[]string{"/a", "/b", "--", "/bin/gonb", "--kernel", "k.json"}, []string{"/a", "/b"}, []string{"/bin/gonb", "--kernel", "k.json"}, true},
		{[]string{"--", "/bin/true"}, []string{}, []string{"/bin/true"}, true},
		{[]string{"/a", "--"}, nil, nil, false},
		{[]string{"/a", "/bin/gonb"}, nil, nil, false},
		{[]string{"relative", "--", "/bin/gonb"}, nil, nil, false},
	}
	for _, tc := range tests {
		dirs, argv, ok := splitArgs(tc.args)
		if ok != tc.ok || (ok && (!reflect.DeepEqual(dirs, tc.dirs) || !reflect.DeepEqual(argv, tc.argv))) {
			t.Errorf("splitArgs(%q) = %q %q %v", tc.args, dirs, argv, ok)
		}
	}
}

func TestReadProc(t *testing.T) {
	p, ok := readProc(os.Getpid())
	if !ok || p.ppid != os.Getppid() || p.state == 'Z' {
		t.Errorf("readProc(self) = %+v %v, want parent %d", p, ok, os.Getppid())
	}
	if _, ok := readProc(-1); ok {
		t.Error("readProc(-1) found a process")
	}
	if _, ok := scan()[os.Getpid()]; !ok {
		t.Error("scan does not list this process")
	}
}

func TestDescendants(t *testing.T) {
	procs := map[int]proc{10: {ppid: 1}, 11: {ppid: 10}, 12: {ppid: 11}, 13: {ppid: 10}, 20: {ppid: 1}, 21: {ppid: 20}}
	got := descendants(procs, []int{10})
	slices.Sort(got[1:])
	if want := []int{10, 11, 12, 13}; !reflect.DeepEqual(got, want) {
		t.Errorf("descendants(10) = %v, want %v", got, want)
	}
}
