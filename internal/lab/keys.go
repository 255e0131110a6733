package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"sync"
)

// streamSalt is the HKDF salt of every lab stream. Changing it (or anything
// else in this file) changes every key, serial number and certificate a seed
// produces, so it carries a version.
const streamSalt = "smimectl lab v1"

// hkdfMaxOutput is the largest output of one HKDF-SHA256 Expand call
// (255 hash lengths, RFC 5869 section 2.3).
const hkdfMaxOutput = 255 * sha256.Size

// stream is a deterministic byte stream keyed by the seed and a label.
//
// PRK = HKDF-Extract(SHA-256, salt = "smimectl lab v1", IKM = seed); the stream
// is the concatenation of chunks i = 0, 1, 2, … where chunk i is
// HKDF-Expand(SHA-256, PRK, info = "smimectl lab v1 " + label + " " + i, 8160).
// Different labels give independent streams, so adding an identity does not
// change the keys of the others.
type stream struct {
	prk   []byte
	label string
	chunk int
	buf   []byte
}

// newStream returns the stream for label under the pseudorandom key prk.
func newStream(prk []byte, label string) *stream {
	return &stream{prk: prk, label: label}
}

// extractSeed derives the pseudorandom key of every stream from the seed.
func extractSeed(seed string) ([]byte, error) {
	prk, err := hkdf.Extract(sha256.New, []byte(seed), []byte(streamSalt))
	if err != nil {
		return nil, fmt.Errorf("lab: deriving seed key: %w", err)
	}
	return prk, nil
}

// Read fills p from the stream. It never fails.
func (s *stream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			info := streamSalt + " " + s.label + " " + strconv.Itoa(s.chunk)
			b, err := hkdf.Expand(sha256.New, s.prk, info, hkdfMaxOutput)
			if err != nil {
				return n, fmt.Errorf("expanding stream %q: %w", s.label, err)
			}
			s.buf = b
			s.chunk++
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	return n, nil
}

// maxCandidates bounds the search for one prime or one scalar. A 1024-bit
// prime turns up about once in 355 odd candidates; a P-256 scalar is rejected
// with probability below 2^-32. The bound only turns a broken stream into an
// error instead of an endless loop.
const maxCandidates = 100000

// rsaExponent is the public exponent of every lab RSA key.
const rsaExponent = 65537

// deriveRSAKey derives an RSA key of the given modulus size from r.
//
// Each prime is the first candidate drawn from r (bits/2 bits, big-endian,
// top two bits and the low bit set, so that the product has exactly bits
// bits) that passes ProbablyPrime(20) and has gcd(e, p-1) = 1. The primes
// must differ in their top 100 bits (FIPS 186-5 A.1.3 step 5.4, which Go's
// FIPS module also checks). D is e⁻¹ mod λ(N).
func deriveRSAKey(r io.Reader, bits int) (*rsa.PrivateKey, error) {
	if bits < 1024 || bits%16 != 0 {
		return nil, fmt.Errorf("unsupported RSA key size %d", bits)
	}
	e := big.NewInt(rsaExponent)
	p, err := derivePrime(r, bits/2, e)
	if err != nil {
		return nil, err
	}
	var q *big.Int
	minDiff := new(big.Int).Lsh(big.NewInt(1), uint(bits/2-100))
	for range maxCandidates {
		q, err = derivePrime(r, bits/2, e)
		if err != nil {
			return nil, err
		}
		diff := new(big.Int).Sub(p, q)
		if diff.Abs(diff).Cmp(minDiff) > 0 {
			break
		}
		q = nil
	}
	if q == nil {
		return nil, errors.New("no second RSA prime found")
	}

	one := big.NewInt(1)
	pm1 := new(big.Int).Sub(p, one)
	qm1 := new(big.Int).Sub(q, one)
	g := new(big.Int).GCD(nil, nil, pm1, qm1)
	lambda := new(big.Int).Mul(pm1, qm1)
	lambda.Div(lambda, g)
	d := new(big.Int).ModInverse(e, lambda)
	if d == nil {
		return nil, errors.New("RSA exponent not invertible")
	}

	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: rsaExponent},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	if key.N.BitLen() != bits {
		return nil, fmt.Errorf("derived RSA modulus has %d bits, want %d", key.N.BitLen(), bits)
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("derived RSA key invalid: %w", err)
	}
	key.Precompute()
	return key, nil
}

