package mime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultSpoolThreshold is the in-memory limit of a [Spool] whose
// Threshold is zero.
const DefaultSpoolThreshold = 8 << 20

// Spool holds written bytes in memory up to Threshold and moves them to a
// temporary file once more arrive, so that a large message body can be read
// several times (digest, then output) without holding it in memory. The
// file is created with os.CreateTemp(Dir, "smimectl-spool-*") and removed
// by Close. The zero value is ready to use. A Spool must not be copied
// after the first Write.
type Spool struct {
	// Threshold is the largest number of bytes kept in memory. Zero (or
	// negative) means DefaultSpoolThreshold (8 MiB).
	Threshold int64
	// Dir is the directory of the temporary file. Empty means
	// os.TempDir().
	Dir string

	buf    []byte
	file   *os.File
	size   int64
	closed bool
	err    error // sticky write error
}

func (s *Spool) threshold() int64 {
	if s.Threshold <= 0 {
		return DefaultSpoolThreshold
	}
	return s.Threshold
}

// Write appends p. It moves the contents to a temporary file when the
// total would exceed the threshold.
func (s *Spool) Write(p []byte) (int, error) {
	if s.closed {
		return 0, errors.New("mime: write to closed spool")
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.file == nil && s.size+int64(len(p)) <= s.threshold() {
		s.buf = append(s.buf, p...)
		s.size += int64(len(p))
		return len(p), nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.Dir, "smimectl-spool-*")
		if err != nil {
			s.err = fmt.Errorf("mime: creating spool file: %w", err)
			return 0, s.err
		}
		s.file = f
		if _, err := f.Write(s.buf); err != nil {
			s.err = fmt.Errorf("mime: writing spool file: %w", err)
			return 0, s.err
		}
		s.buf = nil
	}
	n, err := s.file.Write(p)
	s.size += int64(n)
	if err != nil {
		s.err = fmt.Errorf("mime: writing spool file: %w", err)
		return n, s.err
	}
	return n, nil
}

// Size returns the number of bytes written.
func (s *Spool) Size() int64 { return s.size }

// Open returns a new reader over everything written so far, from the
// start. Each call gives an independent reader; readers stay valid until
// Close.
func (s *Spool) Open() (io.Reader, error) {
	if s.closed {
		return nil, errors.New("mime: open of closed spool")
	}
	if s.file != nil {
		return io.NewSectionReader(s.file, 0, s.size), nil
	}
	return bytes.NewReader(s.buf[:s.size:s.size]), nil
}

// Close releases the memory and closes and removes the temporary file, if
// any. Close is idempotent.
func (s *Spool) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.buf = nil
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	errClose := s.file.Close()
	errRemove := os.Remove(name)
	s.file = nil
	if errClose != nil {
		return fmt.Errorf("mime: closing spool file: %w", errClose)
	}
	if errRemove != nil {
		return fmt.Errorf("mime: removing spool file: %w", errRemove)
	}
	return nil
}
