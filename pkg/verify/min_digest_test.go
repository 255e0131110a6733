package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestMinDigestChain is issue #15 item 8 for certificate signatures: a SHA-256
// signature by a certificate its CA signed with SHA-1 passes with a warning by
// default and fails with a *PolicyError when MinDigest is SHA-256; an all-SHA-256
// chain passes either way. (The message-signature half is verify_min_digest.txtar,
// on the 2013 Thunderbird vector: smimectl does not sign with SHA-1.)
func TestMinDigestChain(t *testing.T) {
	mk := func(tmpl, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey) {
		t.Helper()
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.NotBefore, tmpl.NotAfter = at.AddDate(-1, 0, 0), at.AddDate(1, 0, 0)
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		return mustCreate(t, tmpl, parent, k.Public(), parentKey), k
	}
	root, rootKey := mk(&x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Digest Root"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	leafTmpl := func(alg x509.SignatureAlgorithm) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Alice"}, SignatureAlgorithm: alg,
			EmailAddresses: []string{"alice@example.com"}, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	}
	for _, tc := range []struct {
		name      string
		alg       x509.SignatureAlgorithm
		min       crypto.Hash
		wantValid bool
		wantWarn  bool
	}{
		{"sha-1 chain, default", x509.SHA1WithRSA, 0, true, true},
		{"sha-1 chain, min sha-1", x509.SHA1WithRSA, crypto.SHA1, true, true},
		{"sha-1 chain, min sha-256", x509.SHA1WithRSA, crypto.SHA256, false, false},
		{"sha-256 chain, min sha-256", x509.SHA256WithRSA, crypto.SHA256, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf, leafKey := mk(leafTmpl(tc.alg), root, rootKey)
			signed := signWith(t, sign.Options{Key: leafKey, Certificate: leaf}, []byte(message("alice@example.com")))
			var out bytes.Buffer
			res, err := verify.Verify(context.Background(), &out, bytes.NewReader(signed),
				verify.Options{Roots: []*x509.Certificate{root}, Now: func() time.Time { return at }, MinDigest: tc.min})
			var pe *verify.PolicyError
			switch {
			case tc.wantValid && err != nil:
				t.Fatalf("got %v, want valid", err)
			case !tc.wantValid && !errors.As(err, &pe):
				t.Fatalf("got %v, want a *verify.PolicyError", err)
			case !tc.wantValid && out.Len() > 0:
				t.Fatalf("released %d bytes of a refused message", out.Len())
			}
			if got := verify.ReasonCode(err); !tc.wantValid && got != verify.ReasonWeakAlgorithm {
				t.Errorf("reason %q, want %q", got, verify.ReasonWeakAlgorithm)
			}
			warned := false
			for _, c := range res.Signers[0].Checks {
				if c.Name == "chain-signatures" && c.Status == verify.StatusWarning {
					warned = true
				}
			}
			if warned != tc.wantWarn {
				t.Errorf("chain-signatures warning %v, want %v (checks %+v)", warned, tc.wantWarn, res.Signers[0].Checks)
			}
		})
	}
}
