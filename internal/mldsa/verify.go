package mldsa

import (
	"crypto/sha3"
	"crypto/sha512"
	"crypto/subtle"
)

// This file is ML-DSA.Verify_internal (FIPS 204 algorithm 8), written from
// the standard with the arithmetic of check.go, for the one thing the
// backend's public interface cannot do: verify a HashML-DSA signature
// (FIPS 204 algorithm 5), whose M' starts with the domain byte 1 where
// pure ML-DSA's starts with 0. Pure signatures keep going to the backend;
// a differential test holds the two to the same answers (verify_test.go).
// Nothing here signs, and verification handles only public data, so the
// code need not be constant time.

// verifyParams are the FIPS 204 table 1 values verification needs beyond
// dims: τ (±1 coefficients of c), β = τ·η, γ1 (z's range, a power of 2
// given as its exponent), γ2 (low-order rounding range), ω (most 1s in
// the hint) and λ/4 (bytes of the commitment hash c~).
type verifyParams struct {
	k, l, tau, beta, gamma1Bits, omega, cTildeBytes int
	gamma2                                          uint32
}

func verifyParamsFor(p Parameters) verifyParams {
	switch p {
	case MLDSA65:
		return verifyParams{k: 6, l: 5, tau: 49, beta: 196, gamma1Bits: 19, omega: 55, cTildeBytes: 48, gamma2: (q - 1) / 32}
	case MLDSA87:
		return verifyParams{k: 8, l: 7, tau: 60, beta: 120, gamma1Bits: 19, omega: 75, cTildeBytes: 64, gamma2: (q - 1) / 32}
	}
	return verifyParams{k: 4, l: 4, tau: 39, beta: 78, gamma1Bits: 17, omega: 80, cTildeBytes: 32, gamma2: (q - 1) / 88}
}

// verifyInternal is ML-DSA.Verify_internal(pk, M', σ) of FIPS 204
// algorithm 8 for set p: pk is pkEncode(ρ, t1), mPrime the formatted
// message M', sig the encoded signature σ. Any malformed input is simply
// invalid.
func verifyInternal(p Parameters, pk, mPrime, sig []byte) bool {
	if !p.valid() || len(pk) != p.PublicKeySize() || len(sig) != p.SignatureSize() {
		return false
	}
	vp := verifyParamsFor(p)
	// sigDecode (algorithm 27): c~ ‖ BitPack(z[i], γ1-1, γ1) ‖ HintBitPack(h).
	cTilde := sig[:vp.cTildeBytes]
	zBits := vp.gamma1Bits + 1
	zBytes := n * zBits / 8
	off := vp.cTildeBytes
	gamma1 := int64(1) << vp.gamma1Bits
	bound := gamma1 - int64(vp.beta)
	z := make([]*poly, vp.l)
	for i := range z {
		z[i] = unpack(sig[off:off+zBytes], zBits, gamma1)
		off += zBytes
		// ‖z‖∞ < γ1 - β (step 13). Coefficients are stored mod q.
		for _, c := range z[i] {
			v := int64(c)
			if v > q/2 {
				v -= q
			}
			if v >= bound || -v >= bound {
				return false
			}
		}
		z[i].ntt()
	}
	h, ok := hintBitUnpack(sig[off:], vp.k, vp.omega)
	if !ok {
		return false
	}

	// pkDecode (algorithm 23): ρ ‖ SimpleBitPack(t1[i], 2^10 - 1).
	rho := pk[:32]
	const t1Bytes = n * 10 / 8

	// tr = H(pk, 64), μ = H(tr ‖ M', 64) (steps 6 and 7).
	tr := sha3.SumSHAKE256(pk, 64)
	hm := sha3.NewSHAKE256()
	hm.Write(tr)
	hm.Write(mPrime)
	mu := make([]byte, 64)
	hm.Read(mu)

	c := sampleInBall(cTilde, vp.tau)
	c.ntt()

	// w'approx = NTT⁻¹(Â ∘ NTT(z) − NTT(c) ∘ NTT(t1·2^d)), row by row,
	// then w1' = UseHint(h, w'approx) and w1Encode (algorithm 28).
	m := (q - 1) / (2 * vp.gamma2) // 44 or 16 high-order values
	w1Bits := 6
	if m == 16 {
		w1Bits = 4
	}
	hc := sha3.NewSHAKE256()
	hc.Write(mu)
	for r := range vp.k {
		var w poly
		for s := range vp.l {
			a := rejNTTPoly(rho, byte(s), byte(r))
			for j := range n {
				w[j] = uint32((uint64(w[j]) + uint64(a[j])*uint64(z[s][j])) % q)
			}
		}
		t1 := unpackUnsigned(pk[32+r*t1Bytes:32+(r+1)*t1Bytes], 10)
		for j := range t1 {
			t1[j] <<= d // at most (2^10-1)·2^13 = q-1
		}
		t1.ntt()
		for j := range n {
			ct := uint32(uint64(c[j]) * uint64(t1[j]) % q)
			w[j] = (w[j] + q - ct) % q
		}
		w.invNTT()
		var w1 poly
		for j := range n {
			w1[j] = useHint(h[r][j], w[j], vp.gamma2, m)
		}
		hc.Write(packBits(&w1, w1Bits))
	}
	want := make([]byte, vp.cTildeBytes)
	hc.Read(want)
	return subtle.ConstantTimeCompare(want, cTilde) == 1
}

