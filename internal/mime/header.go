package mime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// Limits applied by [ReadHeader].
const (
	// MaxHeaderBytes is the largest header block ReadHeader accepts,
	// counting every byte including line ends and the blank line.
	MaxHeaderBytes = 1 << 20
	// MaxHeaderFields is the largest number of fields ReadHeader accepts.
	MaxHeaderFields = 10000
)

// field is one header field. raw holds the bytes as read (name, colon,
// value, folding and line ends, LF or CRLF), or "Name: value\r\n" for a
// field added by Add or Set.
type field struct {
	name string
	raw  []byte
}

// value returns the unfolded, trimmed value of the field: the bytes after
// the first colon with every CR and LF removed (RFC 5322 section 2.2.3) and
// leading and trailing spaces and tabs trimmed.
func (f field) value() string {
	i := bytes.IndexByte(f.raw, ':')
	if i < 0 {
		return ""
	}
	v := f.raw[i+1:]
	if bytes.IndexByte(v, '\n') >= 0 || bytes.IndexByte(v, '\r') >= 0 {
		b := make([]byte, 0, len(v))
		for _, c := range v {
			if c != '\r' && c != '\n' {
				b = append(b, c)
			}
		}
		v = b
	}
	return string(bytes.Trim(v, " \t"))
}

// Header is an ordered list of header fields (RFC 5322 section 2.2) with
// the raw bytes of every field read by [ReadHeader] preserved, folding
// included. The zero value is an empty header.
//
// Like a slice, a Header copied by assignment shares its storage with the
// original: use [Header.Clone] before editing a copy. [Header.Split]
// returns headers with storage of their own.
type Header struct {
	fields []field
}

// ReadHeader reads a header block from r: fields up to and including the
// blank line that ends it. Lines may end in LF or CRLF.
//
// If r reaches EOF before a blank line, the fields read so far form the
// header and the error is nil; the body is then empty. A last line without
// a line end is accepted as a field. An empty input gives an empty header.
//
// ReadHeader fails for a continuation line with no field before it, a line
// that is not a field (no colon, or a name with bytes outside printable
// ASCII), a CR not followed by LF or a header that ends in LF CR LF (an
// [*AmbiguousError]: parsers split these differently), a header block
// over [MaxHeaderBytes] bytes or over [MaxHeaderFields] fields, and read
// errors other than EOF.
func ReadHeader(r *bufio.Reader) (Header, error) {
	var h Header
	budget := MaxHeaderBytes
	for {
		line, err := readLimitedLine(r, budget)
		if err != nil && err != io.EOF {
			return h, err
		}
		budget -= len(line)
		if len(line) == 0 {
			return h, nil // EOF without a blank line
		}
		if isBlankLine(line) {
			if len(line) == 2 && len(h.fields) > 0 && endsInBareLF(h.fields[len(h.fields)-1].raw) {
				return h, errLFCRLF
			}
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			return h, errors.New("mime: malformed header: continuation line without a field")
		}
		if hasBareCR(line) {
			return h, errBareCR
		}
		name, ok := fieldName(line)
		if !ok {
			return h, fmt.Errorf("mime: malformed header line %q", truncateForError(line))
		}
		if len(h.fields) >= MaxHeaderFields {
			return h, fmt.Errorf("mime: header has more than %d fields", MaxHeaderFields)
		}
		raw := line
		// Continuation lines: those starting with a space or tab.
		for err == nil {
			b, perr := r.Peek(1)
			if perr != nil || (b[0] != ' ' && b[0] != '\t') {
				break
			}
			var cont []byte
			cont, err = readLimitedLine(r, budget)
			if err != nil && err != io.EOF {
				return h, err
			}
			budget -= len(cont)
			if hasBareCR(cont) {
				return h, errBareCR
			}
			raw = append(raw, cont...)
		}
		h.fields = append(h.fields, field{name: name, raw: raw})
		if err == io.EOF {
			return h, nil
		}
	}
}

