package verify_test

// Issue #11 item 7: a certificate checked on its own, by the verifier's own
// chain, key usage and revocation code (verify.Certificate).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

func TestCertificate(t *testing.T) {
	l := labtest.Default(t)
	var crls []*x509.RevocationList
	for _, der := range [][]byte{l.Intermediate.CRL, l.Root.CRL} {
		c, err := revocation.ParseCRLs(der)
		if err != nil {
			t.Fatal(err)
		}
		crls = append(crls, c...)
	}
	other := labtest.Seeded(t, "other")
	roots := []*x509.Certificate{l.Root.Cert}
	inter := []*x509.Certificate{l.Intermediate.Cert}
	withCRLs := revocation.New(revocation.Options{CRLs: crls, Offline: true})
	base := func() verify.Options {
		return verify.Options{Roots: roots, Intermediates: inter, Now: func() time.Time { return at }, Revocation: withCRLs}
	}
	reason := func(r verify.TrustReason) func(error) bool {
		return func(err error) bool {
			var te *verify.TrustError
			return errors.As(err, &te) && te.Reason == r
		}
	}
	tests := []struct {
		name    string
		cert    *x509.Certificate
		purpose verify.Purpose
		opts    func(*verify.Options)
		check   func(error) bool // nil: valid
		errText string           // in the error and in CertificateResult.Error
		// checks are the names and statuses of the result's checks, in order.
		checks string
	}{
		{name: "signing cert for signing", cert: l.User("alice-sign").Cert, purpose: verify.PurposeSign,
			checks: "chain:pass key-usage:pass revocation:pass revocation:pass"},
		{name: "encryption cert for encryption", cert: l.User("alice-encrypt").Cert, purpose: verify.PurposeEncrypt,
			checks: "chain:pass key-usage:pass revocation:pass revocation:pass"},
		{name: "ecdsa key agreement for encryption", cert: l.User("carol").Cert, purpose: verify.PurposeEncrypt},
		{name: "encryption cert for any purpose", cert: l.User("alice-encrypt").Cert, purpose: verify.PurposeAny,
			checks: "chain:pass key-usage:skipped revocation:pass revocation:pass"},
		{name: "encryption cert for signing", cert: l.User("alice-encrypt").Cert, purpose: verify.PurposeSign,
			check: reason(verify.IncompatibleUsage), errText: "the certificate may not be used to sign mail: signing: key usage does not allow it (it allows keyEncipherment)",
			checks: "chain:pass key-usage:fail"},
		{name: "signing cert for encryption", cert: l.User("alice-sign").Cert, purpose: verify.PurposeEncrypt,
			check: reason(verify.IncompatibleUsage), errText: "the certificate may not be used to encrypt mail: encryption: key usage does not allow it",
			checks: "chain:pass key-usage:fail"},
		{name: "no trusted root", cert: l.User("alice-sign").Cert, purpose: verify.PurposeSign,
			opts:  func(o *verify.Options) { o.Roots = nil },
			check: reason(verify.Untrusted), errText: "the certificate was issued by an untrusted source",
			checks: "chain:fail"},
		{name: "another lab's root", cert: l.User("alice-sign").Cert, purpose: verify.PurposeAny,
			opts:  func(o *verify.Options) { o.Roots = []*x509.Certificate{other.Root.Cert} },
			check: reason(verify.Untrusted), checks: "chain:fail"},
		{name: "missing intermediate", cert: l.User("alice-sign").Cert, purpose: verify.PurposeSign,
			opts:  func(o *verify.Options) { o.Intermediates = nil },
			check: reason(verify.Untrusted), errText: `issued by an untrusted source (CN=smimectl lab intermediate CA`},
		{name: "a root given as intermediate is not trusted", cert: l.User("alice-sign").Cert, purpose: verify.PurposeSign,
			opts:  func(o *verify.Options) { o.Roots, o.Intermediates = nil, l.Chain() },
			check: reason(verify.Untrusted), errText: "is a self-signed root that is not trusted"},
		{name: "expired", cert: l.User("dave-expired").Cert, purpose: verify.PurposeSign,
			check: reason(verify.Expired), errText: "the certificate has expired: CN=Dave", checks: "chain:fail"},
		{name: "expired is valid before it expired", cert: l.User("dave-expired").Cert, purpose: verify.PurposeSign,
			opts: func(o *verify.Options) {
				o.Now = func() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }
			}},
		{name: "not yet valid", cert: l.User("alice-sign").Cert, purpose: verify.PurposeSign,
			opts: func(o *verify.Options) {
				o.Now = func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }
			},
			check: reason(verify.NotYetValid), errText: "the certificate is not yet valid"},
		{name: "revoked", cert: l.User("eve-revoked").Cert, purpose: verify.PurposeAny,
			check: func(err error) bool {
				var re *revocation.RevokedError
				return errors.As(err, &re) && re.Reason == 1
			}, errText: "was revoked on 2025-04-01T00:00:00Z, reason: keyCompromise",
			checks: "chain:pass key-usage:skipped revocation:fail"},
		{name: "revoked, not checked", cert: l.User("eve-revoked").Cert, purpose: verify.PurposeSign,
			opts: func(o *verify.Options) { o.Revocation = nil }, checks: "chain:pass key-usage:pass revocation:skipped"},
		{name: "no revocation answer in hard mode", cert: l.User("eve-revoked").Cert, purpose: verify.PurposeSign,
			opts: func(o *verify.Options) {
				o.Revocation = revocation.New(revocation.Options{Mode: revocation.Hard, Offline: true})
			},
			check: func(err error) bool {
				var ue *revocation.UnavailableError
				return errors.As(err, &ue)
			}, errText: "no revocation information for E=eve@example.com,CN=Eve"},
		{name: "no revocation answer in soft mode warns", cert: l.User("alice-sign").Cert, purpose: verify.PurposeSign,
			opts:   func(o *verify.Options) { o.Revocation = revocation.New(revocation.Options{Offline: true}) },
			checks: "chain:pass key-usage:pass revocation:warning revocation:warning"},
		{name: "the root itself for any purpose", cert: l.Root.Cert, purpose: verify.PurposeAny, checks: "chain:pass key-usage:skipped"},
		{name: "the root itself for signing", cert: l.Root.Cert, purpose: verify.PurposeSign,
			check: reason(verify.IncompatibleUsage), checks: "chain:pass key-usage:fail"},
		{name: "the intermediate for any purpose", cert: l.Intermediate.Cert, purpose: verify.PurposeAny,
			checks: "chain:pass key-usage:skipped revocation:pass"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := base()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			res, err := verify.Certificate(context.Background(), tc.cert, tc.purpose, opts)
			if res == nil {
				t.Fatalf("no result (error %v)", err)
			}
			if tc.check == nil {
				if err != nil || !res.Valid || res.Error != "" {
					t.Fatalf("got error %v, valid %v; want valid", err, res.Valid)
				}
				if len(res.Chain) < 1 || !res.ChainCerts[0].Equal(tc.cert) || res.Chain[len(res.Chain)-1].Subject != "CN=smimectl lab root CA,O=smimectl lab" {
					t.Errorf("chain %+v, want from the certificate to the lab root", res.Chain)
				}
			} else {
				var ce *verify.CertificateError
				if err == nil || !tc.check(err) || !errors.As(err, &ce) || ce.Cert != tc.cert || ce.Purpose != tc.purpose {
					t.Fatalf("got error %v (%T), want a *verify.CertificateError matching the check", err, err)
				}
				if res.Valid || res.Error != err.Error() || !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("valid %v, result error %q, error %q; want invalid, the same error, containing %q", res.Valid, res.Error, err, tc.errText)
				}
				if strings.Contains(err.Error(), "signer") {
					t.Errorf("error %q speaks of a signer", err)
				}
			}
			if tc.checks != "" {
				var got []string
				for _, c := range res.Checks {
					got = append(got, c.Name.String()+":"+string(c.Status))
				}
				if strings.Join(got, " ") != tc.checks {
					t.Errorf("checks %q, want %q", strings.Join(got, " "), tc.checks)
				}
			}
			if res.Purpose != tc.purpose || !res.At.Equal(opts.Now()) || res.Certificate.Serial != strings.ToUpper(tc.cert.SerialNumber.Text(16)) {
				t.Errorf("result says purpose %v, at %v, serial %s", res.Purpose, res.At, res.Certificate.Serial)
			}
		})
	}
}

