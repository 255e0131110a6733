package mime

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// DefaultSpoolThreshold is the in-memory limit of a [Spool] whose
// Threshold is zero.
const DefaultSpoolThreshold = 8 << 20

// Spool holds written bytes in memory up to Threshold and moves them to a
// temporary file once more arrive, so that a large message body can be read
// several times (digest, then output) without holding it in memory. The zero
// value is ready to use. A Spool must not be copied after the first Write.
//
// The temporary file has no name from the moment it exists: on Linux it is
// opened with O_TMPFILE, elsewhere it is created as "smimectl-spool-*" and
// removed at once, before anything is written to it, and only the open
// descriptor keeps it. So a process that is killed, however it is killed,
// leaves no spooled bytes (decrypted plaintext, for Decrypt) on disk; the
// space returns to the file system when the descriptor is closed. (On
// Windows, where an open file can't be removed, it is removed by Close.)
//
// A temporary file that can't be created, written or read is reported as a
// [*SpoolError]: a fault of this machine, not of the message.
type Spool struct {
	// Threshold is the largest number of bytes kept in memory. Zero (or
	// negative) means DefaultSpoolThreshold (8 MiB).
	Threshold int64
	// Dir is the directory of the temporary file. Empty means
	// os.TempDir().
	Dir string

	// Drop, if not nil, is asked once, as soon as more than DropAfter
	// bytes were written, whether the spool may keep only the first
	// DropAfter of them, which it is given: a caller that will read no
	// further (verify writing the content nowhere, issue #13) spares the
	// temporary file and the second pass. Past that point, written bytes
	// are only counted (Size includes them). A reader that reaches the
	// dropped bytes gets [ErrDropped], and Missed reports true from then
	// on: the caller, who guessed wrong, must read the input again with a
	// spool that keeps everything. Nothing past the kept bytes is ever
	// read as if it were the end of the contents.
	Drop      func(head []byte) bool
	DropAfter int

	// create, if not nil, replaces createUnlinked: tests use it to inject
	// faults such as a full disk.
	create func(dir string) (f *os.File, removeOnClose bool, err error)

	chunks        [][]byte // in-memory contents, each of cap spoolChunkSize
	file          *os.File
	removeOnClose bool // file still has a name (Windows)
	size          int64
	closed        bool
	err           error // sticky write error
	// kept is the number of bytes kept once Drop said yes (dropped set),
	// missed set once a reader reached the bytes after them.
	kept    int64
	dropped bool
	missed  bool
}

// ErrDropped is what a reader of a [Spool] gets where the bytes it would
// read were dropped (see Spool.Drop).
var ErrDropped = errors.New("mime: the spooled bytes past this point were not kept")

// Dropped reports whether the spool kept only the first bytes written (see
// Drop), and Missed whether a reader asked for the others.
func (s *Spool) Dropped() bool { return s.dropped }

// Missed reports whether a reader reached bytes the spool dropped.
func (s *Spool) Missed() bool { return s.missed }

// SpoolError is a failure of a [Spool]'s temporary file: it could not be
// created, written or read, because its directory is missing or read-only,
// the disk or quota is full, or the device failed. It is a fault of the local
// system, not of the data being spooled, and a caller deciding what a failure
// means (a bad message, or try again later) must tell the two apart.
type SpoolError struct {
	Op  string // what failed: "create", "write" or "read"
	Dir string // the directory of the temporary file
	Err error  // the cause, usually a *fs.PathError wrapping a syscall.Errno
}

func (e *SpoolError) Error() string {
	cause := e.Err
	var pe *fs.PathError
	if errors.As(cause, &pe) {
		// The path is the directory (or a nameless file in it): say the
		// directory once.
		cause = pe.Err
	}
	return fmt.Sprintf("mime: can't %s a temporary file in %q: %v", e.Op, e.Dir, cause)
}

func (e *SpoolError) Unwrap() error { return e.Err }

// SpoolDir is Dir: the method pkg/encrypt's SpoolError interface names,
// so callers of pkg/ find this type without importing this package.
func (e *SpoolError) SpoolDir() string { return e.Dir }

