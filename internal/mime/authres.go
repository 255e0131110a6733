package mime

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// AuthResults is an Authentication-Results header field (RFC 8601 section
// 2.2): the authentication service that did the checks (authserv-id) and
// one result per check. [AuthResults.Field] writes it.
//
// The field is written without the optional authres-version (so version 1
// is implied) and without comments. Every part of it is made to fit the
// grammar, whatever the strings hold, so a value taken from a hostile
// certificate can neither add a header field nor change the meaning of
// another part of this one:
//   - method, result, ptype and property names must be RFC 5321 Keywords
//     (letters, digits, hyphens); any other byte becomes '-';
//   - authserv-id, reason and property values are written as an RFC 2045
//     token when they are one, a property value that is an address
//     (dot-atom "@" domain-name) as it is, and anything else as a
//     quoted-string with '"' and '\' escaped;
//   - in values, CR, LF and TAB become spaces, other control characters and
//     bytes that are not UTF-8 become '?', and a value is cut at
//     [MaxAuthValueLen] bytes. Other non-ASCII text is kept as UTF-8 (RFC
//     6532); callers wanting a 7-bit field escape it before.
type AuthResults struct {
	// AuthServID names the host or service that did the checks.
	AuthServID string
	// Results, if empty, gives the no-result form "; none".
	Results []AuthResult
}

// AuthResult is one resinfo of an Authentication-Results field:
// "method=result", an optional "reason=", then "ptype.property=value" for
// each of Props, in order.
type AuthResult struct {
	Method string // e.g. "smime"
	Result string // e.g. "pass", "fail", "none"
	Reason string // optional
	Props  []AuthProp
}

// AuthProp is one propspec: Type is the ptype ("smtp", "header", "body",
// "policy"), Name the property and Value its value.
type AuthProp struct {
	Type, Name, Value string
}

// MaxAuthValueLen bounds every value in an Authentication-Results field, so
// that no line comes near RFC 5322's limit of 998 characters.
const MaxAuthValueLen = 512

// authLineLen is where Field folds: RFC 5322 section 2.1.1 asks for lines
// of at most 78 characters.
const authLineLen = 78

// Field returns the header field "Authentication-Results: ...", folded
// before a resinfo or a property that would take a line past 78
// characters, and ended with CRLF. Values are never split, so a line
// holding a long value is longer, but never more than a few bytes over
// [MaxAuthValueLen].
func (a AuthResults) Field() string {
	var b strings.Builder
	line := "Authentication-Results: " + authValue(a.AuthServID) + ";"
	if len(a.Results) == 0 {
		b.WriteString(line + " none\r\n")
		return b.String()
	}
	for i, r := range a.Results {
		words := []string{authKeyword(r.Method) + "=" + authKeyword(r.Result)}
		if r.Reason != "" {
			words = append(words, "reason="+authValue(r.Reason))
		}
		for _, p := range r.Props {
			words = append(words, authKeyword(p.Type)+"."+authKeyword(p.Name)+"="+authPValue(p.Value))
		}
		if i < len(a.Results)-1 {
			words[len(words)-1] += ";"
		}
		// Each resinfo starts a line of its own.
		b.WriteString(line + "\r\n")
		line = "\t" + words[0]
		for _, w := range words[1:] {
			if len(line)+1+len(w) > authLineLen {
				b.WriteString(line + "\r\n")
				line = "\t" + w
				continue
			}
			line += " " + w
		}
	}
	b.WriteString(line + "\r\n")
	return b.String()
}

// String returns the field as Field does.
func (a AuthResults) String() string { return a.Field() }

// authKeyword makes s an RFC 5321 Keyword (Ldh-str): letters, digits and
// hyphens, ending in a letter or digit; other bytes become '-'. An empty
// s becomes "unknown".
func authKeyword(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isLetDig(c) && c != '-' {
			b[i] = '-'
		}
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}

