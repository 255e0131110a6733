package kem

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ParseCertificate parses a DER certificate as x509.ParseCertificate does
// and, when its key is ML-KEM, sets PublicKey to the [*PublicKey]
// (PublicKeyAlgorithm stays x509.UnknownPublicKeyAlgorithm). Every reader
// of certificates in the tree calls it, so a recipient's ML-KEM key is
// known wherever its certificate was read.
func ParseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := fillPublicKey(c); err != nil {
		return nil, err
	}
	return c, nil
}

// fillPublicKey sets c.PublicKey from an ML-KEM SubjectPublicKeyInfo.
func fillPublicKey(c *x509.Certificate) error {
	if c.PublicKey != nil || c.PublicKeyAlgorithm != x509.UnknownPublicKeyAlgorithm {
		return nil
	}
	pub, err := ParsePublicKeyInfo(c.RawSubjectPublicKeyInfo)
	if errors.Is(err, errNotMLKEM) {
		return nil // another algorithm crypto/x509 does not know: as before
	}
	if err != nil {
		return fmt.Errorf("x509: %w", err)
	}
	c.PublicKey = pub
	return nil
}

var errNotMLKEM = errors.New("kem: not an ML-KEM key")

// ParsePublicKeyInfo reads a DER SubjectPublicKeyInfo holding an ML-KEM
// key (RFC 9935 section 4: the parameters MUST be absent, the BIT STRING
// is the raw encapsulation key).
//
//	SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
func ParsePublicKeyInfo(spki []byte) (*PublicKey, error) {
	s := cryptobyte.String(spki)
	var seq, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("kem: malformed SubjectPublicKeyInfo")
	}
	set, ok := ForOID(oid)
	if !ok {
		return nil, errNotMLKEM
	}
	if !alg.Empty() {
		return nil, fmt.Errorf("kem: %s public key with algorithm parameters (RFC 9935 says absent)", set)
	}
	if !seq.ReadASN1BitString(&bits) || !seq.Empty() || bits.BitLength%8 != 0 {
		return nil, fmt.Errorf("kem: malformed %s public key", set)
	}
	return NewPublicKey(set, bits.Bytes)
}

// MarshalPublicKeyInfo returns the DER SubjectPublicKeyInfo of k.
func MarshalPublicKeyInfo(k *PublicKey) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(k.set.OID())
		})
		b.AddASN1BitString(k.raw)
	})
	return b.BytesOrPanic()
}

// ErrNotMLKEMKey is what [ParsePKCS8PrivateKey] returns, wrapped, for a
// PKCS#8 key of another algorithm, so a caller can try other parsers.
var ErrNotMLKEMKey = errNotMLKEM

// ParsePKCS8PrivateKey reads a DER PKCS#8 OneAsymmetricKey (RFC 5958)
// holding an ML-KEM private key in one of RFC 9935 section 6's forms:
//
//	ML-KEM-PrivateKey ::= CHOICE {
//	  seed [0] OCTET STRING (SIZE (64)),
//	  expandedKey OCTET STRING (SIZE (1632 | 2400 | 3168)),
//	  both SEQUENCE {
//	    seed OCTET STRING (SIZE (64)),
//	    expandedKey OCTET STRING (SIZE (1632 | 2400 | 3168)) } }
//
// For "both", the expanded key must be the one the seed gives (RFC 9935
// section 8: a mismatch is an error, not a choice of either). An optional
// publicKey [1] must match too. A key of another algorithm gives an error
// wrapping [ErrNotMLKEMKey], as does DER that is not PKCS#8.
func ParsePKCS8PrivateKey(der []byte) (*PrivateKey, error) {
	s := cryptobyte.String(der)
	var seq, alg, inner cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, fmt.Errorf("%w (not PKCS#8)", ErrNotMLKEMKey)
	}
	set, ok := ForOID(oid)
	if !ok {
		return nil, fmt.Errorf("%w (PKCS#8 algorithm %v)", ErrNotMLKEMKey, oid)
	}
	if !alg.Empty() {
		return nil, fmt.Errorf("kem: %s private key with algorithm parameters (RFC 9935 says absent)", set)
	}
	if (version != 0 && version != 1) || !seq.ReadASN1(&inner, cbasn1.OCTET_STRING) {
		return nil, fmt.Errorf("kem: malformed %s PKCS#8 private key", set)
	}
	// attributes [0] and publicKey [1] (version 1) may follow.
	if !seq.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, fmt.Errorf("kem: malformed %s PKCS#8 attributes", set)
	}
	var pubBits cryptobyte.String
	var hasPub bool
	if !seq.ReadOptionalASN1(&pubBits, &hasPub, cbasn1.Tag(1).ContextSpecific()) || !seq.Empty() {
		return nil, fmt.Errorf("kem: malformed %s PKCS#8 private key", set)
	}
	k, err := parseMLKEMPrivateKey(set, inner)
	if err != nil {
		return nil, err
	}
	if hasPub {
		// publicKey [1] IMPLICIT BIT STRING: unused-bits octet, then the key.
		if len(pubBits) < 1 || pubBits[0] != 0 || subtle.ConstantTimeCompare(pubBits[1:], k.pub.raw) != 1 {
			return nil, fmt.Errorf("kem: %s PKCS#8 public key does not match the private key", set)
		}
	}
	return k, nil
}

func parseMLKEMPrivateKey(set ParameterSet, inner cryptobyte.String) (*PrivateKey, error) {
	bad := fmt.Errorf("kem: malformed %s private key (want seed, expandedKey or both, RFC 9935 section 6)", set)
	switch {
	case inner.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var seed cryptobyte.String
		if !inner.ReadASN1(&seed, cbasn1.Tag(0).ContextSpecific()) || !inner.Empty() {
			return nil, bad
		}
		return NewPrivateKeyFromSeed(set, seed)
	case inner.PeekASN1Tag(cbasn1.OCTET_STRING):
		var exp cryptobyte.String
		if !inner.ReadASN1(&exp, cbasn1.OCTET_STRING) || !inner.Empty() {
			return nil, bad
		}
		return NewPrivateKeyExpanded(set, exp)
	case inner.PeekASN1Tag(cbasn1.SEQUENCE):
		var both, seed, exp cryptobyte.String
		if !inner.ReadASN1(&both, cbasn1.SEQUENCE) || !inner.Empty() ||
			!both.ReadASN1(&seed, cbasn1.OCTET_STRING) || !both.ReadASN1(&exp, cbasn1.OCTET_STRING) || !both.Empty() {
			return nil, bad
		}
		k, err := NewPrivateKeyFromSeed(set, seed)
		if err != nil {
			return nil, err
		}
		if len(exp) != set.ExpandedKeySize() || subtle.ConstantTimeCompare(exp, k.ExpandedKey()) != 1 {
			return nil, fmt.Errorf("kem: %s private key: the expanded key is not the one its seed gives", set)
		}
		return k, nil
	}
	return nil, bad
}

// MarshalPKCS8PrivateKey returns k as DER PKCS#8 in the seed form (the one
// RFC 9935 recommends), or the expanded form for a key read without its
// seed.
func MarshalPKCS8PrivateKey(k *PrivateKey) []byte {
	var inner cryptobyte.Builder
	if k.seed != nil {
		inner.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(k.seed) })
	} else {
		inner.AddASN1OctetString(k.ExpandedKey())
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(k.set.OID())
		})
		b.AddASN1OctetString(inner.BytesOrPanic())
	})
	return b.BytesOrPanic()
}
