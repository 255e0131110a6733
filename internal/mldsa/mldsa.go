// Package mldsa is ML-DSA (FIPS 204) as smimectl uses it: keys in the forms
// of RFC 9881 (certificates, SubjectPublicKeyInfo and PKCS#8), signing and
// verification in pure mode with an empty context string, as RFC 9882
// (ML-DSA in CMS) requires.
//
// A [PrivateKey] is a [crypto.Signer] that signs a message itself (the
// DER of the signed attributes), never a digest: Sign refuses a non-zero
// hash in its options. A [PublicKey] verifies with [PublicKey.Verify].
//
// The arithmetic is github.com/cloudflare/circl's, reached only through the
// small backend interface in circl.go, so the standard library's ML-DSA can
// replace it without changing callers.
package mldsa

import (
	"bytes"
	"crypto"
	"crypto/sha3"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Parameters is an ML-DSA parameter set.
type Parameters int

// The parameter sets of FIPS 204, section 4.
const (
	MLDSA44 Parameters = iota + 1
	MLDSA65
	MLDSA87
)

// SeedSize is the size of the seed ξ every key derives from (FIPS 204,
// ML-DSA.KeyGen).
const SeedSize = 32

// sizes of each parameter set (FIPS 204, table 2), with the identifier of
// RFC 9881 section 2 and the collision strength a CMS digest needs with it
// (RFC 9882 section 3.2: 128, 192 or 256 bits).
var paramTable = [...]struct {
	name                        string
	oid                         asn1.ObjectIdentifier
	pub, expanded, sig, digests int
}{
	MLDSA44: {"ML-DSA-44", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}, 1312, 2560, 2420, 128},
	MLDSA65: {"ML-DSA-65", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}, 1952, 4032, 3309, 192},
	MLDSA87: {"ML-DSA-87", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}, 2592, 4896, 4627, 256},
}

func (p Parameters) valid() bool { return p >= MLDSA44 && p <= MLDSA87 }

// String returns the FIPS 204 name, such as "ML-DSA-65".
func (p Parameters) String() string {
	if !p.valid() {
		return fmt.Sprintf("ML-DSA(%d)", int(p))
	}
	return paramTable[p].name
}

// OID returns the algorithm identifier of RFC 9881 section 2 (id-ml-dsa-44,
// -65, -87), used for the public key and for signatures alike.
func (p Parameters) OID() asn1.ObjectIdentifier {
	if !p.valid() {
		return nil
	}
	return append(asn1.ObjectIdentifier(nil), paramTable[p].oid...)
}

// PublicKeySize is the encoded size of a public key (FIPS 204 table 2).
func (p Parameters) PublicKeySize() int { return paramTable[p].pub }

// ExpandedKeySize is the encoded size of an expanded private key (FIPS 204
// table 2).
func (p Parameters) ExpandedKeySize() int { return paramTable[p].expanded }

// SignatureSize is the encoded size of a signature (FIPS 204 table 2).
func (p Parameters) SignatureSize() int { return paramTable[p].sig }

// DigestStrength is the collision strength, in bits, RFC 9882 section 3.2
// asks of the digest algorithm a SignerInfo uses with this set: 128 for
// ML-DSA-44, 192 for ML-DSA-65, 256 for ML-DSA-87.
func (p Parameters) DigestStrength() int { return paramTable[p].digests }

// ParametersForOID returns the parameter set whose RFC 9881 identifier is
// oid, and false for any other identifier (HashML-DSA's among them).
func ParametersForOID(oid asn1.ObjectIdentifier) (Parameters, bool) {
	for p := MLDSA44; p <= MLDSA87; p++ {
		if paramTable[p].oid.Equal(oid) {
			return p, true
		}
	}
	return 0, false
}

// IsHashMLDSA reports whether oid names one of the pre-hash HashML-DSA
// signature algorithms (id-hash-ml-dsa-44-with-sha512 and its siblings,
// 2.16.840.1.101.3.4.3.32 to .34). RFC 9882 uses pure ML-DSA only: the
// signed attributes are the message, so there is nothing to pre-hash.
// This package verifies HashML-DSA ([PublicKey.VerifyHashSHA512]) to read
// what Bouncy Castle writes, and never signs with it.
func IsHashMLDSA(oid asn1.ObjectIdentifier) bool {
	prefix := asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3}
	return len(oid) == 9 && oid[:8].Equal(prefix) && oid[8] >= 32 && oid[8] <= 34
}

