package mime

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Form is how an input presents an S/MIME object: as a mail message (or
// MIME entity), or as a bare CMS file — what a mail client saves as an
// smime.p7m or smime.p7s attachment and what `openssl cms -outform DER|PEM`
// and `gpgsm --armor` write.
type Form int

const (
	// FormAuto tells the forms apart by their first bytes (see [OpenInput]).
	FormAuto Form = iota
	// FormMIME is a mail message or MIME entity.
	FormMIME
	// FormDER is a bare CMS ContentInfo, DER or BER.
	FormDER
	// FormPEM is the base64 of a CMS ContentInfo, in a PEM block (BEGIN
	// CMS, BEGIN PKCS7, BEGIN PKCS #7 SIGNED DATA) or bare.
	FormPEM
)

var formNames = []string{"auto", "smime", "der", "pem"}

func (f Form) String() string {
	if f < 0 || int(f) >= len(formNames) {
		return fmt.Sprintf("Form(%d)", int(f))
	}
	return formNames[f]
}

// ParseForm reads "smime", "der" or "pem" (and "auto", or "" for auto).
func ParseForm(s string) (Form, error) {
	if s == "" {
		return FormAuto, nil
	}
	for i, n := range formNames {
		if strings.EqualFold(n, s) {
			return Form(i), nil
		}
	}
	return FormAuto, fmt.Errorf("mime: unknown input form %q (want smime, der or pem)", s)
}

// Bare reports whether f is a bare CMS form (DER or PEM).
func (f Form) Bare() bool { return f == FormDER || f == FormPEM }

// NotMailError reports an input that is neither a mail message nor a
// bare CMS file. Start says in words what the input starts with; no input
// bytes are quoted.
type NotMailError struct {
	// Start is "binary data", "text that is not a header field",
	// "base64 that is not a CMS message" or "a PEM <LABEL> block".
	Start string
}

func (e *NotMailError) Error() string {
	return "mime: the input is not a mail message: it starts with " + e.Start
}

// sniffSize is how much of the input OpenInput looks at.
const sniffSize = 4096

// pemLabels are the PEM block labels of a CMS ContentInfo: RFC 7468
// section 9 (CMS, PKCS7) and the label older OpenSSL and Netscape tools
// wrote.
var pemLabels = []string{"CMS", "PKCS7", "PKCS #7 SIGNED DATA"}

// OpenInput returns a reader of a MIME entity for the input r in form f,
// and the form it found. A mail message is returned as it is. A bare CMS
// file is returned as an application/pkcs7-mime entity with no smime-type
// (the CMS content type decides) that carries the CMS: DER as binary, PEM
// and bare base64 as base64 without the armor lines. Its header has no
// other field: no From, no Subject.
//
// With FormAuto the first bytes decide: a SEQUENCE that starts a
// ContentInfo (SEQUENCE { OBJECT IDENTIFIER ...) is DER; "-----BEGIN " is
// PEM; a first line of nothing but the base64 alphabet that decodes to a
// ContentInfo is bare base64; a header field (or a blank line, or an mbox
// "From " line) is mail. Anything else is a [*NotMailError], as is a PEM
// block of another kind or base64 of something else. A forced form is not
// checked here: a DER file that is not CMS fails when the CMS is read.
// With FormMIME, input whose first line is not a header field is a
// *NotMailError too, never a mail message with an escaped line.
func OpenInput(r io.Reader, f Form) (io.Reader, Form, error) {
	if f == FormDER {
		return bareDER(r), FormDER, nil
	}
	br := bufio.NewReaderSize(r, readerBufSize)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, f, fmt.Errorf("mime: reading the input: %w", err)
	}
	text := bytes.TrimLeft(head, " \t\r\n")
	if f == FormPEM {
		if bytes.HasPrefix(text, []byte("-----BEGIN ")) {
			return armored(br, text, len(head)-len(text))
		}
		return barePEM(br), FormPEM, nil
	}
	switch {
	case len(head) == 0:
		return br, FormMIME, nil
	case f == FormMIME:
	case looksLikeContentInfo(head):
		return bareDER(br), FormDER, nil
	case bytes.HasPrefix(text, []byte("-----BEGIN ")):
		return armored(br, text, len(head)-len(text))
	}
	first := firstLine(head)
	if f == FormAuto && isBase64Line(first) {
		if der := decodePrefix(text); looksLikeContentInfo(der) {
			return barePEM(br), FormPEM, nil
		}
		return nil, FormAuto, &NotMailError{Start: "base64 that is not a CMS message"}
	}
	if isBlankLine(first) || bytes.HasPrefix(first, []byte("From ")) || first[0] == ' ' || first[0] == '\t' {
		return br, FormMIME, nil
	}
	if _, ok := fieldName(first); ok {
		return br, FormMIME, nil
	}
	if isBinary(head) {
		return nil, FormAuto, &NotMailError{Start: "binary data"}
	}
	return nil, FormAuto, &NotMailError{Start: "text that is not a header field"}
}

