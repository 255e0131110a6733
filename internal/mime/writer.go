package mime

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
)

// base64LineLen is the line length of base64 output: RFC 2045 section 6.8
// allows at most 76 characters per line.
const base64LineLen = 76

// lineWriter breaks a stream into CRLF-terminated lines of base64LineLen
// bytes. It is fed by a base64 encoder.
type lineWriter struct {
	w   io.Writer
	col int
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = l.buf[:0]
	for _, b := range p {
		l.buf = append(l.buf, b)
		l.col++
		if l.col == base64LineLen {
			l.buf = append(l.buf, '\r', '\n')
			l.col = 0
		}
	}
	if _, err := l.w.Write(l.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// close ends a partial last line with CRLF.
func (l *lineWriter) close() error {
	if l.col == 0 {
		return nil
	}
	l.col = 0
	_, err := l.w.Write([]byte("\r\n"))
	return err
}

// base64Writer encodes to base64 in 76-column CRLF lines.
type base64Writer struct {
	lines *lineWriter
	enc   io.WriteCloser
	err   error
	done  bool
}

func newBase64Writer(w io.Writer) *base64Writer {
	lw := &lineWriter{w: w}
	return &base64Writer{lines: lw, enc: base64.NewEncoder(base64.StdEncoding, lw)}
}

func (b *base64Writer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, errors.New("mime: write after close")
	}
	n, err := b.enc.Write(p)
	if err != nil {
		b.err = fmt.Errorf("mime: writing base64: %w", err)
		return n, b.err
	}
	return n, nil
}

// Close writes the final base64 quantum and ends the last line. It does
// not close the underlying writer.
func (b *base64Writer) Close() error {
	if b.err != nil {
		return b.err
	}
	if b.done {
		return nil
	}
	b.done = true
	if err := b.enc.Close(); err != nil {
		b.err = fmt.Errorf("mime: writing base64: %w", err)
		return b.err
	}
	if err := b.lines.close(); err != nil {
		b.err = fmt.Errorf("mime: writing base64: %w", err)
		return b.err
	}
	return nil
}

// isToken reports whether s is an RFC 2045 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`()<>@,;:\"/[]?=`), c) >= 0 {
			return false
		}
	}
	return true
}

// writeOuter writes the outer fields of h except Content-* ones (the
// writers supply their own), then MIME-Version if h has none.
func writeOuter(buf *bytes.Buffer, outer Header) {
	o, _ := outer.Split()
	o.WriteTo(buf) // writes to a bytes.Buffer never fail
	if !o.Has("MIME-Version") {
		buf.WriteString("MIME-Version: 1.0\r\n")
	}
}

// SignedWriter writes a clear-signed message: multipart/signed with the
// signed entity as first part and an application/pkcs7-signature part
// second (RFC 1847 section 2.1, RFC 8551 section 3.5.3). Create it with
// [NewSignedWriter], write the entity (its Content-* header fields, a blank
// line and its body) with Write, then call Finish with the signature.
type SignedWriter struct {
	w        io.Writer
	boundary string
	content  io.WriteCloser // canonicalises into w and the digest
	err      error
	finished bool
	// contentDone is set once the first part has been flushed.
	contentDone bool
}

// NewSignedWriter writes the header of a multipart/signed message to w:
// the fields of outer other than Content-* ones (those describe the signed
// entity and belong in the first part), MIME-Version: 1.0 if outer has
// none, Content-Type: multipart/signed with protocol
// "application/pkcs7-signature", the given micalg (RFC 8551 section 3.5.3.2,
// e.g. "sha-256") and a boundary made of 24 bytes from rand, a one-line
// preamble and the first delimiter.
//
// Bytes then written to the SignedWriter form the first body part; they
// are canonicalised (bare LF to CRLF) and the canonical bytes go to both w
// and digest (if non-nil). Those are exactly the bytes a reader captures as
// signed: the CRLF before the next delimiter belongs to the delimiter (RFC
// 2046 section 5.1.1) and is written by Finish.
func NewSignedWriter(w io.Writer, outer Header, micalg string, digest io.Writer, rand io.Reader) (*SignedWriter, error) {
	if !isToken(micalg) {
		return nil, fmt.Errorf("mime: invalid micalg %q", micalg)
	}
	if rand == nil {
		return nil, errors.New("mime: nil random source for boundary")
	}
	var nonce [24]byte
	if _, err := io.ReadFull(rand, nonce[:]); err != nil {
		return nil, fmt.Errorf("mime: generating boundary: %w", err)
	}
	// "=_" cannot occur in base64 or quoted-printable encoded text, which
	// makes a collision with a line of encoded content impossible there
	// and, with 192 random bits, improbable anywhere.
	boundary := "----=_smimectl_" + hex.EncodeToString(nonce[:])

	var hdr bytes.Buffer
	writeOuter(&hdr, outer)
	hdr.WriteString("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n")
	hdr.WriteString("\tmicalg=" + micalg + ";\r\n")
	hdr.WriteString("\tboundary=\"" + boundary + "\"\r\n")
	hdr.WriteString("\r\n")
	hdr.WriteString("This is an S/MIME signed message\r\n")
	hdr.WriteString("--" + boundary + "\r\n")
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return nil, fmt.Errorf("mime: writing signed message header: %w", err)
	}
	dst := w
	if digest != nil {
		dst = io.MultiWriter(w, digest)
	}
	return &SignedWriter{w: w, boundary: boundary, content: NewCanonicalWriter(dst)}, nil
}

