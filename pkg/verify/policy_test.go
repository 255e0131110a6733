package verify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestCertificatePolicyConstraints is issue #11 item 5 seen from a message:
// an intermediate whose policyConstraints require an explicit policy
// (requireExplicitPolicy 0) makes a signer certificate without that policy
// untrusted (TrustError with reason chain.Policy, smime=fail), and one with
// it valid.
func TestCertificatePolicyConstraints(t *testing.T) {
	p1, err := x509.ParseOID("1.3.6.1.4.1.55555.1.1")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
		t.Helper()
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.NotBefore, tmpl.NotAfter = at.AddDate(-1, 0, 0), at.AddDate(1, 0, 0)
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		return mustCreate(t, tmpl, parent, k.Public(), parentKey), k
	}
	caTmpl := func(serial int64, cn string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	root, rootKey := mk(caTmpl(1, "Policy Root"), nil, nil)
	interTmpl := caTmpl(2, "Policy CA")
	interTmpl.Policies = []x509.OID{p1}
	// policyConstraints { requireExplicitPolicy [0] 0 }, critical: crypto/x509
	// writes the field of a template only when parsing.
	interTmpl.ExtraExtensions = []pkix.Extension{{Id: []int{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}}}
	inter, interKey := mk(interTmpl, root, rootKey)

	for _, tc := range []struct {
		name     string
		policies []x509.OID
		valid    bool
	}{
		{"signer certificate with the required policy", []x509.OID{p1}, true},
		{"signer certificate without policies", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf, leafKey := mk(&x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Alice"},
				EmailAddresses: []string{"alice@example.com"}, KeyUsage: x509.KeyUsageDigitalSignature,
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, Policies: tc.policies}, inter, interKey)
			signed := signWith(t, sign.Options{Key: leafKey, Certificate: leaf, Chain: []*x509.Certificate{inter}}, []byte(message("alice@example.com")))
			var out bytes.Buffer
			res, verr := verify.Open(context.Background(), &out, bytes.NewReader(signed), verify.Options{Roots: []*x509.Certificate{root}, Now: func() time.Time { return at }})
			field := verify.AuthenticationResults("mx.example.com", res, verr)
			if tc.valid {
				if verr != nil {
					t.Fatalf("got %v, want valid", verr)
				}
				if !strings.Contains(field, "smime=pass") {
					t.Fatalf("got %s, want smime=pass", field)
				}
				return
			}
			var te *verify.TrustError
			if !errors.As(verr, &te) || te.Reason != verify.PolicyViolation || !te.Cert.Equal(leaf) {
				t.Fatalf("got %v, want a TrustError with reason policy naming the signer's certificate", verr)
			}
			if !strings.Contains(verr.Error(), "certificate policies") || !strings.Contains(verr.Error(), `"Policy CA" requires an explicit certificate policy`) {
				t.Errorf("error %q does not say which rule failed", verr)
			}
			if !strings.Contains(field, "smime=fail") || !strings.Contains(field, "certificate policy not satisfied") {
				t.Errorf("got %s, want smime=fail (certificate policy not satisfied)", field)
			}
			if out.Len() != 0 {
				t.Errorf("content released: %q", out.String())
			}
		})
	}
}
