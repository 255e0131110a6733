package directory

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/textenum"
)

// Change is one LDAP modify of one entry and the modify that undoes it.
type Change struct {
	DN   string
	Name string // the user's display name, for reports
	// Mods is what is sent.
	Mods []Mod
	// Undo restores the entry as it was read: what the backup records.
	Undo []Mod
	// Removed are the values a clean removes (nil for a publish).
	Removed []Value
	// Kept is how many values of the attribute a clean keeps.
	Kept int
	// Note is a comment for the backup ("removed 2 untrusted values").
	Note string
}

// Only selects the values [PlanClean] removes.
type Only int

const (
	// OnlyUntrusted removes the values not issued under the roots, and
	// those that can't be read as certificates.
	OnlyUntrusted Only = iota
	// OnlyExpired removes the values whose end-entity certificates have all
	// expired.
	OnlyExpired
	// OnlyAll removes every value, as ListSMIMECerts /remove does.
	OnlyAll
)

var onlyNames = []string{"untrusted", "expired", "all"}

// String gives the selection's name: "untrusted", "expired" or "all".
func (o Only) String() string { return textenum.Name(onlyNames, o) }

// MarshalText gives the selection's name.
func (o Only) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads "untrusted", "expired" or "all".
func (o *Only) UnmarshalText(text []byte) error {
	return textenum.Unmarshal(o, "directory: unknown selection", onlyNames, text)
}

// Selects reports whether only selects v.
func (o Only) Selects(v Value) bool {
	switch o {
	case OnlyAll:
		return true
	case OnlyExpired:
		return v.Err == nil && v.Expired
	default:
		return v.Untrusted
	}
}

// PlanClean returns the change that removes the values of u that only
// selects, each by value, or nil if there is none. With OnlyUntrusted the
// values must have been judged with roots (Value.TrustChecked).
func PlanClean(u *User, only Only) (*Change, error) {
	var rm [][]byte
	ch := &Change{DN: u.DN, Name: u.Name}
	for _, v := range u.Values {
		if only == OnlyUntrusted && !v.TrustChecked {
			return nil, errors.New("directory: removing untrusted values needs the organisation's roots")
		}
		if only.Selects(v) {
			rm = append(rm, v.Raw)
			ch.Removed = append(ch.Removed, v)
		} else {
			ch.Kept++
		}
	}
	if len(rm) == 0 {
		return nil, nil
	}
	ch.Mods = []Mod{{Op: Delete, Attr: u.Attr, Values: rm}}
	ch.Undo = []Mod{{Op: Add, Attr: u.Attr, Values: rm}}
	ch.Note = fmt.Sprintf("removed %d %s value(s) of %s (%s), kept %d", len(rm), only, u.Attr, u.Name, ch.Kept)
	return ch, nil
}

// PublishOptions say what [PlanPublish] writes, and where.
type PublishOptions struct {
	// Certs are the user's certificates: the signing and encryption
	// certificates, and CA certificates of their chain.
	Certs []*x509.Certificate
	// DN names the entry; if empty, the entry is found below Base by the
	// certificates' addresses (mail, proxyAddresses).
	DN   string
	Base string
	// Replace replaces the attributes' values; else the new values are
	// added to them (a value already there is not added twice).
	Replace bool
	// Force publishes a certificate that does not carry one of the entry's
	// addresses, or is outside its validity, with a warning instead of a
	// refusal.
	Force bool
	// Now is the time of the validity check; zero means time.Now.
	Now time.Time
}

// RefusedError lists why [PlanPublish] refused the certificates.
type RefusedError struct{ Reasons []string }

func (e *RefusedError) Error() string {
	return "directory: refusing to publish: " + strings.Join(e.Reasons, "; ")
}

// NotFoundError is an entry that was not found, or not only one.
type NotFoundError struct {
	What  string // the DN or the addresses
	Found []string
}

func (e *NotFoundError) Error() string {
	if len(e.Found) == 0 {
		return fmt.Sprintf("directory: no entry for %s", e.What)
	}
	return fmt.Sprintf("directory: %d entries for %s (%s): name one", len(e.Found), e.What, strings.Join(e.Found, "; "))
}

