//go:build !unix

package main

import (
	"io"
	"os"
)

// maxConfigSize bounds a config file: settings fit in a few kilobytes.
const maxConfigSize = 1 << 20

// readPrivateConfig reads a config file. File modes do not say who may write
// a file here; the ACL is the system's to keep.
func readPrivateConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, setupErrorf("config file %q is larger than 1 MiB", path)
	}
	return data, nil
}