// bareHeader is the header of the entity OpenInput makes of a bare CMS file.
func bareHeader(cte string) io.Reader {
	return strings.NewReader("Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n")
}

func bareDER(r io.Reader) io.Reader { return io.MultiReader(bareHeader("binary"), r) }

func barePEM(r io.Reader) io.Reader { return io.MultiReader(bareHeader("base64"), r) }

// armored returns the base64 inside the PEM block that br starts with
// after skip bytes of white space; text is the start of it.
func armored(br *bufio.Reader, text []byte, skip int) (io.Reader, Form, error) {
	line := firstLine(text)
	label, ok := bytes.CutPrefix(bytes.TrimRight(line, " \t\r\n"), []byte("-----BEGIN "))
	if ok {
		label, ok = bytes.CutSuffix(label, []byte("-----"))
	}
	if !ok {
		return nil, FormAuto, &NotMailError{Start: "a line that looks like a PEM header but is not one"}
	}
	name := string(label)
	found := false
	for _, l := range pemLabels {
		found = found || name == l
	}
	if !found {
		return nil, FormAuto, &NotMailError{Start: fmt.Sprintf("a PEM %s block, not a CMS message", printable(name))}
	}
	// Drop the white space before the BEGIN line and the line itself.
	if _, err := br.Discard(skip + len(line)); err != nil {
		return nil, FormAuto, fmt.Errorf("mime: reading the input: %w", err)
	}
	return io.MultiReader(bareHeader("base64"), &pemBody{r: br, label: name, start: true}), FormPEM, nil
}

// pemBody passes the lines of a PEM block's body through up to its END
// line, and fails if the input ends before it: a block cut off in transit
// is not read as a shorter one.
type pemBody struct {
	r       *bufio.Reader
	label   string
	pending []byte // the part of a line a short Read could not take
	start   bool   // at the start of a line
	done    bool
}

func (p *pemBody) Read(b []byte) (int, error) {
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		return n, nil
	}
	if p.done {
		return 0, io.EOF
	}
	if p.start {
		if head, _ := p.r.Peek(5); bytes.Equal(head, []byte("-----")) {
			line, _ := p.r.ReadSlice('\n')
			if !bytes.HasPrefix(line, []byte("-----END "+p.label+"-----")) {
				return 0, errors.New("mime: the PEM block ends with another line than its END line")
			}
			p.done = true
			return 0, io.EOF
		}
	}
	frag, err := p.r.ReadSlice('\n')
	n := copy(b, frag)
	p.pending = append(p.pending[:0], frag[n:]...)
	p.start = len(frag) > 0 && frag[len(frag)-1] == '\n'
	switch {
	case err == nil, errors.Is(err, bufio.ErrBufferFull):
		return n, nil
	case err == io.EOF:
		if len(frag) > 0 {
			return n, nil
		}
		return 0, fmt.Errorf("mime: the PEM block has no END line: %w", io.ErrUnexpectedEOF)
	}
	return n, fmt.Errorf("mime: reading the input: %w", err)
}

