// Package authrestest checks Authentication-Results header fields against
// the grammar of RFC 8601 section 2.2, for tests. It is written from the
// ABNF, independently of the writer in internal/mime, and returns what it
// parsed so a test can compare values round trip.
//
// The grammar, as implemented (RFC 8601 section 2.2; value from RFC 2045;
// Keyword from RFC 5321; local-part from RFC 5322; domain-name from RFC
// 6376; FWS, CFWS, comment and quoted-string from RFC 5322, with RFC
// 6532's UTF-8 in qtext and ctext):
//
//	authres-header-field = "Authentication-Results:" authres-payload
//	authres-payload  = [CFWS] authserv-id [ CFWS authres-version ]
//	                   ( no-result / 1*resinfo ) [CFWS] CRLF
//	authserv-id      = value
//	authres-version  = 1*DIGIT [CFWS]
//	no-result        = [CFWS] ";" [CFWS] "none"
//	resinfo          = [CFWS] ";" methodspec [ CFWS reasonspec ]
//	                   [ CFWS 1*propspec ]
//	methodspec       = [CFWS] method [CFWS] "=" [CFWS] result
//	method           = Keyword [ [CFWS] "/" [CFWS] method-version ]
//	method-version   = 1*DIGIT [CFWS]
//	result           = Keyword
//	reasonspec       = "reason" [CFWS] "=" [CFWS] value
//	propspec         = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//	ptype            = Keyword
//	property         = special-smtp-verb / Keyword
//	pvalue           = [CFWS] ( value / [ [ local-part ] "@" ] domain-name )
//	                   [CFWS]
//	value            = token / quoted-string
//
// Simplifications, all of them stricter than the RFCs: the obsolete syntax
// of RFC 5322 section 4 (obs-FWS, obs-qp, control characters in quoted
// strings) is refused, and folding must be CRLF followed by a space or tab.
package authrestest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Field is a parsed Authentication-Results field.
type Field struct {
	AuthServID string
	Version    string // "" when absent
	None       bool   // the no-result form
	Results    []Result
}

// Result is one resinfo.
type Result struct {
	Method, MethodVersion, Result string
	Reason                        string
	HasReason                     bool
	Props                         []Prop
}

// Prop is one propspec; Value is unquoted.
type Prop struct {
	Type, Name, Value string
}

