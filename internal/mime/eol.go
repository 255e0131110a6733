package mime

import (
	"bufio"
	"bytes"
	"io"
)

// LFLineEnds reports whether the first line of what br holds ends in a bare
// LF, as messages kept by Unix mail stores and tools do, rather than in
// CRLF (issue #15 item 10). It looks at most at br's buffer, consuming
// nothing; input with no line end there counts as CRLF.
func LFLineEnds(br *bufio.Reader) bool {
	buf, _ := br.Peek(br.Size())
	i := bytes.IndexByte(buf, '\n')
	return i == 0 || i > 0 && buf[i-1] != '\r'
}

// lfWriter turns CRLF into LF.
type lfWriter struct {
	w      io.Writer
	heldCR bool
	buf    []byte
}

// NewLFWriter returns a writer that copies to w with every CRLF turned into
// LF; a bare CR is kept. A CR at the end of one Write is held until the next
// shows whether LF follows; Close writes a CR still held and does not close w.
func NewLFWriter(w io.Writer) io.WriteCloser { return &lfWriter{w: w} }

// Write copies the runs between CRs whole (bytes.IndexByte), not a byte
// at a time: converting a 100 MB message byte by byte was 44% of the CPU
// of `verify --out` (issue #13, large messages). FuzzLFWriter holds it to
// the byte-by-byte conversion.
func (l *lfWriter) Write(p []byte) (int, error) {
	l.buf = l.buf[:0]
	rest := p
	if l.heldCR {
		if len(rest) == 0 {
			return 0, nil // still held: the next Write tells
		}
		if rest[0] != '\n' {
			l.buf = append(l.buf, '\r')
		}
		l.heldCR = false
	}
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\r')
		if i < 0 {
			l.buf = append(l.buf, rest...)
			break
		}
		l.buf = append(l.buf, rest[:i]...)
		switch {
		case i+1 == len(rest):
			l.heldCR = true
		case rest[i+1] != '\n':
			l.buf = append(l.buf, '\r')
		}
		rest = rest[i+1:]
	}
	if len(l.buf) > 0 {
		if _, err := l.w.Write(l.buf); err != nil {
			return 0, err
		}
	}
	// A large buffer is not kept past the write that needed it.
	if cap(l.buf) > 1<<20 {
		l.buf = nil
	}
	return len(p), nil
}

func (l *lfWriter) Close() error {
	if !l.heldCR {
		return nil
	}
	l.heldCR = false
	_, err := l.w.Write([]byte{'\r'})
	return err
}
