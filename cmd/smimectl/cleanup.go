package main

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Nothing left behind (SPEC "a killed run leaves nothing on disk"; issue #11
// item 14). Spooled content has no name on disk at all (internal/mime.Spool).
// The files that must have one until the run succeeds — the --out temporary
// file ".NAME.tmp*" and the messages of encrypt --bcc separate — are recorded
// in a tempFiles set, and Main removes them when the run is stopped:
//
//   - by SIGINT, SIGTERM (what timeout(1) sends) or SIGHUP: the files are
//     removed and smimectl exits with 128+n (130, 143, 129), the status a shell
//     reports for a process killed by signal n;
//   - by a write to a standard output or standard error whose reader has gone
//     (SIGPIPE, EPIPE): the files are removed and smimectl exits with 141
//     (128+SIGPIPE) without a message, as a process killed by SIGPIPE would.
//
// SIGKILL can't be caught: a run killed by it may leave a ".NAME.tmp*" file
// beside --out (never a spooled one).

// signalExit is the exit status of a run stopped by signal sig: 128+n.
func signalExit(sig syscall.Signal) int { return 128 + int(sig) }

// tempFiles is the set of named temporary files a run has created and not
// yet renamed into place or removed. The zero value is ready to use; a nil
// *tempFiles tracks nothing (the in-process tests, which are never signalled).
type tempFiles struct {
	mu    sync.Mutex
	names map[string]bool
}

// create is os.CreateTemp(dir, pattern) with the file recorded.
func (t *tempFiles) create(dir, pattern string) (*os.File, error) {
	if t == nil {
		return os.CreateTemp(dir, pattern)
	}
	// Held across the creation: a signal that arrives meanwhile finds
	// the file recorded, or waits until it is.
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := os.CreateTemp(dir, pattern)
	if err == nil {
		if t.names == nil {
			t.names = map[string]bool{}
		}
		t.names[f.Name()] = true
	}
	return f, err
}

// discard removes the temporary file name and forgets it.
func (t *tempFiles) discard(name string) {
	if t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.names, name)
	}
	os.Remove(name)
}

// rename is a pair of a temporary file and the path it becomes.
type rename struct{ tmp, dst string }

// promote renames every temporary file into place, in order, and forgets
// them. It is all or nothing as far as the file system allows: if one
// rename fails, the files already renamed and the temporary files left are
// removed (a file that stood at one of those paths before is then gone too),
// and the error is returned. A signal is handled before or after promote,
// never in between.
func (t *tempFiles) promote(files []rename) error {
	if t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
	}
	var err error
	for i, f := range files {
		if err = os.Rename(f.tmp, f.dst); err != nil {
			for _, done := range files[:i] {
				os.Remove(done.dst)
			}
			for _, left := range files[i:] {
				os.Remove(left.tmp)
			}
			break
		}
	}
	if t != nil {
		for _, f := range files {
			delete(t.names, f.tmp)
		}
	}
	return err
}

// removeAll removes every recorded file and keeps the set locked, so that
// nothing is created or renamed after it: the caller is about to exit.
func (t *tempFiles) removeAll() {
	if t == nil {
		return
	}
	t.mu.Lock()
	for name := range t.names {
		os.Remove(name)
	}
	t.names = nil
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
