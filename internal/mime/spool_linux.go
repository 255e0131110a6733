package mime

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openUnnamed opens a new file in dir with O_TMPFILE: a file that never has
// a name, so nothing of it can be left behind. ok is false where the kernel
// or the file system does not support O_TMPFILE (EISDIR from kernels before
// 3.11, EOPNOTSUPP from file systems without it); the caller then falls back
// to a named file removed at once.
func openUnnamed(dir string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(dir, unix.O_TMPFILE|os.O_RDWR|os.O_EXCL, 0o600)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
		return nil, false, nil
	}
	return f, true, err
}
