package mime

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
)

// Header protection (RFC 9788, which updates RFC 8551 section 3.1; the
// guide's Appendix B SecurityFlags 0x200 "copy recipient headers"): the
// sender copies the message's header fields into the header of the
// Cryptographic Payload's root part — the MIME entity inside every
// signature and encryption layer — and marks that part's Content-Type with
// hp="clear" (signed only) or hp="cipher" (encrypted). An encrypting sender
// may hide fields of the outer header (its Header Confidentiality Policy;
// the recommended hcp_baseline replaces Subject by "[...]" and drops
// Keywords and Comments) and records every outer field as sent in an
// HP-Outer field ("HP-Outer: Subject: [...]") inside, so the receiver can
// tell what was hidden and what changed in transit.

// The values of the hp Content-Type parameter (RFC 9788 section 2.1).
const (
	// HPClear marks a payload that is signed but not encrypted.
	HPClear = "clear"
	// HPCipher marks a payload that is encrypted (and perhaps signed).
	HPCipher = "cipher"
)

// hpOuter is the field that records an outer header field inside the
// payload (RFC 9788 section 2.2).
const hpOuter = "HP-Outer"

// obscuredSubject is what hcp_baseline puts in the outer Subject.
const obscuredSubject = "[...]"

// isStructural reports whether name is a structural field (MIME-Version or
// Content-*), which describes the MIME part rather than the message and is
// never copied.
func isStructural(name string) bool {
	return isEntityField(name) || strings.EqualFold(name, "MIME-Version")
}

