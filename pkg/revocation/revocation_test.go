package revocation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func mkCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: t0, NotAfter: t0.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, k
}

func mkLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, serial int64) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: t0, NotAfter: t0.AddDate(5, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, k.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func mkCRL(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, this, next time.Time, revoked ...x509.RevocationListEntry) *x509.RevocationList {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: this, NextUpdate: next, RevokedCertificateEntries: revoked}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	crls, err := ParseCRLs(pemBytes)
	if err != nil || len(crls) != 1 {
		t.Fatal(err)
	}
	return crls[0]
}

func TestCRLChecker(t *testing.T) {
	ca, caKey := mkCA(t, "ca")
	other, otherKey := mkCA(t, "ca") // same name, other key: its CRL must not count
	good := mkLeaf(t, ca, caKey, 10)
	bad := mkLeaf(t, ca, caKey, 11)
	revokedAt := t0.AddDate(0, 3, 0)
	crl := mkCRL(t, ca, caKey, t0.AddDate(0, 4, 0), t0.AddDate(1, 0, 0),
		x509.RevocationListEntry{SerialNumber: big.NewInt(11), RevocationTime: revokedAt, ReasonCode: 1})
	forged := mkCRL(t, other, otherKey, t0.AddDate(0, 4, 0), t0.AddDate(1, 0, 0))
	_ = other

	tests := []struct {
		name    string
		mode    Mode
		crls    []*x509.RevocationList
		cert    *x509.Certificate
		at      time.Time
		status  Status
		wantErr any
	}{
		{"good", Soft, []*x509.RevocationList{crl}, good, t0.AddDate(0, 6, 0), Good, nil},
		{"revoked", Soft, []*x509.RevocationList{crl}, bad, t0.AddDate(0, 6, 0), Revoked, new(*RevokedError)},
		{"revoked in hard mode", Hard, []*x509.RevocationList{crl}, bad, t0.AddDate(0, 6, 0), Revoked, new(*RevokedError)},
		{"before revocation", Soft, []*x509.RevocationList{crl}, bad, t0.AddDate(0, 1, 0), Good, nil},
		{"no crl soft", Soft, nil, good, t0, Unknown, nil},
		{"no crl hard", Hard, nil, good, t0, Unknown, new(*UnavailableError)},
		{"forged crl ignored", Hard, []*x509.RevocationList{forged}, bad, t0.AddDate(0, 6, 0), Unknown, new(*UnavailableError)},
		{"stale crl soft", Soft, []*x509.RevocationList{crl}, good, t0.AddDate(2, 0, 0), Unknown, nil},
		{"stale crl still proves revocation", Soft, []*x509.RevocationList{crl}, bad, t0.AddDate(2, 0, 0), Revoked, new(*RevokedError)},
		{"off", Off, []*x509.RevocationList{crl}, bad, t0.AddDate(0, 6, 0), Skipped, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := New(Options{Mode: tc.mode, CRLs: tc.crls}).Check(context.Background(), tc.cert, ca, tc.at)
			if o.Status != tc.status {
				t.Errorf("status %v, want %v (%s)", o.Status, tc.status, o.Detail)
			}
			switch want := tc.wantErr.(type) {
			case nil:
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
			case **RevokedError:
				if !errors.As(err, want) || !(*want).At.Equal(revokedAt) || (*want).Reason != 1 {
					t.Errorf("error %v, want RevokedError at %v", err, revokedAt)
				}
			case **UnavailableError:
				if !errors.As(err, want) {
					t.Errorf("error %v, want UnavailableError", err)
				}
			}
		})
	}
}

func TestParseCRLsErrors(t *testing.T) {
	for _, in := range []string{"", "garbage", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"} {
		if _, err := ParseCRLs([]byte(in)); err == nil {
			t.Errorf("ParseCRLs(%q): no error", in)
		}
	}
}

// TestNoSourceNamesNoFlag (issue #17 item 4): with nothing to ask, hard mode
// fails with ErrNoSource, and the library's words name no CLI flag (the CLI
// adds "give the CRL with --crl").
func TestNoSourceNamesNoFlag(t *testing.T) {
	ca, caKey := mkCA(t, "CA")
	leaf := mkLeaf(t, ca, caKey, 2)
	o, err := New(Options{Mode: Hard}).Check(context.Background(), leaf, ca, t0.AddDate(0, 1, 0))
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrNoSource) {
		t.Fatalf("got %v, want an *UnavailableError wrapping ErrNoSource", err)
	}
	for _, s := range []string{err.Error(), o.Detail} {
		if strings.Contains(s, "--") {
			t.Errorf("%q names a flag", s)
		}
	}
	// The caller words the option: a command names its flag, as the CLI's
	// "(use --crl)" did before the flag name left this package.
	named := Options{Mode: Hard, OptionName: func(o Option) string {
		if o == OptionCRLs {
			return "--crl"
		}
		return ""
	}}
	o, err = New(named).Check(context.Background(), leaf, ca, t0.AddDate(0, 1, 0))
	want := "no CRL from the issuer was given (use --crl) and the certificate names no distribution point"
	if !errors.Is(err, ErrNoSource) || o.Detail != want {
		t.Errorf("with OptionName: got %v, detail %q; want ErrNoSource, detail %q", err, o.Detail, want)
	}
	if o, _ := New(Options{}).Check(context.Background(), leaf, ca, t0.AddDate(0, 1, 0)); !strings.Contains(o.Detail, "(use Options.CRLs)") {
		t.Errorf("without OptionName: detail %q, want it to name Options.CRLs", o.Detail)
	}
}