var errHeaderTooLarge = fmt.Errorf("mime: header larger than %d bytes", MaxHeaderBytes)

// errBareCR refuses a header with a CR that does not start a CRLF. RFC
// 5322 section 2.2 allows none, and parsers split on it differently:
// this package and Dovecot keep it inside the field, mail clients such as
// Thunderbird end the line there, so "X-A: x<CR>From: alice@example.com"
// would be one field here and a From field there.
var errBareCR = ambiguous("a bare CR (not followed by LF) in the header")

// errLFCRLF refuses a header that ends in LF CR LF: a line ending in a
// bare LF, then a blank line ending in CRLF. This package (as Dovecot and
// Thunderbird's libmime) ends the header there; Thunderbird's jsmime ends
// a header only at a line end repeated (CRLF CRLF, LF LF, CR CR), so it
// reads the lines after it, which are the body here, as header fields: a
// From in the preamble of a signed message.
var errLFCRLF = ambiguous("a header that ends in LF CR LF (mixed line ends)")

// endsInBareLF reports whether raw ends in an LF without a CR before it.
func endsInBareLF(raw []byte) bool {
	n := len(raw)
	return n > 0 && raw[n-1] == '\n' && (n == 1 || raw[n-2] != '\r')
}

// hasBareCR reports whether line holds a CR followed by anything but LF.
// A CR that ends the input is not counted: nothing follows it to read
// otherwise.
func hasBareCR(line []byte) bool {
	for i := bytes.IndexByte(line, '\r'); i >= 0 && i+1 < len(line); {
		if line[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(line[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// readLimitedLine reads one line, including its LF, into a new slice. It
// fails if the line is longer than limit. At EOF it returns what was read
// and io.EOF.
func readLimitedLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > limit {
			return nil, errHeaderTooLarge
		}
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return line, fmt.Errorf("mime: reading header: %w", err)
		}
		return line, err
	}
}

func isBlankLine(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' ||
		len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

// fieldName returns the name of the field starting at line: the bytes
// before the first colon, with trailing spaces and tabs removed (the
// obsolete syntax of RFC 5322 section 4.5.3 allows them).
func fieldName(line []byte) (string, bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", false
	}
	name := bytes.TrimRight(line[:i], " \t")
	if !validName(name) {
		return "", false
	}
	return string(name), true
}

// validName reports whether name is a non-empty RFC 5322 field-name:
// printable ASCII except colon.
func validName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

func truncateForError(b []byte) []byte {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// Clone returns a copy of h that can be edited independently.
func (h Header) Clone() Header {
	return Header{fields: append([]field(nil), h.fields...)}
}

// Get returns the unfolded value of the first field named name (compared
// case-insensitively), with CR and LF removed and surrounding spaces and
// tabs trimmed, or "" if there is none.
func (h Header) Get(name string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			return f.value()
		}
	}
	return ""
}

// Has reports whether h has a field named name (compared case-insensitively).
func (h Header) Has(name string) bool {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

// Values returns the unfolded values of every field named name, in order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value())
		}
	}
	return vs
}

// newField builds a field written as "name: value\r\n". Header injection is
// impossible by construction: every run of CR and LF in value (with the
// spaces and tabs around it) becomes one space, and bytes of name outside
// printable ASCII, and colons, become '-'.
func newField(name, value string) field {
	nb := []byte(name)
	for i, c := range nb {
		if c < 33 || c > 126 || c == ':' {
			nb[i] = '-'
		}
	}
	if len(nb) == 0 {
		nb = []byte("X-Empty-Name")
	}
	if strings.ContainsAny(value, "\r\n") {
		var b strings.Builder
		for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == '\r' || r == '\n' }) {
			part = strings.Trim(part, " \t")
			if part == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(part)
		}
		value = b.String()
	}
	raw := make([]byte, 0, len(nb)+len(value)+4)
	raw = append(raw, nb...)
	raw = append(raw, ':', ' ')
	raw = append(raw, value...)
	raw = append(raw, '\r', '\n')
	return field{name: string(nb), raw: raw}
}

