package cms

import (
	"bufio"
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// BER input. gpgsm, NSS and Outlook write CMS with indefinite lengths and
// constructed (chunked) OCTET STRINGs; OpenSSL does with -stream. We read
// BER through a small tokenizer over an io.Reader and normalise every element
// we keep in memory to DER, so the rest of the package parses DER only.

const (
	// maxDepth bounds nesting so hostile input cannot exhaust the stack.
	maxDepth = 64
	// maxHeaderLength bounds the length field: 8 bytes is more than any
	// message we accept.
	maxLengthBytes = 8
)

// berHeader is one element's identifier and length octets.
type berHeader struct {
	class       byte // 0 universal, 1 application, 2 context, 3 private (top two bits)
	constructed bool
	tag         uint32
	length      int64 // -1 for the indefinite form
}

func (h berHeader) isEOC() bool {
	return h.class == 0 && !h.constructed && h.tag == 0 && h.length == 0
}

// is reports whether h is the universal or context tag given, ignoring
// the constructed bit.
func (h berHeader) is(class byte, tag uint32) bool { return h.class == class && h.tag == tag }

const (
	classUniversal = 0
	classContext   = 2
)

// berReader reads BER tokens from a stream, counting bytes for definite
// lengths.
type berReader struct {
	r   *bufio.Reader
	off int64
}

func newBERReader(r io.Reader) *berReader {
	if br, ok := r.(*bufio.Reader); ok {
		return &berReader{r: br}
	}
	size := 64 << 10
	if lr, ok := r.(interface{ Len() int }); ok {
		// A signature part of a few kilobytes (a *bytes.Reader) needs no
		// 64 KiB buffer; bufio takes at least 16 bytes.
		size = min(size, lr.Len()+1)
	}
	return &berReader{r: bufio.NewReaderSize(r, size)}
}

func (b *berReader) readByte() (byte, error) {
	c, err := b.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, errTruncated
		}
		return 0, err
	}
	b.off++
	return c, nil
}

var errTruncated = &FormatError{"truncated input"}

