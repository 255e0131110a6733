package mime

import (
	"bytes"
	"strings"
)

// AmbiguousError reports a multipart/signed message that another MIME
// parser may split otherwise than [ReadSigned] does, so that a mail client
// could show as the signed part other bytes than those that were verified
// (issue #11 item 9). The message is written as received and the mailbox
// server parses it itself: a verdict over bytes another parser reads must
// not ride on a reading that parser does not share. Reason says what was
// found, in fixed words.
type AmbiguousError struct{ Reason string }

func (e *AmbiguousError) Error() string { return "mime: ambiguous MIME structure: " + e.Reason }

func ambiguous(reason string) error { return &AmbiguousError{Reason: reason} }

// maxDelimiterLine is the longest delimiter line (transport padding
// included, line end excluded) ReadSigned accepts: RFC 5322 section 2.1.1's
// 998 characters. A longer line starting with the boundary is refused, not
// skipped: Dovecot takes any line starting with "--" boundary as a
// delimiter, whatever follows.
const maxDelimiterLine = 998

// isBchars reports whether b is a boundary RFC 2046 section 5.1.1 allows:
// bchars, not ending in a space. Anything else (backslashes, quotes,
// 8-bit bytes, control characters) may be read differently by another
// parser's quoting rules, so ReadSigned refuses it.
func isBchars(b string) bool {
	if b == "" || b[len(b)-1] == ' ' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if isLetDig(c) || strings.IndexByte("'()+_,-./:=? ", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// laxBoundaries finds every boundary parameter in a Content-Type value the
// way a lenient parser might: each "boundary" after a ';' (case-folded,
// white space and line ends allowed around '='), its value quoted or not.
// ext reports an RFC 2231 form (boundary*, boundary*0...), whose value
// parsers assemble differently.
func laxBoundaries(v string) (vals []string, ext bool) {
	lv := strings.ToLower(v)
	for i := 0; ; {
		j := strings.Index(lv[i:], "boundary")
		if j < 0 {
			return vals, ext
		}
		j += i
		i = j + len("boundary")
		k := j - 1
		for k >= 0 && isFWS(lv[k]) {
			k--
		}
		if k < 0 || lv[k] != ';' {
			continue
		}
		p := i
		for p < len(v) && isFWS(v[p]) {
			p++
		}
		if p < len(v) && v[p] == '*' {
			ext = true
			continue
		}
		if p >= len(v) || v[p] != '=' {
			continue
		}
		p++
		for p < len(v) && isFWS(v[p]) {
			p++
		}
		var b strings.Builder
		if p < len(v) && v[p] == '"' {
			for p++; p < len(v) && v[p] != '"'; p++ {
				if v[p] == '\\' && p+1 < len(v) {
					p++
				}
				b.WriteByte(v[p])
			}
		} else {
			for ; p < len(v) && !isFWS(v[p]) && strings.IndexByte(`()<>@,;:\"/[]?=`, v[p]) < 0; p++ {
				b.WriteByte(v[p])
			}
		}
		vals = append(vals, b.String())
		i = p
	}
}

func isFWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// CheckEntityHeader returns an [*AmbiguousError] if h has more than one
// Content-Type or Content-Transfer-Encoding field: parsers differ on which
// one counts (this package and Go's net/mail take the first), so a verdict
// on one reading may be shown over the other.
func CheckEntityHeader(h Header) error {
	if len(h.Values("Content-Type")) > 1 {
		return ambiguous("more than one Content-Type field")
	}
	if len(h.Values("Content-Transfer-Encoding")) > 1 {
		return ambiguous("more than one Content-Transfer-Encoding field")
	}
	return nil
}

// checkOuter refuses an outer header that parsers may read differently:
// more than one Content-Type or Content-Transfer-Encoding field, a
// transfer encoding on the multipart body, a boundary parameter given more
// than once, in RFC 2231 form or outside RFC 2046's characters.
func checkOuter(h Header, boundary string) error {
	if err := CheckEntityHeader(h); err != nil {
		return err
	}
	if cte := h.Values("Content-Transfer-Encoding"); len(cte) == 1 {
		switch strings.ToLower(cte[0]) {
		case "7bit", "8bit", "binary":
		default:
			return ambiguous("a transfer encoding on the multipart body")
		}
	}
	vals, ext := laxBoundaries(h.Get("Content-Type"))
	switch {
	case ext:
		return ambiguous("a boundary parameter in RFC 2231 form")
	case len(vals) != 1 || vals[0] != boundary:
		return ambiguous("more than one boundary parameter")
	case !isBchars(boundary):
		return ambiguous("a boundary with characters RFC 2046 does not allow")
	}
	return nil
}

// maxNestedField bounds a Content-Type field collected inside the signed
// part by a signedPartChecker.
const maxNestedField = 64 << 10

// A signedPartChecker is written the signed part of a multipart/signed
// message (as ReadSigned spools it, while it does) and refuses it if its
// header has more than one Content-Type or Content-Transfer-Encoding
// field, or if a Content-Type field anywhere in it declares a boundary
// that is a prefix of the outer one (a nested multipart whose delimiter
// lines the outer delimiter would also match, so that parsers disagree on
// where the signed part ends) or that the outer boundary is a prefix of
// (refused line by line already; checked here too), or a boundary in RFC
// 2231 form.
//
// It looks at the part line by line, a line longer than readerBufSize in
// pieces of readerBufSize bytes, as a bufio.Reader of that size reading
// the spooled part would give them. Write never fails: the first refusal
// is kept and returned by close, after the rest of the message was read,
// so that the errors of a message with several faults come in the order
// ReadSigned finds them.
type signedPartChecker struct {
	boundary     string
	inHeader     bool
	ctypes, ctes int
	field        []byte // a Content-Type field being collected
	collecting   bool
	atLineStart  bool
	pending      []byte // the start of a line not yet complete
	err          error
}

func newSignedPartChecker(boundary string) *signedPartChecker {
	return &signedPartChecker{boundary: boundary, inHeader: true, atLineStart: true}
}

// Write cuts p into lines, joined to the one left incomplete by the last
// Write, and checks each.
func (c *signedPartChecker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && c.err == nil {
		if c.atLineStart && !c.inHeader && !c.collecting && len(c.pending) == 0 {
			// In the body, outside a Content-Type field, a line without a
			// colon changes nothing: skip whole runs of them at once.
			if skip := plainLines(p); skip > 0 {
				p = p[skip:]
				continue
			}
		}
		room := readerBufSize - len(c.pending)
		piece := p[:min(len(p), room)]
		i := bytes.IndexByte(piece, '\n')
		switch {
		case i >= 0:
			piece = piece[:i+1]
		case len(piece) < room:
			// The line goes on in the next Write.
			c.pending = append(c.pending, piece...)
			return n, nil
		}
		seg := piece
		if len(c.pending) > 0 {
			c.pending = append(c.pending, piece...)
			seg = c.pending
		}
		c.err = c.segment(seg)
		c.pending = c.pending[:0]
		p = p[len(piece):]
	}
	return n, nil
}

// plainLines returns the length of the complete lines at the start of p
// that have no colon: up to the line of the first colon, or to the last
// line end if there is none.
func plainLines(p []byte) int {
	last := bytes.LastIndexByte(p, '\n')
	if last < 0 {
		return 0
	}
	k := bytes.IndexByte(p[:last+1], ':')
	if k < 0 {
		return last + 1
	}
	return bytes.LastIndexByte(p[:k], '\n') + 1
}

// close checks the last line, if it has no line end, and the counts.
func (c *signedPartChecker) close() error {
	if c.err == nil && len(c.pending) > 0 {
		c.err = c.segment(c.pending)
		c.pending = nil
	}
	if c.err != nil {
		return c.err
	}
	if c.collecting {
		if err := c.check(); err != nil {
			return err
		}
	}
	switch {
	case c.ctypes > 1:
		return ambiguous("more than one Content-Type field in the signed part")
	case c.ctes > 1:
		return ambiguous("more than one Content-Transfer-Encoding field in the signed part")
	}
	return nil
}

// check looks at the boundary parameters of the Content-Type field
// collected.
func (c *signedPartChecker) check() error {
	c.collecting = false
	vals, ext := laxBoundaries(string(c.field[len("content-type:"):]))
	if ext {
		return ambiguous("a boundary parameter in RFC 2231 form inside the signed part")
	}
	for _, v := range vals {
		if v != "" && (strings.HasPrefix(c.boundary, v) || strings.HasPrefix(v, c.boundary)) {
			return ambiguous("a nested multipart reuses the boundary")
		}
	}
	return nil
}

// segment looks at one line, or one piece of a long line.
func (c *signedPartChecker) segment(seg []byte) error {
	cont := c.atLineStart && (seg[0] == ' ' || seg[0] == '\t')
	if c.collecting && (!c.atLineStart || cont) {
		if len(c.field)+len(seg) > maxNestedField {
			return ambiguous("a Content-Type field too long to check")
		}
		c.field = append(c.field, seg...)
	} else if c.collecting {
		if err := c.check(); err != nil {
			return err
		}
	}
	if c.atLineStart && !cont {
		if c.inHeader && isBlankLine(seg) {
			c.inHeader = false
		}
		// Only a line with a colon can be a field. In the body the name
		// before it is compared with Content-Type only if it has that
		// length: no letter of "Content-Type" has a case variant outside
		// ASCII (only k and s do, Kelvin sign and long s), so no other
		// length can match, and a body line costs a search for ':' and
		// little more.
		if i := bytes.IndexByte(seg, ':'); i >= 0 {
			name := bytes.TrimSpace(seg[:i])
			isCT := len(name) == len("Content-Type") && bytes.EqualFold(name, []byte("Content-Type"))
			if c.inHeader && isCT {
				c.ctypes++
			}
			if c.inHeader && bytes.EqualFold(name, []byte("Content-Transfer-Encoding")) {
				c.ctes++
			}
			if isCT {
				c.field = append(append(c.field[:0], "content-type:"...), seg[i+1:]...)
				c.collecting = true
			}
		}
	}
	c.atLineStart = seg[len(seg)-1] == '\n'
	return nil
}
