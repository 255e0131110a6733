package batch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// describe is an input as one line, for comparing.
func describeInput(dir string, in Input) string {
	p, _ := filepath.Rel(dir, in.Path)
	s := filepath.ToSlash(p)
	if in.MboxIndex >= 0 {
		s += "#" + string(rune('0'+in.MboxIndex)) + "@" + string(rune('0'+in.MboxOffset))
	}
	switch {
	case in.Err != nil:
		s += " err"
	case in.Skipped != "":
		s += " skipped: " + in.Skipped
	}
	return s
}

// Issue #13 item 1: directories are walked in order for *.eml (or --glob),
// Maildirs give cur/ and new/, mbox files their messages; FIFOs, devices,
// link loops and a path given twice never block the walk nor repeat it.
func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "d/b.eml"), "Subject: b\n")
	write(t, filepath.Join(dir, "d/a.eml"), "Subject: a\n")
	write(t, filepath.Join(dir, "d/notes.txt"), "x")
	write(t, filepath.Join(dir, "d/sub/c.eml"), "Subject: c\n")
	write(t, filepath.Join(dir, "d/box.eml"), "From a\n\nFrom b\n")
	write(t, filepath.Join(dir, "md/cur/1"), "Subject: 1\n")
	write(t, filepath.Join(dir, "md/new/2"), "Subject: 2\n")
	write(t, filepath.Join(dir, "md/new/.hidden"), "x")
	if err := os.MkdirAll(filepath.Join(dir, "md/tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "d/fifo.eml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "d/sub/loop.eml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.eml", filepath.Join(dir, "d/sub/link.eml")); err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(dir, "d"), filepath.Join(dir, "md"), filepath.Join(dir, "md") + "/", "-", filepath.Join(dir, "missing.eml")}

	done := make(chan []string)
	go func() {
		var got []string
		for in := range Inputs(paths, Options{}) {
			if in.Path == "-" {
				got = append(got, "-")
				continue
			}
			got = append(got, describeInput(dir, in))
		}
		done <- got
	}()
	var got []string
	select {
	case got = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Walk blocked (on the FIFO?)")
	}
	want := []string{
		"d/a.eml",
		"d/b.eml",
		"d/box.eml#0@0",
		"d/box.eml#1@8",
		"d/fifo.eml skipped: not a regular file",
		"d/sub/c.eml",
		"d/sub/link.eml",
		"d/sub/loop.eml skipped: a symbolic link to a directory, not followed",
		"md/cur/1",
		"md/new/2",
		"md skipped: given more than once",
		"-",
		"missing.eml err",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var n int
	for in := range Inputs([]string{filepath.Join(dir, "d")}, Options{Glob: "*.txt"}) {
		if describeInput(dir, in) != "d/notes.txt" {
			t.Errorf("--glob *.txt: got %s", describeInput(dir, in))
		}
		n++
	}
	if n != 1 {
		t.Errorf("--glob *.txt: got %d inputs, want 1", n)
	}
}

func TestCheckGlob(t *testing.T) {
	if CheckGlob("*.eml") != nil || CheckGlob("[") == nil {
		t.Error("CheckGlob: want nil for *.eml and an error for [")
	}
}

// Issue #13 item 2: results come out in input order whatever order the
// workers finish in, and no more than the window is in flight.
func TestRunOrder(t *testing.T) {
	const n, jobs, window = 200, 4, 8
	var inFlight, peak atomic.Int64
	items := func(yield func(int) bool) {
		for i := range n {
			if v := inFlight.Add(1); v > peak.Load() {
				peak.Store(v)
			}
			if !yield(i) {
				return
			}
		}
	}
	var got []int
	Run(jobs, window, items, func(i int) int {
		time.Sleep(time.Duration((i*7919)%5) * 100 * time.Microsecond)
		return i * i
	}, func(i, r int) {
		inFlight.Add(-1)
		if r != i*i {
			t.Errorf("item %d: got result %d", i, r)
		}
		got = append(got, i)
	})
	if len(got) != n || !slices.IsSorted(got) {
		t.Fatalf("got %d items out of order: %v", len(got), got)
	}
	if p := peak.Load(); p > window+2 {
		t.Errorf("peak %d items in flight, want at most %d", p, window+2)
	}
}
