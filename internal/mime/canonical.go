package mime

import (
	"bytes"
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
	return &canonicalWriter{w: w}
}

func (c *canonicalWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.closed {
		return 0, errors.New("mime: write to closed canonical writer")
	}
	n := len(p)
	if n >= canonicalDirect && !hasBareLF(p, c.prevCR) {
		// Already canonical (the usual case for mail, which travels with
		// CRLF): written on as it is, without a copy.
		if err := c.flush(); err != nil {
			return 0, err
		}
		if _, err := c.w.Write(p); err != nil {
			c.err = fmt.Errorf("mime: writing canonical output: %w", err)
			return 0, c.err
		}
		c.prevCR = p[n-1] == '\r'
		return n, nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if err := c.emit(p); err != nil {
				return 0, err
			}
			c.prevCR = p[len(p)-1] == '\r'
			break
		}
		bare := i == 0 && !c.prevCR || i > 0 && p[i-1] != '\r'
		if err := c.emit(p[:i]); err != nil {
			return 0, err
		}
		if bare {
			if err := c.emit(crlf); err != nil {
				return 0, err
			}
		} else if err := c.emit(crlf[1:]); err != nil {
			return 0, err
		}
		c.prevCR = false
		p = p[i+1:]
	}
	return n, nil
}

var crlf = []byte("\r\n")

// canonicalDirect is the size from which a Write without a bare LF goes
// to the underlying writer directly rather than through the buffer.
const canonicalDirect = 4 << 10

// hasBareLF reports whether p has an LF not preceded by CR; prevCR says
// whether the byte before p was CR.
func hasBareLF(p []byte, prevCR bool) bool {
	for i := 0; ; {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			return false
		}
		k := i + j
		if k == 0 && !prevCR || k > 0 && p[k-1] != '\r' {
			return true
		}
		i = k + 1
	}
}

// emit buffers b, writing the buffer on when it is full; a chunk as large
// as the buffer is written directly, so memory stays bounded.
//
// The buffer grows as append grows it, up to canonicalBufSize: a small
// entity costs a small buffer.
func (c *canonicalWriter) emit(b []byte) error {
	if len(c.buf)+len(b) > canonicalBufSize {
		if err := c.flush(); err != nil {
			return err
		}
	}
	if len(b) >= canonicalBufSize {
		if _, err := c.w.Write(b); err != nil {
			c.err = fmt.Errorf("mime: writing canonical output: %w", err)
			return c.err
		}
		return nil
	}
	c.buf = append(c.buf, b...)
	return nil
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