// HashParametersForOID returns the parameter set of a HashML-DSA
// identifier (id-hash-ml-dsa-44/65/87-with-sha512), and false for any
// other identifier.
func HashParametersForOID(oid asn1.ObjectIdentifier) (Parameters, bool) {
	if !IsHashMLDSA(oid) {
		return 0, false
	}
	return MLDSA44 + Parameters(oid[8]-32), true
}

// HashOID returns the HashML-DSA-with-SHA-512 identifier of set p
// (2.16.840.1.101.3.4.3.32 to .34).
func (p Parameters) HashOID() asn1.ObjectIdentifier {
	if !p.valid() {
		return nil
	}
	return asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 31 + int(p)}
}

// PublicKey is an ML-DSA public key.
type PublicKey struct {
	params Parameters
	raw    []byte
}

// NewPublicKey returns the public key of set p encoded as raw (FIPS 204
// pkEncode), which must have the set's size.
func NewPublicKey(p Parameters, raw []byte) (*PublicKey, error) {
	if !p.valid() {
		return nil, errors.New("mldsa: unknown parameter set")
	}
	if len(raw) != p.PublicKeySize() {
		return nil, fmt.Errorf("mldsa: %v public key is %d bytes, want %d", p, len(raw), p.PublicKeySize())
	}
	return &PublicKey{params: p, raw: bytes.Clone(raw)}, nil
}

// Parameters returns the key's parameter set.
func (k *PublicKey) Parameters() Parameters { return k.params }

// Bytes returns the encoded key (FIPS 204 pkEncode).
func (k *PublicKey) Bytes() []byte { return bytes.Clone(k.raw) }

// Equal reports whether x is the same public key.
func (k *PublicKey) Equal(x crypto.PublicKey) bool {
	o, ok := x.(*PublicKey)
	return ok && o.params == k.params && subtle.ConstantTimeCompare(o.raw, k.raw) == 1
}

// Verify reports whether sig is a valid pure ML-DSA signature by k of msg
// with the empty context string. A signature of the wrong length is
// simply invalid.
func (k *PublicKey) Verify(msg, sig []byte) bool {
	if len(sig) != k.params.SignatureSize() {
		return false
	}
	return backendFor(k.params).verify(k.raw, msg, sig)
}

// PrivateKey is an ML-DSA private key. It implements [crypto.Signer].
type PrivateKey struct {
	params        Parameters
	seed          []byte // nil when only the expanded key is known
	key           backendKey
	pub           *PublicKey
	deterministic bool
}

// NewPrivateKeyFromSeed derives the key pair of set p from a 32-byte seed
// (FIPS 204 ML-DSA.KeyGen_internal), the "seed" form of RFC 9881.
func NewPrivateKeyFromSeed(p Parameters, seed []byte) (*PrivateKey, error) {
	if !p.valid() {
		return nil, errors.New("mldsa: unknown parameter set")
	}
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("mldsa: seed is %d bytes, want %d", len(seed), SeedSize)
	}
	k := backendFor(p).keyFromSeed(seed)
	return &PrivateKey{params: p, seed: bytes.Clone(seed), key: k, pub: &PublicKey{params: p, raw: k.publicBytes()}}, nil
}

