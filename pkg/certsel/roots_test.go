package certsel

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// TestEmptyRootsTrustNothing (issue #17 item 6): an empty Roots means no
// certificate is trusted, as in pkg/verify; only SkipTrust selects without
// checking trust. Before, empty Roots selected an untrusted certificate.
func TestEmptyRootsTrustNothing(t *testing.T) {
	l := labtest.Default(t)
	caCert, caKey := otherCA(t)
	const alice = "alice@example.com"
	uc, uk := issue(t, certSpec{serial: 5, subject: alice, usage: x509.KeyUsageKeyAgreement}, caCert, caKey)
	untrusted := Found{Cert: uc, Key: uk, Origin: "untrusted"}
	lab := Found{Cert: l.User("alice-encrypt").Cert, Origin: "lab"}
	for _, tc := range []struct {
		name      string
		found     []Found
		roots     []*x509.Certificate
		skipTrust bool
		want      string // the origin selected, "" for none
		rule      Rule   // the rule of the first candidate
	}{
		{"empty roots reject an untrusted certificate", []Found{untrusted}, nil, false, "", Untrusted},
		{"empty roots reject a lab certificate too", []Found{lab}, nil, false, "", Untrusted},
		{"empty, non-nil roots trust nothing", []Found{untrusted}, []*x509.Certificate{}, false, "", Untrusted},
		{"skip trust selects it", []Found{untrusted}, nil, true, "untrusted", Passed},
		{"roots given: the untrusted one is rejected", []Found{untrusted, lab}, []*x509.Certificate{l.Root.Cert}, false, "lab", Untrusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Sources: []Source{static{"test", tc.found}}, Now: func() time.Time { return at },
				Roots: tc.roots, Intermediates: []*x509.Certificate{l.Intermediate.Cert}, SkipTrust: tc.skipTrust}
			sel, err := Select(context.Background(), alice, PurposeEncrypt, opts)
			var cands []Candidate
			var nm *NoMatchError
			switch {
			case tc.want == "" && errors.As(err, &nm):
				cands = nm.Candidates
			case tc.want != "" && err == nil && sel.Origin == tc.want:
				cands = sel.Candidates
			default:
				t.Fatalf("got %v, %v; want %q", sel, err, tc.want)
			}
			if cands[0].Rule != tc.rule {
				t.Errorf("first candidate: rule %v (%s), want %v", cands[0].Rule, cands[0].Detail, tc.rule)
			}
		})
	}
}

// TestPurposeText: Purpose reads and writes the CLI's names and words
// messages as before (issue #17 item 1: certsel's own Purpose).
func TestPurposeText(t *testing.T) {
	for _, tc := range []struct {
		text, str string
		p         Purpose
	}{{"sign", "signing", PurposeSign}, {"encrypt", "encryption", PurposeEncrypt}} {
		var p Purpose
		if err := p.UnmarshalText([]byte(tc.text)); err != nil || p != tc.p {
			t.Errorf("UnmarshalText(%q) = %v, %v", tc.text, p, err)
		}
		if b, err := tc.p.MarshalText(); err != nil || string(b) != tc.text || tc.p.String() != tc.str || tc.p.usage().String() != tc.str {
			t.Errorf("%v: MarshalText %q, %v; String %q", tc.p, b, err, tc.p.String())
		}
	}
	for _, bad := range []string{"", "Sign", "any", "encryption"} {
		var p Purpose
		if err := p.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) accepted", bad)
		}
	}
	if _, err := Purpose(7).MarshalText(); err == nil {
		t.Error("Purpose(7) has a name")
	}
}

// TestUsageText: Usage names key usage bits as reports and JSON always
// have (issue #17 item 4: a named type instead of a string).
func TestUsageText(t *testing.T) {
	for u, want := range map[Usage]string{
		0: "any",
		Usage(x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment): "digitalSignature,keyEncipherment",
		Usage(x509.KeyUsageKeyAgreement):                                    "keyAgreement",
	} {
		if b, err := u.MarshalText(); err != nil || string(b) != want || u.String() != want {
			t.Errorf("%d: %q, %v; want %q", u, b, err, want)
		}
	}
}

// smimectl's PKCS#11 token is a Token without certsel naming its package
// (issue #17 item 1): keys.TokenCert and TokenCertificate are one type.
var _ Token = (*keys.Token)(nil)