// TestCertificateSameAsVerify: the certificate of a message's signer gets
// the same chain, key-usage and revocation checks from Certificate as from
// Verify, since both run the same code.
func TestCertificateSameAsVerify(t *testing.T) {
	l := labtest.Default(t)
	crls, err := revocation.ParseCRLs(l.Intermediate.CRL)
	if err != nil {
		t.Fatal(err)
	}
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
		Revocation: revocation.New(revocation.Options{CRLs: crls, Offline: true})}
	for _, user := range []string{"alice-sign", "alice-encrypt", "dave-expired", "eve-revoked"} {
		t.Run(user, func(t *testing.T) {
			msg := signAs(t, l, user, 0, l.User(user).Email, true)
			vres, verr := verify.Verify(context.Background(), new(bytes.Buffer), bytes.NewReader(msg), opts)
			if vres == nil {
				t.Fatalf("verify: no result: %v", verr)
			}
			copts := opts
			copts.Intermediates = l.Chain()[:1]
			cres, cerr := verify.Certificate(context.Background(), l.User(user).Cert, verify.PurposeSign, copts)
			if (verr == nil) != (cerr == nil) {
				t.Fatalf("verify says %v, Certificate says %v", verr, cerr)
			}
			// dave's certificate had expired when he signed: Verify stops at
			// the signing-time check, before the chain check of now.
			want := certChecks(vres.Signers[0].Checks)
			got := certChecks(cres.Checks)
			if want != "" && got != want {
				t.Errorf("Certificate's checks\n%s\nwant Verify's\n%s", got, want)
			}
			var te1, te2 *verify.TrustError
			if errors.As(verr, &te1) != errors.As(cerr, &te2) || (te1 != nil && te1.Reason != te2.Reason) {
				t.Errorf("verify error %v, Certificate error %v: not the same kind", verr, cerr)
			}
		})
	}
}