// dir is the directory of the temporary file.
func (s *Spool) dir() string {
	if s.Dir == "" {
		return os.TempDir()
	}
	return s.Dir
}

// createUnlinked returns a new read-write file in dir that has no name: an
// O_TMPFILE file where the system supports it, else a file created and
// removed at once. removeOnClose is set where an open file can't be removed
// (Windows): the file keeps its name until Close.
func createUnlinked(dir string) (f *os.File, removeOnClose bool, err error) {
	if f, ok, err := openUnnamed(dir); ok {
		return f, false, err
	}
	return createRemoved(dir)
}

// createRemoved creates "smimectl-spool-*" in dir and removes it before
// returning it, so that only the descriptor keeps the file.
func createRemoved(dir string) (f *os.File, removeOnClose bool, err error) {
	f, err = os.CreateTemp(dir, "smimectl-spool-*")
	if err != nil {
		return nil, false, err
	}
	if err := os.Remove(f.Name()); err != nil {
		if runtime.GOOS == "windows" {
			return f, true, nil
		}
		f.Close()
		return nil, false, err
	}
	return f, false, nil
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
	if s.dropped {
		s.size += int64(len(p))
		return len(p), nil
	}
	if s.Drop != nil && s.size+int64(len(p)) > int64(s.DropAfter) {
		return s.writeDropping(p)
	}
	if s.file == nil && s.size+int64(len(p)) <= s.threshold() {
		s.appendChunks(p)
		s.size += int64(len(p))
		return len(p), nil
	}
	if s.file == nil {
		create := s.create
		if create == nil {
			create = createUnlinked
		}
		f, removeOnClose, err := create(s.dir())
		if err != nil {
			s.err = &SpoolError{Op: "create", Dir: s.dir(), Err: err}
			return 0, s.err
		}
		s.file, s.removeOnClose = f, removeOnClose
		for _, c := range s.chunks {
			if _, err := f.Write(c); err != nil {
				s.err = &SpoolError{Op: "write", Dir: s.dir(), Err: err}
				return 0, s.err
			}
		}
		s.chunks = nil
	}
	n, err := s.file.Write(p)
	s.size += int64(n)
	if err != nil {
		s.err = &SpoolError{Op: "write", Dir: s.dir(), Err: err}
		return n, s.err
	}
	return n, nil
}

// writeDropping writes p, which takes the spool past DropAfter bytes: the
// bytes up to DropAfter are written, Drop is asked, and the rest are
// written or counted.
func (s *Spool) writeDropping(p []byte) (int, error) {
	k := max(int64(s.DropAfter)-s.size, 0)
	n, err := s.Write(p[:k])
	if err != nil {
		return n, err
	}
	drop := s.Drop
	s.Drop = nil // asked once
	head := make([]byte, s.size)
	r, err := s.Open()
	if err == nil {
		_, err = io.ReadFull(r, head)
	}
	if err != nil {
		return n, err
	}
	if drop(head) {
		s.dropped, s.kept = true, s.size
	}
	m, err := s.Write(p[k:])
	return n + m, err
}

// Size returns the number of bytes written.
func (s *Spool) Size() int64 { return s.size }

// Open returns a new reader over everything written so far, from the
// start. Each call gives an independent reader; readers stay valid until
// Close. A reader of contents held in memory has a Len method (the bytes
// left to read) and a WriteTo method, so that [ReadEntity] sizes its
// buffer to them and io.Copy needs no buffer of its own. A reader of a
// temporary file has a WriteTo method that copies in large pieces.
func (s *Spool) Open() (io.Reader, error) {
	if s.closed {
		return nil, errors.New("mime: open of closed spool")
	}
	var r io.Reader
	if s.file != nil {
		r = &fileReader{io.NewSectionReader(spoolFile{s.file, s.dir()}, 0, s.stored())}
	} else {
		r = &chunkReader{chunks: s.chunks, left: int(s.stored())}
	}
	if s.dropped {
		// Only a Read: io.Copy must not reach WriteTo, which would end
		// at the kept bytes as if they were all.
		return &droppedReader{r: r, s: s}, nil
	}
	return r, nil
}

