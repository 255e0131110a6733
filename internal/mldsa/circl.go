package mldsa

import (
	"errors"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// This file is the only one that knows the implementation: the
// github.com/cloudflare/circl ML-DSA packages. To move to another one (the
// standard library's, once Go has a public crypto/mldsa), replace the three
// backends below; nothing else in the tree names circl.

// backend is what this package needs from an ML-DSA implementation of one
// parameter set. Every method works in pure mode with an empty context
// string, as RFC 9881 and RFC 9882 use ML-DSA.
type backend interface {
	// keyFromSeed derives the key pair of a 32-byte seed (FIPS 204
	// ML-DSA.KeyGen_internal).
	keyFromSeed(seed []byte) backendKey
	// keyFromExpanded unpacks an expanded private key of the set's size.
	keyFromExpanded(sk []byte) (backendKey, error)
	// verify checks sig over msg with the encoded public key pub, which
	// has the set's size.
	verify(pub, msg, sig []byte) bool
}

// backendKey is one private key of a backend.
type backendKey interface {
	// sign signs msg; randomized selects the hedged variant (fresh
	// randomness from crypto/rand) over the deterministic one.
	sign(msg []byte, randomized bool) ([]byte, error)
	publicBytes() []byte
	expandedBytes() []byte
}

type circlBackend struct {
	scheme sign.Scheme
	signTo func(sk sign.PrivateKey, msg []byte, randomized bool) ([]byte, error)
}

type circlKey struct {
	b   *circlBackend
	pub sign.PublicKey
	sk  sign.PrivateKey
}

func (b *circlBackend) keyFromSeed(seed []byte) backendKey {
	pub, sk := b.scheme.DeriveKey(seed)
	return &circlKey{b: b, pub: pub, sk: sk}
}

func (b *circlBackend) keyFromExpanded(raw []byte) (backendKey, error) {
	if len(raw) != b.scheme.PrivateKeySize() {
		return nil, errors.New("wrong expanded key size")
	}
	sk, err := b.scheme.UnmarshalBinaryPrivateKey(raw)
	if err != nil {
		return nil, err
	}
	pub, ok := sk.Public().(sign.PublicKey)
	if !ok {
		return nil, errors.New("no public key")
	}
	return &circlKey{b: b, pub: pub, sk: sk}, nil
}

func (b *circlBackend) verify(pub, msg, sig []byte) bool {
	if len(pub) != b.scheme.PublicKeySize() || len(sig) != b.scheme.SignatureSize() {
		return false
	}
	pk, err := b.scheme.UnmarshalBinaryPublicKey(pub)
	if err != nil {
		return false
	}
	return b.scheme.Verify(pk, msg, sig, nil)
}

func (k *circlKey) sign(msg []byte, randomized bool) ([]byte, error) {
	return k.b.signTo(k.sk, msg, randomized)
}

func (k *circlKey) publicBytes() []byte {
	b, _ := k.pub.MarshalBinary()
	return b
}

func (k *circlKey) expandedBytes() []byte {
	b, _ := k.sk.MarshalBinary()
	return b
}

// backendFor returns the implementation of p, or nil for an unknown set.
func backendFor(p Parameters) backend {
	switch p {
	case MLDSA44:
		return &circlBackend{mldsa44.Scheme(), func(sk sign.PrivateKey, msg []byte, r bool) ([]byte, error) {
			k, ok := sk.(*mldsa44.PrivateKey)
			if !ok {
				return nil, sign.ErrTypeMismatch
			}
			sig := make([]byte, mldsa44.SignatureSize)
			return sig, mldsa44.SignTo(k, msg, nil, r, sig)
		}}
	case MLDSA65:
		return &circlBackend{mldsa65.Scheme(), func(sk sign.PrivateKey, msg []byte, r bool) ([]byte, error) {
			k, ok := sk.(*mldsa65.PrivateKey)
			if !ok {
				return nil, sign.ErrTypeMismatch
			}
			sig := make([]byte, mldsa65.SignatureSize)
			return sig, mldsa65.SignTo(k, msg, nil, r, sig)
		}}
	case MLDSA87:
		return &circlBackend{mldsa87.Scheme(), func(sk sign.PrivateKey, msg []byte, r bool) ([]byte, error) {
			k, ok := sk.(*mldsa87.PrivateKey)
			if !ok {
				return nil, sign.ErrTypeMismatch
			}
			sig := make([]byte, mldsa87.SignatureSize)
			return sig, mldsa87.SignTo(k, msg, nil, r, sig)
		}}
	}
	return nil
}
