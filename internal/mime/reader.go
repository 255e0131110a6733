package mime

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message/mail"
)

// readerBufSize is the bufio buffer used for bodies. It bounds the length
// of a line that can be a boundary delimiter.
const readerBufSize = 64 << 10

// Entity is a MIME entity (RFC 2045 section 2.4): a header and a body.
type Entity struct {
	// Header holds the entity's header fields.
	Header Header
	// Body reads the raw body, still transfer-encoded.
	Body *bufio.Reader
}

// ReadEntity reads the header of an entity from r (see [ReadHeader]) and
// returns it with a reader positioned at the start of the body. If r is a
// *bufio.Reader of at least 64 KiB it is used directly.
func ReadEntity(r io.Reader) (*Entity, error) {
	br := newBodyReader(r)
	h, err := ReadHeader(br)
	if err != nil {
		return nil, err
	}
	return &Entity{Header: h, Body: br}, nil
}

// newBodyReader returns r buffered by readerBufSize bytes, or by fewer when
// r says (with a Len method, as *bytes.Reader, *strings.Reader and the
// in-memory readers of a Spool have) that it holds fewer: a buffer larger
// than everything left to read never fills, so every read gives what a
// 64 KiB buffer would, without allocating and clearing 64 KiB for each of
// the small entities of a batch.
func newBodyReader(r io.Reader) *bufio.Reader {
	if lr, ok := r.(interface{ Len() int }); ok {
		if n := lr.Len(); n < readerBufSize-1 {
			return bufio.NewReaderSize(r, n+1)
		}
	}
	return bufio.NewReaderSize(r, readerBufSize)
}

// bodyReader returns e.Body if its buffer is as large as the line readers
// of this package need: readerBufSize bytes, or more than everything left
// to read (as newBodyReader makes it for a small input), so that it never
// fills; else a reader with a buffer of readerBufSize bytes over it.
func bodyReader(e *Entity) *bufio.Reader {
	b := e.Body
	if b.Size() >= readerBufSize {
		return b
	}
	if rest, _ := b.Peek(b.Size() - 1); len(rest) < b.Size()-1 {
		return b
	}
	return bufio.NewReaderSize(b, readerBufSize)
}

// DecodeBody returns a reader of the entity body with its
// Content-Transfer-Encoding (RFC 2045 section 6) removed: base64 (line ends
// and whitespace ignored), quoted-printable, or 7bit, 8bit and binary
// (identity; also the default when the field is absent). Any other
// encoding is an error. Errors in the encoded data surface from Read.
func DecodeBody(e *Entity) (io.Reader, error) {
	if e == nil || e.Body == nil {
		return nil, errors.New("mime: entity has no body")
	}
	cte := strings.ToLower(e.Header.Get("Content-Transfer-Encoding"))
	switch cte {
	case "", "7bit", "8bit", "binary":
		return e.Body, nil
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &whitespaceFilter{r: e.Body}), nil
	case "quoted-printable":
		return quotedprintable.NewReader(e.Body), nil
	default:
		return nil, fmt.Errorf("mime: unsupported Content-Transfer-Encoding %q", truncateForError([]byte(cte)))
	}
}

// whitespaceFilter drops spaces, tabs, CR and LF, which RFC 2045 section
// 6.8 says a base64 decoder must ignore (with other characters outside the
// alphabet; those are reported as errors here, as they usually mean
// corruption).
type whitespaceFilter struct {
	r io.Reader
}

func (f *whitespaceFilter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			switch c {
			case ' ', '\t', '\r', '\n':
			default:
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// FromAddress returns the addr-spec of the first address in the From field
// (RFC 5322 section 3.6.2), with the domain part lower-cased (the local
// part is case-sensitive by RFC 5321 section 2.4). It fails if there is no
// From field or it does not parse. It is for choosing a signing
// certificate; checking a sender needs every mailbox: [ReadOriginator].
func FromAddress(h Header) (string, error) {
	from := h.Get("From")
	if from == "" {
		return "", errors.New("mime: message has no From field")
	}
	addrs, err := mail.ParseAddressList(from)
	if err != nil {
		return "", fmt.Errorf("mime: malformed From field: %w", err)
	}
	if len(addrs) == 0 {
		return "", errors.New("mime: From field has no address")
	}
	a := addrs[0].Address
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		return "", fmt.Errorf("mime: From address %q has no domain", a)
	}
	return a[:at] + "@" + strings.ToLower(a[at+1:]), nil
}

// PeekBody returns up to the first n bytes of e's body with its
// Content-Transfer-Encoding removed, without consuming the body: enough
// for a reader to tell what the body holds (a CMS ContentInfo's type)
// before it reads it. Only the identity encodings and base64 are taken, as
// for a CMS body; n must not exceed the body reader's buffer.
func PeekBody(e *Entity, n int) ([]byte, error) {
	raw, _ := e.Body.Peek(n)
	switch strings.ToLower(e.Header.Get("Content-Transfer-Encoding")) {
	case "base64":
		clean := make([]byte, 0, len(raw))
		for _, c := range raw {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				clean = append(clean, c)
			}
		}
		clean = clean[:len(clean)/4*4]
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		k, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("the body is not valid base64: %w", err)
		}
		return out[:k], nil
	case "", "7bit", "8bit", "binary":
		return raw, nil
	}
	return nil, fmt.Errorf("unsupported Content-Transfer-Encoding %q for a CMS body", e.Header.Get("Content-Transfer-Encoding"))
}