// stored is the number of bytes the spool holds.
func (s *Spool) stored() int64 {
	if s.dropped {
		return s.kept
	}
	return s.size
}

// droppedReader reads the kept bytes of a spool that dropped the rest, and
// then fails with ErrDropped, noting that a reader missed them.
type droppedReader struct {
	r io.Reader
	s *Spool
}

func (d *droppedReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err == io.EOF {
		d.s.missed = true
		err = ErrDropped
	}
	return n, err
}

// chunkReader reads the in-memory chunks of a Spool. It never writes to
// them or to the Spool's slice of them: readers of one Spool are
// independent.
type chunkReader struct {
	chunks [][]byte // the chunks not yet read to the end
	off    int      // bytes of chunks[0] already read
	left   int      // bytes left in chunks
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && r.off == len(r.chunks[0]) {
		r.chunks, r.off = r.chunks[1:], 0
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0][r.off:])
	r.off += n
	r.left -= n
	return n, nil
}

// WriteTo writes the chunks left to w, without a buffer of its own.
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(r.chunks) > 0 {
		c := r.chunks[0][r.off:]
		n, err := w.Write(c)
		total += int64(n)
		r.left -= n
		r.off += n
		if err == nil && n < len(c) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
		r.chunks, r.off = r.chunks[1:], 0
	}
	return total, nil
}

// Len returns the number of bytes left to read.
func (r *chunkReader) Len() int { return r.left }

// fileReader reads a Spool's temporary file. Its WriteTo copies in
// pieces of fileCopySize: what reads a spool to the end (io.Copy, and a
// bufio.Reader's WriteTo, which hands the copy to it) otherwise goes at
// the pace of its own buffer, 1 KiB for release's, so that a 100 MB
// message cost 100,000 reads and as many writes (issue #13, large
// messages).
type fileReader struct {
	*io.SectionReader
}

// fileCopySize is the piece fileReader.WriteTo copies at a time.
const fileCopySize = 256 << 10

// WriteTo writes what is left to w in pieces of fileCopySize.
func (r *fileReader) WriteTo(w io.Writer) (int64, error) {
	left, _ := r.Seek(0, io.SeekCurrent)
	left = r.Size() - left
	if left <= 0 {
		return 0, nil
	}
	buf := make([]byte, min(left, fileCopySize))
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// spoolFile reads the temporary file, reporting failures as *SpoolError.
type spoolFile struct {
	f   *os.File
	dir string
}

func (sf spoolFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := sf.f.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = &SpoolError{Op: "read", Dir: sf.dir, Err: err}
	}
	return n, err
}

// spoolChunkSize is the largest allocation unit of in-memory spool
// contents. Chunks are never copied once filled: the first is small (most
// signed parts are a few kilobytes), each next one twice as large as the
// one before, up to spoolChunkSize.
const (
	spoolChunkSize      = 64 << 10
	spoolFirstChunkSize = 4 << 10
)

// appendChunks appends p to the in-memory chunks.
func (s *Spool) appendChunks(p []byte) {
	for len(p) > 0 {
		if n := len(s.chunks); n == 0 || len(s.chunks[n-1]) == cap(s.chunks[n-1]) {
			size := spoolFirstChunkSize
			if n > 0 {
				size = min(2*cap(s.chunks[n-1]), spoolChunkSize)
			}
			s.chunks = append(s.chunks, make([]byte, 0, size))
		}
		last := &s.chunks[len(s.chunks)-1]
		k := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
}

// Close releases the memory and closes the temporary file, if any, which
// frees its space. Close is idempotent.
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
	err := s.file.Close()
	if s.removeOnClose {
		if rerr := os.Remove(name); err == nil {
			err = rerr
		}
	}
	s.file = nil
	if err != nil {
		return &SpoolError{Op: "close", Dir: s.dir(), Err: err}
	}
	return nil
}
