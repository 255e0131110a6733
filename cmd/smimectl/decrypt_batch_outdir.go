package main

// decrypt --out-dir: each message of a batch that passed, in a file of its
// own, never over one that is there nor through a link out of the directory.

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/smimectl/smimectl/internal/batch"
)

// outDir is decrypt --out-dir: each message of a batch that passed is
// written to a file of its own under dir, named after its input
// (outDirName), readable by its owner only, through a temporary file that
// has a name only when it is complete (none at all on Linux), and never
// over a file that is there already: a second run into the same directory
// writes nothing and reports each message as an error. Every path is
// looked up inside dir through an os.Root, so a symbolic link under dir
// can't send a file elsewhere, and a name can't climb out of it.
type outDir struct {
	dir  string
	root *os.Root
	e    *env
	made []string // directories made inside dir, relative, in order
	mu   sync.Mutex
}

// openOutDir makes dir if it is missing (mode 0700: it will hold
// plaintext) and opens it.
func openOutDir(e *env, dir string) (*outDir, error) {
	made, err := e.temps.mkdirAll(dir, 0o700)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		e.temps.dropDirs(made, true)
		return nil, err
	}
	od := &outDir{dir: dir, root: root, e: e}
	e.atExit(func() error {
		// Directories left empty (every message in them failed) go,
		// deepest first, and dir too if this run made it.
		for _, d := range slices.Backward(od.made) {
			_ = od.root.Remove(d)
		}
		od.root.Close()
		e.temps.dropDirs(made, true)
		return nil
	})
	return od, nil
}

// outDirName is the name under --out-dir of the message of in: its path as
// given, cleaned, without a leading "/" or volume and without ".."
// elements (as tar stores names: "../../etc/passwd" becomes "etc/passwd"),
// and "#N" after the name of message N of an mbox. So every name is inside
// --out-dir, whatever the input's path; two inputs that come to the same
// name (fx/../a.eml and a.eml) can't overwrite each other: the second is
// refused.
func outDirName(in batch.Input) (string, error) {
	p := filepath.Clean(in.Path)
	p = strings.TrimPrefix(p, filepath.VolumeName(p))
	var parts []string
	for _, el := range strings.Split(filepath.ToSlash(p), "/") {
		if el != "" && el != "." && el != ".." {
			parts = append(parts, el)
		}
	}
	if len(parts) == 0 || in.Path == "-" {
		return "", fmt.Errorf("%q gives no file name to write under --out-dir", in.Path)
	}
	if in.MboxIndex >= 0 {
		parts[len(parts)-1] += "#" + strconv.Itoa(in.MboxIndex)
	}
	return filepath.Join(parts...), nil
}

// outFile is one message being written under --out-dir.
type outFile struct {
	od   *outDir
	rel  string   // its name under dir
	path string   // dir joined with rel
	d    *os.File // its directory, opened inside the root
	f    *os.File
	tmp  string // the temporary file's name under dir, "" if it has none
}

// create opens the file for in's message. A name that is taken already is
// refused now, before the work.
func (od *outDir) create(in batch.Input) (*outFile, error) {
	rel, err := outDirName(in)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(od.dir, rel)
	if _, err := od.root.Lstat(rel); err == nil {
		return nil, &fs.PathError{Op: "write", Path: path, Err: syscall.EEXIST}
	}
	dir, base := filepath.Split(rel)
	dir = filepath.Clean(dir)
	if err := od.mkdirAll(dir); err != nil {
		return nil, writeError(path, err)
	}
	d, err := od.root.Open(dir)
	if err != nil {
		return nil, writeError(path, err)
	}
	of := &outFile{od: od, rel: rel, path: path, d: d}
	if t := od.e.temps; t == nil || !t.named {
		if f, ok := openUnnamedAt(d); ok {
			of.f = f
			return of, nil
		}
	}
	for range 100 {
		tmp := filepath.Join(dir, "."+base+".tmp"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		od.e.temps.lock()
		f, err := od.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			od.e.temps.record(filepath.Join(od.dir, tmp))
		}
		od.e.temps.unlock()
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			d.Close()
			return nil, writeError(path, err)
		}
		of.f, of.tmp = f, tmp
		return of, nil
	}
	d.Close()
	return nil, &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
}

// writeError is err, met on the way to writing path, as the failure to
// write path: "can't write "out/fx/a.eml": path escapes from parent" for
// a symbolic link that leads out of --out-dir.
func writeError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: "write", Path: path, Err: pe.Err}
	}
	return err
}

// mkdirAll makes dir (relative) and its parents inside the root, and
// records the ones it made.
func (od *outDir) mkdirAll(dir string) error {
	od.mu.Lock()
	defer od.mu.Unlock()
	var missing []string
	for p := dir; p != "."; p = filepath.Dir(p) {
		if _, err := od.root.Lstat(p); err == nil {
			break
		}
		missing = append(missing, p)
	}
	if len(missing) == 0 {
		return nil
	}
	if err := od.root.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	abs := make([]string, len(missing))
	for i, p := range missing {
		abs[i] = filepath.Join(od.dir, p) // deepest first
	}
	od.e.temps.recordDirs(abs...)
	slices.Reverse(missing)
	od.made = append(od.made, missing...)
	return nil
}

func (of *outFile) Write(p []byte) (int, error) { return of.f.Write(p) }

// place gives the complete file its name, mode 0600 (less the umask), and
// closes it. A name taken meanwhile is refused: nothing is written over.
func (of *outFile) place() error {
	err := of.f.Chmod(modePrivate &^ of.od.e.Umask)
	if err == nil {
		err = of.f.Sync()
	}
	if err == nil {
		if of.tmp == "" {
			err = linkOutAt(of.f, of.d, filepath.Base(of.rel))
		} else {
			err = of.od.root.Link(of.tmp, of.rel)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		err = &fs.PathError{Op: "write", Path: of.path, Err: syscall.EEXIST}
	}
	if err != nil {
		return err
	}
	of.removeTemp()
	of.f.Close()
	of.d.Close()
	return nil
}

// discard drops the file: nothing of it stays.
func (of *outFile) discard() {
	of.f.Close()
	of.removeTemp()
	of.d.Close()
}

func (of *outFile) removeTemp() {
	if of.tmp == "" {
		return
	}
	t := of.od.e.temps
	t.lock()
	defer t.unlock()
	_ = of.od.root.Remove(of.tmp)
	t.forget(filepath.Join(of.od.dir, of.tmp))
	of.tmp = ""
}
