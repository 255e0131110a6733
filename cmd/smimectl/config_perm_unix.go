//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openConfig opens a config file without blocking, so that a FIFO put where
// the file should be is refused (not a regular file) instead of waited on.
func openConfig(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// checkConfigOwner accepts a config file that only its owner (the user or
// root) can change, as ssh does for its config: a file others may write
// could point --trust at their own root. A file writable by group or others,
// or owned by another user, is refused.
func checkConfigOwner(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return withHint(setupErrorf("config file %q is writable by others", path),
			fmt.Sprintf("make it writable by its owner only: chmod go-w %q", path))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Getuid() {
		return withHint(setupErrorf("config file %q belongs to another user (uid %d)", path, st.Uid),
			"use a config file of your own or root's")
	}
	return nil
}