// PlanPublish reads the user's entry and returns the change that writes the
// certificates as Outlook's "Publish to GAL" does (the guide's Chapter 6):
// the end-entity certificates and their chain as one PKCS#7 certs-only value
// of userSMIMECertificate, and each certificate that can encrypt as a DER
// value of userCertificate;binary. It returns nil and warnings if the values
// are there already. Warnings say what Force let through.
func PlanPublish(ctx context.Context, c Conn, opts PublishOptions) (*Change, []string, error) {
	now := opts.Now
	if now.IsZero() {
		clock := time.Now // the documented default
		now = clock()
	}
	var leaves, cas []*x509.Certificate
	for _, cert := range opts.Certs {
		if isCA(cert) {
			cas = append(cas, cert)
		} else {
			leaves = append(leaves, cert)
		}
	}
	if len(leaves) == 0 {
		return nil, nil, errors.New("directory: no end-entity certificate to publish (only CA certificates)")
	}
	attrs := []string{"displayName", "cn", "mail", "proxyAddresses", AttrSMIME, AttrCert}
	entry, err := findEntry(ctx, c, opts, leaves, attrs)
	if err != nil {
		return nil, nil, err
	}
	var addrs []string
	for _, m := range entry.Get("mail") {
		addrs = append(addrs, string(m))
	}
	for _, p := range entry.Get("proxyAddresses") {
		if s := string(p); len(s) > 5 && strings.EqualFold(s[:5], "smtp:") {
			addrs = append(addrs, s[5:])
		}
	}
	var problems []string
	for _, l := range leaves {
		if !carriesAny(l, addrs) {
			problems = append(problems, fmt.Sprintf("certificate %q carries none of the entry's addresses (%s)", l.Subject.CommonName, strings.Join(addrs, ", ")))
		}
		if now.After(l.NotAfter) {
			problems = append(problems, fmt.Sprintf("certificate %q expired on %s", l.Subject.CommonName, l.NotAfter.UTC().Format(time.DateOnly)))
		} else if now.Before(l.NotBefore) {
			problems = append(problems, fmt.Sprintf("certificate %q is not valid before %s", l.Subject.CommonName, l.NotBefore.UTC().Format(time.DateOnly)))
		}
	}
	if len(problems) > 0 && !opts.Force {
		return nil, nil, &RefusedError{Reasons: problems}
	}
	p7, err := cms.CertsOnly(append(append([]*x509.Certificate(nil), leaves...), cas...))
	if err != nil {
		return nil, nil, err
	}
	var ders [][]byte
	for _, l := range leaves {
		if certinfo.CheckUsage(l, certinfo.Encryption) == nil {
			ders = append(ders, l.Raw)
		}
	}
	name := entry.First("displayName")
	if name == "" {
		name = entry.First("cn")
	}
	ch := &Change{DN: entry.DN, Name: name}
	for _, a := range []struct {
		attr string
		vals [][]byte
	}{{AttrSMIME, [][]byte{p7}}, {AttrCert, ders}} {
		old := entry.Get(a.attr)
		if opts.Replace {
			if len(a.vals) == 0 {
				// Nothing of ours for this attribute (no certificate that
				// can encrypt): what is there, perhaps the organisation's
				// certificate in userCertificate, stays.
				continue
			}
			ch.Mods = append(ch.Mods, Mod{Op: Replace, Attr: a.attr, Values: a.vals})
			ch.Undo = append(ch.Undo, Mod{Op: Replace, Attr: a.attr, Values: old})
			continue
		}
		var add [][]byte
		for _, v := range a.vals {
			if !containsValue(old, v) && !containsValue(add, v) {
				add = append(add, v)
			}
		}
		if len(add) > 0 {
			ch.Mods = append(ch.Mods, Mod{Op: Add, Attr: a.attr, Values: add})
			ch.Undo = append(ch.Undo, Mod{Op: Delete, Attr: a.attr, Values: add})
		}
	}
	if len(ch.Mods) == 0 {
		return nil, problems, nil
	}
	verb := "added"
	if opts.Replace {
		verb = "replaced"
	}
	ch.Note = fmt.Sprintf("published (%s) %d certificate(s) for %s", verb, len(leaves), name)
	return ch, problems, nil
}

func findEntry(ctx context.Context, c Conn, opts PublishOptions, leaves []*x509.Certificate, attrs []string) (*Entry, error) {
	if opts.DN != "" {
		e, err := c.Read(ctx, opts.DN, attrs)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, &NotFoundError{What: fmt.Sprintf("%q", opts.DN)}
		}
		return e, nil
	}
	var addrs []string
	for _, l := range leaves {
		for _, a := range certinfo.Addresses(l) {
			if !containsFold(addrs, a) {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 {
		return nil, errors.New("directory: the certificates carry no mail address to find the entry by; name it with its DN")
	}
	var f strings.Builder
	f.WriteString("(|")
	for _, a := range addrs {
		e := ldap.EscapeFilter(a)
		fmt.Fprintf(&f, "(mail=%s)(proxyAddresses=smtp:%s)", e, e)
	}
	f.WriteString(")")
	base := opts.Base
	if base == "" {
		var err error
		if base, err = DefaultBase(ctx, c); err != nil {
			return nil, err
		}
	}
	inBase, err := under(base)
	if err != nil {
		return nil, err
	}
	var found []*Entry
	_, err = c.Search(ctx, SearchRequest{Base: base, Filter: f.String(), Attrs: attrs}, func(e *Entry) error {
		if !inBase(e.DN) {
			return nil // a server's answer outside the base is never written to
		}
		if found = append(found, e); len(found) > 10 {
			return errors.New("directory: more than 10 entries carry the certificates' addresses; name the entry with its DN")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(found) != 1 {
		nf := &NotFoundError{What: strings.Join(addrs, ", ")}
		for _, e := range found {
			nf.Found = append(nf.Found, e.DN)
		}
		return nil, nf
	}
	return found[0], nil
}

func carriesAny(c *x509.Certificate, addrs []string) bool {
	for _, a := range addrs {
		if certinfo.HasAddress(c, a) {
			return true
		}
	}
	return false
}

func containsValue(vals [][]byte, v []byte) bool {
	for _, x := range vals {
		if bytes.Equal(x, v) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
