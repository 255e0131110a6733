package mime

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"unicode"
)

// MaxMailboxes is the most mailboxes [ReadOriginator] and [FieldMailboxes]
// accept in one field: real mail names a handful, and each mailbox of
// From is compared with every signer's certificate, so a hostile header of
// tens of thousands would cost seconds of a filter's time.
const MaxMailboxes = 100

// ErrNoFrom means a header has no From field.
var ErrNoFrom = errors.New("mime: the message has no From field")

// Originator is who a message says wrote it and sent it: every mailbox of
// its From field and the mailbox of its Sender field (RFC 5322 section
// 3.6.2). These are the addresses RFC 8550 section 3 has a receiving agent
// compare with the signer's certificate.
type Originator struct {
	// From holds the addr-spec of every mailbox of the From field, in
	// order, with the domain in lower case (the local part is compared
	// exactly, RFC 5321 section 2.4). A group (RFC 6854) contributes its
	// members.
	From []string
	// Sender is the addr-spec of the Sender field's mailbox, "" when the
	// header has no Sender field.
	Sender string
	// Lookalikes are display names (of From or Sender mailboxes) that
	// read as a mail address other than the mailbox they name, such as
	// "alice@example.com" <mallory@example.net>: what a mail client
	// may show instead of the address that was checked.
	Lookalikes []Lookalike
}

// Lookalike is a display name that reads as a mail address other than its
// mailbox's.
type Lookalike struct {
	Name    string // the display name, decoded
	Mailbox string // the mailbox it names
}

// Mailboxes returns the From mailboxes followed by the Sender mailbox
// when it is not one of them.
func (o Originator) Mailboxes() []string {
	out := append([]string(nil), o.From...)
	if o.Sender != "" && !containsAddress(out, o.Sender) {
		out = append(out, o.Sender)
	}
	return out
}

// Same reports whether o and p name the same From mailboxes (in any order)
// and the same Sender, local parts exactly and domains in any case.
func (o Originator) Same(p Originator) bool {
	if len(o.From) != len(p.From) || !sameMailbox(o.Sender, p.Sender) {
		return false
	}
	for _, a := range o.From {
		if !containsAddress(p.From, a) {
			return false
		}
	}
	for _, a := range p.From {
		if !containsAddress(o.From, a) {
			return false
		}
	}
	return true
}

func containsAddress(list []string, a string) bool {
	for _, b := range list {
		if sameMailbox(a, b) {
			return true
		}
	}
	return false
}

// sameMailbox compares two addr-specs as ReadOriginator returns them: the
// local part exactly, the domain in any case.
func sameMailbox(a, b string) bool {
	ai, bi := strings.LastIndexByte(a, '@'), strings.LastIndexByte(b, '@')
	if ai < 0 || bi < 0 {
		return a == b
	}
	return a[:ai] == b[:bi] && strings.EqualFold(a[ai+1:], b[bi+1:])
}

// ReadOriginator reads the From and Sender fields of h completely, failing
// rather than leaving out a mailbox a mail client might show:
//
//   - there must be exactly one From field and at most one Sender field
//     (RFC 5322 section 3.6 allows no more); ErrNoFrom without From;
//   - each field must parse completely as an address list (RFC 5322
//     section 3.4, with the obsolete empty list elements of section 4.4
//     and the groups of RFC 6854): nothing after a mailbox but a comma,
//     no mailbox without "@" and a domain, no obsolete route
//     ("<@relay:alice@example.com>") and no 8-bit text that is not UTF-8;
//   - From must name at least one mailbox (an empty group names none) and
//     at most [MaxMailboxes], Sender exactly one.
//
// Encoded words (RFC 2047) and comments are display text: they are decoded
// (or skipped) but never make a mailbox; a display name that reads as
// another address is kept in Originator.Lookalikes.
func ReadOriginator(h Header) (Originator, error) {
	var o Originator
	var err error
	o.From, o.Lookalikes, err = readField(h, "From")
	switch {
	case err != nil:
		return Originator{}, err
	case o.From == nil:
		return Originator{}, ErrNoFrom
	case len(o.From) == 0:
		return Originator{}, errors.New("mime: the From field names no mailbox")
	}
	sender, look, err := readField(h, "Sender")
	switch {
	case err != nil:
		return Originator{}, err
	case sender == nil:
		return o, nil
	case len(sender) != 1:
		return Originator{}, fmt.Errorf("mime: the Sender field names %d mailboxes, not one", len(sender))
	}
	o.Sender = sender[0]
	o.Lookalikes = append(o.Lookalikes, look...)
	return o, nil
}

// FieldMailboxes returns the addr-spec of every mailbox of the field
// name (an address field such as From, Sender, Reply-To), read as
// [ReadOriginator] reads From: nil if h has no such field, an error if it
// has more than one or the field does not parse completely.
func FieldMailboxes(h Header, name string) ([]string, error) {
	list, _, err := readField(h, name)
	return list, err
}

