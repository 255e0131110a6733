package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smimectl/smimectl/internal/batch"
)

// The progress bar of a batch (issue #13 item 5): one line on standard
// error, only when standard error is a terminal and --quiet is not given,
//
//	smimectl: [=======>            ] 37%  1204 messages  412/s  ETA 0:04
//
// redrawn at most ten times a second, and wiped before anything else is
// written to the terminal: before every result line on standard output
// (when standard output is a terminal too), every warning, and the summary
// line. It is written with a carriage return and spaces only, no escape
// sequences, so a terminal without cursor controls (TERM=dumb) shows it
// right too.
//
// It is our own, not github.com/schollz/progressbar/v3 (v3.19.1) or
// github.com/vbauerster/mpb/v8, which were considered:
//   - both draw from their own clock (time.Now) and mpb from its own
//     goroutine, at its own rate; the bar must be wiped and redrawn around
//     every line the batch writes from its one emitting goroutine, and its
//     text tested exactly with env.Now;
//   - the total is not known at the start (a batch streams its inputs and an
//     mbox is split as it is read): it is the size of the files, summed by
//     a stat-only walk beside the run, and the bar counts bytes for its
//     percentage and ETA but messages for its count and rate;
//   - schollz/progressbar brings six modules (colorstring, uniseg, go-ansi,
//     virtualterm, go-isatty, runewidth) and package-level initialisation
//     (regexp compiles) that every smimectl run would pay at start-up, which
//     issue #13's start-up budget counts; this file needs golang.org/x/term,
//     which smimectl uses already.
type progressBar struct {
	mu      sync.Mutex
	w       io.Writer // standard error
	width   int       // the terminal's columns
	now     func() time.Time
	start   time.Time
	last    time.Time // when the bar was last drawn
	shown   int       // the length of the line on the terminal; 0: none
	stopped bool

	n     int          // messages done
	bytes int64        // bytes of input done
	total atomic.Int64 // bytes of all inputs; -1 while unknown
	quit  chan struct{}
	// clearStdout: standard output is a terminal too, so a result line
	// wipes the bar first.
	clearStdout bool
}

// progressInterval is the least time between two redraws of the bar.
const progressInterval = 100 * time.Millisecond

// newProgressBar returns the bar of a batch over paths, or nil when
// standard error is not a terminal. It starts summing the sizes of the
// inputs (a walk that opens no file) for the percentage and ETA; with
// standard input among them, the total is never known and the bar shows
// the count and rate only.
func newProgressBar(e *env, paths []string, opts batch.Options) *progressBar {
	if e.Terminal == nil {
		return nil
	}
	width, ok := e.Terminal(2)
	if !ok {
		return nil
	}
	_, outTerm := e.Terminal(1)
	p := &progressBar{w: e.Stderr, width: width, now: e.Now, quit: make(chan struct{}), clearStdout: outTerm}
	p.start = p.now()
	p.total.Store(-1)
	if !slices.Contains(paths, "-") {
		opts.StatOnly = true
		go func() {
			var total int64
			for in := range batch.Inputs(paths, opts) {
				select {
				case <-p.quit:
					return
				default:
				}
				total += in.Size
			}
			p.total.Store(total)
		}()
	}
	return p
}

// env returns e with standard output (if it is a terminal) and standard
// error wiping the bar before they write.
func (p *progressBar) env(e *env) *env {
	c := *e
	c.Stderr = &progressClearer{p: p, w: e.Stderr}
	if p.clearStdout {
		c.Stdout = &progressClearer{p: p, w: e.Stdout}
	}
	return &c
}

// advance counts in as done and redraws the bar if it is not on the
// terminal or was drawn more than progressInterval ago. A nil bar does
// nothing.
func (p *progressBar) advance(in batch.Input) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.Skipped == "" {
		p.n++
	}
	p.bytes += in.Size
	now := p.now()
	if p.stopped || p.shown > 0 && now.Sub(p.last) < progressInterval {
		return
	}
	p.last = now
	line := p.line(now)
	pad := max(p.shown-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.shown = len(line) + pad
}

// line is the text of the bar at now, at most width-1 columns, so that the
// terminal never wraps it (a wrapped line can't be wiped with "\r").
func (p *progressBar) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	var b strings.Builder
	b.WriteString("smimectl: ")
	total := p.total.Load()
	if total > 0 {
		frac := min(float64(p.bytes)/float64(total), 1)
		const cells = 20
		full := int(frac * cells)
		b.WriteString("[" + strings.Repeat("=", full))
		if full < cells {
			b.WriteString(">" + strings.Repeat(" ", cells-full-1))
		}
		fmt.Fprintf(&b, "] %d%%  ", int(frac*100))
	}
	unit := "messages"
	if p.n == 1 {
		unit = "message"
	}
	fmt.Fprintf(&b, "%d %s", p.n, unit)
	if secs := elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, "  %s/s", rate(float64(p.n)/secs))
	}
	if total > 0 && p.bytes > 0 && p.bytes < total {
		left := time.Duration(float64(elapsed) * float64(total-p.bytes) / float64(p.bytes))
		b.WriteString("  ETA " + clock(left))
	}
	s := b.String()
	if p.width > 1 && len(s) > p.width-1 {
		s = s[:p.width-1]
	}
	return s
}

// rate words messages per second: "412", "3.5", "0.25".
func rate(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f", r)
	case r >= 1:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// clock words a duration as m:ss or h:mm:ss, rounded up to the second.
func clock(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// clear wipes the bar off the terminal, if it is on it; p.mu is held.
func (p *progressBar) clearLocked() {
	if p.shown > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shown))
		p.shown = 0
	}
}

// stop wipes the bar and draws it no more: before the summary line, and
// whenever the run ends. It ends the size walk too. A nil bar does
// nothing; a second call does nothing.
func (p *progressBar) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		close(p.quit)
	}
	p.clearLocked()
}

// progressClearer is a stream that wipes the bar before each write.
type progressClearer struct {
	p *progressBar
	w io.Writer
}

func (c *progressClearer) Write(b []byte) (int, error) {
	c.p.mu.Lock()
	c.p.clearLocked()
	c.p.mu.Unlock()
	return c.w.Write(b)
}
