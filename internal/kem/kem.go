// Package kem holds ML-KEM (FIPS 203) keys as certificates and private-key
// files carry them: the public key of an id-alg-ml-kem-512/768/1024
// SubjectPublicKeyInfo (RFC 9935 section 4) and the three PKCS#8 private-key
// forms of RFC 9935 section 6 (seed, expandedKey, both).
//
// crypto/x509 parses none of them: a certificate with an ML-KEM key comes
// out of x509.ParseCertificate with a nil PublicKey. [ParseCertificate] is
// the one place the tree turns such a certificate into one whose PublicKey
// is a [*PublicKey]; every reader of certificates (internal/keys, the lab)
// goes through it.
//
// ML-KEM-768 and ML-KEM-1024 keys given by their seed use the standard
// library's crypto/mlkem. The standard library has no ML-KEM-512 and cannot
// import an expanded key, so those (read for interoperability: Bouncy
// Castle's and the IETF hackathon's files) use github.com/cloudflare/circl.
// Both compute FIPS 203's ML-KEM.Decaps, which never fails on a well-formed
// ciphertext: a ciphertext for another key decapsulates to a pseudorandom
// secret (implicit rejection), so a wrong key shows only in the step that
// uses the secret.
package kem

import (
	"bytes"
	"crypto"
	"crypto/mlkem"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"encoding/asn1"
	circlkem "github.com/cloudflare/circl/kem"
	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// ParameterSet is an ML-KEM parameter set.
type ParameterSet int

const (
	// MLKEM512 is ML-KEM-512 (NIST security category 1).
	MLKEM512 ParameterSet = iota + 1
	// MLKEM768 is ML-KEM-768 (category 3), the recommended one.
	MLKEM768
	// MLKEM1024 is ML-KEM-1024 (category 5).
	MLKEM1024
)

// The identifiers of RFC 9935 section 3 (and RFC 9936 section 4):
// kems OBJECT IDENTIFIER ::= { nistAlgorithms 4 }.
var (
	OIDMLKEM512  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 1}
	OIDMLKEM768  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}
	OIDMLKEM1024 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 3}
)

type params struct {
	name        string
	oid         asn1.ObjectIdentifier
	publicSize  int // encapsulation key
	expanded    int // FIPS 203 decapsulation key
	ciphertext  int
	circlScheme circlkem.Scheme
}

var sets = map[ParameterSet]params{
	MLKEM512:  {"ML-KEM-512", OIDMLKEM512, 800, 1632, 768, mlkem512.Scheme()},
	MLKEM768:  {"ML-KEM-768", OIDMLKEM768, 1184, 2400, 1088, mlkem768.Scheme()},
	MLKEM1024: {"ML-KEM-1024", OIDMLKEM1024, 1568, 3168, 1568, mlkem1024.Scheme()},
}

// SeedSize is the size of an ML-KEM seed (d || z, FIPS 203 section 7.1).
const SeedSize = 64

// SharedKeySize is the size of an ML-KEM shared secret.
const SharedKeySize = 32

// ForOID returns the parameter set oid names, or 0 and false.
func ForOID(oid asn1.ObjectIdentifier) (ParameterSet, bool) {
	for s, p := range sets {
		if p.oid.Equal(oid) {
			return s, true
		}
	}
	return 0, false
}

func (s ParameterSet) p() params { return sets[s] }

// String is "ML-KEM-768", ...
func (s ParameterSet) String() string {
	if p, ok := sets[s]; ok {
		return p.name
	}
	return fmt.Sprintf("ML-KEM(%d)", int(s))
}

// OID is the parameter set's algorithm identifier.
func (s ParameterSet) OID() asn1.ObjectIdentifier { return s.p().oid }

// PublicKeySize is the size of an encapsulation key.
func (s ParameterSet) PublicKeySize() int { return s.p().publicSize }

// CiphertextSize is the size of a ciphertext.
func (s ParameterSet) CiphertextSize() int { return s.p().ciphertext }

// ExpandedKeySize is the size of a FIPS 203 decapsulation key.
func (s ParameterSet) ExpandedKeySize() int { return s.p().expanded }

// PublicKey is an ML-KEM encapsulation key. It implements
// crypto.Encapsulator.
type PublicKey struct {
	set ParameterSet
	raw []byte
	std crypto.Encapsulator // crypto/mlkem for 768 and 1024
	cir circlkem.PublicKey  // circl for 512
}

// NewPublicKey checks an encoded encapsulation key of set (FIPS 203
// section 7.2's input check: every coefficient reduced) and returns it.
func NewPublicKey(set ParameterSet, b []byte) (*PublicKey, error) {
	p, ok := sets[set]
	if !ok {
		return nil, errors.New("kem: unknown ML-KEM parameter set")
	}
	if len(b) != p.publicSize {
		return nil, fmt.Errorf("kem: %s public key of %d bytes, want %d", p.name, len(b), p.publicSize)
	}
	k := &PublicKey{set: set, raw: bytes.Clone(b)}
	var err error
	switch set {
	case MLKEM768:
		k.std, err = mlkem.NewEncapsulationKey768(b)
	case MLKEM1024:
		k.std, err = mlkem.NewEncapsulationKey1024(b)
	default:
		k.cir, err = p.circlScheme.UnmarshalBinaryPublicKey(b)
	}
	if err != nil {
		return nil, fmt.Errorf("kem: invalid %s public key: %w", p.name, err)
	}
	return k, nil
}

// ParameterSet is the key's parameter set.
func (k *PublicKey) ParameterSet() ParameterSet { return k.set }

// Bytes returns the encoded encapsulation key.
func (k *PublicKey) Bytes() []byte { return bytes.Clone(k.raw) }