// derivePrime draws odd candidates of exactly bits bits, top two bits set,
// from r until one is a probable prime p with gcd(e, p-1) = 1.
func derivePrime(r io.Reader, bits int, e *big.Int) (*big.Int, error) {
	buf := make([]byte, (bits+7)/8)
	one := big.NewInt(1)
	p := new(big.Int)
	pm1 := new(big.Int)
	g := new(big.Int)
	for range maxCandidates {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("reading prime candidate: %w", err)
		}
		// Clear the bits above the wanted length, then set the top two.
		if extra := len(buf)*8 - bits; extra > 0 {
			buf[0] &= byte(0xff >> extra)
		}
		p.SetBytes(buf)
		p.SetBit(p, bits-1, 1)
		p.SetBit(p, bits-2, 1)
		p.SetBit(p, 0, 1)
		if hasSmallFactor(p) || !p.ProbablyPrime(20) {
			continue
		}
		pm1.Sub(p, one)
		if g.GCD(nil, nil, e, pm1).Cmp(one) != 0 {
			continue
		}
		return new(big.Int).Set(p), nil
	}
	return nil, errors.New("no RSA prime found")
}

// deriveECKey derives a private key on curve from r by rejection sampling:
// draw a big-endian scalar of the curve order's byte length, mask it to the
// order's bit length, and take the first one in [1, N-1].
func deriveECKey(r io.Reader, curve elliptic.Curve) (*ecdsa.PrivateKey, error) {
	n := curve.Params().N
	buf := make([]byte, (n.BitLen()+7)/8)
	k := new(big.Int)
	for range maxCandidates {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("reading EC scalar: %w", err)
		}
		if extra := len(buf)*8 - n.BitLen(); extra > 0 {
			buf[0] &= byte(0xff >> extra)
		}
		k.SetBytes(buf)
		if k.Sign() == 0 || k.Cmp(n) >= 0 {
			continue
		}
		key, err := ecdsa.ParseRawPrivateKey(curve, buf)
		if err != nil {
			return nil, fmt.Errorf("building EC key: %w", err)
		}
		return key, nil
	}
	return nil, errors.New("no EC scalar found")
}

// sieveGroups are products of the odd primes below 4096, each below 2^32,
// so that a remainder step r*2^8 + byte never overflows a uint64. They are
// computed on first use: every smimectl process links this package, and
// only lab key derivation needs them.
var sieveGroups = sync.OnceValue(func() []groupProduct {
	var groups []groupProduct
	cur := groupProduct{product: 1}
	for n := uint64(3); n < 4096; n += 2 {
		if !big.NewInt(int64(n)).ProbablyPrime(0) {
			continue
		}
		if cur.product*n >= 1<<32 {
			groups = append(groups, cur)
			cur = groupProduct{product: 1}
		}
		cur.product *= n
		cur.primes = append(cur.primes, n)
	}
	return append(groups, cur)
})

// groupProduct is a product of small primes and its factors.
type groupProduct struct {
	product uint64
	primes  []uint64
}

// hasSmallFactor reports whether an odd n above 4096 has a prime factor
// below 4096. It only skips candidates that ProbablyPrime would reject
// anyway (more slowly), so it changes no derived key.
func hasSmallFactor(n *big.Int) bool {
	b := n.Bytes()
	for _, g := range sieveGroups() {
		var r uint64
		for _, c := range b {
			r = (r<<8 | uint64(c)) % g.product
		}
		for _, q := range g.primes {
			if r%q == 0 {
				return true
			}
		}
	}
	return false
}
