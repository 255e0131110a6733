package mime

import (
	"errors"
	"fmt"
	"io"
)

// canonicalBufSize is how much converted output a canonical writer holds
// before writing it on.
const canonicalBufSize = 32 << 10

// canonicalWriter turns bare LF into CRLF (RFC 8551 section 3.1.1 and
// RFC 5322 line ends). It remembers whether the last byte it saw was CR, so
// a CRLF split across Write calls stays one CRLF.
type canonicalWriter struct {
	w      io.Writer
	buf    []byte
	prevCR bool
	err    error
	closed bool
}

// NewCanonicalWriter returns a writer that copies to w with every bare LF
// turned into CRLF; CRLF pairs and bare CR are kept as they are, and a CR
// at the end of one Write followed by LF at the start of the next is a
// CRLF. Output is buffered: Close writes what is left but does not close w.
// After an error from w, every later call returns that error.
func NewCanonicalWriter(w io.Writer) io.WriteCloser {
	return &canonicalWriter{w: w, buf: make([]byte, 0, canonicalBufSize)}
}

func (c *canonicalWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.closed {
		return 0, errors.New("mime: write to closed canonical writer")
	}
	for _, b := range p {
		if b == '\n' && !c.prevCR {
			c.buf = append(c.buf, '\r')
		}
		c.buf = append(c.buf, b)
		c.prevCR = b == '\r'
		if len(c.buf) >= canonicalBufSize-1 {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

func (c *canonicalWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	if err != nil {
		c.err = fmt.Errorf("mime: writing canonical output: %w", err)
	}
	return c.err
}

// Close writes any buffered output to w. It does not close w.
func (c *canonicalWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return nil
	}
	c.closed = true
	return c.flush()
}
