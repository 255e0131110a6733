//go:build unix

package batch

import (
	"os"
	"syscall"
)

// openFlags open without waiting: opening a FIFO for reading otherwise
// waits for a writer, for ever if none comes. For the regular file Open
// keeps, O_NONBLOCK changes nothing.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
