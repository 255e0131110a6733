package mldsa

import (
	"crypto/sha3"
	"crypto/subtle"
)

// An expanded private key (FIPS 204 skEncode) holds ρ, K, tr, s1, s2 and
// t0. The backend derives the public key from ρ, s1 and s2 and never looks
// at t0 until it signs, so a t0 that is not the one t = A·s1 + s2 gives
// makes signatures that do not verify. checkExpanded recomputes t0 here,
// independently of the backend, with the arithmetic of FIPS 204 (ExpandA,
// NTT, Power2Round), and compares it and t1 (against the backend's public
// key) with the key.

const (
	q = 8380417 // FIPS 204 section 4
	n = 256
	d = 13 // dropped bits of t
)

// zetas[k] = 1753^BitRev8(k) mod q (FIPS 204 appendix B).
var zetas = func() [n]uint32 {
	var z [n]uint32
	for k := range n {
		var br uint
		for b := range 8 {
			br |= uint(k>>b&1) << (7 - b)
		}
		z[k] = uint32(powMod(1753, uint64(br)))
	}
	return z
}()

func powMod(b, e uint64) uint64 {
	r := uint64(1)
	b %= q
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			r = r * b % q
		}
		b = b * b % q
	}
	return r
}

type poly [n]uint32

// ntt is FIPS 204 algorithm 41.
func (w *poly) ntt() {
	m := 0
	for length := 128; length >= 1; length /= 2 {
		for start := 0; start < n; start += 2 * length {
			m++
			z := uint64(zetas[m])
			for j := start; j < start+length; j++ {
				t := uint32(z * uint64(w[j+length]) % q)
				w[j+length] = (w[j] + q - t) % q
				w[j] = (w[j] + t) % q
			}
		}
	}
}

// invNTT is FIPS 204 algorithm 42.
func (w *poly) invNTT() {
	m := n
	for length := 1; length < n; length *= 2 {
		for start := 0; start < n; start += 2 * length {
			m--
			z := uint64(q - zetas[m])
			for j := start; j < start+length; j++ {
				t := w[j]
				w[j] = (t + w[j+length]) % q
				w[j+length] = uint32(z * uint64((t+q-w[j+length])%q) % q)
			}
		}
	}
	const f = 8347681 // 256⁻¹ mod q
	for j := range w {
		w[j] = uint32(f * uint64(w[j]) % q)
	}
}

// rejNTTPoly is FIPS 204 algorithm 30: the NTT-domain entry of A for
// seed ρ‖s‖r.
func rejNTTPoly(rho []byte, s, r byte) *poly {
	h := sha3.NewSHAKE128()
	h.Write(rho)
	h.Write([]byte{s, r})
	var a poly
	var buf [3 * 56]byte
	for j := 0; j < n; {
		h.Read(buf[:])
		for i := 0; i+3 <= len(buf) && j < n; i += 3 {
			c := uint32(buf[i]) | uint32(buf[i+1])<<8 | uint32(buf[i+2]&0x7f)<<16
			if c < q {
				a[j] = c
				j++
			}
		}
	}
	return &a
}

// unpack reads n coefficients of bits bits each, little-endian, as
// FIPS 204 BitUnpack stores them, each as b - v mod q.
func unpack(src []byte, bits int, b int64) *poly {
	p := unpackUnsigned(src, bits)
	for i, v := range p {
		p[i] = uint32(((b-int64(v))%q + q) % q)
	}
	return p
}

// checkExpanded reports whether the t0 and t1 of the expanded key sk of
// set p are those its ρ, s1 and s2 give; pub is the backend's public key
// (ρ‖t1). etaInRange must have passed.
func checkExpanded(p Parameters, sk, pub []byte) bool {
	k, l, eta := dims(p)
	etaBits := 3
	if eta == 4 {
		etaBits = 4
	}
	polyEta := n * etaBits / 8
	rho := sk[:32]
	off := 128
	s1 := make([]*poly, l)
	for i := range s1 {
		s1[i] = unpack(sk[off:off+polyEta], etaBits, int64(eta))
		s1[i].ntt()
		off += polyEta
	}
	s2 := make([]*poly, k)
	for i := range s2 {
		s2[i] = unpack(sk[off:off+polyEta], etaBits, int64(eta))
		off += polyEta
	}
	const t0Bytes = n * d / 8
	ok := 1
	var t1Packed []byte
	for r := range k {
		var t poly
		for s := range l {
			a := rejNTTPoly(rho, byte(s), byte(r))
			for j := range n {
				t[j] = uint32((uint64(t[j]) + uint64(a[j])*uint64(s1[s][j])) % q)
			}
		}
		t.invNTT()
		var t0, t1 poly
		for j := range n {
			v := (t[j] + s2[r][j]) % q
			// Power2Round: v = t1·2^d + t0 with t0 in (-2^(d-1), 2^(d-1)].
			r0 := int64(v) & (1<<d - 1)
			if r0 > 1<<(d-1) {
				r0 -= 1 << d
			}
			t1[j] = uint32((int64(v) - r0) >> d)
			t0[j] = uint32((r0 + q) % q)
		}
		stored := unpack(sk[off:off+t0Bytes], d, 1<<(d-1))
		off += t0Bytes
		ok &= subtle.ConstantTimeCompare(u32bytes(&t0), u32bytes(stored))
		t1Packed = append(t1Packed, pack10(&t1)...)
	}
	ok &= subtle.ConstantTimeCompare(t1Packed, pub[32:])
	ok &= subtle.ConstantTimeCompare(rho, pub[:32])
	return ok == 1
}

func u32bytes(p *poly) []byte {
	b := make([]byte, 0, 4*n)
	for _, c := range p {
		b = append(b, byte(c), byte(c>>8), byte(c>>16), byte(c>>24))
	}
	return b
}

// pack10 is SimpleBitPack(t1, 2^10 - 1), FIPS 204 pkEncode.
func pack10(p *poly) []byte {
	out := make([]byte, 0, n*10/8)
	var acc uint64
	have := 0
	for _, c := range p {
		acc |= uint64(c) << have
		have += 10
		for have >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			have -= 8
		}
	}
	return out
}

// dims returns k, l and eta of FIPS 204 table 1.
func dims(p Parameters) (k, l, eta int) {
	switch p {
	case MLDSA65:
		return 6, 5, 4
	case MLDSA87:
		return 8, 7, 2
	}
	return 4, 4, 2
}
