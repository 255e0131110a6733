//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// processUmask returns the process's file mode creation mask. Reading it
// means setting it, so Main calls this once, before any file is created.
func processUmask() fs.FileMode {
	m := syscall.Umask(0o022)
	syscall.Umask(m)
	return fs.FileMode(m) & fs.ModePerm
}
