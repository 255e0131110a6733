//go:build !unix

package capabilities

import (
	"errors"
	"io/fs"
	"os"
)

// openNoFollow opens path for reading, refusing a symbolic link (checked
// before opening: there is no O_NOFOLLOW here).
func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errors.New("a symbolic link")
	}
	return os.Open(path)
}

func openLockFile(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errors.New("the lock file is a symbolic link")
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// lockFile does nothing: see the WARNING on Store.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}

func syncDir(string) error { return nil }
