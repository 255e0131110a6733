package main

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openUnnamedOut opens a new file in dir that has no name yet (O_TMPFILE), so
// that a run killed even by SIGKILL while writing it leaves nothing; linkOut
// gives it its name when the output is complete. ok is false where that
// can't work — no O_TMPFILE on the kernel or file system, or no /proc to link
// through — and the caller creates a named temporary file instead.
func openUnnamedOut(dir string) (f *os.File, ok bool) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, false
	}
	// Readable too: should the link fail, the content is copied to a
	// named file instead (see tempFiles.nameLocked).
	f, err := os.OpenFile(dir, unix.O_TMPFILE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false
	}
	return f, true
}

// linkOut gives the unnamed file f the name path, which must not exist
// (fs.ErrExist if it does).
func linkOut(f *os.File, path string) error {
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: err}
	}
	return nil
}

// openUnnamedAt is openUnnamedOut in the directory d, already open: for
// decrypt --out-dir, whose directories are opened inside an os.Root, so
// that no path is looked up again outside it.
func openUnnamedAt(d *os.File) (f *os.File, ok bool) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, false
	}
	fd, err := unix.Openat(int(d.Fd()), ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	return os.NewFile(uintptr(fd), d.Name()), true
}

// linkOutAt gives the unnamed file f the name name in directory d; it
// fails (EEXIST) if name is there already, even as a dangling symbolic
// link: nothing is ever written over.
func linkOutAt(f, d *os.File, name string) error {
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), int(d.Fd()), name, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: err}
	}
	return nil
}
