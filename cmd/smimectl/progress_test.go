package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/batch"
)

// Issue #13 item 5: the bar's text at a fixed clock: count and rate from the
// start, then with the total known the bar, the percentage and the ETA; it
// is redrawn at most every progressInterval, padded over a longer previous
// line, cut to the terminal's width, and wiped by stop and before any write
// through its env's streams.
func TestProgressBar(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var term bytes.Buffer
	p := &progressBar{w: &term, width: 80, now: func() time.Time { return now }, start: now, quit: make(chan struct{})}
	p.total.Store(-1)
	step := func(d time.Duration, size int64) string {
		now = now.Add(d)
		term.Reset()
		p.advance(batch.Input{Size: size})
		return term.String()
	}
	if got, want := step(500*time.Millisecond, 100), "\rsmimectl: 1 message  2.0/s"; got != want {
		t.Errorf("first draw %q, want %q", got, want)
	}
	if got := step(50*time.Millisecond, 100); got != "" {
		t.Errorf("redrawn after 50ms: %q", got)
	}
	p.total.Store(1000)
	if got, want := step(450*time.Millisecond, 300), "\rsmimectl: [==========>         ] 50%  3 messages  3.0/s  ETA 0:01"; got != want {
		t.Errorf("with the total: %q, want %q", got, want)
	}
	p.total.Store(100000)
	now = now.Add(4 * time.Hour)
	if got, want := step(0, 0), "\rsmimectl: [>                   ] 0%  4 messages  0.00/s  ETA 796:03:19"; got != want {
		t.Errorf("slow: %q, want %q", got, want)
	}
	// A shorter line is padded over the longer one.
	p.total.Store(-1)
	got := step(time.Second, 0)
	if want := "\rsmimectl: 5 messages  0.00/s"; !strings.HasPrefix(got, want) || strings.TrimRight(got[len(want):], " ") != "" || len(got) < 60 {
		t.Errorf("shorter line %q, want %q padded with spaces", got, want)
	}
	// Never wider than the terminal, less one column.
	p.width = 20
	if got := step(time.Second, 0); len(strings.TrimRight(got, " ")) > 20 {
		t.Errorf("line %q wider than 19 columns", got)
	}
	// A write to standard error wipes the bar first; stop wipes it and
	// it is not drawn again.
	var stderr bytes.Buffer
	e := p.env(&env{Stderr: &stderr})
	p.w = &stderr
	shown := p.shown
	e.Stderr.Write([]byte("smimectl: warning: x\n"))
	if want := "\r" + strings.Repeat(" ", shown) + "\rsmimectl: warning: x\n"; stderr.String() != want {
		t.Errorf("warning written as %q, want %q", stderr.String(), want)
	}
	stderr.Reset()
	p.stop()
	p.stop()
	p.advance(batch.Input{})
	if stderr.Len() != 0 {
		t.Errorf("after a wipe, stop and advance wrote %q", stderr.String())
	}
	if clock(61*time.Second) != "1:01" || clock(3601*time.Second) != "1:00:01" || clock(1500*time.Millisecond) != "0:02" {
		t.Errorf("clock: %s %s %s", clock(61*time.Second), clock(3601*time.Second), clock(1500*time.Millisecond))
	}
}

// With no terminal, or --quiet, there is no bar (issue #13 item 5).
func TestProgressBarOnlyOnTerminal(t *testing.T) {
	notTerm := &env{Terminal: func(int) (int, bool) { return 0, false }}
	if newProgressBar(notTerm, []string{"x"}, batch.Options{}) != nil {
		t.Error("a bar without a terminal")
	}
	if newProgressBar(&env{}, []string{"x"}, batch.Options{}) != nil {
		t.Error("a bar with env.Terminal nil")
	}
	onlyStdout := &env{Terminal: func(fd int) (int, bool) { return 80, fd == 1 }}
	if newProgressBar(onlyStdout, []string{"x"}, batch.Options{}) != nil {
		t.Error("a bar when only standard output is a terminal")
	}
}