// Boundary returns the boundary of the multipart/signed body.
func (s *SignedWriter) Boundary() string { return s.boundary }

// Write writes bytes of the first body part (the entity header fields, the
// blank line and the body), canonicalised to CRLF, to w and to the digest.
// Output may be buffered until Finish.
func (s *SignedWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.finished {
		return 0, errors.New("mime: write after finish of signed message")
	}
	n, err := s.content.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// EndContent flushes the first part, so that the digest has seen every
// signed byte; call it before computing the signature. Finish calls it if
// the caller did not.
func (s *SignedWriter) EndContent() error {
	if s.err != nil {
		return s.err
	}
	if s.contentDone {
		return nil
	}
	s.contentDone = true
	if err := s.content.Close(); err != nil {
		s.err = err
	}
	return s.err
}

// Finish completes the message: it flushes the first part, writes the
// delimiter (with the CRLF that precedes it), the signature part
// (Content-Type: application/pkcs7-signature; name="smime.p7s", base64 in
// 76-column lines, Content-Disposition: attachment) and the close
// delimiter. Finish does not close w; it may be called once.
func (s *SignedWriter) Finish(signature []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.finished {
		return errors.New("mime: signed message already finished")
	}
	s.finished = true
	if err := s.EndContent(); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("\r\n--" + s.boundary + "\r\n")
	buf.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n")
	buf.WriteString("Content-Transfer-Encoding: base64\r\n")
	buf.WriteString("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n")
	buf.WriteString("\r\n")
	bw := newBase64Writer(&buf)
	bw.Write(signature) // writes to a bytes.Buffer never fail
	bw.Close()
	buf.WriteString("\r\n--" + s.boundary + "--\r\n")
	if _, err := s.w.Write(buf.Bytes()); err != nil {
		s.err = fmt.Errorf("mime: writing signature part: %w", err)
		return s.err
	}
	return nil
}

// pkcs7MimeWriter is the io.WriteCloser of NewPKCS7MimeWriter.
type pkcs7MimeWriter struct {
	*base64Writer
}

// NewPKCS7MimeWriter writes the header of an application/pkcs7-mime
// message (RFC 8551 section 3.2 and 3.5.2) to w: the fields of outer other
// than Content-* ones, MIME-Version: 1.0 if outer has none, Content-Type:
// application/pkcs7-mime; smime-type=<smimeType>; name="smime.p7m",
// Content-Transfer-Encoding: base64, Content-Disposition: attachment;
// filename="smime.p7m" and the blank line. Bytes written to the returned
// writer (the DER or BER CMS object) are base64-encoded in 76-column CRLF
// lines. The caller must call Close to write the last line; Close does not
// close w.
func NewPKCS7MimeWriter(w io.Writer, outer Header, smimeType string) (io.WriteCloser, error) {
	if !isToken(smimeType) {
		return nil, fmt.Errorf("mime: invalid smime-type %q", smimeType)
	}
	var hdr bytes.Buffer
	writeOuter(&hdr, outer)
	hdr.WriteString("Content-Type: application/pkcs7-mime; smime-type=" + smimeType + ";\r\n")
	hdr.WriteString("\tname=\"smime.p7m\"\r\n")
	hdr.WriteString("Content-Transfer-Encoding: base64\r\n")
	hdr.WriteString("Content-Disposition: attachment; filename=\"smime.p7m\"\r\n")
	hdr.WriteString("\r\n")
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return nil, fmt.Errorf("mime: writing pkcs7-mime header: %w", err)
	}
	return pkcs7MimeWriter{newBase64Writer(w)}, nil
}

// NewTransportEncoder returns a writer that encodes what is written to it
// into w with the Content-Transfer-Encoding cte: "base64" (76-column CRLF
// lines) or "quoted-printable" (RFC 2045 section 6.7, line breaks as CRLF).
// The caller must call Close to write the end of the encoding; it does not
// close w.
func NewTransportEncoder(w io.Writer, cte string) (io.WriteCloser, error) {
	switch cte {
	case "base64":
		return newBase64Writer(w), nil
	case "quoted-printable":
		return quotedprintable.NewWriter(w), nil
	}
	return nil, fmt.Errorf("mime: no encoder for Content-Transfer-Encoding %q", cte)
}