func (b *berReader) readHeader() (berHeader, error) {
	var h berHeader
	c, err := b.readByte()
	if err != nil {
		return h, err
	}
	h.class = c >> 6
	h.constructed = c&0x20 != 0
	h.tag = uint32(c & 0x1f)
	if h.tag == 0x1f {
		h.tag = 0
		for i := 0; ; i++ {
			if i == 4 {
				return h, &FormatError{"tag number too large"}
			}
			c, err := b.readByte()
			if err != nil {
				return h, err
			}
			h.tag = h.tag<<7 | uint32(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	c, err = b.readByte()
	if err != nil {
		return h, err
	}
	switch {
	case c < 0x80:
		h.length = int64(c)
	case c == 0x80:
		if !h.constructed {
			return h, &FormatError{"indefinite length on a primitive element"}
		}
		h.length = -1
	default:
		n := int(c & 0x7f)
		if n > maxLengthBytes || c == 0xff {
			return h, &FormatError{"length field too long"}
		}
		var l int64
		for i := 0; i < n; i++ {
			c, err := b.readByte()
			if err != nil {
				return h, err
			}
			l = l<<8 | int64(c)
		}
		if l < 0 {
			return h, &FormatError{"negative length"}
		}
		h.length = l
	}
	return h, nil
}

// readDER reads the body of the element whose header is h and returns the
// whole element re-encoded as DER: definite minimal lengths, and
// constructed universal strings folded into primitive ones. budget bounds
// the bytes read for this element; it is decremented as bytes are consumed.
func (b *berReader) readDER(h berHeader, depth int, budget *int64) ([]byte, error) {
	if depth > maxDepth {
		return nil, &FormatError{"nesting too deep"}
	}
	if *budget < elementCost {
		return nil, errTooLarge
	}
	*budget -= elementCost
	if !h.constructed {
		if h.length > *budget {
			return nil, errTooLarge
		}
		*budget -= h.length
		if h.length <= 64<<10 {
			// Small: read into the encoding itself, one allocation.
			out := appendHeader(make([]byte, 0, h.length+16), h, int(h.length))
			hl := len(out)
			out = out[:hl+int(h.length)]
			k, err := io.ReadFull(b.r, out[hl:])
			b.off += int64(k)
			if err != nil {
				return nil, errTruncated
			}
			return out, nil
		}
		// Grow with the data actually read, not with the claimed length.
		var body bytes.Buffer
		n, err := io.CopyN(&body, b.r, h.length)
		b.off += n
		if err != nil {
			return nil, errTruncated
		}
		return encodeElement(h, body.Bytes()), nil
	}
	var children [][]byte
	start := b.off
	for {
		if h.length >= 0 {
			if b.off-start == h.length {
				break
			}
			if b.off-start > h.length {
				return nil, &FormatError{"element overruns its length"}
			}
		}
		ch, err := b.readHeader()
		if err != nil {
			return nil, err
		}
		if ch.isEOC() {
			if h.length >= 0 {
				return nil, &FormatError{"end-of-contents inside a definite-length element"}
			}
			break
		}
		der, err := b.readDER(ch, depth+1, budget)
		if err != nil {
			return nil, err
		}
		children = append(children, der)
	}
	if h.length >= 0 && b.off-start != h.length {
		return nil, &FormatError{"element overruns its length"}
	}
	if h.class == classUniversal && isStringTag(h.tag) {
		// A constructed string: its DER form is the primitive string of the
		// concatenated segment contents.
		var body []byte
		for _, c := range children {
			var seg cryptobyte.String
			s := cryptobyte.String(c)
			var tag cbasn1.Tag
			if !s.ReadAnyASN1(&seg, &tag) || uint32(tag)&0x1f != h.tag {
				return nil, &FormatError{"bad segment in constructed string"}
			}
			body = append(body, seg...)
		}
		hh := h
		hh.constructed = false
		return encodeElement(hh, body), nil
	}
	return encodeElement(h, bytes.Join(children, nil)), nil
}

// isStringTag reports the universal string types that BER may chunk.
func isStringTag(tag uint32) bool {
	switch tag {
	case 4, 12, 19, 20, 22, 26, 28, 30: // OCTET, UTF8, Printable, T61, IA5, Visible, Universal, BMP
		return true
	}
	return false
}

// encodeElement writes identifier and minimal definite length octets for h
// followed by body.
func encodeElement(h berHeader, body []byte) []byte {
	out := appendHeader(make([]byte, 0, len(body)+8), h, len(body))
	return append(out, body...)
}

// appendHeader appends the identifier and minimal definite length octets
// of h, for a body of n bytes.
func appendHeader(out []byte, h berHeader, n int) []byte {
	id := h.class << 6
	if h.constructed {
		id |= 0x20
	}
	if h.tag < 0x1f {
		out = append(out, id|byte(h.tag))
	} else {
		out = append(out, id|0x1f)
		var t []byte
		for v := h.tag; ; v >>= 7 {
			t = append([]byte{byte(v & 0x7f)}, t...)
			if v < 0x80 {
				break
			}
		}
		for i := 0; i < len(t)-1; i++ {
			t[i] |= 0x80
		}
		out = append(out, t...)
	}
	return appendLength(out, n)
}

func appendLength(out []byte, n int) []byte {
	if n < 0x80 {
		return append(out, byte(n))
	}
	size := 0
	for v := n; v > 0; v >>= 8 {
		size++
	}
	out = append(out, 0x80|byte(size))
	for i := size - 1; i >= 0; i-- {
		out = append(out, byte(n>>(8*i)))
	}
	return out
}

// segmentWriter writes streamed content as the primitive segments of a
// constructed, indefinite-length OCTET STRING, the form OpenSSL's -stream
// writes; the caller writes the surrounding header and end-of-contents.
type segmentWriter struct {
	w   io.Writer
	hdr [2 + maxLengthBytes]byte // scratch for one segment header
}

func (s *segmentWriter) write(p []byte) error {
	if _, err := s.w.Write(appendLength(append(s.hdr[:0], 0x04), len(p))); err != nil {
		return err
	}
	_, err := s.w.Write(p)
	return err
}

// ToDER converts one BER element (with no trailing data) to DER, as far as
// lengths and string chunking go. It does not reorder SET OF members.
func ToDER(ber []byte) ([]byte, error) {
	b := newBERReader(bytes.NewReader(ber))
	h, err := b.readHeader()
	if err != nil {
		return nil, err
	}
	// Every element has at least two header octets: this budget never
	// binds, the input's size does.
	budget := int64(len(ber))*elementCost + elementCost
	der, err := b.readDER(h, 0, &budget)
	if err != nil {
		return nil, err
	}
	if b.off != int64(len(ber)) {
		return nil, &FormatError{fmt.Sprintf("%d bytes of trailing data", int64(len(ber))-b.off)}
	}
	return der, nil
}

// contentReader streams the bytes of a (possibly constructed, possibly
// indefinite-length) OCTET STRING, de-chunked.
type contentReader struct {
	b *berReader
	// stack of open constructed segments: end offset, or -1 if indefinite.
	stack []int64
	left  int64 // bytes left in the current primitive segment
}

func newContentReader(b *berReader, h berHeader) (*contentReader, error) {
	if !h.is(classUniversal, 4) {
		return nil, &FormatError{"encapsulated content is not an OCTET STRING"}
	}
	return newContentReaderAt(b, h), nil
}

// newContentReaderAt streams the OCTET STRING whose header h the caller
// has checked: EncryptedContent is [0] IMPLICIT OCTET STRING (RFC 5652
// section 6.1), whose segments, when constructed, are universal OCTET
// STRINGs.
func newContentReaderAt(b *berReader, h berHeader) *contentReader {
	c := &contentReader{b: b}
	if h.constructed {
		c.push(h)
	} else {
		c.left = h.length
	}
	return c
}

func (c *contentReader) push(h berHeader) {
	end := int64(-1)
	if h.length >= 0 {
		end = c.b.off + h.length
	}
	c.stack = append(c.stack, end)
}

func (c *contentReader) Read(p []byte) (int, error) {
	for c.left == 0 {
		if len(c.stack) == 0 {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.b.r.Read(p)
	c.b.off += int64(n)
	c.left -= int64(n)
	if err == io.EOF {
		if c.left > 0 {
			return n, errTruncated
		}
		err = nil
	}
	return n, err
}

// next advances to the next primitive segment, closing finished
// constructed segments on the way.
func (c *contentReader) next() error {
	for len(c.stack) > 0 {
		top := c.stack[len(c.stack)-1]
		if top >= 0 && c.b.off == top {
			c.stack = c.stack[:len(c.stack)-1]
			continue
		}
		if top >= 0 && c.b.off > top {
			return &FormatError{"content segment overruns its length"}
		}
		h, err := c.b.readHeader()
		if err != nil {
			return err
		}
		if h.isEOC() {
			if top >= 0 {
				return &FormatError{"end-of-contents inside a definite-length segment"}
			}
			c.stack = c.stack[:len(c.stack)-1]
			continue
		}
		if !h.is(classUniversal, 4) {
			return &FormatError{"content segment is not an OCTET STRING"}
		}
		if h.constructed {
			if len(c.stack) >= maxDepth {
				return &FormatError{"nesting too deep"}
			}
			c.push(h)
			continue
		}
		if top >= 0 && c.b.off+h.length > top {
			return &FormatError{"content segment overruns its length"}
		}
		if h.length == 0 {
			continue
		}
		c.left = h.length
		return nil
	}
	return nil
}

// FormatError reports CMS input that is not well formed.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "cms: malformed input: " + e.Msg }

// IsFormatError reports whether err is or wraps a *FormatError.
func IsFormatError(err error) bool {
	var fe *FormatError
	return errors.As(err, &fe)
}

// frame is an open constructed element whose members are being read one by
// one: end is the offset where it ends, or -1 for the indefinite form.
type frame struct{ end int64 }

// open reads the header of a constructed element with the given class and
// tag and returns its frame.
func (b *berReader) open(class byte, tag uint32, name string) (frame, error) {
	h, err := b.readHeader()
	if err != nil {
		return frame{}, err
	}
	if !h.is(class, tag) || !h.constructed {
		return frame{}, &FormatError{"expected " + name}
	}
	if h.length < 0 {
		return frame{end: -1}, nil
	}
	return frame{end: b.off + h.length}, nil
}

// frameOf is the frame of the constructed element whose header was read.
func (b *berReader) frameOf(h berHeader) frame {
	if h.length < 0 {
		return frame{end: -1}
	}
	return frame{end: b.off + h.length}
}

// skip reads past the body of the element whose header is h without
// keeping it, charging what it reads to budget.
func (b *berReader) skip(h berHeader, depth int, budget *int64) error {
	if depth > maxDepth {
		return &FormatError{"nesting too deep"}
	}
	if h.length >= 0 {
		if h.length > *budget {
			return errTooLarge
		}
		*budget -= h.length
		n, err := io.CopyN(io.Discard, b.r, h.length)
		b.off += n
		if err != nil {
			return errTruncated
		}
		return nil
	}
	for {
		ch, err := b.readHeader()
		if err != nil {
			return err
		}
		if ch.isEOC() {
			return nil
		}
		if *budget < elementCost {
			return errTooLarge
		}
		*budget -= elementCost
		if err := b.skip(ch, depth+1, budget); err != nil {
			return err
		}
	}
}

// more reports whether f has another member.
func (b *berReader) more(f frame) (bool, error) {
	if f.end >= 0 {
		if b.off > f.end {
			return false, &FormatError{"element overruns its length"}
		}
		return b.off < f.end, nil
	}
	p, err := b.r.Peek(2)
	if err != nil {
		return false, errTruncated
	}
	return !(p[0] == 0 && p[1] == 0), nil
}

// close consumes the end of f: the end-of-contents octets of the
// indefinite form, or a check that a definite length was used up exactly.
func (b *berReader) close(f frame) error {
	if f.end >= 0 {
		if b.off != f.end {
			return &FormatError{"element length does not match its contents"}
		}
		return nil
	}
	h, err := b.readHeader()
	if err != nil {
		return err
	}
	if !h.isEOC() {
		return &FormatError{"unexpected element before end-of-contents"}
	}
	return nil
}

// readElement reads the next whole element as DER, charging its size to
// budget.
func (b *berReader) readElement(budget *int64) ([]byte, error) {
	h, err := b.readHeader()
	if err != nil {
		return nil, err
	}
	if h.isEOC() {
		return nil, &FormatError{"unexpected end-of-contents"}
	}
	return b.readDER(h, 0, budget)
}

func (b *berReader) readOID(budget *int64) (asn1.ObjectIdentifier, error) {
	el, err := b.readElement(budget)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(el)
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1ObjectIdentifier(&oid) || !s.Empty() {
		return nil, &FormatError{"bad object identifier"}
	}
	return oid, nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