// notCopied reports whether a non-structural field stays out of the
// protected header: Bcc (every recipient would see it, RFC 9788 section
// 11.4), an HP-Outer that arrived from outside, and trace fields added in
// transit.
func notCopied(name string) bool {
	for _, n := range []string{"Bcc", hpOuter, "Received", "Return-Path", "Delivered-To"} {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// userFacing lists the fields a reader sees or replies with: a difference
// between protected and outer values in one of them is reported. Other
// outer fields (trace fields, DKIM signatures, list headers) are added in
// transit and are not.
func userFacing(name string) bool {
	for _, n := range []string{"From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date",
		"Message-ID", "In-Reply-To", "References", "Keywords", "Comments"} {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// ProtectOptions controls [Protect].
type ProtectOptions struct {
	// Encrypted marks a payload that will be encrypted: hp="cipher", the
	// outer header under hcp_baseline, and HP-Outer fields. If false,
	// hp="clear" and the outer header is left as it is.
	Encrypted bool
	// KeepSubject leaves the outer Subject readable when Encrypted
	// (hcp_baseline would replace it by "[...]").
	KeepSubject bool
}

// Protect applies RFC 9788 header protection to a message split by
// [Header.Split]: it returns a new outer header and a new entity header,
// leaving outer and entity unchanged. Every non-structural field of outer
// but Bcc and trace fields is copied, raw bytes kept, to the top of the
// entity, whose Content-Type gains the hp parameter. With opts.Encrypted
// the outer header is passed through hcp_baseline (Subject becomes "[...]"
// unless KeepSubject; Keywords and Comments are removed) and every
// non-structural field left in it is recorded as an HP-Outer field.
//
// Protect fails if the entity's Content-Type does not parse or the entity
// is already protected.
func Protect(outer, entity Header, opts ProtectOptions) (newOuter, newEntity Header, err error) {
	mt, params, err := entity.MediaType()
	if err != nil {
		return outer, entity, err
	}
	if _, ok := params["hp"]; ok {
		return outer, entity, fmt.Errorf("mime: the message's headers are protected already (hp=%q)", params["hp"])
	}
	hp := HPClear
	if opts.Encrypted {
		hp = HPCipher
	}
	ct := mime.FormatMediaType(mt, params)
	if ct == "" {
		return outer, entity, fmt.Errorf("mime: can't add hp to Content-Type %q", entity.Get("Content-Type"))
	}
	ct += `; hp="` + hp + `"` // quoted, as RFC 9788's examples write it
	for _, f := range outer.fields {
		if !isStructural(f.name) && !notCopied(f.name) {
			newEntity.fields = append(newEntity.fields, f)
		}
	}
	newOuter = outer.Clone()
	if opts.Encrypted {
		newOuter.Del("Keywords")
		newOuter.Del("Comments")
		if !opts.KeepSubject && newOuter.Has("Subject") {
			newOuter.Set("Subject", obscuredSubject)
		}
		for _, f := range newOuter.fields {
			if !isStructural(f.name) && !notCopied(f.name) {
				newEntity.Add(hpOuter, f.name+": "+f.value())
			}
		}
	}
	if !entity.Has("Content-Type") {
		newEntity.Add("Content-Type", ct)
	}
	for _, f := range entity.fields {
		if strings.EqualFold(f.name, "Content-Type") {
			f = newField("Content-Type", ct)
		}
		newEntity.fields = append(newEntity.fields, f)
	}
	return newOuter, newEntity, nil
}

// IsProtected reports whether the entity header h is the root of a
// protected payload: its Content-Type carries the hp parameter.
func IsProtected(h Header) bool {
	_, params, err := h.MediaType()
	return err == nil && params["hp"] != ""
}

// Field is one header field, unfolded. It is an alias of an unnamed struct
// type, so that a []Field is an encrypt.HeaderField slice too (the public
// ProtectedHeaders converts from Protection without a copy).
type Field = struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Difference kinds, as [ReadProtection] reports them.
const (
	// DiffChanged: the outer field differs from the protected one (hp
	// "clear") or from what the sender said it put outside (HP-Outer):
	// it was changed in transit.
	DiffChanged = "changed"
	// DiffAdded: the outer field is neither protected nor recorded by the
	// sender: it was added in transit.
	DiffAdded = "added"
	// DiffMissing: a protected field (hp "clear") or one the sender
	// recorded as sent outside is missing from the outer header.
	DiffMissing = "missing"
	// DiffObscured: the sender hid the protected value outside on
	// purpose (hp "cipher": HP-Outer holds another value, such as
	// Subject "[...]"). Not a fault.
	DiffObscured = "obscured"
	// DiffRemoved: the sender left the protected field out of the outer
	// header on purpose (hp "cipher", no HP-Outer for it). Not a fault.
	DiffRemoved = "removed"
)

// Difference is one disagreement between the protected header fields and
// the outer ones. Like [Field], an alias of an unnamed struct type, the
// same as encrypt.HeaderDifference.
type Difference = struct {
	Field string `json:"field"`
	// Kind is one of changed, added, missing (faults: the message was
	// changed in transit) or obscured, removed (the sender's policy).
	Kind string `json:"kind"`
	// Protected is the protected value, Outer the value in the outer
	// header as received, Sent (hp "cipher") the value the sender
	// recorded in HP-Outer; "" when there is none.
	Protected string `json:"protected,omitempty"`
	Outer     string `json:"outer,omitempty"`
	Sent      string `json:"sent,omitempty"`
}

// IsFault reports whether the difference means the outer header was
// changed after the message was protected.
func IsFault(d Difference) bool {
	return d.Kind == DiffChanged || d.Kind == DiffAdded || d.Kind == DiffMissing
}

// Protection is the header protection found in a payload's root part.
type Protection struct {
	// HP is "clear" or "cipher", the hp parameter.
	HP string `json:"hp"`
	// Fields are the protected header fields, in order.
	Fields []Field `json:"fields"`
	// Outer are the HP-Outer records (hp "cipher"): the outer fields as
	// the sender wrote them.
	Outer []Field `json:"hp_outer,omitempty"`
	// Differences compare the outer header with Fields and Outer.
	Differences []Difference `json:"differences,omitempty"`
}

// Get returns the first protected value of name, or "".
func (p *Protection) Get(name string) string {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// ReadProtection returns the header protection of the payload root whose
// header is entity, compared with the outer header as received, or nil if
// entity carries no hp parameter.
func ReadProtection(outer, entity Header) *Protection {
	_, params, err := entity.MediaType()
	if err != nil || params["hp"] == "" {
		return nil
	}
	p := &Protection{HP: strings.ToLower(params["hp"]), Fields: []Field{}}
	for _, f := range entity.fields {
		switch {
		case isStructural(f.name):
		case strings.EqualFold(f.name, hpOuter):
			if p.HP != HPCipher {
				continue // meaningless without encryption
			}
			name, value, ok := strings.Cut(f.value(), ":")
			name = strings.TrimSpace(name)
			if ok && validName([]byte(name)) {
				p.Outer = append(p.Outer, Field{Name: strings.TrimSpace(name), Value: strings.Trim(value, " \t")})
			}
		default:
			p.Fields = append(p.Fields, Field{Name: f.name, Value: f.value()})
		}
	}
	p.Differences = compare(p, outer)
	return p
}

// PeekProtection reads the header of the entity r starts with and returns
// its header protection compared with outer (see [ReadProtection]), or nil
// if it has none or the header does not parse.
func PeekProtection(outer Header, r io.Reader) *Protection {
	h, err := ReadHeader(bufio.NewReader(r))
	if err != nil {
		return nil
	}
	return ReadProtection(outer, h)
}

// compare lists the differences between the protected fields and the outer
// header, field name by field name, for the user-facing fields.
func compare(p *Protection, outer Header) []Difference {
	// Only the user-facing fields: at most a dozen names, so a header of
	// thousands of fields costs a few passes over it, not their square.
	var names []string
	add := func(n string) {
		if !userFacing(n) {
			return
		}
		for _, x := range names {
			if strings.EqualFold(x, n) {
				return
			}
		}
		names = append(names, n)
	}
	for _, f := range p.Fields {
		add(f.Name)
	}
	for _, f := range p.Outer {
		add(f.Name)
	}
	for _, f := range outer.fields {
		add(f.name)
	}
	var diffs []Difference
	for _, n := range names {
		prot, hasProt := values(p.Fields, n)
		outVals := outer.Values(n)
		out, hasOut := strings.Join(outVals, ", "), len(outVals) > 0
		d := Difference{Field: n, Protected: prot, Outer: out}
		if p.HP != HPCipher {
			switch {
			case hasProt && hasOut && !sameValue(n, prot, out):
				d.Kind = DiffChanged
			case hasProt && !hasOut:
				d.Kind = DiffMissing
			case !hasProt && hasOut:
				d.Kind = DiffAdded
			}
		} else {
			sent, hasSent := values(p.Outer, n)
			d.Sent = sent
			switch {
			case hasSent && hasOut && !sameValue(n, sent, out):
				d.Kind = DiffChanged
			case hasSent && !hasOut:
				d.Kind = DiffMissing
			case !hasSent && hasOut:
				d.Kind = DiffAdded
			case hasProt && hasSent && !sameValue(n, prot, sent):
				d.Kind = DiffObscured
			case hasProt && !hasSent:
				d.Kind = DiffRemoved
			}
		}
		if d.Kind != "" {
			diffs = append(diffs, d)
		}
	}
	return diffs
}

// values joins the values of every field named n with ", ".
func values(fs []Field, n string) (string, bool) {
	var vs []string
	for _, f := range fs {
		if strings.EqualFold(f.Name, n) {
			vs = append(vs, f.Value)
		}
	}
	return strings.Join(vs, ", "), len(vs) > 0
}

// sameValue compares two values of field n: address fields by their
// addresses (a display name or its encoding may change in transit), the
// others with runs of white space collapsed.
func sameValue(n, a, b string) bool {
	switch strings.ToLower(n) {
	case "from", "sender", "reply-to", "to", "cc":
		la, errA := mail.ParseAddressList(a)
		lb, errB := mail.ParseAddressList(b)
		if errA == nil && errB == nil {
			if len(la) != len(lb) {
				return false
			}
			for i := range la {
				if !strings.EqualFold(la[i].Address, lb[i].Address) {
					return false
				}
			}
			return true
		}
	}
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// WriteEffective writes the message a reader should see when a protected
// payload is released: the outer header without the fields the protected
// header speaks for (every user-facing field, and any field the protected
// header has, and any HP-Outer), then the payload's header without its
// HP-Outer records, the blank line, and the rest of payload. payload is
// the root part as read (header and body); the header is limited as
// [ReadHeader] limits it.
// Trace fields and others added in transit stay from the outer header.
func WriteEffective(w io.Writer, outer Header, payload io.Reader) error {
	br := bufio.NewReaderSize(payload, 64<<10)
	entity, err := ReadHeader(br)
	if err != nil {
		return err
	}
	var h Header
	for _, f := range outer.fields {
		// An HP-Outer outside the payload means nothing (and could only
		// mislead a reader): dropped with the rest.
		if userFacing(f.name) || strings.EqualFold(f.name, hpOuter) || entity.Has(f.name) && !isStructural(f.name) {
			continue
		}
		h.fields = append(h.fields, f)
	}
	for _, f := range entity.fields {
		if strings.EqualFold(f.name, hpOuter) || strings.EqualFold(f.name, "MIME-Version") && outer.Has(f.name) {
			continue
		}
		h.fields = append(h.fields, f)
	}
	if _, err := h.WriteTo(w); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		return fmt.Errorf("mime: %w", err)
	}
	if _, err := io.Copy(w, br); err != nil {
		return fmt.Errorf("mime: %w", err)
	}
	return nil
}