// NewPrivateKeyFromExpanded reads the expanded private key of set p (FIPS
// 204 skEncode), the "expandedKey" form of RFC 9881.
func NewPrivateKeyFromExpanded(p Parameters, expanded []byte) (*PrivateKey, error) {
	if !p.valid() {
		return nil, errors.New("mldsa: unknown parameter set")
	}
	if len(expanded) != p.ExpandedKeySize() {
		return nil, fmt.Errorf("mldsa: %v expanded private key is %d bytes, want %d", p, len(expanded), p.ExpandedKeySize())
	}
	k, err := backendFor(p).keyFromExpanded(expanded)
	if err != nil {
		return nil, fmt.Errorf("mldsa: reading the expanded private key: %w", err)
	}
	// Unpacking checks nothing: coefficients out of range and a tr that
	// is not the public key's hash make a key that signs garbage.
	if !bytes.Equal(k.expandedBytes(), expanded) || !etaInRange(p, expanded) {
		return nil, fmt.Errorf("mldsa: malformed %v expanded private key (coefficients out of range)", p)
	}
	tr := sha3.SumSHAKE256(k.publicBytes(), 64)
	if subtle.ConstantTimeCompare(tr, expanded[64:128]) != 1 {
		return nil, fmt.Errorf("mldsa: malformed %v expanded private key (tr is not the public key's hash)", p)
	}
	if !checkExpanded(p, expanded, k.publicBytes()) {
		return nil, fmt.Errorf("mldsa: malformed %v expanded private key (t0 is not the one s1 and s2 give)", p)
	}
	return &PrivateKey{params: p, key: k, pub: &PublicKey{params: p, raw: k.publicBytes()}}, nil
}

// etaInRange checks the s1 and s2 vectors of an expanded key (FIPS 204
// skEncode, algorithm 24): each coefficient is packed as eta - c in 3 bits
// (eta 2: ML-DSA-44, -87) or 4 bits (eta 4: ML-DSA-65), so each packed
// value must be at most 2*eta.
func etaInRange(p Parameters, sk []byte) bool {
	k, l, eta := dims(p)
	bits := 3
	if eta == 4 {
		bits = 4
	}
	n := (k + l) * 256 // coefficients of s1 then s2
	packed := sk[128 : 128+n*bits/8]
	var acc uint32
	var have int
	for _, b := range packed {
		acc |= uint32(b) << have
		have += 8
		for have >= bits {
			if int(acc&(1<<bits-1)) > 2*eta {
				return false
			}
			acc >>= bits
			have -= bits
		}
	}
	return true
}

// Parameters returns the key's parameter set.
func (k *PrivateKey) Parameters() Parameters { return k.params }

// Public returns the *[PublicKey].
func (k *PrivateKey) Public() crypto.PublicKey { return k.pub }

// Seed returns the 32-byte seed of the key, or nil if the key was read from
// an expanded key alone.
func (k *PrivateKey) Seed() []byte { return bytes.Clone(k.seed) }

// ExpandedKey returns the expanded private key (FIPS 204 skEncode).
func (k *PrivateKey) ExpandedKey() []byte { return k.key.expandedBytes() }

// Deterministic returns a copy of k that signs with the deterministic
// variant of ML-DSA.Sign (FIPS 204 section 3.4), so the same message always
// gives the same signature. The test lab uses it for reproducible
// certificates; everything else should keep the default hedged signing.
func (k *PrivateKey) Deterministic() *PrivateKey {
	c := *k
	c.deterministic = true
	return &c
}

// Sign signs msg itself, in pure mode with the empty context string. opts
// must have a zero HashFunc: ML-DSA never signs a digest here. The hedged
// variant draws its 32 random bytes from crypto/rand, not from rand (the
// backend's interface offers no reader); rand is ignored.
func (k *PrivateKey) Sign(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != 0 {
		return nil, fmt.Errorf("mldsa: %v signs the message itself, not a %v digest", k.params, opts.HashFunc())
	}
	sig, err := k.key.sign(msg, !k.deterministic)
	if err != nil {
		return nil, fmt.Errorf("mldsa: signing: %w", err)
	}
	return sig, nil
}

// ParsePKIXPublicKey reads a DER SubjectPublicKeyInfo holding an ML-DSA key
// (RFC 9881 section 4): the algorithm's parameters must be absent and the
// BIT STRING must hold exactly the encoded key. ok is false, with a nil
// error, when the key is not ML-DSA at all.
func ParsePKIXPublicKey(der []byte) (key *PublicKey, ok bool, err error) {
	oid, hasParams, rest, err := splitSPKI(der)
	if err != nil {
		return nil, false, err
	}
	p, isMLDSA := ParametersForOID(oid)
	if !isMLDSA {
		return nil, false, nil
	}
	if hasParams {
		return nil, true, fmt.Errorf("mldsa: %v public key algorithm has parameters; RFC 9881 requires them absent", p)
	}
	raw, ok := spkiKeyBytes(rest)
	if !ok {
		return nil, true, fmt.Errorf("mldsa: malformed %v public key", p)
	}
	k, err := NewPublicKey(p, raw)
	return k, true, err
}

