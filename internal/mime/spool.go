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

	chunks [][]byte // in-memory contents, each of cap spoolChunkSize
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
		s.appendChunks(p)
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
		for _, c := range s.chunks {
			if _, err := f.Write(c); err != nil {
				s.err = fmt.Errorf("mime: writing spool file: %w", err)
				return 0, s.err
			}
		}
		s.chunks = nil
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
	rs := make([]io.Reader, len(s.chunks))
	for i, c := range s.chunks {
		rs[i] = bytes.NewReader(c)
	}
	return io.MultiReader(rs...), nil
}

// spoolChunkSize is the allocation unit of in-memory spool contents.
// Fixed-size chunks avoid the repeated copying of a growing slice.
const spoolChunkSize = 64 << 10

// appendChunks appends p to the in-memory chunks.
func (s *Spool) appendChunks(p []byte) {
	for len(p) > 0 {
		if n := len(s.chunks); n == 0 || len(s.chunks[n-1]) == cap(s.chunks[n-1]) {
			s.chunks = append(s.chunks, make([]byte, 0, spoolChunkSize))
		}
		last := &s.chunks[len(s.chunks)-1]
		k := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
}

// Close releases the memory and closes and removes the temporary file, if
// any. Close is idempotent.
func (s *Spool) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.chunks = nil
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
