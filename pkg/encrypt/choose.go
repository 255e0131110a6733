package encrypt

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/certsel"
)

// OID returns the cipher's object identifier, as S/MIME capabilities list it.
func (c Cipher) OID() asn1.ObjectIdentifier { return c.cms().OID() }

// Source says where a recipient's capabilities are known from.
type Source int

// Sources of capabilities.
const (
	// SourceUnknown: nothing is known; the recipient is assumed to read
	// AES-CBC (every S/MIME client since RFC 3851) and nothing else.
	SourceUnknown Source = iota
	// SourceSignedMail: the smimeCapabilities attribute of the
	// recipient's signed mail (RFC 8551 section 2.5.2).
	SourceSignedMail
	// SourceCertificate: the smimeCapabilities extension of the
	// recipient's certificate (RFC 4262).
	SourceCertificate
)

// String returns the stable name used in JSON output: "unknown",
// "signed-mail", "certificate-extension".
func (s Source) String() string {
	switch s {
	case SourceSignedMail:
		return "signed-mail"
	case SourceCertificate:
		return "certificate-extension"
	}
	return "unknown"
}

// MarshalText returns [Source.String].
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Capabilities is what a recipient's client is known to read.
type Capabilities struct {
	Source Source
	// At is the signing time of the mail they were learned from
	// (SourceSignedMail); zero otherwise.
	At time.Time
	// Ciphers are the content ciphers it advertised that this package
	// writes, most preferred first.
	Ciphers []Cipher
	// OAEP is true if it advertised RSAES-OAEP key transport.
	OAEP bool
}

// describe says where c comes from: "signed mail of 2026-03-01",
// "its certificate's smimeCapabilities extension", "nothing known".
func (c Capabilities) describe() string {
	switch c.Source {
	case SourceSignedMail:
		return "signed mail of " + c.At.UTC().Format(time.DateOnly)
	case SourceCertificate:
		return "its certificate's smimeCapabilities extension"
	}
	return "nothing known"
}

// reads reports whether a recipient with capabilities c is known to read
// cipher x: it advertised x, or nothing is known and x is AES-CBC.
func (c Capabilities) reads(x Cipher) bool {
	if c.Source == SourceUnknown {
		return !x.Authenticated()
	}
	return slices.Contains(c.Ciphers, x)
}

// Plan is the content cipher and key transport [Encrypt] uses, and why;
// from [PlanRecipients], also how every recipient's certificate was found
// and which recipients have none.
type Plan struct {
	Cipher Cipher
	// Why says why Cipher was chosen, in a sentence fragment: "every
	// recipient advertised it", "not every recipient is known to read
	// aes-256-gcm".
	Why string
	// Assumed is true when no cipher of the list is known to be read by
	// every recipient and Cipher was used anyway: the caller's only choice
	// (--cipher aes-256-gcm), or AES-CBC for a client that advertised
	// nothing this package writes.
	Assumed    bool
	Recipients []RecipientPlan
	// Missing are the addresses without a usable encryption certificate,
	// each with every candidate and the rule that rejected it
	// ([PlanRecipients] only).
	Missing []*certsel.NoMatchError
	// Duplicates are addresses left out as repeats of an earlier one
	// ([PlanRecipients] only).
	Duplicates []string
}

// RecipientPlan is one recipient's part of a [Plan].
type RecipientPlan struct {
	// Role says why the certificate is a recipient, Addresses (for
	// RoleRecipient) the addresses it was selected for, Selection how
	// ([PlanRecipients] only; Encrypt leaves them zero).
	Role      Role
	Addresses []string
	// Selection is certsel's account: where the certificate came from
	// (Origin), and every candidate with its verdict and rule; see
	// [certsel.Selection.Decided] for the rule that chose it.
	Selection    *certsel.Selection
	Certificate  *x509.Certificate
	Capabilities Capabilities
	// Reads is true if the recipient is known to read Plan.Cipher.
	Reads bool
	// OAEP is true if its session key is wrapped with RSAES-OAEP (an RSA
	// key, and OAEP asked for or advertised).
	OAEP bool
	// Why says why, in the words -v prints: "signed mail of 2026-03-01
	// advertised aes-256-gcm, aes-256-cbc, rsaes-oaep".
	Why string
}

