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