// splitSPKI reads the envelope of a DER SubjectPublicKeyInfo: the
// algorithm's OID, whether parameters follow it, and the rest of the
// SEQUENCE (the subjectPublicKey BIT STRING, for [spkiKeyBytes]).
func splitSPKI(der []byte) (oid asn1.ObjectIdentifier, hasParams bool, rest cryptobyte.String, err error) {
	s := cryptobyte.String(der)
	var spki, alg cryptobyte.String
	if !s.ReadASN1(&spki, cbasn1.SEQUENCE) || !s.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, false, nil, errors.New("mldsa: malformed SubjectPublicKeyInfo")
	}
	return oid, !alg.Empty(), spki, nil
}

// spkiKeyBytes reads the subjectPublicKey BIT STRING that must be all of
// rest and hold whole bytes.
func spkiKeyBytes(rest cryptobyte.String) ([]byte, bool) {
	var bits asn1.BitString
	if !rest.ReadASN1BitString(&bits) || !rest.Empty() || bits.BitLength%8 != 0 {
		return nil, false
	}
	return bits.Bytes, true
}

// CertificateVerifyKey is [CertificatePublicKey] for verifying signatures
// only: it also reads a SubjectPublicKeyInfo whose algorithm is a
// HashML-DSA identifier, as Bouncy Castle writes for HashML-DSA keys, and
// then reports hashOnly true (the certificate restricts the key to
// HashML-DSA signatures). RFC 9881 knows only the pure identifiers, so
// nothing that signs or issues may use such a key.
func CertificateVerifyKey(cert *x509.Certificate) (key *PublicKey, hashOnly, ok bool, err error) {
	if cert.PublicKey != nil {
		return nil, false, false, nil
	}
	oid, hasParams, rest, err := splitSPKI(cert.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, false, false, err
	}
	p, isHash := HashParametersForOID(oid)
	if !isHash {
		key, ok, err = ParsePKIXPublicKey(cert.RawSubjectPublicKeyInfo)
		return key, false, ok, err
	}
	if hasParams {
		return nil, true, true, fmt.Errorf("mldsa: Hash%v public key algorithm has parameters; they must be absent", p)
	}
	raw, bitsOK := spkiKeyBytes(rest)
	if !bitsOK {
		return nil, true, true, fmt.Errorf("mldsa: malformed Hash%v public key", p)
	}
	key, err = NewPublicKey(p, raw)
	return key, true, true, err
}

// CertificatePublicKey returns the ML-DSA public key of cert, ok false if
// its key is of another type. crypto/x509 leaves such keys unparsed
// (PublicKey nil), so this reads RawSubjectPublicKeyInfo.
func CertificatePublicKey(cert *x509.Certificate) (key *PublicKey, ok bool, err error) {
	if cert.PublicKey != nil {
		return nil, false, nil
	}
	return ParsePKIXPublicKey(cert.RawSubjectPublicKeyInfo)
}

// MarshalPKIXPublicKey returns the DER SubjectPublicKeyInfo of k.
func MarshalPKIXPublicKey(k *PublicKey) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(paramTable[k.params].oid)
		})
		b.AddASN1BitString(k.raw)
	})
	return b.BytesOrPanic()
}

// The private key forms of RFC 9881 section 6:
//
//	ML-DSA-44-PrivateKey ::= CHOICE {
//	  seed [0] OCTET STRING (SIZE (32)),
//	  expandedKey OCTET STRING (SIZE (2560)),
//	  both SEQUENCE {
//	      seed OCTET STRING (SIZE (32)),
//	      expandedKey OCTET STRING (SIZE (2560)) } }
//
// (ML-DSA-65 and -87 differ in the expanded size), carried in the
// privateKey OCTET STRING of a PKCS#8 OneAsymmetricKey (RFC 5958) whose
// algorithm is id-ml-dsa-* with absent parameters.

