package batch

import (
	"errors"
	"fmt"
	"os"
)

// ErrNotRegular is the error of [Open] for a path that is, by the time it
// is opened, no regular file (a FIFO, a device, a socket, a directory).
var ErrNotRegular = errors.New("not a regular file")

// Open opens the regular file at path for reading. Walk's check that a
// path is a regular file is made before the file is opened, and a worker
// opens it later still: whoever can write the directory can put a FIFO in
// its place meanwhile, and os.Open of a FIFO waits for a writer for ever,
// stalling the whole run. Open does not wait (O_NONBLOCK) and checks the
// file it opened, so a FIFO, device or socket there is an error.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%v)", ErrNotRegular, fi.Mode().Type())}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