// Get returns the value of the first property ptype.name, and whether
// there is one.
func (r Result) Get(ptype, name string) (string, bool) {
	for _, p := range r.Props {
		if strings.EqualFold(p.Type, ptype) && strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// MaxLine is RFC 5322's limit on a line, without its CRLF.
const MaxLine = 998

// Parse checks that field is one complete Authentication-Results header
// field, CRLF included, and returns what it holds. The name is matched
// case-insensitively. Lines may be at most MaxLine characters.
func Parse(field string) (*Field, error) {
	const name = "authentication-results:"
	if len(field) < len(name) || !strings.EqualFold(field[:len(name)], name) {
		return nil, errors.New("authrestest: not an Authentication-Results field")
	}
	if !strings.HasSuffix(field, "\r\n") {
		return nil, errors.New("authrestest: the field does not end in CRLF")
	}
	body := field[len(name) : len(field)-2]
	for i, line := range strings.Split(field[:len(field)-2], "\r\n") {
		if len(line) > MaxLine {
			return nil, fmt.Errorf("authrestest: line %d is %d characters long", i+1, len(line))
		}
		if i > 0 && (line == "" || line[0] != ' ' && line[0] != '\t') {
			return nil, fmt.Errorf("authrestest: line %d is not a continuation line", i+1)
		}
		if strings.ContainsAny(line, "\r\n") {
			return nil, fmt.Errorf("authrestest: bare CR or LF in line %d", i+1)
		}
	}
	// Unfold (RFC 5322 section 2.2.3): a CRLF before WSP goes, the WSP stays.
	p := &parser{s: strings.ReplaceAll(body, "\r\n", "")}
	f, err := p.payload()
	if err != nil {
		return nil, fmt.Errorf("authrestest: at %d of %q: %w", p.i, p.s, err)
	}
	return f, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) eof() bool { return p.i >= len(p.s) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

// lit consumes c if it is next.
func (p *parser) lit(c byte) bool {
	if p.peek() == c && !p.eof() {
		p.i++
		return true
	}
	return false
}

// cfws consumes [CFWS] and reports whether it consumed anything.
func (p *parser) cfws() (bool, error) {
	start := p.i
	for !p.eof() {
		switch p.peek() {
		case ' ', '\t':
			p.i++
		case '(':
			if err := p.comment(0); err != nil {
				return false, err
			}
		default:
			return p.i > start, nil
		}
	}
	return p.i > start, nil
}

// comment consumes a comment: "(" *([FWS] ccontent) [FWS] ")", nested.
func (p *parser) comment(depth int) error {
	if depth > 50 {
		return errors.New("comments nested too deep")
	}
	p.i++ // "("
	for !p.eof() {
		c := p.peek()
		switch {
		case c == ')':
			p.i++
			return nil
		case c == '(':
			if err := p.comment(depth + 1); err != nil {
				return err
			}
		case c == '\\':
			if err := p.quotedPair(nil); err != nil {
				return err
			}
		case c == ' ' || c == '\t' || isVisible(c):
			p.i++
		case c >= 0x80:
			if err := p.utf8(nil); err != nil {
				return err
			}
		default:
			return fmt.Errorf("control character %#x in a comment", c)
		}
	}
	return errors.New("unterminated comment")
}

func isVisible(c byte) bool { return c >= 0x21 && c <= 0x7e }

// quotedPair consumes "\" (VCHAR / WSP), appending the character to b.
func (p *parser) quotedPair(b *strings.Builder) error {
	p.i++
	if p.eof() {
		return errors.New("backslash at the end")
	}
	c := p.peek()
	if c >= 0x80 {
		return p.utf8(b) // RFC 6532 extends VCHAR
	}
	if !isVisible(c) && c != ' ' && c != '\t' {
		return fmt.Errorf("quoted-pair of control character %#x", c)
	}
	if b != nil {
		b.WriteByte(c)
	}
	p.i++
	return nil
}

// utf8 consumes one UTF8-non-ascii character (RFC 6532 section 3.2).
func (p *parser) utf8(b *strings.Builder) error {
	r, size := utf8.DecodeRuneInString(p.s[p.i:])
	if r == utf8.RuneError && size <= 1 || r < 0x80 {
		return errors.New("invalid UTF-8")
	}
	if r >= 0x80 && r < 0xa0 {
		return fmt.Errorf("C1 control character %U", r)
	}
	if b != nil {
		b.WriteString(p.s[p.i : p.i+size])
	}
	p.i += size
	return nil
}

// tspecials are RFC 2045's.
const tspecials = `()<>@,;:\"/[]?=`

func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte(tspecials, c) < 0
}

// token consumes an RFC 2045 token.
func (p *parser) token() (string, bool) {
	start := p.i
	for !p.eof() && isTokenChar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// quotedString consumes DQUOTE *([FWS] qcontent) [FWS] DQUOTE (the CFWS
// around it is the caller's) and returns its content unquoted.
func (p *parser) quotedString() (string, error) {
	if !p.lit('"') {
		return "", errors.New("want a quoted-string")
	}
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			if err := p.quotedPair(&b); err != nil {
				return "", err
			}
		case c == ' ' || c == '\t' || isVisible(c):
			b.WriteByte(c)
			p.i++
		case c >= 0x80:
			if err := p.utf8(&b); err != nil {
				return "", err
			}
		default:
			return "", fmt.Errorf("control character %#x in a quoted-string", c)
		}
	}
	return "", errors.New("unterminated quoted-string")
}

// value consumes an RFC 2045 value: token / quoted-string.
func (p *parser) value() (string, error) {
	if p.peek() == '"' {
		return p.quotedString()
	}
	if t, ok := p.token(); ok {
		return t, nil
	}
	return "", errors.New("want a value (token or quoted-string)")
}

// keyword consumes an RFC 5321 Keyword: Ldh-str = *( ALPHA / DIGIT / "-" )
// Let-dig.
func (p *parser) keyword() (string, error) {
	start := p.i
	for !p.eof() && (isLetDig(p.peek()) || p.peek() == '-') {
		p.i++
	}
	k := p.s[start:p.i]
	if k == "" || !isLetDig(k[len(k)-1]) {
		p.i = start
		return "", errors.New("want a Keyword")
	}
	return k, nil
}

func isLetDig(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) digits() string {
	start := p.i
	for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
		p.i++
	}
	return p.s[start:p.i]
}