// hintBitUnpack is FIPS 204 algorithm 21: y holds ω indices then k
// running counts. It refuses every encoding but the canonical one:
// counts that decrease or pass ω, indices not strictly increasing within
// a polynomial, unused index bytes that are not zero.
func hintBitUnpack(y []byte, k, omega int) ([][n]bool, bool) {
	if len(y) != omega+k {
		return nil, false
	}
	h := make([][n]bool, k)
	index := 0
	for i := range k {
		end := int(y[omega+i])
		if end < index || end > omega {
			return nil, false
		}
		first := index
		for index < end {
			if index > first && y[index-1] >= y[index] {
				return nil, false
			}
			h[i][y[index]] = true
			index++
		}
	}
	for i := index; i < omega; i++ {
		if y[i] != 0 {
			return nil, false
		}
	}
	return h, true
}

// sampleInBall is FIPS 204 algorithm 29: the polynomial with τ
// coefficients ±1, the rest 0, that the seed ρ (all of c~) selects.
func sampleInBall(rho []byte, tau int) *poly {
	x := sha3.NewSHAKE256()
	x.Write(rho)
	var s [8]byte
	x.Read(s[:])
	signs := uint64(0)
	for i, b := range s {
		signs |= uint64(b) << (8 * i)
	}
	var c poly
	var jb [1]byte
	for i := n - tau; i < n; i++ {
		for {
			x.Read(jb[:])
			if int(jb[0]) <= i {
				break
			}
		}
		j := int(jb[0])
		c[i] = c[j]
		if signs>>(i+tau-n)&1 == 1 {
			c[j] = q - 1
		} else {
			c[j] = 1
		}
	}
	return &c
}

// useHint is FIPS 204 algorithm 40 with Decompose (algorithm 36): the
// high-order part r1 of r, moved by one (mod m) toward r0's side when the
// hint is set.
func useHint(hint bool, r, gamma2, m uint32) uint32 {
	// Decompose: r0 = r mod± 2γ2 in (-γ2, γ2]; r1 = (r - r0)/(2γ2),
	// except r - r0 = q - 1 gives r1 = 0 and r0 - 1.
	r0 := int64(r % (2 * gamma2))
	if r0 > int64(gamma2) {
		r0 -= 2 * int64(gamma2)
	}
	var r1 uint32
	if int64(r)-r0 == q-1 {
		r1, r0 = 0, r0-1
	} else {
		r1 = uint32((int64(r) - r0) / (2 * int64(gamma2)))
	}
	if !hint {
		return r1
	}
	if r0 > 0 {
		return (r1 + 1) % m
	}
	return (r1 + m - 1) % m
}

// unpackUnsigned is SimpleBitUnpack: n coefficients of bits bits each,
// little-endian.
func unpackUnsigned(src []byte, bits int) *poly {
	var p poly
	var acc uint64
	have, i := 0, 0
	for _, c := range src {
		acc |= uint64(c) << have
		have += 8
		for have >= bits && i < n {
			p[i] = uint32(acc & (1<<bits - 1))
			acc >>= bits
			have -= bits
			i++
		}
	}
	return &p
}

// packBits is SimpleBitPack of coefficients below 2^bits.
func packBits(p *poly, bits int) []byte {
	out := make([]byte, 0, n*bits/8)
	var acc uint64
	have := 0
	for _, c := range p {
		acc |= uint64(c) << have
		have += bits
		for have >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			have -= 8
		}
	}
	return out
}

// oidSHA512DER is the DER of id-sha512 (2.16.840.1.101.3.4.2.3), tag and
// length included, as HashML-DSA puts it in M' (FIPS 204 algorithm 4).
var oidSHA512DER = []byte{0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03}

// VerifyHashSHA512 reports whether sig is a valid HashML-DSA signature by k
// of msg with SHA-512 as the pre-hash and the empty context string (FIPS
// 204 algorithm 5; the signature algorithms id-hash-ml-dsa-44/65/87-with-
// sha512). RFC 9882 uses pure ML-DSA only; this exists to read what Bouncy
// Castle writes. Nothing in this package makes such signatures.
func (k *PublicKey) VerifyHashSHA512(msg, sig []byte) bool {
	ph := sha512.Sum512(msg)
	mPrime := make([]byte, 0, 2+len(oidSHA512DER)+len(ph))
	mPrime = append(mPrime, 1, 0) // HashML-DSA, empty context
	mPrime = append(mPrime, oidSHA512DER...)
	mPrime = append(mPrime, ph[:]...)
	return verifyInternal(k.params, k.raw, mPrime, sig)
}