// Equal reports whether x is the same ML-KEM public key.
func (k *PublicKey) Equal(x crypto.PublicKey) bool {
	o, ok := x.(*PublicKey)
	return ok && o.set == k.set && subtle.ConstantTimeCompare(o.raw, k.raw) == 1
}

// Encapsulate returns a fresh shared secret and its ciphertext, from
// crypto/rand (the standard library takes no other source).
func (k *PublicKey) Encapsulate() (sharedKey, ciphertext []byte) {
	if k.std != nil {
		return k.std.Encapsulate()
	}
	ct, ss, err := k.set.p().circlScheme.Encapsulate(k.cir)
	if err != nil {
		// Only a key of another scheme fails, and cir is always ours.
		panic("kem: " + err.Error())
	}
	return ss, ct
}

// PrivateKey is an ML-KEM decapsulation key. It implements
// crypto.Decapsulator, and crypto.Signer only so that it travels where the
// tree carries private keys as crypto.Signer (keys.Identity, certificate
// selection): its Sign always fails.
type PrivateKey struct {
	set  ParameterSet
	seed []byte // nil for a key read from its expanded form only
	pub  *PublicKey
	std  crypto.Decapsulator
	cir  circlkem.PrivateKey
}

// NewPrivateKeyFromSeed derives the key of set from its 64-byte seed
// (d || z), as ML-KEM.KeyGen_internal does.
func NewPrivateKeyFromSeed(set ParameterSet, seed []byte) (*PrivateKey, error) {
	p, ok := sets[set]
	if !ok {
		return nil, errors.New("kem: unknown ML-KEM parameter set")
	}
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("kem: %s seed of %d bytes, want %d", p.name, len(seed), SeedSize)
	}
	k := &PrivateKey{set: set, seed: bytes.Clone(seed)}
	var enc []byte
	switch set {
	case MLKEM768:
		d, err := mlkem.NewDecapsulationKey768(seed)
		if err != nil {
			return nil, fmt.Errorf("kem: %w", err)
		}
		k.std, enc = d, d.EncapsulationKey().Bytes()
	case MLKEM1024:
		d, err := mlkem.NewDecapsulationKey1024(seed)
		if err != nil {
			return nil, fmt.Errorf("kem: %w", err)
		}
		k.std, enc = d, d.EncapsulationKey().Bytes()
	default:
		pub, priv := p.circlScheme.DeriveKeyPair(seed)
		k.cir = priv
		var err error
		if enc, err = pub.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("kem: %w", err)
		}
	}
	var err error
	if k.pub, err = NewPublicKey(set, enc); err != nil {
		return nil, err
	}
	return k, nil
}

// NewPrivateKeyExpanded reads a FIPS 203 decapsulation key
// (dk_PKE || ek || H(ek) || z), checking the hash of ek in it (FIPS 203
// section 7.3's decapsulation key check).
func NewPrivateKeyExpanded(set ParameterSet, expanded []byte) (*PrivateKey, error) {
	p, ok := sets[set]
	if !ok {
		return nil, errors.New("kem: unknown ML-KEM parameter set")
	}
	if len(expanded) != p.expanded {
		return nil, fmt.Errorf("kem: %s expanded key of %d bytes, want %d", p.name, len(expanded), p.expanded)
	}
	priv, err := p.circlScheme.UnmarshalBinaryPrivateKey(expanded)
	if err != nil {
		return nil, fmt.Errorf("kem: invalid %s expanded key: %w", p.name, err)
	}
	k := &PrivateKey{set: set, cir: priv}
	enc, err := priv.Public().MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("kem: %w", err)
	}
	if k.pub, err = NewPublicKey(set, enc); err != nil {
		return nil, err
	}
	return k, nil
}

// ParameterSet is the key's parameter set.
func (k *PrivateKey) ParameterSet() ParameterSet { return k.set }

// Seed returns the 64-byte seed, or nil for a key read in expanded form.
func (k *PrivateKey) Seed() []byte { return bytes.Clone(k.seed) }

// ExpandedKey returns the FIPS 203 decapsulation key.
func (k *PrivateKey) ExpandedKey() []byte {
	priv := k.cir
	if priv == nil {
		_, priv = k.set.p().circlScheme.DeriveKeyPair(k.seed)
	}
	b, err := priv.MarshalBinary()
	if err != nil {
		panic("kem: " + err.Error()) // a circl key always marshals
	}
	return b
}

// Public returns the key's *PublicKey.
func (k *PrivateKey) Public() crypto.PublicKey { return k.pub }

// PublicKey returns the key's public key.
func (k *PrivateKey) PublicKey() *PublicKey { return k.pub }

// Encapsulator returns the public key, for crypto.Decapsulator.
func (k *PrivateKey) Encapsulator() crypto.Encapsulator { return k.pub }

// Decapsulate returns the shared secret of ciphertext. It fails only on a
// ciphertext of the wrong size: a ciphertext made for another key gives a
// pseudorandom secret, not an error (FIPS 203 implicit rejection).
func (k *PrivateKey) Decapsulate(ciphertext []byte) ([]byte, error) {
	if n := k.set.CiphertextSize(); len(ciphertext) != n {
		return nil, fmt.Errorf("kem: %s ciphertext of %d bytes, want %d", k.set, len(ciphertext), n)
	}
	if k.std != nil {
		return k.std.Decapsulate(ciphertext)
	}
	return k.set.p().circlScheme.Decapsulate(k.cir, ciphertext)
}

// ErrCannotSign is what Sign returns.
var ErrCannotSign = errors.New("kem: an ML-KEM key can only decrypt, not sign")

// Sign fails: see [PrivateKey].
func (k *PrivateKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, ErrCannotSign
}
