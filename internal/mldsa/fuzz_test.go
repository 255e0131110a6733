package mldsa

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// seedKeys returns PKCS#8 ML-DSA keys in the three RFC 9881 forms.
func seedKeys(t testing.TB) [][]byte {
	var out [][]byte
	for p := MLDSA44; p <= MLDSA87; p++ {
		k, err := NewPrivateKeyFromSeed(p, bytes.Repeat([]byte{byte(p)}, SeedSize))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, MarshalPKCS8PrivateKey(k))
		exp, err := NewPrivateKeyFromExpanded(p, k.ExpandedKey())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, MarshalPKCS8PrivateKey(exp))
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(p.OID()) })
			b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(k.Seed())
					b.AddASN1OctetString(k.ExpandedKey())
				})
			})
		})
		out = append(out, b.BytesOrPanic())
	}
	return out
}

// FuzzParsePKCS8PrivateKey: no input panics; a key that parses is
// consistent: it signs, its signature verifies with its public key, and it
// marshals to a form that parses back to the same public key (issue #18,
// fuzz targets for the new parsers).
func FuzzParsePKCS8PrivateKey(f *testing.F) {
	for _, k := range seedKeys(f) {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		k, ok, err := ParsePKCS8PrivateKey(der)
		if err != nil || !ok {
			if k != nil {
				t.Fatal("a key came back with an error")
			}
			return
		}
		sig, err := k.Sign(nil, []byte("fuzz"), crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		pub := k.Public().(*PublicKey)
		if !pub.Verify([]byte("fuzz"), sig) {
			t.Fatal("an accepted key signs what its public key rejects")
		}
		k2, ok, err := ParsePKCS8PrivateKey(MarshalPKCS8PrivateKey(k))
		if err != nil || !ok || !pub.Equal(k2.Public()) {
			t.Fatalf("re-marshalled key: %v %v", ok, err)
		}
	})
}

// FuzzParsePKIXPublicKey: no input panics; an accepted key is exactly as
// long as its parameter set says and re-encodes to the same DER, so two
// encodings never name one key.
func FuzzParsePKIXPublicKey(f *testing.F) {
	for _, k := range seedKeys(f) {
		priv, _, _ := ParsePKCS8PrivateKey(k)
		f.Add(MarshalPKIXPublicKey(priv.Public().(*PublicKey)))
	}
	// The hackathon's certificates, where present (read in place).
	certs, _ := filepath.Glob("../../../shared/vectors/pqc/*/ta.der")
	for _, c := range certs {
		if der, err := os.ReadFile(c); err == nil {
			if cert, err := x509.ParseCertificate(der); err == nil {
				f.Add(cert.RawSubjectPublicKeyInfo)
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		k, ok, err := ParsePKIXPublicKey(der)
		if err != nil || !ok {
			if k != nil {
				t.Fatal("a key came back with an error")
			}
			return
		}
		if len(k.Bytes()) != k.Parameters().PublicKeySize() {
			t.Fatalf("accepted a %d-byte %v key", len(k.Bytes()), k.Parameters())
		}
		if !bytes.Equal(MarshalPKIXPublicKey(k), der) {
			t.Fatal("accepted a non-canonical SubjectPublicKeyInfo")
		}
		// Verifying garbage must not panic, and must fail.
		if k.Verify([]byte("m"), make([]byte, k.Parameters().SignatureSize())) {
			t.Fatal("an all-zero signature verified")
		}
	})
}