func isLetDig(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// cleanAuthValue applies the value rules of [AuthResults]: no line ends or
// other control characters, valid UTF-8, at most MaxAuthValueLen bytes.
func cleanAuthValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			r = '?'
		case r == '\r' || r == '\n' || r == '\t':
			r = ' '
		case r < 0x20 || r == 0x7f:
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > MaxAuthValueLen {
			break
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// authValue writes s as RFC 2045 value: a token if it is one, else a
// quoted-string.
func authValue(s string) string {
	s = cleanAuthValue(s)
	if isToken(s) {
		return s
	}
	return quoteString(s)
}

// authPValue writes s as RFC 8601 pvalue: an address written as
// local-part "@" domain-name stays as it is, anything else is a value.
func authPValue(s string) string {
	s = cleanAuthValue(s)
	if at := strings.LastIndexByte(s, '@'); at >= 0 && (at == 0 || isDotAtom(s[:at])) && isDomainName(s[at+1:]) {
		return s
	}
	return authValue(s)
}

// quoteString returns s as an RFC 5322 quoted-string: '"' and '\' become
// quoted-pairs, other characters are qtext or space (s has no controls).
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// isDotAtom reports whether s is an RFC 5322 dot-atom-text: atext runs
// separated by single dots.
func isDotAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isAtext(part[i]) {
				return false
			}
		}
	}
	return true
}