// KeyTransport names the recipient's key management: "rsa-oaep",
// "rsa-pkcs1v15" or "ecdh".
func (r RecipientPlan) KeyTransport() string {
	switch {
	case r.OAEP:
		return "rsa-oaep"
	case isRSA(r.Certificate):
		return "rsa-pkcs1v15"
	}
	return "ecdh"
}

func isRSA(c *x509.Certificate) bool {
	_, ok := c.PublicKey.(*rsa.PublicKey)
	return ok
}

// CheckCiphers checks a cipher policy list: not empty after defaults, AES
// only (3DES, DES and RC2 are refused).
func CheckCiphers(list []Cipher) error {
	for _, c := range list {
		if c.Weak() || c.cms().KeySize() == 0 {
			return fmt.Errorf("encrypt: refusing to encrypt with %v: use AES", c)
		}
	}
	return nil
}

// Choose applies the cipher policy list (empty: [DefaultCiphers]) to the
// recipients, whose capabilities caps holds in the same order (a missing
// entry is SourceUnknown). It is the guide's EncryptionAlgorithms and RFC
// 8551 section 2.7.1: the first cipher of the list that every recipient is
// known to read is used, where a recipient is known to read a cipher its
// capabilities advertised, and one of unknown capabilities is known to read
// AES-CBC only. So AES-GCM is chosen only when every recipient advertised
// it. When no cipher of the list qualifies, the first AES-CBC of the list is
// used if it has one (a client that advertised only ciphers this package
// does not write, such as 3DES), else the list's first cipher (the caller
// asked for AES-GCM alone): Plan.Assumed says so.
//
// RSA recipients get RSAES-OAEP key transport if oaep is true or they
// advertised it, else RSA PKCS#1 v1.5; EC recipients get ECDH.
func Choose(list []Cipher, oaep bool, recipients []*x509.Certificate, caps []Capabilities) (Plan, error) {
	if len(list) == 0 {
		list = DefaultCiphers()
	}
	if err := CheckCiphers(list); err != nil {
		return Plan{}, err
	}
	if len(recipients) == 0 {
		return Plan{}, errors.New("encrypt: no recipients")
	}
	known := make([]Capabilities, len(recipients))
	copy(known, caps)
	p := Plan{Recipients: make([]RecipientPlan, len(recipients))}
	chosen := -1
	for i, c := range list {
		if !slices.ContainsFunc(known, func(k Capabilities) bool { return !k.reads(c) }) {
			chosen = i
			break
		}
	}
	switch {
	case chosen == 0 && len(list) == 1:
		p.Cipher, p.Why = list[0], "the only cipher asked for, which every recipient is known to read"
	case chosen >= 0:
		p.Cipher = list[chosen]
		p.Why = "the first cipher of the list every recipient is known to read"
		if chosen > 0 {
			p.Why += fmt.Sprintf(" (not every recipient is known to read %s)", names(list[:chosen]))
		}
	default:
		p.Assumed = true
		i := max(0, slices.IndexFunc(list, func(c Cipher) bool { return !c.Authenticated() }))
		p.Cipher = list[i]
		if i == 0 && list[0].Authenticated() {
			p.Why = "asked for, although not every recipient is known to read it"
		} else {
			p.Why = "no cipher of the list is known to be read by every recipient; AES-CBC is assumed readable by all"
		}
	}
	for i, cert := range recipients {
		k := known[i]
		rp := RecipientPlan{Certificate: cert, Capabilities: k, Reads: k.reads(p.Cipher)}
		rp.OAEP = isRSA(cert) && (oaep || k.OAEP)
		rp.Why = recipientWhy(k, p.Cipher)
		p.Recipients[i] = rp
	}
	return p, nil
}

// recipientWhy words what is known of one recipient, for -v.
func recipientWhy(k Capabilities, c Cipher) string {
	if k.Source == SourceUnknown {
		return "no capabilities known (no signed mail seen, no certificate extension): assumed to read AES-CBC only"
	}
	adv := "nothing this program writes"
	if len(k.Ciphers) > 0 {
		adv = names(k.Ciphers)
	}
	if k.OAEP {
		adv += ", rsaes-oaep"
	}
	s := fmt.Sprintf("%s advertised %s", k.describe(), adv)
	if !k.reads(c) {
		s += fmt.Sprintf(" (not %s)", c)
	}
	return s
}

func names(cs []Cipher) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}
