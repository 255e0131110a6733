//go:build !linux

package main

import (
	"errors"
	"os"
)

// openUnnamedOut reports that this system can't make a file without a name
// and name it later: the caller creates a named temporary file.
func openUnnamedOut(string) (*os.File, bool) { return nil, false }

// linkOut is never called where openUnnamedOut always fails.
func linkOut(*os.File, string) error { return errors.New("unnamed files are not supported here") }

// openUnnamedAt reports that this system can't make a file without a name:
// the caller creates a named temporary file.
func openUnnamedAt(*os.File) (*os.File, bool) { return nil, false }

// linkOutAt is never called where openUnnamedAt always fails.
func linkOutAt(_, _ *os.File, _ string) error {
	return errors.New("unnamed files are not supported here")
}
