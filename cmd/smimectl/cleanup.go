package main

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Nothing left behind (SPEC "a killed run leaves nothing on disk"; issue #11
// item 14). Spooled content has no name on disk at all (internal/mime.Spool),
// and on Linux neither has an --out file until it is complete (O_TMPFILE,
// linked under a temporary name and renamed into place on success), so even
// SIGKILL leaves nothing. Where a temporary output file needs a name while it
// is written (other systems, file systems without O_TMPFILE), and for the
// finished messages of encrypt --bcc separate waiting for the others, the
// ".NAME.tmp*" names are recorded in a tempFiles set, and Main removes them
// when the run is stopped:
//
//   - by SIGINT, SIGTERM (what timeout(1) sends) or SIGHUP: the files are
//     removed and smimectl exits with 128+n (130, 143, 129), the status a shell
//     reports for a process killed by signal n;
//   - by a write to a standard output or standard error whose reader has gone
//     (SIGPIPE, EPIPE): the files are removed and smimectl exits with 141
//     (128+SIGPIPE) without a message, as a process killed by SIGPIPE would.
//
// SIGKILL can't be caught: where O_TMPFILE can't be used, a run killed by it
// may leave a ".NAME.tmp*" file beside --out (never a spooled one).

// signalExit is the exit status of a run stopped by signal sig: 128+n.
func signalExit(sig syscall.Signal) int { return 128 + int(sig) }

// tempFiles is the set of named temporary files a run has created and not
// yet renamed into place or removed. The zero value is ready to use; a nil
// *tempFiles tracks nothing (the in-process tests, which are never signalled).
type tempFiles struct {
	mu    sync.Mutex
	names map[string]bool
	// dirs are directories the run created for its output (--out-dir),
	// deepest first, removed after the files if they are still empty.
	dirs []string
	// restore are what a signal must put back before the exit: the
	// terminal's echo, while a PIN is read without it.
	restore map[int]func()
	nextID  int
	// named makes every file named from the start, as where O_TMPFILE
	// can't be used (tests of that path).
	named bool
}

// tempFile is an output file being written: f, and the name it has in dir,
// or "" while it has none. On Linux it is opened with O_TMPFILE and has no
// name until it is complete, so that a run killed even by SIGKILL leaves
// nothing; elsewhere it is created under a name from pattern (as
// os.CreateTemp), which tempFiles records for the signal handler.
type tempFile struct {
	f       *os.File // nil once closed
	dir     string
	pattern string
	name    string
}

// create returns a new temporary file in dir; pattern is os.CreateTemp's,
// for the name it gets.
func (t *tempFiles) create(dir, pattern string) (*tempFile, error) {
	if t == nil || !t.named {
		if f, ok := openUnnamedOut(dir); ok {
			return &tempFile{f: f, dir: dir, pattern: pattern}, nil
		}
	}
	t.lock()
	defer t.unlock()
	// Locked across the creation: a signal that arrives meanwhile finds
	// the file recorded, or waits until it is.
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	t.record(f.Name())
	return &tempFile{f: f, dir: dir, pattern: pattern, name: f.Name()}, nil
}

func (t *tempFiles) lock() {
	if t != nil {
		t.mu.Lock()
	}
}

func (t *tempFiles) unlock() {
	if t != nil {
		t.mu.Unlock()
	}
}

// record adds name to the set; t is locked.
func (t *tempFiles) record(name string) {
	if t == nil {
		return
	}
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
}

// forget removes name from the set; t is locked.
func (t *tempFiles) forget(name string) {
	if t != nil {
		delete(t.names, name)
	}
}

// park gives tf a name (if it has none), records it and closes the file: for
// a run that writes many files before it puts them in place, so that it does
// not hold a descriptor for each.
func (t *tempFiles) park(tf *tempFile) error {
	t.lock()
	defer t.unlock()
	err := t.nameLocked(tf)
	if cerr := tf.close(); err == nil {
		err = cerr
	}
	return err
}

// nameLocked gives an unnamed tf a fresh name from its pattern and records
// it; t is locked.
func (t *tempFiles) nameLocked(tf *tempFile) error {
	if tf.name != "" {
		return nil
	}
	prefix, suffix, _ := strings.Cut(tf.pattern, "*")
	for range 100 {
		name := filepath.Join(tf.dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		err := linkOut(tf.f, name)
		switch {
		case errors.Is(err, fs.ErrExist):
			continue
		case err != nil:
			// /proc refused the link (a restricted container):
			// copy to a named file rather than fail a good run.
			return t.copyNamed(tf)
		}
		tf.name = name
		t.record(name)
		return nil
	}
	return &fs.PathError{Op: "create", Path: filepath.Join(tf.dir, tf.pattern), Err: fs.ErrExist}
}

// copyNamed replaces tf (unnamed, in practice) by a named copy of it; t is
// locked.
func (t *tempFiles) copyNamed(tf *tempFile) error {
	f, err := os.CreateTemp(tf.dir, tf.pattern)
	if err != nil {
		return err
	}
	t.record(f.Name())
	fi, err := tf.f.Stat()
	if err == nil {
		_, err = io.Copy(f, io.NewSectionReader(tf.f, 0, fi.Size()))
	}
	if err == nil {
		err = f.Chmod(fi.Mode().Perm())
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		t.forget(f.Name())
		return err
	}
	tf.f.Close()
	if tf.name != "" {
		os.Remove(tf.name)
		t.forget(tf.name)
	}
	tf.f, tf.name = f, f.Name()
	return nil
}

// close closes tf's file, once.
func (tf *tempFile) close() error {
	if tf.f == nil {
		return nil
	}
	err := tf.f.Close()
	tf.f = nil
	return err
}

// discard closes and removes tf and forgets it.
func (t *tempFiles) discard(tf *tempFile) {
	tf.close()
	if tf.name == "" {
		return // nothing on disk
	}
	t.lock()
	defer t.unlock()
	os.Remove(tf.name)
	t.forget(tf.name)
}

// rename is a temporary file and the path it becomes.
type rename struct {
	tmp *tempFile
	dst string
}

// promote gives each temporary file its name, closes it and renames it into
// place, in order, and forgets them. It is all or nothing as far as the file
// system allows: if one step fails, the files already renamed and the
// temporary files left are removed (a file that stood at one of those paths
// before is then gone too), and the error is returned. A signal is handled
// before or after promote, never in between.
func (t *tempFiles) promote(files []rename) error {
	t.lock()
	defer t.unlock()
	var err error
	done := 0
	for _, f := range files {
		if err = t.nameLocked(f.tmp); err == nil {
			err = f.tmp.close()
		}
		if err == nil {
			err = os.Rename(f.tmp.name, f.dst)
		}
		if err != nil {
			break
		}
		t.forget(f.tmp.name)
		done++
	}
	if err != nil {
		for _, f := range files[:done] {
			os.Remove(f.dst)
		}
		for _, f := range files[done:] {
			f.tmp.close()
			if f.tmp.name != "" {
				os.Remove(f.tmp.name)
				t.forget(f.tmp.name)
			}
		}
	}
	return err
}
