package main

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"github.com/smimectl/smimectl/pkg/verify"
)

// Hints that several describers or commands give.

// spoolHints says what to do about a temporary file that failed: the message
// was not judged, and TMPDIR needs room or another directory.
func spoolHints(e verify.SpoolError) []string {
	const notMessage = "this is a fault of this machine, not of the message, which was not judged"
	switch {
	case errors.Is(e, syscall.ENOSPC) || errors.Is(e, syscall.EDQUOT):
		return []string{notMessage, fmt.Sprintf("make room in %q, or set TMPDIR to a directory with more space, then try again", e.SpoolDir())}
	case retryable(e):
		return []string{notMessage, "try again later; if it persists, check the disk that holds " + strconv.Quote(e.SpoolDir())}
	}
	return []string{notMessage, "set TMPDIR to an existing directory that smimectl can write to"}
}