// payload is authres-payload without the final CRLF.
func (p *parser) payload() (*Field, error) {
	f := &Field{}
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	id, err := p.value()
	if err != nil {
		return nil, fmt.Errorf("authserv-id: %w", err)
	}
	f.AuthServID = id
	save := p.i
	if ws, err := p.cfws(); err != nil {
		return nil, err
	} else if ws {
		if v := p.digits(); v != "" {
			f.Version = v
			if _, err := p.cfws(); err != nil {
				return nil, err
			}
		} else {
			p.i = save
		}
	}
	// no-result: [CFWS] ";" [CFWS] "none", not followed by "=".
	save = p.i
	if ok, err := p.noResult(); err != nil {
		return nil, err
	} else if ok {
		f.None = true
	} else {
		p.i = save
		for {
			save = p.i
			if _, err := p.cfws(); err != nil {
				return nil, err
			}
			if p.peek() != ';' {
				p.i = save
				break
			}
			r, err := p.resinfo()
			if err != nil {
				return nil, fmt.Errorf("resinfo %d: %w", len(f.Results)+1, err)
			}
			f.Results = append(f.Results, *r)
		}
		if len(f.Results) == 0 {
			return nil, errors.New(`want "; none" or at least one resinfo`)
		}
	}
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	return f, nil
}

func (p *parser) noResult() (bool, error) {
	if _, err := p.cfws(); err != nil {
		return false, err
	}
	if !p.lit(';') {
		return false, nil
	}
	if _, err := p.cfws(); err != nil {
		return false, err
	}
	if !strings.HasPrefix(strings.ToLower(p.s[p.i:]), "none") {
		return false, nil
	}
	p.i += 4
	save := p.i
	if _, err := p.cfws(); err != nil {
		return false, err
	}
	if p.eof() {
		return true, nil
	}
	p.i = save
	return false, nil
}

// resinfo starts at its ";".
func (p *parser) resinfo() (*Result, error) {
	p.i++ // ";"
	r := &Result{}
	// methodspec
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	m, err := p.keyword()
	if err != nil {
		return nil, fmt.Errorf("method: %w", err)
	}
	r.Method = m
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	if p.lit('/') {
		if _, err := p.cfws(); err != nil {
			return nil, err
		}
		if r.MethodVersion = p.digits(); r.MethodVersion == "" {
			return nil, errors.New("want a method-version")
		}
		if _, err := p.cfws(); err != nil {
			return nil, err
		}
	}
	if !p.lit('=') {
		return nil, errors.New(`want "=" after the method`)
	}
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	if r.Result, err = p.keyword(); err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	// [ CFWS reasonspec ]
	save := p.i
	if ws, err := p.cfws(); err != nil {
		return nil, err
	} else if ws && p.isReason() {
		p.i += len("reason")
		if _, err := p.cfws(); err != nil {
			return nil, err
		}
		p.lit('=')
		if _, err := p.cfws(); err != nil {
			return nil, err
		}
		if r.Reason, err = p.value(); err != nil {
			return nil, fmt.Errorf("reason: %w", err)
		}
		r.HasReason = true
		save = p.i
	} else {
		p.i = save
	}
	// [ CFWS 1*propspec ]: each pvalue ends in [CFWS], so the next propspec
	// follows it directly.
	if ws, err := p.cfws(); err != nil {
		return nil, err
	} else if !ws || p.eof() || p.peek() == ';' {
		p.i = save
		return r, nil
	}
	for !p.eof() && p.peek() != ';' {
		prop, err := p.propspec()
		if err != nil {
			return nil, fmt.Errorf("propspec %d: %w", len(r.Props)+1, err)
		}
		r.Props = append(r.Props, *prop)
	}
	return r, nil
}

