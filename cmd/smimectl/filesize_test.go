package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxCmdFileLines is the most lines a Go file of cmd/smimectl may have: a
// command file holds one command, a file one job, a test file one topic.
const maxCmdFileLines = 300

// TestCmdFilesAtMost300Lines is issue #17 item 5's "no file in cmd/smimectl
// over 300 lines": it lists every *.go file of this directory over
// maxCmdFileLines, counted as wc -l counts them.
func TestCmdFilesAtMost300Lines(t *testing.T) {
	paths, err := filepath.Glob("*.go")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Go files found in cmd/smimectl (err %v): the test must run in its package directory", err)
	}
	var over []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("\n")); n > maxCmdFileLines {
			over = append(over, fmt.Sprintf("%s (%d lines)", p, n))
		}
	}
	if len(over) > 0 {
		t.Errorf("%d file(s) over %d lines; split each by job (a test file by topic):\n\t%s",
			len(over), maxCmdFileLines, strings.Join(over, "\n\t"))
	}
}
