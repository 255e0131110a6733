//go:build !linux

package mime

import "os"

// openUnnamed reports that this system has no O_TMPFILE: the caller creates
// a named file and removes it at once.
func openUnnamed(string) (*os.File, bool, error) { return nil, false, nil }
