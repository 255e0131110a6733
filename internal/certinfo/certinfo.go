// Package certinfo answers the questions S/MIME asks of a certificate:
// which mail addresses it carries and whether its key usage and extended
// key usage allow signing or encryption (RFC 8550 section 4.4, RFC 8398
// for internationalised addresses). pkg/sign, pkg/verify and certificate
// selection share these rules so that they never disagree.
package certinfo

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"github.com/smimectl/smimectl/internal/mldsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/net/idna"
	"slices"
	"strconv"
	"strings"

	"github.com/smimectl/smimectl/internal/kem"
)

var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// Addresses returns the mail addresses of cert: the subject's emailAddress
// attributes first (the guide's order), then subjectAltName rfc822Names,
// without duplicates, as written.
//
// The duplicates are found through a map of [SameAddress] keys, so the cost
// grows linearly with the number of addresses: a hostile certificate may
// carry tens of thousands (issue #11, cost bounds).
func Addresses(cert *x509.Certificate) []string {
	var out []string
	seen := map[string]bool{}
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(oidEmailAddress) {
			if s, ok := atv.Value.(string); ok {
				out = append(out, s)
				if k, ok := AddressKey(s); ok {
					seen[k] = true
				}
			}
		}
	}
	for _, a := range sanMailboxes(cert) {
		if k, ok := AddressKey(a); ok {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, a)
	}
	return out
}

// AddressKey is the form in which two addresses are the same for
// [SameAddress]: equal keys if and only if SameAddress holds (the local
// part holds no "@"); ok is false for a string without "@", which
// SameAddress finds the same as nothing. Dropping repeats from a list
// through a map of keys costs one IDNA conversion per address, where
// comparing pairs costs one per pair.
func AddressKey(a string) (string, bool) {
	l, d, ok := strings.Cut(strings.TrimSpace(a), "@")
	if !ok {
		return "", false
	}
	return l + "@" + domainKey(d), true
}

var (
	oidSubjectAltName  = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSmtpUTF8Mailbox = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 9}
)

// sanMailboxes returns the subjectAltName rfc822Names and the
// SmtpUTF8Mailbox otherNames RFC 8398 defines for addresses with UTF-8
// local parts, which crypto/x509 does not expose.
//
//	GeneralName ::= CHOICE { otherName [0] OtherName, rfc822Name [1] IA5String, ... }
//	OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
//	SmtpUTF8Mailbox ::= UTF8String
func sanMailboxes(cert *x509.Certificate) []string {
	out := slices.Clone(cert.EmailAddresses)
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		s := cryptobyte.String(ext.Value)
		var names cryptobyte.String
		if !s.ReadASN1(&names, cbasn1.SEQUENCE) {
			return out
		}
		for !names.Empty() {
			var gn cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&gn, &tag) {
				return out
			}
			if tag != cbasn1.Tag(0).ContextSpecific().Constructed() {
				continue
			}
			var oid asn1.ObjectIdentifier
			var val, utf8 cryptobyte.String
			if gn.ReadASN1ObjectIdentifier(&oid) && oid.Equal(oidSmtpUTF8Mailbox) &&
				gn.ReadASN1(&val, cbasn1.Tag(0).ContextSpecific().Constructed()) &&
				val.ReadASN1(&utf8, cbasn1.UTF8String) {
				out = append(out, string(utf8))
			}
		}
	}
	return out
}

// SameAddress compares two addresses: the local part exactly, the domain
// case-insensitively (RFC 5321 section 2.4, RFC 8398 section 3).
func SameAddress(a, b string) bool {
	al, ad, ok1 := strings.Cut(strings.TrimSpace(a), "@")
	bl, bd, ok2 := strings.Cut(strings.TrimSpace(b), "@")
	if !ok1 || !ok2 {
		return false
	}
	return al == bl && domainKey(ad) == domainKey(bd)
}

// domainKey is the form in which two spellings of a domain compare equal:
// lower case A-labels, so that "bücher.example" (as an SmtpUTF8Mailbox
// writes it) and "xn--bcher-kva.example" (as an rfc822Name must) match.
func domainKey(d string) string {
	if a, err := idna.Lookup.ToASCII(d); err == nil {
		return strings.ToLower(a)
	}
	return strings.ToLower(d)
}

// HasAddress reports whether addr is one of cert's addresses.
func HasAddress(cert *x509.Certificate, addr string) bool {
	return slices.ContainsFunc(Addresses(cert), func(a string) bool { return SameAddress(a, addr) })
}

// Purpose is what a certificate is wanted for.
type Purpose int

const (
	// Signing needs digitalSignature or nonRepudiation.
	Signing Purpose = iota
	// Encryption needs keyEncipherment (RSA) or keyAgreement (EC).
	Encryption
)

func (p Purpose) String() string {
	if p == Encryption {
		return "encryption"
	}
	return "signing"
}

// ErrKeyUsage and ErrExtKeyUsage report a certificate whose key usage or
// extended key usage does not allow the purpose.
var (
	ErrKeyUsage    = errors.New("key usage does not allow it")
	ErrExtKeyUsage = errors.New("extended key usage does not include emailProtection")
)

