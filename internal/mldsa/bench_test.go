package mldsa

import (
	"bytes"
	"crypto"
	"testing"
)

// BenchmarkMLDSA measures the primitive alone: signing (hedged) and
// verifying 200 bytes, the size of typical CMS signed attributes.
//
//	go test ./internal/mldsa -run XXX -bench MLDSA
func BenchmarkMLDSA(b *testing.B) {
	msg := bytes.Repeat([]byte{'a'}, 200)
	for p := MLDSA44; p <= MLDSA87; p++ {
		k, err := NewPrivateKeyFromSeed(p, bytes.Repeat([]byte{1}, SeedSize))
		if err != nil {
			b.Fatal(err)
		}
		sig, _ := k.Sign(nil, msg, crypto.Hash(0))
		pub := k.Public().(*PublicKey)
		b.Run("sign/"+p.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := k.Sign(nil, msg, crypto.Hash(0)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("verify/"+p.String(), func(b *testing.B) {
			for b.Loop() {
				if !pub.Verify(msg, sig) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
