package chain

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/mldsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// withOuterAlgorithm returns a copy of c whose Raw carries alg (DER) as
// the outer signatureAlgorithm; the TBS is left as it was.
func withOuterAlgorithm(c *x509.Certificate, alg []byte) *x509.Certificate {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(c.RawTBSCertificate)
		b.AddBytes(alg)
		b.AddASN1BitString(c.Signature)
	})
	cc := *c
	cc.Raw = b.BytesOrPanic()
	return &cc
}

func algDER(oid []int, params []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddBytes(params)
	})
	return b.BytesOrPanic()
}

// TestMLDSAChain: ML-DSA certificate signatures are checked in the one
// place chains check signatures, and a hostile issuer or certificate gets
// an error, never a path (issue #18 item 4).
func TestMLDSAChain(t *testing.T) {
	l, err := lab.New(lab.Options{PQ: true})
	if err != nil {
		t.Fatal(err)
	}
	u := l.User("frank-mldsa")
	inter, root := l.PQIntermediate.Cert, l.PQRoot.Cert
	at := l.Options.Epoch.Add(24 * time.Hour)
	if err := CheckCertificateSignature(u.Cert, inter); err != nil {
		t.Fatalf("user by intermediate: %v", err)
	}
	if err := CheckCertificateSignature(inter, root); err != nil {
		t.Fatalf("intermediate by root: %v", err)
	}
	if _, err := Build(u.Cert, Options{Roots: []*x509.Certificate{root}, Intermediates: []*x509.Certificate{inter}, Time: at}); err != nil {
		t.Fatalf("Build: %v", err)
	}

	tampered := *u.Cert
	tampered.Signature = bytes.Clone(u.Cert.Signature)
	tampered.Signature[100] ^= 1
	short := *u.Cert
	short.Signature = u.Cert.Signature[:len(u.Cert.Signature)-1]
	oid65 := mldsa.MLDSA65.OID()
	tests := []struct {
		name          string
		child, issuer *x509.Certificate
		want          string
	}{
		{"tampered", &tampered, inter, "ML-DSA verification failure"},
		{"one-byte-short", &short, inter, "ML-DSA-65 signature is 3308 bytes, want 3309"},
		{"wrong-issuer-key", u.Cert, root, "the issuer's key is not ML-DSA-65"},
		{"classic-issuer", u.Cert, l.Intermediate.Cert, "the issuer's key is not ML-DSA-65"},
		{"parameters", withOuterAlgorithm(u.Cert, algDER(oid65, []byte{5, 0})), inter, "has parameters"},
		{"hash-ml-dsa", withOuterAlgorithm(u.Cert, algDER([]int{2, 16, 840, 1, 101, 3, 4, 3, 33}, nil)), inter, "HashML-DSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckCertificateSignature(tc.child, tc.issuer)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// A tampered leaf builds no path.
	if _, err := Build(&tampered, Options{Roots: []*x509.Certificate{root}, Intermediates: []*x509.Certificate{inter}, Time: at}); err == nil {
		t.Fatal("Build accepted a tampered ML-DSA certificate")
	}
}