// readField reads the one field name of h, if any: its mailboxes (empty,
// not nil, when the field names none) and lookalike display names.
func readField(h Header, name string) ([]string, []Lookalike, error) {
	vals := h.Values(name)
	switch len(vals) {
	case 0:
		return nil, nil, nil
	case 1:
		return readMailboxes(name, vals[0])
	}
	return nil, nil, fmt.Errorf("mime: the message has %d %s fields (RFC 5322 section 3.6 allows one)", len(vals), name)
}

// anyCharset decodes encoded words of every charset as their bytes: only
// addresses matter here, and an unknown charset in a display name must not
// make the field unreadable.
var anyCharset = &mime.WordDecoder{CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil }}

// readMailboxes parses the value of the field name completely.
func readMailboxes(name, value string) ([]string, []Lookalike, error) {
	p := mail.AddressParser{WordDecoder: anyCharset}
	list, err := p.ParseList(value)
	if err != nil {
		return nil, nil, fmt.Errorf("mime: the %s field does not parse as a list of mailboxes (%v): %q", name, err, truncateForError([]byte(value)))
	}
	if len(list) > MaxMailboxes {
		return nil, nil, fmt.Errorf("mime: the %s field names %d mailboxes; more than %d are refused", name, len(list), MaxMailboxes)
	}
	out := []string{}
	var look []Lookalike
	for _, a := range list {
		at := strings.LastIndexByte(a.Address, '@')
		if at <= 0 || at == len(a.Address)-1 {
			return nil, nil, fmt.Errorf("mime: the %s field has a mailbox without a domain: %q", name, truncateForError([]byte(a.Address)))
		}
		addr := a.Address[:at] + "@" + strings.ToLower(a.Address[at+1:])
		out = append(out, addr)
		if l := addressIn(a.Name); l != "" && !sameMailbox(l, addr) {
			look = append(look, Lookalike{Name: a.Name, Mailbox: addr})
		}
	}
	return out, look, nil
}

// addressIn returns the first word of s that looks like a mail address
// (local@domain.tld, quotes and angle brackets trimmed), or "".
//
// s is read as a mail client may show it: fullwidth and small forms of
// ASCII ("alice\uFF20example\uFF0Ecom") read as ASCII, ideographic full
// stops as dots, and format characters (zero-width spaces and joiners,
// bidirectional marks, embeddings, overrides and isolates) are dropped. When
// s holds a bidirectional override or isolate, each word is also read
// backwards: "\u202Emoc.elpmaxe@ecila" shows as alice@example.com.
func addressIn(s string) string {
	shown, bidi := asShown(s)
	for _, w := range strings.FieldsFunc(shown, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == ';' || r == '<' || r == '>' || r == '"' || r == '(' || r == ')' || r == '[' || r == ']'
	}) {
		if isAddressLike(w) {
			return w
		}
		if bidi {
			if r := reverse(w); isAddressLike(r) {
				return r
			}
		}
	}
	return ""
}

func isAddressLike(w string) bool {
	at := strings.LastIndexByte(w, '@')
	return at > 0 && strings.Contains(w[at+1:], ".")
}

// asShown maps s as addressIn describes; bidi reports a bidirectional
// override or isolate in s.
func asShown(s string) (shown string, bidi bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
			r -= 0xFEE0
		case r == 0xFE6B: // small commercial at
			r = '@'
		case r == 0xFE52 || r == 0x3002 || r == 0xFF61: // small, ideographic, halfwidth ideographic full stop
			r = '.'
		case r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069:
			bidi = true
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), bidi
}

func reverse(s string) string {
	rs := []rune(s)
	slices.Reverse(rs)
	return string(rs)
}

// Originator reads the protected From and Sender fields as [ReadOriginator]
// reads a header. ok is false only when p is nil. A protected header
// without a From field is an error, not "unprotected": a client that reads
// protected headers ignores the outer ones and shows no From (or a
// protected Sender alone), and [WriteEffective] releases the protected
// fields in place of the outer From and Sender, so nothing the outer From
// says may vouch for the message. RFC 9788 senders copy From always.
func (p *Protection) Originator() (o Originator, ok bool, err error) {
	if p == nil {
		return Originator{}, false, nil
	}
	var h Header
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, "From") || strings.EqualFold(f.Name, "Sender") {
			h.Add(f.Name, f.Value)
		}
	}
	switch {
	case h.Has("Sender") && !h.Has("From"):
		return Originator{}, true, errors.New("mime: the protected header has a Sender field but no From field")
	case !h.Has("From"):
		return Originator{}, true, errors.New("mime: the protected header has no From field")
	}
	o, err = ReadOriginator(h)
	return o, true, err
}
