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

func (l *lfWriter) Write(p []byte) (int, error) {
	l.buf = l.buf[:0]
	if l.heldCR {
		if len(p) == 0 || p[0] != '\n' {
			l.buf = append(l.buf, '\r')
		}
		l.heldCR = false
	}
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] != '\r':
			l.buf = append(l.buf, p[i])
		case i+1 == len(p):
			l.heldCR = true
		case p[i+1] != '\n':
			l.buf = append(l.buf, '\r')
		}
	}
	if _, err := l.w.Write(l.buf); err != nil {
		return 0, err
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
