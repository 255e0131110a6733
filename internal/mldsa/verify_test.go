package mldsa

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cloudflare/circl/sign"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The differential tests of verify.go: our ML-DSA.Verify_internal, given
// the pure M' = 0 ‖ len(ctx) ‖ ctx ‖ M, must answer exactly as the backend's
// pure ML-DSA.Verify (circl's, with a context string) does, for valid
// signatures and for signatures, keys and messages with a bit flipped.
// HashML-DSA differs from pure only in M', so agreeing here, plus the
// Bouncy Castle HashML-DSA known answers (pkg/verify TestPQCVectorsMLDSA),
// is the evidence that VerifyHashSHA512 is right.

// backendScheme is the circl scheme of p, for signing and verifying with a
// context string in tests.
func backendScheme(t testing.TB, p Parameters) sign.Scheme {
	b, ok := backendFor(p).(*circlBackend)
	if !ok {
		t.Fatalf("%v: the backend is not circl's; rewrite this test for the new one", p)
	}
	return b.scheme
}

// pureMPrime is M' of FIPS 204 algorithm 2 (pure ML-DSA).
func pureMPrime(ctx, msg []byte) []byte {
	return append(append([]byte{0, byte(len(ctx))}, ctx...), msg...)
}

// diffCase signs msg with ctx under the key of seed, XORs patch into the
// signature at at (wrapping round), and reports a disagreement between verifyInternal and
// the backend (empty string if they agree) and whether they accepted.
func diffCase(t testing.TB, p Parameters, seed, msg, ctx []byte, at int, patch []byte, flipPK int) (string, bool) {
	s := backendScheme(t, p)
	pub, sk := s.DeriveKey(seed)
	opts := &sign.SignatureOpts{Context: string(ctx)}
	sig := s.Sign(sk, msg, opts)
	for i, b := range patch {
		sig[(at+i)%len(sig)] ^= b
	}
	pk, err := pub.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if flipPK >= 0 {
		pk[flipPK/8%len(pk)] ^= 1 << (flipPK % 8)
		if pub, err = s.UnmarshalBinaryPublicKey(pk); err != nil {
			t.Fatal(err)
		}
	}
	theirs := s.Verify(pub, msg, sig, opts)
	ours := verifyInternal(p, pk, pureMPrime(ctx, msg), sig)
	if ours != theirs {
		return "verifyInternal " + map[bool]string{true: "accepted", false: "rejected"}[ours] +
			" what the backend " + map[bool]string{true: "accepted", false: "rejected"}[theirs], ours
	}
	return "", ours
}