// looksLikeContentInfo reports whether b starts as a BER ContentInfo:
// SEQUENCE (definite or indefinite length), then an OBJECT IDENTIFIER
// under 1.2.840.113549.1.7 (pkcs-7) or 1.2.840.113549.1.9.16.1 (the
// S/MIME content types, such as authEnvelopedData).
func looksLikeContentInfo(b []byte) bool {
	if len(b) < 2 || b[0] != 0x30 {
		return false
	}
	i := 2
	switch n := b[1]; {
	case n == 0x80, n < 0x80:
	case n <= 0x84:
		i += int(n & 0x7f)
	default:
		return false
	}
	if i+2 > len(b) || b[i] != 0x06 {
		return false
	}
	oid := b[i+2:]
	pkcs7 := []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07}
	smime := []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01}
	return bytes.HasPrefix(oid, pkcs7) || bytes.HasPrefix(oid, smime)
}

// firstLine returns b up to and including its first LF (all of b if none).
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}

// isBase64Line reports whether line (without its line end) is at least
// four characters of the base64 alphabet and nothing else.
func isBase64Line(line []byte) bool {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) < 4 {
		return false
	}
	for _, c := range line {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// decodePrefix decodes the base64 at the start of text, up to its first
// character outside the alphabet other than a line end, in whole groups.
func decodePrefix(text []byte) []byte {
	clean := make([]byte, 0, len(text))
	for _, c := range text {
		switch {
		case c == '\r' || c == '\n':
		case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/':
			clean = append(clean, c)
		default:
			goto done
		}
	}
done:
	clean = clean[:len(clean)/4*4]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, _ := base64.StdEncoding.Decode(out, clean)
	return out[:n]
}

// isBinary reports whether b holds bytes text does not: controls other
// than tab, CR, LF and form feed, DEL, or invalid UTF-8 (a cut at the end
// of b excepted).
func isBinary(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' || c == 0x7f {
			return true
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return len(b)-i >= utf8.UTFMax
		}
		i += size
	}
	return false
}

// printable returns s with bytes outside printable ASCII replaced by "?",
// at most 40 of them.
func printable(s string) string {
	b := []byte(s)
	if len(b) > 40 {
		b = append(b[:40], "..."...)
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// MaxFirstLine is how much of some content [StartsEntity] needs to see.
const MaxFirstLine = 1024

// StartsEntity reports whether head, the first bytes of some content,
// starts a MIME entity: a header field (or the continuation of one, which
// ReadHeader refuses), or the blank line of an empty header. Content that
// does not — a body sent without a header, which some clients sign or
// encrypt — is a body with RFC 2045's defaults (text/plain;
// charset=us-ascii), and whoever writes it after header fields must write
// the blank line first (issue #15 item 4). Empty content starts nothing
// and is an empty entity.
func StartsEntity(head []byte) bool {
	if len(head) == 0 {
		return true
	}
	first := firstLine(head)
	if isBlankLine(first) || first[0] == ' ' || first[0] == '\t' {
		return true
	}
	_, ok := fieldName(first)
	return ok
}

// TextWriter checks that what is written to it is text: UTF-8 without
// controls other than tab, CR, LF and form feed, and without DEL. Write
// never fails; Text reports the verdict once everything was written.
type TextWriter struct {
	carry  []byte // an incomplete UTF-8 sequence at the end of the last Write
	binary bool
}

func (t *TextWriter) Write(p []byte) (int, error) {
	n := len(p)
	if t.binary {
		return n, nil
	}
	if len(t.carry) > 0 {
		p = append(t.carry, p...)
		t.carry = nil
	}
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' || c == 0x7f {
				t.binary = true
				return n, nil
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			if !utf8.FullRune(p[i:]) {
				t.carry = append([]byte(nil), p[i:]...)
				return n, nil
			}
			t.binary = true
			return n, nil
		}
		i += size
	}
	return n, nil
}

// Text reports whether everything written was text.
func (t *TextWriter) Text() bool { return !t.binary && len(t.carry) == 0 }
