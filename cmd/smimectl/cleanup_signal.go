package main

// At a signal: the temporary files of this run are removed before it exits.

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// atSignal registers f to run when a signal stops the run, until the
// returned function is called.
func (t *tempFiles) atSignal(f func()) (done func()) {
	if t == nil {
		return func() {}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.restore == nil {
		t.restore = map[int]func(){}
	}
	id := t.nextID
	t.nextID++
	t.restore[id] = f
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.restore, id)
	}
}

// removeAll runs the atSignal functions, removes every recorded file, then the recorded directories that
// are empty, and keeps the set locked, so that nothing is created or renamed
// after it: the caller is about to exit.
func (t *tempFiles) removeAll() {
	if t == nil {
		return
	}
	t.mu.Lock()
	for _, f := range t.restore {
		f()
	}
	t.restore = nil
	for name := range t.names {
		os.Remove(name)
	}
	t.names = nil
	for _, d := range t.dirs {
		os.Remove(d) // only if empty
	}
	t.dirs = nil
}

// handleSignals removes the files in temps and exits with 128+n when the
// process receives SIGINT, SIGTERM or SIGHUP. It also takes SIGPIPE from the
// Go runtime, which would otherwise kill the process at the first write to a
// broken standard output before anything could be removed: such a write then
// fails with EPIPE, which stdioWriter handles; a SIGPIPE from any other
// descriptor (a connection to a CRL server that went away) is ignored, as the
// runtime ignores it by default. The returned function stops the handling.
func handleSignals(temps *tempFiles) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				s, ok := sig.(syscall.Signal)
				if !ok || s == syscall.SIGPIPE {
					continue
				}
				temps.removeAll()
				os.Exit(signalExit(s))
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// stdioWriter is standard output or standard error (or an --out that names a
// pipe). A write that fails because the reader has gone (EPIPE: "smimectl
// verify ... | head") removes the temporary files and exits with 141 at once,
// silently, as a process killed by SIGPIPE would; other write errors are
// returned.
type stdioWriter struct {
	f     *os.File
	temps *tempFiles
}

func (w *stdioWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if errors.Is(err, syscall.EPIPE) {
		w.temps.removeAll()
		os.Exit(signalExit(syscall.SIGPIPE))
	}
	return n, err
}