// TestVerifyInternalDifferential: random keys, messages and contexts of
// every set; valid signatures verify on both sides, and a bit flipped in
// the signature (in c~, in z, in the hint, anywhere), the public key or
// the message gives the same answer on both sides (issue #18: HashML-DSA
// for the Bouncy Castle vectors).
func TestVerifyInternalDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 204))
	bytesOf := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	for p := MLDSA44; p <= MLDSA87; p++ {
		vp := verifyParamsFor(p)
		zEnd := vp.cTildeBytes + vp.l*n*(vp.gamma1Bits+1)/8
		accepted, rejected := 0, 0
		for r := range rounds {
			seed := bytesOf(SeedSize)
			msg := bytesOf(rng.IntN(300))
			ctx := bytesOf([]int{0, 1, 255, rng.IntN(256)}[r%4])
			if msg2, ok := diffCase(t, p, seed, msg, ctx, 0, nil, -1); msg2 != "" || !ok {
				t.Fatalf("%v round %d, valid signature: %s (accepted %v)", p, r, msg2, ok)
			}
			accepted++
			sigBits := p.SignatureSize() * 8
			flips := []int{
				rng.IntN(vp.cTildeBytes * 8),                         // c~
				vp.cTildeBytes*8 + rng.IntN((zEnd-vp.cTildeBytes)*8), // z
				zEnd*8 + rng.IntN(vp.omega*8),                        // hint indices
				(zEnd+vp.omega)*8 + rng.IntN(vp.k*8),                 // hint counts
				sigBits - 1, 0, rng.IntN(sigBits), rng.IntN(sigBits), // anywhere
			}
			for _, bit := range flips {
				got, ok := diffCase(t, p, seed, msg, ctx, bit/8, []byte{1 << (bit % 8)}, -1)
				if got != "" {
					t.Fatalf("%v round %d, signature bit %d flipped: %s", p, r, bit, got)
				}
				if ok {
					accepted++
				} else {
					rejected++
				}
			}
			for _, bit := range []int{rng.IntN(256), 256 + rng.IntN(p.PublicKeySize()*8-256)} { // ρ, t1
				got, ok := diffCase(t, p, seed, msg, ctx, 0, nil, bit)
				if got != "" || ok {
					t.Fatalf("%v round %d, public key bit %d flipped: %s (accepted %v)", p, r, bit, got, ok)
				}
				rejected++
			}
			// A changed message or context, checked on our side against
			// the signature of the original.
			s := backendScheme(t, p)
			pub, sk := s.DeriveKey(seed)
			pk, _ := pub.MarshalBinary()
			sig := s.Sign(sk, msg, &sign.SignatureOpts{Context: string(ctx)})
			m2 := append(bytes.Clone(msg), 0)
			if verifyInternal(p, pk, pureMPrime(ctx, m2), sig) {
				t.Fatalf("%v round %d: a longer message verified", p, r)
			}
			hashMPrime := append([]byte{1}, pureMPrime(ctx, msg)[1:]...)
			if verifyInternal(p, pk, hashMPrime, sig) {
				t.Fatalf("%v round %d: a pure signature verified as HashML-DSA (domain byte 1)", p, r)
			}
			rejected += 2
		}
		t.Logf("%v: %d agreed acceptances, %d agreed rejections", p, accepted, rejected)
	}
}

