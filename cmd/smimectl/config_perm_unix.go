//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// maxConfigSize bounds a config file: settings fit in a few kilobytes.
const maxConfigSize = 1 << 20

// readPrivateConfig reads a config file that only its owner (the user or
// root) can change, as ssh does for its config: a file others may write
// could point --trust at their own root. A file writable by group or others,
// or owned by another user, is refused.
func readPrivateConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, setupErrorf("config file %q is not a regular file", path)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return nil, withHint(setupErrorf("config file %q is writable by others", path),
			fmt.Sprintf("make it writable by its owner only: chmod go-w %q", path))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Getuid() {
		return nil, withHint(setupErrorf("config file %q belongs to another user (uid %d)", path, st.Uid),
			"use a config file of your own or root's")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, setupErrorf("config file %q is larger than 1 MiB", path)
	}
	return data, nil
}