// Add appends a field "name: value". Add never fails: CR and LF in value
// are replaced (each run, with the whitespace around it, becomes a single
// space) and invalid bytes in name become '-', so no field can be injected.
// The value is written on one line, unfolded.
func (h *Header) Add(name, value string) {
	h.fields = append(h.fields, newField(name, value))
}

// Set replaces every field named name with one field "name: value" at the
// position of the first of them, or appends it if there is none. Value and
// name are sanitised as for [Header.Add].
func (h *Header) Set(name, value string) {
	nf := newField(name, value)
	out := h.fields[:0:0]
	set := false
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			if !set {
				out = append(out, nf)
				set = true
			}
			continue
		}
		out = append(out, f)
	}
	if !set {
		out = append(out, nf)
	}
	h.fields = out
}

// Del removes every field named name.
func (h *Header) Del(name string) {
	out := h.fields[:0:0]
	for _, f := range h.fields {
		if !strings.EqualFold(f.name, name) {
			out = append(out, f)
		}
	}
	h.fields = out
}

// Len returns the number of fields.
func (h Header) Len() int { return len(h.fields) }

// Fields returns the field names in order, as written.
func (h Header) Fields() []string {
	names := make([]string, len(h.fields))
	for i, f := range h.fields {
		names[i] = f.name
	}
	return names
}

// isEntityField reports whether name is a Content-* field, which belongs to
// the MIME entity rather than to the message (RFC 2045 section 9, RFC 8551
// section 3.1).
func isEntityField(name string) bool {
	return len(name) >= 8 && strings.EqualFold(name[:8], "content-")
}

// Split separates h into the outer message fields and the entity fields.
// entity holds the Content-* fields (Content-Type,
// Content-Transfer-Encoding, Content-Disposition...), the header of the
// MIME entity that is signed or encrypted; outer holds everything else,
// including MIME-Version, From, To, Subject, Date, Message-ID and trace
// fields. Order within each is kept.
func (h Header) Split() (outer, entity Header) {
	for _, f := range h.fields {
		if isEntityField(f.name) {
			entity.fields = append(entity.fields, f)
		} else {
			outer.fields = append(outer.fields, f)
		}
	}
	return outer, entity
}

// WriteTo writes every field with CRLF line ends: raw bytes and folding are
// kept, bare LF becomes CRLF, and a last line without a line end gets one.
// The blank line that ends a header block is not written.
func (h Header) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	for _, f := range h.fields {
		appendCanonical(&buf, f.raw)
	}
	n, err := w.Write(buf.Bytes())
	if err != nil {
		return int64(n), fmt.Errorf("mime: writing header: %w", err)
	}
	return int64(n), nil
}

// appendCanonical appends raw to buf with bare LF turned into CRLF and a
// CRLF added if raw does not end in LF.
func appendCanonical(buf *bytes.Buffer, raw []byte) {
	prev := byte(0)
	for _, c := range raw {
		if c == '\n' && prev != '\r' {
			buf.WriteByte('\r')
		}
		buf.WriteByte(c)
		prev = c
	}
	if prev != '\n' {
		if prev != '\r' {
			buf.WriteByte('\r')
		}
		buf.WriteByte('\n')
	}
}

// MediaType parses Content-Type (RFC 2045 section 5). The media type is
// lower-cased, as are parameter names (by mime.ParseMediaType). Without a
// Content-Type field the result is the RFC 2045 section 5.2 default,
// "text/plain" with charset "us-ascii". A Content-Type that does not parse
// is an error.
func (h Header) MediaType() (mediaType string, params map[string]string, err error) {
	if !h.Has("Content-Type") {
		return "text/plain", map[string]string{"charset": "us-ascii"}, nil
	}
	v := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "", nil, fmt.Errorf("mime: malformed Content-Type %q: %w", truncateForError([]byte(v)), err)
	}
	return mt, params, nil
}
