package mldsa

import (
	"bytes"
	"crypto"
	"strings"
	"testing"
)

// TestExpandedKeyChecks: an expanded key is accepted only if every part
// the backend would not check agrees with the rest (issue #18, hostile
// keys): t0 recomputed with FIPS 204's own arithmetic, tr, the s1 and s2
// ranges. The key's signatures verify with its public key.
func TestExpandedKeyChecks(t *testing.T) {
	for p := MLDSA44; p <= MLDSA87; p++ {
		k, err := NewPrivateKeyFromSeed(p, bytes.Repeat([]byte{0x5a}, SeedSize))
		if err != nil {
			t.Fatal(err)
		}
		sk := k.ExpandedKey()
		k2, err := NewPrivateKeyFromExpanded(p, sk)
		if err != nil {
			t.Fatalf("%v: a valid expanded key: %v", p, err)
		}
		sig, err := k2.Sign(nil, []byte("m"), crypto.Hash(0))
		if err != nil || !k.Public().(*PublicKey).Verify([]byte("m"), sig) {
			t.Fatalf("%v: the expanded key's signature does not verify: %v", p, err)
		}
		for _, tc := range []struct {
			name string
			at   int
			want string
		}{
			{"t0-last-byte", len(sk) - 1, "t0 is not the one"},
			{"t0-first-byte", len(sk) - 416*p.t0Polys(), "t0 is not the one"},
			{"tr", 64, "tr is not the public key's hash"},
			{"rho", 0, "tr is not the public key's hash"},
		} {
			bad := bytes.Clone(sk)
			bad[tc.at] ^= 0x01
			if _, err := NewPrivateKeyFromExpanded(p, bad); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v %s: got %v, want %q", p, tc.name, err, tc.want)
			}
		}
	}
}

// t0Polys is k, the number of t0 polynomials (416 bytes each).
func (p Parameters) t0Polys() int {
	k, _, _ := dims(p)
	return k
}
