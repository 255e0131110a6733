package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
)

// Output file modes: messages are world-readable like any file the user writes;
// decrypted plaintext and keys are for the owner only.
const (
	modePublic  fs.FileMode = 0o644
	modePrivate fs.FileMode = 0o600
)

// isStdio reports whether an --in or --out value names standard input or output.
func isStdio(path string) bool { return path == "" || path == "-" }

// openInput opens the message named by --in: standard input for "" or "-", else the
// file. The caller closes it; closing standard input is a no-op.
func openInput(e *env, path string) (io.ReadCloser, error) {
	if isStdio(path) {
		return io.NopCloser(e.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// A directory opens but can't be read: say so now, before anything is
	// loaded or written, as the setup error it is (issue #16 item 8).
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	return f, nil
}

// openOutput opens --out with mode 0644; see openOutputMode.
func openOutput(e *env, path string) (w io.Writer, commit func() error, abort func()) {
	return openOutputMode(e, path, modePublic)
}

// openOutputMode opens the destination named by --out. For "" or "-" it writes
// through to standard output and commit and abort do nothing: a pipeline sees bytes
// as they come. For a file it writes to a temporary file in the same directory, and
// only commit puts it in place (with mode perm) by renaming it over path; abort, or a
// failed commit, removes the temporary file, so a failed run leaves path as it was.
// After the first call to commit or abort, later calls do nothing. A path that
// names a device or a pipe (--out /dev/null) is written directly: renaming over it
// would replace the device with a regular file.
//
// A temporary file that can't be created makes every Write fail with a *fs.PathError
// for path; a zero-length Write finds out early.
func openOutputMode(e *env, path string, perm fs.FileMode) (w io.Writer, commit func() error, abort func()) {
	if isStdio(path) {
		return e.Stdout, func() error { return nil }, func() {}
	}
	if fd, ok := fdAlias(path); ok {
		// --out /dev/stdout, /dev/fd/3, or a link to one: the descriptor
		// the name stands for, written as it is. Taken as a file name it
		// was replaced: when standard output was a file (> out.eml), the
		// temporary file was renamed over the /dev/stdout link itself, and
		// the output never reached out.eml (red team, attack3).
		switch fd {
		case 1:
			return e.Stdout, func() error { return nil }, func() {}
		case 2:
			return e.Stderr, func() error { return nil }, func() {}
		}
		// Another descriptor (3>out.eml): opened again through its name,
		// and written at its end, where the shell left it.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			if fi, serr := f.Stat(); serr == nil && fi.Mode().IsRegular() {
				_, err = f.Seek(0, io.SeekEnd)
			}
		}
		if err != nil {
			if f != nil {
				f.Close()
			}
			return &atomicFile{err: err}, func() error { return err }, func() {}
		}
		return &stdioWriter{f: f, temps: e.temps}, f.Close, func() { f.Close() }
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		// A device or pipe such as /dev/null: renaming a temporary file over
		// it would replace it, so write through to it.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return &atomicFile{err: err}, func() error { return err }, func() {}
		}
		// A pipe whose reader has gone ends the run as a broken
		// standard output does (exit 141, temporary files removed).
		return &stdioWriter{f: f, temps: e.temps}, f.Close, func() { f.Close() }
	}
	a := &atomicFile{path: path, perm: perm &^ e.Umask, temps: e.temps}
	a.tf, a.err = e.temps.create(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	var pe *fs.PathError
	if errors.As(a.err, &pe) {
		// Name the file the user asked for, not the temporary one.
		a.err = &fs.PathError{Op: "create", Path: path, Err: pe.Err}
	}
	return a, a.commit, a.abort
}

// atomicFile is a temporary file (see tempFile) that becomes path on commit.
// Until then it has no name (Linux) or one recorded in temps, so that a
// signal removes it.
type atomicFile struct {
	path  string
	perm  fs.FileMode
	temps *tempFiles
	tf    *tempFile // nil once committed or aborted
	err   error     // sticky error from creating or writing
}

func (a *atomicFile) Write(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	if a.tf == nil {
		return 0, fs.ErrClosed
	}
	n, err := a.tf.f.Write(p)
	a.err = err
	return n, err
}

func (a *atomicFile) commit() error {
	if a.tf == nil {
		return a.err
	}
	if a.err != nil {
		a.abort()
		return a.err
	}
	tf := a.tf
	err := tf.f.Chmod(a.perm)
	if err == nil {
		err = tf.f.Sync()
	}
	if err == nil {
		err = a.temps.promote([]rename{{tf, a.path}})
	} else {
		a.temps.discard(tf)
	}
	a.tf, a.err = nil, err
	return err
}

func (a *atomicFile) abort() {
	if a.tf == nil {
		return
	}
	a.temps.discard(a.tf)
	a.tf = nil
	if a.err == nil {
		a.err = errors.New("output aborted")
	}
}

// fdPath matches the names of an open descriptor of this process. It is
// compiled when first used, not at start-up (issue #13, start-up time).
var fdPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^/(?:dev|proc/self|proc/thread-self)/fd/([0-9]+)$`)
})

// fdAlias reports whether path names one of this process's open descriptors
// (/dev/stdout, /dev/fd/N, /proc/self/fd/N), itself or through symbolic
// links, and which one. Those names are links the kernel resolves to
// whatever the descriptor is; they are not places to put a file.
func fdAlias(path string) (int, bool) {
	p := path
	for range 40 { // as the kernel's limit on nested links
		abs, err := filepath.Abs(p)
		if err != nil {
			return 0, false
		}
		p = abs
		switch p {
		case "/dev/stdin":
			return 0, true
		case "/dev/stdout":
			return 1, true
		case "/dev/stderr":
			return 2, true
		}
		if m := fdPath().FindStringSubmatch(p); m != nil {
			n, err := strconv.Atoi(m[1])
			return n, err == nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return 0, false // not a link: a name of its own
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
	return 0, false
}
