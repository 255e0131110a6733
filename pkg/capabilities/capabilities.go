// Package capabilities remembers what each correspondent's mail client can
// read, as the guide's Outlook does (Appendix B EncryptionAlgorithms: the
// content cipher is chosen from the capabilities each correspondent's signed
// mail advertised), so that encrypt can use AES-GCM where every recipient
// reads it and AES-CBC elsewhere.
//
// Capabilities come from two places: the smimeCapabilities signed attribute
// of a message whose signature verified (RFC 8551 section 2.5.2), and the
// smimeCapabilities extension of a certificate (RFC 4262). [Parse] reads
// either, within [MaxEntries] entries and [MaxParameterBytes] bytes of
// parameters each, so a hostile sender's list of a hundred thousand entries
// or megabytes of parameters costs a bounded record. [Store] keeps one
// [Record] per certificate (named by its SHA-256 fingerprint) in a local
// directory; [Store.Learn] replaces a record only with one from newer mail,
// and [Store.Lookup] reads it back. [Ciphers] turns a record into what
// pkg/encrypt chooses from.
//
// [Store.LearnFrom] learns from a verified message: only from a valid one,
// and only its valid signers, for their own certificates and for the
// encryption certificate a signer names (RFC 8551 2.5.3) when it is the same
// person's. This package checks nothing about the signature itself.
package capabilities

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// Bounds on what one list of capabilities may hold. Real clients advertise
// ten or so entries with a few bytes of parameters (an RC2 key size, OAEP's
// hash): the bounds are far above them.
const (
	// MaxEntries is the most capabilities kept of one list; the rest, the
	// least preferred (RFC 8551 lists the most preferred first), are
	// dropped.
	MaxEntries = 64
	// MaxParameterBytes is the most bytes of one capability's encoded
	// parameters; an entry with more is dropped.
	MaxParameterBytes = 256
	// maxOIDArcs bounds a capability's object identifier; a longer one is
	// dropped.
	maxOIDArcs = 32
)

// Object identifiers of S/MIME capabilities smimectl understands besides the
// content ciphers (RFC 8551 section 2.5.2, RFC 3560 section 5).
var (
	// OIDSMIMECapabilities is smimeCapabilities, as a signed attribute
	// (RFC 8551 2.5.2) and as a certificate extension (RFC 4262).
	OIDSMIMECapabilities = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}
	// OIDRSAESOAEP is id-RSAES-OAEP: the client reads RSA-OAEP key transport.
	OIDRSAESOAEP = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	// OIDPreferSignedData is preferSignedData (RFC 8551 2.5.2).
	OIDPreferSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15, 1}
)

// Capability is one SMIMECapability (RFC 8551 section 2.5.2):
//
//	SMIMECapability ::= SEQUENCE {
//	  capabilityID OBJECT IDENTIFIER,
//	  parameters ANY DEFINED BY capabilityID OPTIONAL }
type Capability struct {
	OID asn1.ObjectIdentifier
	// Parameters is the DER of the parameters, nil when absent.
	Parameters []byte
}

// names are the capabilities Name spells; others are dotted OIDs.
var names = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{cms.OIDAES256GCM, "aes-256-gcm"},
	{cms.OIDAES128GCM, "aes-128-gcm"},
	{cms.OIDAES256CBC, "aes-256-cbc"},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}, "aes-192-cbc"},
	{cms.OIDAES128CBC, "aes-128-cbc"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}, "des-ede3-cbc"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}, "rc2-cbc"},
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}, "des-cbc"},
	{OIDRSAESOAEP, "rsaes-oaep"},
	{OIDPreferSignedData, "prefer-signed-data"},
}

// Name is the capability's short name ("aes-256-gcm", "rsaes-oaep"), or its
// object identifier in dotted form.
func (c Capability) Name() string {
	for _, n := range names {
		if n.oid.Equal(c.OID) {
			return n.name
		}
	}
	return c.OID.String()
}

// Parse reads SMIMECapabilities, the value of the signed attribute or of the
// certificate extension:
//
//	SMIMECapabilities ::= SEQUENCE OF SMIMECapability
//
// It keeps the first [MaxEntries] entries and drops entries whose parameters
// take more than [MaxParameterBytes] bytes or whose identifier has more than
// 32 arcs; truncated reports whether anything was dropped. Entries after the
// MaxEntries-th are not read at all. An encoding error in what is read fails
// the whole list: a list that does not parse says nothing.
func Parse(der []byte) (caps []Capability, truncated bool, err error) {
	in := cryptobyte.String(der)
	var list cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, false, errors.New("capabilities: malformed SMIMECapabilities")
	}
	for !list.Empty() {
		if len(caps) == MaxEntries {
			return caps, true, nil
		}
		var one cryptobyte.String
		if !list.ReadASN1(&one, cbasn1.SEQUENCE) {
			return nil, false, fmt.Errorf("capabilities: malformed SMIMECapability %d", len(caps)+1)
		}
		var oid asn1.ObjectIdentifier
		if !one.ReadASN1ObjectIdentifier(&oid) {
			return nil, false, fmt.Errorf("capabilities: malformed capabilityID in SMIMECapability %d", len(caps)+1)
		}
		var params []byte
		if !one.Empty() {
			var p cryptobyte.String
			if !one.ReadAnyASN1Element(&p, nil) || !one.Empty() {
				return nil, false, fmt.Errorf("capabilities: malformed parameters in SMIMECapability %d", len(caps)+1)
			}
			params = p
		}
		if len(params) > MaxParameterBytes || len(oid) > maxOIDArcs {
			truncated = true
			continue
		}
		caps = append(caps, Capability{OID: slices.Clone(oid), Parameters: slices.Clone(params)})
	}
	return caps, truncated, nil
}

// Marshal encodes caps as SMIMECapabilities, the inverse of [Parse].
func Marshal(caps []Capability) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range caps {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(c.OID)
				if c.Parameters != nil {
					b.AddBytes(c.Parameters)
				}
			})
		}
	})
	return b.Bytes()
}

// FromCertificate reads the RFC 4262 smimeCapabilities extension of cert;
// ok is false when it has none.
func FromCertificate(cert *x509.Certificate) (caps []Capability, ok bool, err error) {
	for _, e := range cert.Extensions {
		if e.Id.Equal(OIDSMIMECapabilities) {
			if caps, _, err = Parse(e.Value); err != nil {
				return nil, false, fmt.Errorf("%w (in the certificate's smimeCapabilities extension)", err)
			}
			return caps, true, nil
		}
	}
	return nil, false, nil
}

// Ciphers returns what caps say the client reads: the content ciphers
// pkg/encrypt writes, in the advertised order, and whether it reads RSA-OAEP
// key transport. Ciphers it does not write (3DES, RC2, AES-192) are left
// out.
func Ciphers(caps []Capability) (ciphers []encrypt.Cipher, oaep bool) {
	for _, c := range caps {
		if c.OID.Equal(OIDRSAESOAEP) {
			oaep = true
			continue
		}
		for _, w := range []encrypt.Cipher{encrypt.AES256GCM, encrypt.AES128GCM, encrypt.AES256CBC, encrypt.AES128CBC} {
			if c.OID.Equal(w.OID()) && !slices.Contains(ciphers, w) {
				ciphers = append(ciphers, w)
			}
		}
	}
	return ciphers, oaep
}

// Names returns the capabilities' names, comma-separated ("aes-256-gcm,
// aes-256-cbc, rsaes-oaep").
func Names(caps []Capability) string {
	s := make([]string, len(caps))
	for i, c := range caps {
		s[i] = c.Name()
	}
	return strings.Join(s, ", ")
}