// CheckUsage reports whether cert's key usage allows purpose and its
// extended key usage, if present, allows e-mail protection. A certificate
// without a key usage extension allows every purpose (RFC 5280 4.2.1.3).
//
// For encryption the bit depends on the key (RFC 8550 section 4.4.2):
// keyEncipherment for RSA (key transport), keyAgreement for EC (ECDH),
// keyEncipherment for ML-KEM (RFC 9935 section 5); an Ed25519 key signs
// only, an ML-KEM key decrypts only. A key whose type is not known here (nil in a
// certificate made by hand) may have either bit.
func CheckUsage(cert *x509.Certificate, p Purpose) error {
	if _, ok := cert.PublicKey.(ed25519.PublicKey); ok && p == Encryption {
		return fmt.Errorf("%s: %w (an Ed25519 key can only sign)", p, ErrKeyUsage)
	}
	if _, ok := cert.PublicKey.(*kem.PublicKey); ok && p == Signing {
		return fmt.Errorf("%s: %w (an ML-KEM key can only decrypt)", p, ErrKeyUsage)
	}
	if k, ok, _ := mldsa.CertificatePublicKey(cert); ok && k != nil && p == Encryption {
		return fmt.Errorf("%s: %w (an %v key can only sign)", p, ErrKeyUsage, k.Parameters())
	}
	if cert.KeyUsage != 0 {
		var want x509.KeyUsage
		needs := ""
		switch p {
		case Signing:
			want = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		case Encryption:
			switch cert.PublicKey.(type) {
			case *rsa.PublicKey:
				want, needs = x509.KeyUsageKeyEncipherment, "; an RSA key needs keyEncipherment"
			case *ecdsa.PublicKey, *ecdh.PublicKey:
				want, needs = x509.KeyUsageKeyAgreement, "; an EC key needs keyAgreement"
			case *kem.PublicKey:
				// RFC 9935 section 5: keyEncipherment, and only it.
				want, needs = x509.KeyUsageKeyEncipherment, "; an ML-KEM key needs keyEncipherment"
			default:
				want = x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement
			}
		}
		if cert.KeyUsage&want == 0 {
			if cert.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
				needs = "" // no encryption bit at all: said enough
			}
			return fmt.Errorf("%s: %w (it allows %s%s)", p, ErrKeyUsage, UsageString(cert.KeyUsage), needs)
		}
	}
	if len(cert.ExtKeyUsage) > 0 || len(cert.UnknownExtKeyUsage) > 0 {
		if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) &&
			!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
			return ErrExtKeyUsage
		}
	}
	return nil
}

var usageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

// UsageString names the bits of ku ("digitalSignature,keyEncipherment"),
// or "any" when the extension is absent.
func UsageString(ku x509.KeyUsage) string {
	if ku == 0 {
		return "any"
	}
	var names []string
	for _, u := range usageNames {
		if ku&u.bit != 0 {
			names = append(names, u.name)
		}
	}
	return strings.Join(names, ",")
}

var attrNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
	"2.5.4.10": "O", "2.5.4.11": "OU", "1.2.840.113549.1.9.1": "E",
}

// Name renders a distinguished name for people, most specific first, as
// pkix.Name.String does, but with the emailAddress attribute S/MIME
// certificates carry shown as E=address rather than as hex.
func Name(n pkix.Name) string {
	parts := make([]string, 0, len(n.Names))
	for i := len(n.Names) - 1; i >= 0; i-- {
		atv := n.Names[i]
		key, ok := attrNames[atv.Type.String()]
		if !ok {
			key = atv.Type.String()
		}
		v := fmt.Sprint(atv.Value)
		if strings.ContainsAny(v, ",+\"<>;=") {
			v = strconv.Quote(v)
		}
		parts = append(parts, key+"="+v)
	}
	return strings.Join(parts, ",")
}

// AddressMatch says where a certificate carries an address, in the order
// the guide's Chapter 6 "Certificate Searching" looks.
type AddressMatch int

const (
	// NoAddressMatch: the certificate does not carry the address.
	NoAddressMatch AddressMatch = iota
	// SubjectMatch: a subject emailAddress attribute carries it.
	SubjectMatch
	// SANMatch: only a subjectAltName rfc822Name carries it.
	SANMatch
)

func (m AddressMatch) String() string {
	switch m {
	case SubjectMatch:
		return "subject"
	case SANMatch:
		return "subjectAltName"
	}
	return "none"
}

// MatchAddress reports where cert carries addr: in the subject's
// emailAddress first, else in a subjectAltName rfc822Name. Local parts
// compare exactly (RFC 8398: UTF-8 local parts are not case-folded),
// domains case-insensitively (see [SameAddress]).
func MatchAddress(cert *x509.Certificate, addr string) AddressMatch {
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(oidEmailAddress) {
			if s, ok := atv.Value.(string); ok && SameAddress(s, addr) {
				return SubjectMatch
			}
		}
	}
	if slices.ContainsFunc(sanMailboxes(cert), func(a string) bool { return SameAddress(a, addr) }) {
		return SANMatch
	}
	return NoAddressMatch
}

// SingleUsage reports whether cert's key usage allows p and nothing of the
// other purpose: a signing-only or an encryption-only certificate, which the
// guide's clients prefer over a dual-use one. A certificate without a key
// usage extension allows everything and is not single-usage.
func SingleUsage(cert *x509.Certificate, p Purpose) bool {
	const (
		sig = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		enc = x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement
	)
	if cert.KeyUsage == 0 {
		return false
	}
	if p == Signing {
		return cert.KeyUsage&sig != 0 && cert.KeyUsage&enc == 0
	}
	return cert.KeyUsage&enc != 0 && cert.KeyUsage&sig == 0
}