// isReason reports whether a reasonspec starts here: "reason" [CFWS] "=".
func (p *parser) isReason() bool {
	if !strings.HasPrefix(strings.ToLower(p.s[p.i:]), "reason") {
		return false
	}
	q := &parser{s: p.s, i: p.i + len("reason")}
	if _, err := q.cfws(); err != nil {
		return false
	}
	return q.peek() == '='
}

func (p *parser) propspec() (*Prop, error) {
	t, err := p.keyword()
	if err != nil {
		return nil, fmt.Errorf("ptype: %w", err)
	}
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	if !p.lit('.') {
		return nil, errors.New(`want "." after the ptype`)
	}
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	name, err := p.keyword()
	if err != nil {
		return nil, fmt.Errorf("property: %w", err)
	}
	if _, err := p.cfws(); err != nil {
		return nil, err
	}
	if !p.lit('=') {
		return nil, errors.New(`want "=" after the property`)
	}
	v, err := p.pvalue()
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", t, name, err)
	}
	return &Prop{Type: t, Name: name, Value: v}, nil
}

// pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]. The
// address form is tried first: a token stops at "@".
func (p *parser) pvalue() (string, error) {
	if _, err := p.cfws(); err != nil {
		return "", err
	}
	start := p.i
	v, err := p.address()
	if err != nil {
		p.i = start
		if v, err = p.value(); err != nil {
			return "", err
		}
	}
	if _, err := p.cfws(); err != nil {
		return "", err
	}
	return v, nil
}

// address consumes [ [ local-part ] "@" ] domain-name, with local-part a
// dot-atom or quoted-string; it must end where a pvalue may end.
func (p *parser) address() (string, error) {
	start := p.i
	var local string
	if p.peek() == '"' {
		q, err := p.quotedString()
		if err != nil {
			return "", err
		}
		local = q
		if !p.lit('@') {
			return "", errors.New(`want "@" after a quoted local-part`)
		}
		local += "@"
	} else {
		for !p.eof() && (isAtext(p.peek()) || p.peek() == '.') {
			p.i++
		}
		if p.lit('@') {
			l := p.s[start : p.i-1]
			if l != "" && !isDotAtom(l) {
				return "", errors.New("local-part is not a dot-atom")
			}
			local = l + "@"
		} else {
			p.i = start // no "@": a bare domain-name
		}
	}
	ds := p.i
	for !p.eof() && (isLetDig(p.peek()) || p.peek() == '-' || p.peek() == '.') {
		p.i++
	}
	d := p.s[ds:p.i]
	if !isDomainName(d) {
		return "", fmt.Errorf("%q is not a domain-name", d)
	}
	if !p.eof() && p.peek() != ' ' && p.peek() != '\t' && p.peek() != '(' && p.peek() != ';' {
		return "", errors.New("the address runs on")
	}
	return local + d, nil
}

func isAtext(c byte) bool {
	return isLetDig(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isDotAtom(s string) bool {
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

// isDomainName: RFC 6376 domain-name = sub-domain 1*("." sub-domain), with
// sub-domain = Let-dig [Ldh-str].
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

// Find returns every Authentication-Results field at the top of a message's
// header (msg in CRLF or LF form; LF is turned into CRLF), in order, each
// with its CRLF: the fields before the first field of another name.
func Find(msg string) []string {
	msg = strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	var out []string
	for {
		const name = "authentication-results:"
		if len(msg) < len(name) || !strings.EqualFold(msg[:len(name)], name) {
			return out
		}
		end := 0
		for {
			i := strings.Index(msg[end:], "\r\n")
			if i < 0 {
				return append(out, msg+"\r\n")
			}
			end += i + 2
			if end >= len(msg) || msg[end] != ' ' && msg[end] != '\t' {
				break
			}
		}
		out = append(out, msg[:end])
		msg = msg[end:]
	}
}