// TestHintEncodingStrict: the hint must be in the one canonical encoding
// (FIPS 204 algorithm 21); each non-canonical form below is refused by
// hintBitUnpack (and the whole signature by both implementations).
func TestHintEncodingStrict(t *testing.T) {
	const k, omega = 4, 80
	ok := func(y []byte) bool { _, ok := hintBitUnpack(y, k, omega); return ok }
	canon := make([]byte, omega+k)
	canon[0], canon[1], canon[2] = 3, 9, 200 // poly 0: indices 3, 9; poly 1: 200
	canon[omega], canon[omega+1], canon[omega+2], canon[omega+3] = 2, 3, 3, 3
	if !ok(canon) {
		t.Fatal("the canonical hint was refused")
	}
	h, _ := hintBitUnpack(canon, k, omega)
	if !h[0][3] || !h[0][9] || !h[1][200] || h[1][3] {
		t.Fatal("hint decoded wrongly")
	}
	for _, tc := range []struct {
		name string
		edit func(y []byte)
	}{
		{"indices-not-increasing", func(y []byte) { y[0], y[1] = 9, 3 }},
		{"index-repeated", func(y []byte) { y[1] = 3 }},
		{"count-decreases", func(y []byte) { y[omega+2] = 1 }},
		{"count-past-omega", func(y []byte) { y[omega+3] = omega + 1 }},
		{"unused-byte-not-zero", func(y []byte) { y[omega-1] = 1 }},
		{"unused-byte-after-last", func(y []byte) { y[3] = 7 }},
	} {
		y := bytes.Clone(canon)
		tc.edit(y)
		if ok(y) {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// The same rule in a real signature: both implementations refuse it.
	p := MLDSA44
	seed := bytes.Repeat([]byte{7}, SeedSize)
	vp := verifyParamsFor(p)
	hintAt := p.SignatureSize() - vp.omega - vp.k
	if got, acc := diffCase(t, p, seed, []byte("m"), nil, hintAt+vp.omega-1, []byte{0x55}, -1); got != "" || acc {
		t.Fatalf("a non-zero unused hint byte: %s (accepted %v)", got, acc)
	}
}

// FuzzVerifyInternal: a signature of a fuzzed message and context under a
// key of a fuzzed seed, with fuzzed bytes XORed into it at a fuzzed
// offset (with the top bit of at set, inside the hint): verifyInternal and the backend always agree, and an unpatched
// signature verifies (issue #18, fuzz targets for ML-DSA signatures).
func FuzzVerifyInternal(f *testing.F) {
	f.Add(uint8(0), uint8(1), []byte("message"), []byte(""), uint16(0), []byte{})
	f.Add(uint8(1), uint8(2), []byte("m"), []byte("ctx"), uint16(3300), []byte{0xff})
	f.Add(uint8(2), uint8(3), []byte(""), []byte{0}, uint16(4600), []byte{1, 2, 3})
	f.Add(uint8(0), uint8(4), []byte("z"), []byte(""), uint16(100), []byte{0x80})
	f.Add(uint8(1), uint8(5), []byte("h"), []byte(""), uint16(0x8000+54), []byte{0x01})
	f.Fuzz(func(t *testing.T, set, seedByte uint8, msg, ctx []byte, at uint16, patch []byte) {
		p := MLDSA44 + Parameters(set%3)
		if len(ctx) > 255 {
			ctx = ctx[:255]
		}
		if len(patch) > 64 {
			patch = patch[:64]
		}
		seed := bytes.Repeat([]byte{seedByte}, SeedSize)
		off := int(at)
		if at&0x8000 != 0 {
			// Aim at the hint (ω index bytes, then k counts), where
			// a lenient decoder would let two encodings name one
			// signature.
			vp := verifyParamsFor(p)
			off = p.SignatureSize() - vp.omega - vp.k + int(at&0x7fff)%(vp.omega+vp.k)
		}
		got, ok := diffCase(t, p, seed, msg, ctx, off, patch, -1)
		if got != "" {
			t.Fatal(got)
		}
		if !ok && bytes.Count(patch, []byte{0}) == len(patch) {
			t.Fatal("an unpatched signature was rejected")
		}
	})
}

// TestCertificateVerifyKey: a HashML-DSA SubjectPublicKeyInfo (as Bouncy
// Castle writes) is read for verification only and marked hashOnly, with
// the same strictness as a pure one; CertificatePublicKey, which signing
// and chain building use, still does not take it as ML-DSA.
func TestCertificateVerifyKey(t *testing.T) {
	k, err := NewPrivateKeyFromSeed(MLDSA65, bytes.Repeat([]byte{3}, SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	raw := k.Public().(*PublicKey).Bytes()
	spki := func(oid asn1.ObjectIdentifier, params []byte, key []byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oid)
				b.AddBytes(params)
			})
			b.AddASN1BitString(key)
		})
		return b.BytesOrPanic()
	}
	for _, tc := range []struct {
		name           string
		der            []byte
		hashOnly, isML bool
		wantErr        string
	}{
		{"pure", spki(MLDSA65.OID(), nil, raw), false, true, ""},
		{"hash", spki(MLDSA65.HashOID(), nil, raw), true, true, ""},
		{"hash-params-null", spki(MLDSA65.HashOID(), []byte{5, 0}, raw), true, true, "has parameters"},
		{"hash-key-short", spki(MLDSA65.HashOID(), nil, raw[1:]), true, true, "public key is 1951 bytes"},
		{"hash-44-oid-65-key", spki(MLDSA44.HashOID(), nil, raw), true, true, "public key is 1952 bytes, want 1312"},
		{"other", spki(asn1.ObjectIdentifier{1, 3, 101, 112}, nil, raw[:32]), false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := &x509.Certificate{RawSubjectPublicKeyInfo: tc.der}
			key, hashOnly, ok, err := CertificateVerifyKey(cert)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || key != nil {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || ok != tc.isML || hashOnly != tc.hashOnly {
				t.Fatalf("got ok %v hashOnly %v err %v", ok, hashOnly, err)
			}
			if ok && !bytes.Equal(key.Bytes(), raw) {
				t.Fatal("wrong key")
			}
			if _, pure, _ := CertificatePublicKey(cert); pure && tc.hashOnly {
				t.Fatal("CertificatePublicKey took a HashML-DSA key for a pure one")
			}
		})
	}
}
