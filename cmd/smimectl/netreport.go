package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/smimectl/smimectl/pkg/revocation"
)

// Say what is slow (issue #16 item 6). pkg/revocation tells of each network
// request through Options.FetchStarted and FetchDone; this file turns that into
// stderr lines: with -v one line per request when it ended (what, URL, result,
// duration); without -v, on a terminal, a status line once a request has taken
// statusDelay, erased when it ends. A mail filter's stderr is no terminal and
// gets neither without -v.

// statusDelay is how long a request runs before the status line appears.
const statusDelay = 2 * time.Second

// fetchReporter holds the state of the status line; it is safe for the
// concurrent callbacks of a batch's workers.
type fetchReporter struct {
	w       io.Writer
	verbose bool
	status  bool          // draw the status line (a terminal, no -v)
	delay   time.Duration // statusDelay; tests shorten it

	mu      sync.Mutex
	waiting string      // the request the timer is for
	timer   *time.Timer // pending status line, nil if none
	shown   bool        // the status line is on the screen
}

// newFetchReporter returns the reporter for a command writing to e.Stderr, or
// nil when it has nothing to say (no -v, and no terminal or status wanted).
func newFetchReporter(e *env, verbose, status bool) *fetchReporter {
	if !verbose && status {
		status = false
		if e.Terminal != nil {
			_, status = e.Terminal(2)
		}
	} else {
		status = false
	}
	if !verbose && !status {
		return nil
	}
	return &fetchReporter{w: e.Stderr, verbose: verbose, status: status, delay: statusDelay}
}

// install sets the callbacks of o; a nil reporter leaves them unset.
func (r *fetchReporter) install(o *revocation.Options) {
	if r == nil {
		return
	}
	o.FetchStarted = r.started
	o.FetchDone = r.done
}

// fetchWhat names what a request fetches.
func fetchWhat(src revocation.Source) string {
	switch src {
	case revocation.SourceOCSP:
		return "OCSP answer"
	case revocation.SourceIssuer:
		return "issuer certificate"
	}
	return "CRL"
}

func (r *fetchReporter) started(src revocation.Source, url string) {
	if !r.status {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil || r.shown {
		return // one status line at a time: the first request still waiting
	}
	r.waiting = url
	line := "smimectl: fetching " + fetchWhat(src) + " from " + safeText(url, maxShownURL) + " …"
	r.timer = time.AfterFunc(r.delay, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.timer == nil || r.waiting != url {
			return
		}
		r.timer = nil
		r.shown = true
		fmt.Fprint(r.w, "\r"+line)
	})
}

func (r *fetchReporter) done(f revocation.Fetch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status && r.waiting == f.URL {
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		if r.shown {
			fmt.Fprint(r.w, "\r\x1b[K")
			r.shown = false
		}
		r.waiting = ""
	}
	if r.verbose {
		fmt.Fprintln(r.w, fetchLine(f))
	}
}

// fetchLine is the -v line of one request: "smimectl: network: CRL URL: ok in
// 12ms" or "smimectl: network: CRL URL: failed after 5s: why".
func fetchLine(f revocation.Fetch) string {
	d := f.Duration.Round(time.Millisecond)
	head := "smimectl: network: " + fetchWhat(f.Source) + " " + safeText(f.URL, maxShownURL)
	if f.Err != nil {
		return fmt.Sprintf("%s: failed after %s: %s", head, d, safeText(f.Err.Error(), maxShownError))
	}
	return fmt.Sprintf("%s: ok in %s", head, d)
}

// Bounds of what a line repeats from a certificate: its URLs are the sender's.
const (
	maxShownURL   = 200
	maxShownError = 400
)

// safeText makes s, which a sender's certificate may have chosen, safe for a
// terminal: control characters (an escape sequence could redraw the screen)
// and invalid UTF-8 as \x escapes, and at most max bytes, cut with "…".
func safeText(s string, max int) string {
	var b strings.Builder
	for i, c := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		switch {
		case c == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
