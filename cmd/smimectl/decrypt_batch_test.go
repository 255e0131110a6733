package main

import (
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smimectl/smimectl/internal/batch"
)

// cmdFilemode checks the permission bits of a file: "filemode 0600 f".
func cmdFilemode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: filemode <octal mode> <file>")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Lstat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fi.Mode().Perm(); uint64(got) != want {
		ts.Fatalf("%s has mode %#o, want %#o", args[1], got, want)
	}
}

// Issue #13 item 1, hostile names: whatever an input's path, its file
// under decrypt --out-dir is inside the directory (no "..", no leading
// "/"), and an mbox message has "#N" after the mbox's name.
func TestOutDirName(t *testing.T) {
	tests := []struct {
		path  string
		index int
		want  string
	}{
		{"fx/a.eml", -1, "fx/a.eml"},
		{"./fx//sub/../a.eml", -1, "fx/a.eml"},
		{"../../etc/passwd", -1, "etc/passwd"},
		{"/var/mail/../../etc/shadow", -1, "etc/shadow"},
		{"/home/u/Maildir/cur/1:2,S", -1, "home/u/Maildir/cur/1:2,S"},
		{"inbox", 2, "inbox#2"},
		{"..", -1, ""},
		{"/", -1, ""},
		{"-", -1, ""},
		{"a/..\n/b", -1, "a/..\n/b"}, // not "..": a name of its own
	}
	for _, tc := range tests {
		got, err := outDirName(batch.Input{Path: tc.path, MboxIndex: tc.index})
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: got %q, want an error", tc.path, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}