// ParsePKCS8PrivateKey reads a DER PKCS#8 PrivateKeyInfo or
// OneAsymmetricKey holding an ML-DSA key in any of the three forms. With
// both the seed and the expanded key, the expanded key must be the one the
// seed derives; with a publicKey field (OneAsymmetricKey version 2), it
// must be the key's. ok is false, with a nil error, when der is PKCS#8 for
// another algorithm (or not PKCS#8 at all).
func ParsePKCS8PrivateKey(der []byte) (key *PrivateKey, ok bool, err error) {
	s := cryptobyte.String(der)
	var seq, alg, priv cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, false, nil
	}
	p, isMLDSA := ParametersForOID(oid)
	if !isMLDSA {
		return nil, false, nil
	}
	fail := func(what string) (*PrivateKey, bool, error) {
		return nil, true, fmt.Errorf("mldsa: malformed %v private key: %s", p, what)
	}
	if !s.Empty() {
		return fail("trailing data")
	}
	if version != 0 && version != 1 {
		return fail(fmt.Sprintf("version %d", version))
	}
	if !alg.Empty() {
		return nil, true, fmt.Errorf("mldsa: %v private key algorithm has parameters; RFC 9881 requires them absent", p)
	}
	if !seq.ReadASN1(&priv, cbasn1.OCTET_STRING) {
		return fail("no privateKey OCTET STRING")
	}
	// attributes [0] and publicKey [1] (version 2 of RFC 5958 is
	// INTEGER 1).
	var present bool
	if !seq.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return fail("bad attributes")
	}
	var pubField cryptobyte.String
	if !seq.ReadOptionalASN1(&pubField, &present, cbasn1.Tag(1).ContextSpecific()) || !seq.Empty() {
		return fail("bad publicKey or trailing fields")
	}
	if present && version != 1 {
		return fail("publicKey in a version 1 PrivateKeyInfo")
	}
	key, err = parsePrivateKeyChoice(p, priv)
	if err != nil {
		return nil, true, err
	}
	if present {
		// The [1] IMPLICIT BIT STRING: one leading byte of unused bits.
		if len(pubField) < 1 || pubField[0] != 0 || !bytes.Equal(pubField[1:], key.pub.raw) {
			return nil, true, fmt.Errorf("mldsa: %v private key's publicKey field does not match the key", p)
		}
	}
	return key, true, nil
}

func parsePrivateKeyChoice(p Parameters, priv cryptobyte.String) (*PrivateKey, error) {
	var tag cbasn1.Tag
	var body cryptobyte.String
	if !priv.ReadAnyASN1(&body, &tag) || !priv.Empty() {
		return nil, fmt.Errorf("mldsa: malformed %v private key", p)
	}
	switch tag {
	case cbasn1.Tag(0).ContextSpecific(): // seed
		return NewPrivateKeyFromSeed(p, body)
	case cbasn1.OCTET_STRING: // expandedKey
		return NewPrivateKeyFromExpanded(p, body)
	case cbasn1.SEQUENCE: // both
		var seed, expanded cryptobyte.String
		if !body.ReadASN1(&seed, cbasn1.OCTET_STRING) || !body.ReadASN1(&expanded, cbasn1.OCTET_STRING) || !body.Empty() {
			return nil, fmt.Errorf("mldsa: malformed %v private key (both)", p)
		}
		if len(expanded) != p.ExpandedKeySize() {
			return nil, fmt.Errorf("mldsa: %v expanded private key is %d bytes, want %d", p, len(expanded), p.ExpandedKeySize())
		}
		k, err := NewPrivateKeyFromSeed(p, seed)
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare(k.ExpandedKey(), expanded) != 1 {
			return nil, fmt.Errorf("mldsa: %v private key's seed and expanded key disagree", p)
		}
		return k, nil
	}
	return nil, fmt.Errorf("mldsa: malformed %v private key (unknown form)", p)
}

// MarshalPKCS8PrivateKey returns k as a DER PKCS#8 PrivateKeyInfo in the
// seed form of RFC 9881 when the seed is known, else the expandedKey form.
func MarshalPKCS8PrivateKey(k *PrivateKey) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(paramTable[k.params].oid)
		})
		b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
			if k.seed != nil {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(k.seed) })
			} else {
				b.AddASN1OctetString(k.key.expandedBytes())
			}
		})
	})
	return b.BytesOrPanic()
}