// isAtext reports whether c is RFC 5322 atext (ASCII only).
func isAtext(c byte) bool {
	return isLetDig(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isDomainName reports whether s is an RFC 6376 domain-name, as RFC 8601's
// pvalue uses it: two or more labels of letters, digits and hyphens, each
// starting with a letter or digit and not ending with a hyphen.
func isDomainName(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || !isLetDig(l[0]) || !isLetDig(l[len(l)-1]) {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isLetDig(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

// PrependField writes field (a header field ending in CRLF, such as
// [AuthResults.Field]) to w, then copies msg: the field becomes the first
// of the message's header, where RFC 8601 section 2.1 puts
// Authentication-Results (a trace field, added at the top). Every
// Authentication-Results field of msg's header that claims authservID is
// left out: RFC 8601 section 5 has a receiver remove such fields, which
// only a forger upstream could have written, lest a filter trust them.
// Every other byte of msg is copied unchanged. If the message's first
// line ends in a bare LF, as in a Unix mailbox, the field is written with
// LF line ends too, so the message keeps one convention.
//
// The whole header is examined, up to the blank line, whatever the length
// of its lines (issue #11 item 8: a line past the reader's buffer once
// ended the examination, and a forged field after it was delivered). A
// field is held in memory up to [MaxHeaderBytes]; an
// Authentication-Results field longer than that, or one whose authserv-id
// cannot be read (an unterminated comment or quoted-string, no id at
// all), is left out too, as nothing can show it is not ours. Any other
// longer field is streamed through. A header over MaxHeaderBytes is one
// that [ReadHeader] refuses, so a verdict read from the same message is
// permerror already; the output still carries the whole message, without
// any field that could claim authservID.
func PrependField(w io.Writer, field, authservID string, msg io.Reader) (int64, error) {
	br := bufio.NewReaderSize(msg, readerBufSize)
	first, err := br.Peek(readerBufSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return 0, fmt.Errorf("mime: reading the message: %w", err)
	}
	if i := bytes.IndexByte(first, '\n'); i >= 0 && (i == 0 || first[i-1] != '\r') {
		field = strings.ReplaceAll(field, "\r\n", "\n")
	}
	cw := &countWriter{w: w}
	io.WriteString(cw, field)
	if err := filterHeader(cw, br, authservID); err != nil {
		return cw.n, err
	}
	if cw.err != nil {
		return cw.n, cw.err
	}
	m, err := br.WriteTo(w)
	return cw.n + m, err
}

// filterHeader copies the header from br to cw, field by field (a field is
// its line and the continuation lines after it) up to and including the
// blank line, leaving out the fields PrependField removes. Lines may be
// longer than br's buffer: they come in fragments.
func filterHeader(cw *countWriter, br *bufio.Reader, authservID string) error {
	var (
		cur       []byte // the field being read, while it fits
		inField   bool
		streaming bool // cur overflowed and the field is kept: write as read
		dropping  bool // cur overflowed and the field is left out
	)
	flush := func() {
		if inField && !streaming && !dropping && !claims(cur, authservID) && !claimsBehindCR(cur, authservID) {
			cw.Write(cur)
		}
		cur, inField, streaming, dropping = cur[:0], false, false, false
	}
	add := func(frag []byte) {
		switch {
		case dropping:
		case streaming:
			cw.Write(frag)
		case len(cur)+len(frag) <= MaxHeaderBytes:
			cur = append(cur, frag...)
		case isAuthResults(cur) && !claimsOther(cur, authservID):
			dropping = true
		default:
			streaming = true
			cw.Write(cur)
			cw.Write(frag)
		}
	}
	atLineStart := true
	for cw.err == nil {
		frag, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return fmt.Errorf("mime: reading the message: %w", err)
		}
		if len(frag) > 0 {
			switch {
			case !atLineStart, inField && (frag[0] == ' ' || frag[0] == '\t'):
				add(frag)
			default:
				flush()
				if isBlankLine(frag) {
					cw.Write(frag)
					return nil
				}
				inField = true
				add(frag)
			}
			atLineStart = frag[len(frag)-1] == '\n'
		}
		if err == io.EOF {
			break
		}
	}
	flush()
	return nil
}

// isAuthResults reports whether the raw header field f (or its first
// bytes) is an Authentication-Results field. Spaces and tabs around the
// name are ignored, as lenient parsers do.
func isAuthResults(f []byte) bool {
	name, _, ok := bytes.Cut(f, []byte(":"))
	return ok && strings.EqualFold(string(bytes.Trim(name, " \t")), "Authentication-Results")
}

// claims reports whether the raw header field f is an
// Authentication-Results field that claims the authserv-id id (compared
// case-insensitively, a final dot ignored, as in DNS), or one whose
// authserv-id cannot be read: RFC 8601 section 2.2 puts the id first,
// after optional CFWS (white space, folding and comments, which nest and
// hold quoted-pairs), as an RFC 2045 value (token or quoted-string).
func claims(f []byte, id string) bool {
	if !isAuthResults(f) {
		return false
	}
	_, value, _ := bytes.Cut(f, []byte(":"))
	got, _, ok := authservIDOf(value)
	return !ok || sameID(got, id)
}

// claimsBehindCR reports whether a line that starts after a bare CR in the
// raw field f (a CR not followed by LF) claims id, as [claims] reads it: a
// parser that ends lines at a bare CR, as Thunderbird's does, reads such a
// line as a field of its own, so "X-A: x<CR>Authentication-Results: id;
// smime=pass" is left out like the field it hides. (The verdict is
// permerror already: [ReadHeader] refuses the bare CR.) Each line is read
// only up to the next bare CR, so the cost is linear in the field's size
// however many CRs it holds.
func claimsBehindCR(f []byte, id string) bool {
	for i := bareCR(f); i >= 0; {
		f = f[i+1:]
		line := f
		i = bareCR(f)
		if i >= 0 {
			line = f[:i]
		}
		if claims(line, id) {
			return true
		}
	}
	return false
}

// bareCR returns the index of the first CR in b that is followed by a
// byte other than LF, or -1.
func bareCR(b []byte) int {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '\r')
		if i < 0 {
			return -1
		}
		i += off
		if i+1 < len(b) && b[i+1] != '\n' {
			return i
		}
		off = i + 1
	}
}

// claimsOther reports whether prefix, the first bytes of an
// Authentication-Results field too long to hold, shows that the field
// claims another authserv-id than id: the id is read and ends before the
// prefix does.
func claimsOther(prefix []byte, id string) bool {
	_, value, _ := bytes.Cut(prefix, []byte(":"))
	got, end, ok := authservIDOf(value)
	return ok && end < len(value) && !sameID(got, id)
}

// sameID compares authserv-ids case-insensitively, a final dot ignored (as
// in DNS).
func sameID(got, id string) bool {
	norm := func(s string) string { return strings.TrimRight(s, ".") }
	return id != "" && strings.EqualFold(norm(got), norm(id))
}

// authservIDOf reads the authserv-id at the start of an
// Authentication-Results value and returns it with the index after it. ok
// is false if there is none, or a comment or quoted-string does not end.
func authservIDOf(v []byte) (id string, end int, ok bool) {
	i := 0
	for i < len(v) {
		switch c := v[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			depth := 0
			for ; i < len(v); i++ {
				if v[i] == '\\' {
					i++
					continue
				}
				if v[i] == '(' {
					depth++
				} else if v[i] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if i >= len(v) {
				return "", 0, false
			}
			i++
		default:
			goto value
		}
	}
	return "", 0, false
value:
	var b strings.Builder
	if v[i] == '"' {
		for i++; i < len(v) && v[i] != '"'; i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			if v[i] != '\r' && v[i] != '\n' {
				b.WriteByte(v[i])
			}
		}
		if i >= len(v) {
			return "", 0, false
		}
		i++
	} else {
		for ; i < len(v) && v[i] > ' ' && v[i] < 0x7f && strings.IndexByte(`()<>@,;:\"/[]?=`, v[i]) < 0; i++ {
			b.WriteByte(v[i])
		}
	}
	if b.Len() == 0 {
		return "", 0, false
	}
	return b.String(), i, true
}

// countWriter counts what it wrote and keeps the first error.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
