package keys

import (
	"crypto"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/mldsa"
)

// TestRFC9881Examples reads the keys of RFC 9881 Appendix C in every form,
// checks each against its certificate and SubjectPublicKeyInfo, and
// refuses the appendix's three inconsistent keys (issue #18 item 4: the
// specification's example appendix).
func TestRFC9881Examples(t *testing.T) {
	dir := filepath.Join("testdata", "rfc9881")
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, set := range []string{"44", "65", "87"} {
		certs, err := ParseCertificates(read("ML-DSA-" + set + ".crt"))
		if err != nil {
			t.Fatal(err)
		}
		pubBlock := read("ML-DSA-" + set + ".pub")
		pub, ok, err := mldsa.ParsePKIXPublicKey(pemBody(t, pubBlock))
		if err != nil || !ok {
			t.Fatalf("ML-DSA-%s.pub: %v %v", set, ok, err)
		}
		if pub.Parameters().String() != "ML-DSA-"+set {
			t.Fatalf("ML-DSA-%s.pub is %v", set, pub.Parameters())
		}
		for _, form := range []string{"seed", "expanded", "both"} {
			t.Run("ML-DSA-"+set+"/"+form, func(t *testing.T) {
				key, err := ParsePrivateKey(read("ML-DSA-"+set+"-"+form+".priv"), nil)
				if err != nil {
					t.Fatal(err)
				}
				if !pub.Equal(key.Public()) {
					t.Fatal("the key is not the .pub's")
				}
				if err := MatchesKey(certs[0], key); err != nil {
					t.Fatal(err)
				}
				sig, err := key.Sign(nil, []byte("RFC 9881"), crypto.Hash(0))
				if err != nil || !pub.Verify([]byte("RFC 9881"), sig) {
					t.Fatalf("signature does not verify: %v", err)
				}
			})
		}
	}
	for _, tc := range []struct{ file, want string }{
		{"bad-ML-DSA-44-1.priv", "seed and expanded key disagree"},
		{"bad-ML-DSA-44-2.priv", "tr is not the public key's hash"},
		{"bad-ML-DSA-44-3.priv", "t0 is not the one s1 and s2 give"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			key, err := ParsePrivateKey(read(tc.file), nil)
			if err == nil || key != nil {
				t.Fatalf("got a %T, want an error", key)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// pemBody returns the bytes of the first PEM block of b.
func pemBody(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}