// certChecks renders the certificate checks of a signer (the chain, key
// usage and revocation, leaving out those about the message).
func certChecks(cs []verify.Check) string {
	var b strings.Builder
	for _, c := range cs {
		switch c.Name {
		case "chain", "chain-signatures", "key-usage", "revocation":
			b.WriteString(c.Name.String() + " " + string(c.Status) + " " + c.Detail + "\n")
		}
	}
	return b.String()
}

func TestCertificateJSON(t *testing.T) {
	l := labtest.Default(t)
	res, err := verify.Certificate(context.Background(), l.User("alice-sign").Cert, verify.PurposeSign,
		verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Intermediates: l.Chain()[:1], Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{"at":"2026-01-01T00:00:00Z","purpose":"sign","valid":true,"certificate":{"subject":"E=alice@example.com,CN=Alice,O=smimectl lab",`,
		`"chain":[{"subject":"E=alice@example.com,CN=Alice,O=smimectl lab"`,
		`{"subject":"CN=smimectl lab root CA,O=smimectl lab","issuer":"CN=smimectl lab root CA,O=smimectl lab"`,
		`"checks":[{"name":"chain","status":"pass","detail":"trusted: Alice \u003c- smimectl lab intermediate CA \u003c- smimectl lab root CA"}`,
		`{"name":"revocation","status":"skipped","detail":"revocation was not checked"}]}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	if _, err := verify.Certificate(context.Background(), nil, verify.PurposeSign, verify.Options{}); err == nil {
		t.Error("a nil certificate: no error")
	}
	if _, err := verify.Certificate(context.Background(), l.Root.Cert, verify.Purpose(7), verify.Options{}); err == nil {
		t.Error("an unknown purpose: no error")
	}
}

// TestParsePurpose: UnmarshalText reads what String writes, and refuses
// other words (ParsePurpose became UnmarshalText, issue #17 item 4).
func TestParsePurpose(t *testing.T) {
	for _, p := range []verify.Purpose{verify.PurposeSign, verify.PurposeEncrypt, verify.PurposeAny} {
		var got verify.Purpose
		err := got.UnmarshalText([]byte(p.String()))
		if err != nil || got != p {
			t.Errorf("UnmarshalText(%q) = %v, %v", p, got, err)
		}
	}
	var p verify.Purpose
	if err := p.UnmarshalText([]byte("signing")); err == nil {
		t.Error(`UnmarshalText("signing"): no error`)
	}
}

func TestReadCertificates(t *testing.T) {
	l := labtest.Default(t)
	pemOf := func(certs ...*x509.Certificate) []byte {
		var b bytes.Buffer
		for _, c := range certs {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		return b.Bytes()
	}
	alice := l.User("alice-sign").Cert
	many := bytes.Repeat(pemOf(l.Root.Cert), verify.MaxFileCertificates+1)
	if len(many) > verify.MaxCertificateFileSize {
		t.Fatalf("the too-many-certificates input is %d bytes, past the size limit", len(many))
	}
	tests := []struct {
		name  string
		data  []byte
		count int    // certificates read; 0 for an error
		err   string // in the *MalformedCertificateError
	}{
		{"pem leaf", pemOf(alice), 1, ""},
		{"pem leaf and chain", pemOf(alice, l.Intermediate.Cert, l.Root.Cert), 3, ""},
		{"der", alice.Raw, 1, ""},
		{"empty", nil, 0, "the file is empty"},
		{"blank", []byte("\n \n"), 0, "the file is empty"},
		{"garbage", []byte("this is not a certificate\n"), 0, "no certificate found"},
		{"pem without certificates", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0, "no certificate found"},
		{"truncated der", alice.Raw[:len(alice.Raw)/2], 0, "not a certificate file"},
		{"huge", bytes.Repeat([]byte("A"), verify.MaxCertificateFileSize+1), 0, "larger than 4194304 bytes"},
		{"too many certificates", many, 0, "holds 1001 certificates, more than 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := verify.ReadCertificates(bytes.NewReader(tc.data))
			if tc.count > 0 {
				if err != nil || len(certs) != tc.count || !certs[0].Equal(alice) {
					t.Fatalf("got %d certificates, error %v; want %d, alice's first", len(certs), err, tc.count)
				}
				return
			}
			var me *verify.MalformedCertificateError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.err) || certs != nil {
				t.Errorf("got %d certificates, error %v; want a *MalformedCertificateError containing %q", len(certs), err, tc.err)
			}
		})
	}
}

// TestReadCertificatesHugeStream: a file that never ends is read only up
// to the limit.
func TestReadCertificatesHugeStream(t *testing.T) {
	r := &countingReader{}
	_, err := verify.ReadCertificates(r)
	var me *verify.MalformedCertificateError
	if !errors.As(err, &me) {
		t.Fatalf("error %v, want a *MalformedCertificateError", err)
	}
	if r.n > verify.MaxCertificateFileSize+64<<10 {
		t.Errorf("read %d bytes of an endless file, want about %d", r.n, verify.MaxCertificateFileSize)
	}
}

// countingReader is an endless stream of 'A' that counts what was read.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	r.n += len(p)
	return len(p), nil
}

func TestLeaf(t *testing.T) {
	l := labtest.Default(t)
	alice, bob := l.User("alice-sign").Cert, l.User("bob").Cert
	in, root := l.Intermediate.Cert, l.Root.Cert
	cross := crossPair(t)
	tests := []struct {
		name  string
		certs []*x509.Certificate
		leaf  *x509.Certificate
		rest  []*x509.Certificate
		err   string // in the *AmbiguousCertificateError
	}{
		{"one", []*x509.Certificate{alice}, alice, nil, ""},
		{"a CA alone", []*x509.Certificate{root}, root, nil, ""},
		{"leaf first", []*x509.Certificate{alice, in, root}, alice, []*x509.Certificate{in, root}, ""},
		{"leaf last", []*x509.Certificate{root, in, alice}, alice, []*x509.Certificate{root, in}, ""},
		{"leaf twice", []*x509.Certificate{alice, in, alice}, alice, []*x509.Certificate{in}, ""},
		{"the chain alone", []*x509.Certificate{in, root}, in, []*x509.Certificate{root}, ""},
		{"two users", []*x509.Certificate{alice, in, bob}, nil, nil, `2 of its 3 certificates issued none of the others ("E=alice@example.com,CN=Alice,O=smimectl lab", "E=bob@example.com,CN=Bob,O=smimectl lab")`},
		{"a user and an unrelated root", []*x509.Certificate{alice, root}, nil, nil, "2 of its 2 certificates"},
		{"a loop", cross, nil, nil, "each of its 2 certificates issued another one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf, rest, err := verify.Leaf(tc.certs)
			if tc.err != "" {
				var ae *verify.AmbiguousCertificateError
				if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.err) || leaf != nil {
					t.Fatalf("leaf %v, error %v; want a *AmbiguousCertificateError containing %q", leaf, err, tc.err)
				}
				return
			}
			if err != nil || !leaf.Equal(tc.leaf) || len(rest) != len(tc.rest) {
				t.Fatalf("leaf %v, %d others, error %v; want %v and %d others", leaf.Subject, len(rest), err, tc.leaf.Subject, len(tc.rest))
			}
			for i := range rest {
				if !rest[i].Equal(tc.rest[i]) {
					t.Errorf("other %d is %v, want %v", i, rest[i].Subject, tc.rest[i].Subject)
				}
			}
		})
	}
	if _, _, err := verify.Leaf(nil); err == nil {
		t.Error("no certificates: no error")
	}
}

// crossPair returns two CA certificates that issued each other: "Loop A"
// signed by B's key, "Loop B" signed by A's.
func crossPair(t *testing.T) []*x509.Certificate {
	t.Helper()
	var keys [2]*ecdsa.PrivateKey
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	names := [2]pkix.Name{{CommonName: "Loop A"}, {CommonName: "Loop B"}}
	var certs []*x509.Certificate
	for i := range 2 {
		j := 1 - i
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: names[i],
			NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}
		parent := &x509.Certificate{Subject: names[j], PublicKey: keys[j].Public()}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, keys[i].Public(), keys[j])
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	return certs
}
