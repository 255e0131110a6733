package cms

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// Streaming AES-GCM (NIST SP 800-38D). crypto/cipher's AEAD needs the whole
// message in memory; S/MIME messages can be large, so the content is
// encrypted here with the block cipher in counter mode (GCTR, starting at
// inc32(J0)) and authenticated with GHASH computed chunk by chunk.
//
// GHASH itself comes from crypto/cipher's GCM, which is hardware-accelerated:
// sealing an empty plaintext with the chunk C as additional data gives
// T = GHASH_H(C || L) xor E(K, J0) with L = [8·len(C)]64 || [0]64, so
// G = T xor E(K, J0) = (S xor L)·H, where S = sum C_i·H^(m-i+1) is the
// chunk's contribution. Keeping the running value Z = Y·H (Y the GHASH state
// over the content so far) avoids inverting H:
//
//	Z' = Z·H^m xor G xor L·H
//
// and at the end GHASH(A=empty, C) = (Y xor Lfinal)·H = Z xor Lfinal·H.

const gcmNonceSize = 12

// gcmMaxBlocks bounds the content so that the 32-bit counter of GCTR never
// wraps (SP 800-38D section 5.2.1.1: at most 2^39-256 bits).
const gcmMaxBytes = (1<<32 - 2) * 16

// gf128 is an element of GF(2^128) in GCM's bit order: hi holds bytes 0-7
// of the block, big-endian.
type gf128 struct{ hi, lo uint64 }

func gfLoad(b []byte) gf128 {
	return gf128{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

func (x gf128) bytes() []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return b[:]
}

func (x gf128) xor(y gf128) gf128 { return gf128{x.hi ^ y.hi, x.lo ^ y.lo} }

// mul is SP 800-38D Algorithm 1. It runs once per chunk, not per block.
func (x gf128) mul(y gf128) gf128 {
	var z gf128
	v := y
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = x.hi >> (63 - i) & 1
		} else {
			bit = x.lo >> (127 - i) & 1
		}
		mask := -bit
		z.hi ^= v.hi & mask
		z.lo ^= v.lo & mask
		lsb := v.lo & 1
		v.lo = v.lo>>1 | v.hi<<63
		v.hi = v.hi>>1 ^ (0xe1<<56)&-lsb
	}
	return z
}

// pow returns x^n.
func (x gf128) pow(n uint64) gf128 {
	r := gf128{hi: 1 << 63} // the multiplicative identity
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r = r.mul(x)
		}
		x = x.mul(x)
	}
	return r
}

// gcmStream encrypts or decrypts content in GCTR mode and accumulates GHASH
// over the ciphertext. Feed it with update in chunks; only the last may have
// a length that is not a multiple of 16.
type gcmStream struct {
	block  cipher.Block
	aead   cipher.AEAD // for GHASH over a chunk, see above
	ctr    cipher.Stream
	h      gf128
	ej0    []byte // E(K, J0) for the message nonce
	ezero  []byte // E(K, J0) for the all-zero nonce used with aead
	z      gf128
	hpow   map[int]gf128
	n      int64 // content bytes so far
	tail   bool  // a chunk not a multiple of 16 was seen
	nonce0 [gcmNonceSize]byte
}

func newGCMStream(block cipher.Block, nonce []byte) (*gcmStream, error) {
	if len(nonce) != gcmNonceSize {
		return nil, errors.New("cms: GCM nonce must be 12 bytes")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	g := &gcmStream{block: block, aead: aead, hpow: map[int]gf128{}}
	var hb [16]byte
	block.Encrypt(hb[:], hb[:])
	g.h = gfLoad(hb[:])
	j0 := make([]byte, 16)
	copy(j0, nonce)
	j0[15] = 1
	g.ej0 = make([]byte, 16)
	block.Encrypt(g.ej0, j0)
	z0 := make([]byte, 16)
	z0[15] = 1
	g.ezero = make([]byte, 16)
	block.Encrypt(g.ezero, z0)
	j0[15] = 2 // inc32(J0): the first counter block of the content
	g.ctr = cipher.NewCTR(block, j0)
	return g, nil
}

// ghash folds a chunk of ciphertext into the running GHASH value.
func (g *gcmStream) ghash(c []byte) error {
	if g.tail {
		return errors.New("cms: GCM chunk after a partial block")
	}
	if len(c)%16 != 0 {
		g.tail = true
	}
	g.n += int64(len(c))
	if g.n > gcmMaxBytes {
		return errors.New("cms: content too long for AES-GCM")
	}
	m := (len(c) + 15) / 16
	hm, ok := g.hpow[m]
	if !ok {
		hm = g.h.pow(uint64(m))
		g.hpow[m] = hm
	}
	t := g.aead.Seal(nil, g.nonce0[:], nil, c)
	gv := gfLoad(t).xor(gfLoad(g.ezero))
	l := gf128{hi: uint64(len(c)) * 8}
	g.z = g.z.mul(hm).xor(gv).xor(l.mul(g.h))
	return nil
}

// seal encrypts p in place and authenticates the result.
func (g *gcmStream) seal(p []byte) error {
	g.ctr.XORKeyStream(p, p)
	return g.ghash(p)
}

// open authenticates the ciphertext p and decrypts it in place.
func (g *gcmStream) open(p []byte) error {
	if err := g.ghash(p); err != nil {
		return err
	}
	g.ctr.XORKeyStream(p, p)
	return nil
}

// tag returns the authentication tag over the content and the additional
// authenticated data aad (the DER of authAttrs, RFC 5083 section 2.2, or
// nil), which GCM hashes before the content: its contribution is scaled by
// H to the power of the number of content blocks.
func (g *gcmStream) tag(aad []byte) []byte {
	z := g.z
	if len(aad) > 0 {
		za := gcmStream{h: g.h, aead: g.aead, ezero: g.ezero, hpow: map[int]gf128{}}
		za.ghash(aad)
		blocks := (g.n + 15) / 16
		z = za.z.mul(g.h.pow(uint64(blocks))).xor(z)
	}
	lf := gf128{hi: uint64(len(aad)) * 8, lo: uint64(g.n) * 8}
	s := z.xor(lf.mul(g.h)).bytes()
	subtle.XORBytes(s, s, g.ej0)
	return s
}

// checkTag compares the computed tag, truncated to len(want), with want in
// constant time.
func (g *gcmStream) checkTag(aad, want []byte) bool {
	t := g.tag(aad)
	return len(want) >= 12 && len(want) <= 16 && subtle.ConstantTimeCompare(t[:len(want)], want) == 1
}
