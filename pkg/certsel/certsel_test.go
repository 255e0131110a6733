package certsel

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/revocation"
)

// at is the evaluation time of the tests: a year after the lab's epoch.
var at = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// certSpec describes an extra certificate the lab lacks.
type certSpec struct {
	serial    int64
	subject   string // subject emailAddress, "" for none
	san       []string
	usage     x509.KeyUsage
	eku       []x509.ExtKeyUsage
	notBefore time.Time
	notAfter  time.Time
}

// issue makes a certificate for spec with a fresh P-256 key, issued by
// issuer (the lab intermediate unless given).
func issue(t testing.TB, spec certSpec, issuerCert *x509.Certificate, issuerKey crypto.Signer) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = spec.notBefore.AddDate(5, 0, 0)
	}
	if spec.eku == nil {
		spec.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	}
	name := pkix.Name{Organization: []string{"certsel test"}, CommonName: "extra " + big.NewInt(spec.serial).String()}
	if spec.subject != "" {
		name.ExtraNames = []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 840, 113549, 1, 9, 1}, Value: spec.subject}}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(spec.serial), Subject: name,
		NotBefore: spec.notBefore, NotAfter: spec.notAfter,
		KeyUsage: spec.usage, ExtKeyUsage: spec.eku, EmailAddresses: spec.san,
		BasicConstraintsValid: true,
	}
	if issuerCert == nil {
		l := labtest.Default(t)
		issuerCert, issuerKey = l.Intermediate.Cert, l.Intermediate.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// otherCA is a CA the tests do not trust.
func otherCA(t testing.TB) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "untrusted CA"},
		NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// static is a Source over fixed candidates.
type static struct {
	name  string
	found []Found
}

func (s static) Find(context.Context, string) ([]Found, error) { return s.found, nil }
func (s static) String() string                                { return s.name }

// failing is a Source that cannot be asked.
type failing struct{ err error }

func (f failing) Find(context.Context, string) ([]Found, error) { return nil, f.err }
func (f failing) String() string                                { return "failing" }

func TestSelect(t *testing.T) {
	l := labtest.Default(t)
	u := func(name string) Found {
		usr := l.User(name)
		return Found{Cert: usr.Cert, Key: usr.Key, Origin: name}
	}
	extra := func(origin string, spec certSpec) Found {
		c, k := issue(t, spec, nil, nil)
		return Found{Cert: c, Key: k, Origin: origin}
	}
	const alice = "alice@example.com"
	sig := x509.KeyUsageDigitalSignature
	enc := x509.KeyUsageKeyAgreement // the keys are EC
	aliceDual := extra("alice-dual", certSpec{serial: 100, subject: alice, san: []string{alice}, usage: sig | enc})
	notYet := extra("alice-future", certSpec{serial: 101, subject: alice, usage: enc, notBefore: at.AddDate(1, 0, 0)})
	wrongEKU := extra("alice-tls", certSpec{serial: 102, subject: alice, usage: enc, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	sanOnly := extra("san-only", certSpec{serial: 103, san: []string{"frank@example.com"}, usage: sig})
	tieA := extra("tie-a", certSpec{serial: 200, subject: "gina@example.com", usage: enc})
	tieB := extra("tie-b", certSpec{serial: 201, subject: "gina@example.com", usage: enc})
	newer := extra("newer", certSpec{serial: 300, subject: "gina@example.com", usage: enc, notBefore: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	longer := extra("longer", certSpec{serial: 301, subject: "gina@example.com", usage: enc, notAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)})
	caCert, caKey := otherCA(t)
	uc, uk := issue(t, certSpec{serial: 5, subject: alice, usage: enc}, caCert, caKey)
	untrusted := Found{Cert: uc, Key: uk, Origin: "untrusted"}
	aliased := u("alice-encrypt")
	aliased.Aliases = []string{alice, "al@example.com", "smtp-alias@example.org"}
	noKey := u("alice-sign")
	noKey.Key = nil
	crl, err := x509.ParseRevocationList(l.Intermediate.CRL)
	if err != nil {
		t.Fatal(err)
	}
	trust := func(o *Options) {
		o.Roots = []*x509.Certificate{l.Root.Cert}
		o.Intermediates = []*x509.Certificate{l.Intermediate.Cert}
		o.Revocation = revocation.New(revocation.Options{CRLs: []*x509.RevocationList{crl}, Offline: true})
	}
	rank := func(f Found, r int) Found { f.Rank = r; return f }

	tests := []struct {
		name    string
		address string
		purpose Purpose
		found   []Found
		opts    func(*Options)
		want    string          // Origin of the selected one, "" for no match
		rules   map[string]Rule // Origin -> rule, for the others
		match   string
	}{
		{"signing-only beats dual-use for signing", alice, PurposeSign,
			[]Found{aliceDual, u("alice-encrypt"), u("alice-sign")}, trust, "alice-sign",
			map[string]Rule{"alice-dual": MultiUsage, "alice-encrypt": KeyUsage}, "subject"},
		{"encryption-only beats dual-use for encryption", alice, PurposeEncrypt,
			[]Found{aliceDual, u("alice-sign"), u("alice-encrypt")}, trust, "alice-encrypt",
			map[string]Rule{"alice-dual": MultiUsage, "alice-sign": KeyUsage}, "subject"},
		{"dual-use when it is all there is", alice, PurposeSign,
			[]Found{aliceDual, u("alice-encrypt")}, trust, "alice-dual",
			map[string]Rule{"alice-encrypt": KeyUsage}, "subject"},
		{"expired loses", "dave@example.com", PurposeSign,
			[]Found{u("dave-expired")}, trust, "", map[string]Rule{"dave-expired": Expired}, ""},
		{"not yet valid loses", alice, PurposeEncrypt,
			[]Found{notYet, u("alice-encrypt")}, trust, "alice-encrypt", map[string]Rule{"alice-future": NotYetValid}, "subject"},
		{"wrong key usage loses", "carol@example.com", PurposeEncrypt,
			[]Found{u("alice-sign"), u("carol")}, nil, "carol", map[string]Rule{"alice-sign": Address}, "subject"},
		{"signing-only for encryption loses", alice, PurposeEncrypt,
			[]Found{u("alice-sign")}, nil, "", map[string]Rule{"alice-sign": KeyUsage}, ""},
		{"wrong EKU loses", alice, PurposeEncrypt,
			[]Found{wrongEKU}, trust, "", map[string]Rule{"alice-tls": ExtKeyUsage}, ""},
		{"SAN-only address found", "frank@EXAMPLE.com", PurposeSign,
			[]Found{sanOnly}, trust, "san-only", nil, "subjectAltName"},
		{"local part is case-sensitive", "Frank@example.com", PurposeSign,
			[]Found{sanOnly}, trust, "", map[string]Rule{"san-only": Address}, ""},
		{"alias found through the directory", "al@example.com", PurposeEncrypt,
			[]Found{aliased}, trust, "alice-encrypt", nil, "proxy"},
		{"alias not used with no proxies", "al@example.com", PurposeEncrypt,
			[]Found{aliased}, func(o *Options) { trust(o); o.NoProxies = true }, "",
			map[string]Rule{"alice-encrypt": NoProxies}, ""},
		{"alias without the directory does not match", "al@example.com", PurposeEncrypt,
			[]Found{u("alice-encrypt")}, trust, "", map[string]Rule{"alice-encrypt": Address}, ""},
		{"revoked loses", "eve@example.com", PurposeSign,
			[]Found{u("eve-revoked")}, trust, "", map[string]Rule{"eve-revoked": Revoked}, ""},
		{"revocation not checked without a checker", "eve@example.com", PurposeSign,
			[]Found{u("eve-revoked")}, func(o *Options) { trust(o); o.Revocation = nil }, "eve-revoked", nil, "subject"},
		{"revocation unavailable in hard mode", "bob@example.com", PurposeSign,
			[]Found{u("bob")}, func(o *Options) {
				trust(o)
				o.Revocation = revocation.New(revocation.Options{Mode: revocation.Hard, Offline: true})
			}, "", map[string]Rule{"bob": RevocationUnavailable}, ""},
		{"untrusted loses", alice, PurposeEncrypt,
			[]Found{untrusted, u("alice-encrypt")}, trust, "alice-encrypt", map[string]Rule{"untrusted": Untrusted}, "subject"},
		{"untrusted accepted when trust is not checked", alice, PurposeEncrypt,
			[]Found{rank(untrusted, 0), rank(u("alice-encrypt"), 1)}, nil, "untrusted",
			map[string]Rule{"alice-encrypt": SourceOrder}, "subject"},
		{"tie-break: lower serial", "gina@example.com", PurposeEncrypt,
			[]Found{tieB, tieA}, trust, "tie-a", map[string]Rule{"tie-b": TieBreak}, "subject"},
		{"tie-break: latest notBefore", "gina@example.com", PurposeEncrypt,
			[]Found{tieA, newer, tieB}, trust, "newer", map[string]Rule{"tie-a": TieBreak, "tie-b": TieBreak}, "subject"},
		{"tie-break: longest validity", "gina@example.com", PurposeEncrypt,
			[]Found{tieA, longer}, trust, "longer", map[string]Rule{"tie-a": TieBreak}, "subject"},
		{"source order before dates", "gina@example.com", PurposeEncrypt,
			[]Found{rank(newer, 1), rank(tieB, 0)}, trust, "tie-b", map[string]Rule{"newer": SourceOrder}, "subject"},
		{"private key required", alice, PurposeSign,
			[]Found{noKey}, func(o *Options) { trust(o); o.RequireKey = true }, "", map[string]Rule{"alice-sign": PrivateKey}, ""},
		{"smart-card-only refuses a software key", alice, PurposeSign,
			[]Found{u("alice-sign")}, func(o *Options) { trust(o); o.RequireKey, o.SmartCardOnly = true, true }, "",
			map[string]Rule{"alice-sign": SmartCardOnly}, ""},
		{"smart-card-only accepts a hardware key", alice, PurposeSign,
			[]Found{func() Found { f := u("alice-sign"); f.Hardware = true; return f }()},
			func(o *Options) { trust(o); o.RequireKey, o.SmartCardOnly = true, true }, "alice-sign", nil, "subject"},
		{"duplicate", alice, PurposeSign,
			[]Found{u("alice-sign"), u("alice-sign")}, trust, "alice-sign", nil, "subject"},
		{"nothing found", alice, PurposeSign, nil, trust, "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Sources: []Source{static{"test", tc.found}}, Now: func() time.Time { return at }}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			// The cases without roots were written when empty Roots meant
			// "trust not checked"; that is SkipTrust now (issue #17 item 6).
			opts.SkipTrust = len(opts.Roots) == 0
			sel, err := Select(context.Background(), tc.address, tc.purpose, opts)
			var cands []Candidate
			if tc.want == "" {
				var nm *NoMatchError
				if !errors.As(err, &nm) {
					t.Fatalf("got %v, %v, want a *NoMatchError", sel, err)
				}
				if nm.Address != tc.address || nm.Purpose != tc.purpose || len(nm.Candidates) != len(tc.found) {
					t.Fatalf("got %+v", nm)
				}
				cands = nm.Candidates
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if sel.Origin != tc.want {
					t.Fatalf("selected %s, want %s; candidates: %s", sel.Origin, tc.want, explain(sel.Candidates))
				}
				cands = sel.Candidates
				var n int
				for _, c := range cands {
					if c.Verdict == Selected {
						n++
						if c.Match != tc.match || c.Rule != Passed || c.Cert != sel.Certificate {
							t.Errorf("selected candidate %+v, want match %s", c, tc.match)
						}
					}
				}
				if n != 1 {
					t.Errorf("%d selected candidates, want 1", n)
				}
			}
			for origin, rule := range tc.rules {
				i := slices.IndexFunc(cands, func(c Candidate) bool { return c.Origin == origin })
				if i < 0 {
					t.Fatalf("no candidate %s", origin)
				}
				if c := cands[i]; c.Rule != rule || c.Detail == "" {
					t.Errorf("%s: got rule %s (%s), want %s", origin, c.Rule, c.Detail, rule)
				} else if rule >= MultiUsage && c.Verdict != Outranked || rule < MultiUsage && c.Verdict != Rejected {
					t.Errorf("%s: verdict %s for rule %s", origin, c.Verdict, rule)
				}
			}
			// The answer does not depend on the order sources list candidates in.
			rev := slices.Clone(tc.found)
			slices.Reverse(rev)
			opts.Sources = []Source{static{"test", rev}}
			sel2, err2 := Select(context.Background(), tc.address, tc.purpose, opts)
			if (err == nil) != (err2 == nil) || sel != nil && sel2.Certificate != sel.Certificate {
				t.Errorf("reversed candidates: got %v, %v", sel2, err2)
			}
		})
	}
}

func explain(cands []Candidate) string {
	var b strings.Builder
	for _, c := range cands {
		b.WriteString(c.Origin + ":" + c.Verdict.String() + "/" + c.Rule.String() + " " + c.Detail + "; ")
	}
	return b.String()
}

func TestRuleNames(t *testing.T) {
	seen := map[string]bool{}
	for r := Passed; r <= TieBreak; r++ {
		s := r.String()
		if s == "" || strings.HasPrefix(s, "rule(") || seen[s] {
			t.Errorf("rule %d has name %q", int(r), s)
		}
		seen[s] = true
	}
	if got := Rule(99).String(); got != "rule(99)" {
		t.Errorf("got %q", got)
	}
}

func TestSourceError(t *testing.T) {
	cause := errors.New("connection refused")
	_, err := Select(context.Background(), "a@example.com", PurposeSign,
		Options{Sources: []Source{failing{cause}}})
	var se *SourceError
	if !errors.As(err, &se) || !errors.Is(err, cause) || se.Source != "failing" {
		t.Fatalf("got %v", err)
	}
	if se.Temporary() {
		t.Error("a plain error is not temporary")
	}
	se = &SourceError{Source: "x", Err: context.DeadlineExceeded}
	if !se.Temporary() {
		t.Error("a deadline is temporary")
	}
}

func TestNoMatchErrorMessage(t *testing.T) {
	l := labtest.Default(t)
	_, err := Select(context.Background(), "dave@example.com", PurposeSign, Options{
		Sources: []Source{static{"s", []Found{{Cert: l.User("dave-expired").Cert}, {Cert: l.User("bob").Cert}}}},
		Now:     func() time.Time { return at },
	})
	want := "certsel: no usable signing certificate for dave@example.com (2 candidates rejected: 1 expired, 1 address)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	_, err = Select(context.Background(), "x@example.com", PurposeEncrypt, Options{})
	if want := "certsel: no encryption certificate found for x@example.com"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestFilesAndPKCS12(t *testing.T) {
	l := labtest.Default(t)
	dir := t.TempDir()
	if err := l.WriteDir(dir, "pw"); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Now:        func() time.Time { return at },
		Roots:      []*x509.Certificate{l.Root.Cert},
		RequireKey: true,
	}
	ctx := context.Background()

	// A directory of certificates with key files beside them.
	opts.Sources = []Source{Files{Path: dir}}
	sel, err := Select(ctx, "alice@example.com", PurposeSign, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Certificate.Equal(l.User("alice-sign").Cert) || sel.Key == nil || sel.Origin != filepath.Join(dir, "alice-sign.crt") {
		t.Fatalf("got %s from %s", sel.Certificate.Subject, sel.Origin)
	}
	if len(sel.Chain) != 2 || !sel.Chain[0].Equal(l.Intermediate.Cert) {
		t.Errorf("chain %v", sel.Chain)
	}
	for _, c := range sel.Candidates {
		if c.Cert.IsCA {
			t.Errorf("CA certificate %s is a candidate", c.Cert.Subject)
		}
	}

	// A single file: no key.
	opts.Sources = []Source{Files{Path: filepath.Join(dir, "alice-sign.crt")}}
	var nm *NoMatchError
	if _, err := Select(ctx, "alice@example.com", PurposeSign, opts); !errors.As(err, &nm) || nm.Candidates[0].Rule != PrivateKey {
		t.Fatalf("got %v", err)
	}

	// The certificate alone first (as from a directory), then with its key:
	// the copy with the key is no duplicate when a key is required, and the
	// keyless one loses for lack of it; the reverse order is a duplicate.
	alone := Files{Path: filepath.Join(dir, "alice-sign.crt")}
	opts.Sources = []Source{alone, Files{Path: dir}}
	sel, err = Select(ctx, "alice@example.com", PurposeSign, opts)
	if err != nil || sel.Key == nil || sel.Origin != filepath.Join(dir, "alice-sign.crt") || sel.Candidates[0].Rule != PrivateKey {
		t.Fatalf("keyless first: %v\n%s", err, explain(candidatesOrNone(sel)))
	}
	opts.Sources = []Source{Files{Path: dir}, alone}
	if sel, err = Select(ctx, "alice@example.com", PurposeSign, opts); err != nil || sel.Candidates[len(sel.Candidates)-1].Rule != Duplicate {
		t.Fatalf("keyless last: %v\n%s", err, explain(candidatesOrNone(sel)))
	}
	opts.RequireKey = false
	opts.Sources = []Source{alone, Files{Path: dir}}
	if sel, err = Select(ctx, "alice@example.com", PurposeSign, opts); err != nil || sel.Origin != alone.Path || !slices.ContainsFunc(sel.Candidates, func(c Candidate) bool { return c.Rule == Duplicate }) {
		t.Fatalf("no key required: %v\n%s", err, explain(candidatesOrNone(sel)))
	}
	opts.RequireKey = true

	// PKCS#12 files, with the right and the wrong password.
	pw := func(s string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(s), nil } }
	opts.Sources = []Source{
		PKCS12{Path: filepath.Join(dir, "bob.p12"), Password: pw("pw")},
		PKCS12{Path: filepath.Join(dir, "alice-sign.p12"), Password: pw("pw")},
	}
	sel, err = Select(ctx, "alice@example.com", PurposeSign, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Certificate.Equal(l.User("alice-sign").Cert) || sel.Key == nil || len(sel.Chain) != 2 {
		t.Fatalf("got %s", explain(sel.Candidates))
	}
	opts.Sources = []Source{PKCS12{Path: filepath.Join(dir, "bob.p12"), Password: pw("wrong")}}
	if _, err := Select(ctx, "bob@example.com", PurposeSign, opts); err == nil || !strings.Contains(err.Error(), "bob.p12") {
		t.Fatalf("got %v", err)
	}

	// A missing file is a source error naming it.
	opts.Sources = []Source{Files{Path: filepath.Join(dir, "nope")}}
	var se *SourceError
	if _, err := Select(ctx, "alice@example.com", PurposeSign, opts); !errors.As(err, &se) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func candidatesOrNone(sel *Selection) []Candidate {
	if sel == nil {
		return nil
	}
	return sel.Candidates
}

func TestRecipients(t *testing.T) {
	l := labtest.Default(t)
	var found []Found
	for _, u := range l.Users {
		found = append(found, Found{Cert: u.Cert, Origin: u.Name})
	}
	opts := RecipientOptions{Options: Options{Sources: []Source{Memory{"lab", found}}, Now: func() time.Time { return at }, SkipTrust: true}}
	sels, err := Recipients(context.Background(), []string{"alice@example.com", "nobody@example.com", "bob@example.com", "dave@example.com"}, opts)
	var me *MissingError
	if !errors.As(err, &me) || len(me.Missing) != 2 || me.Missing[0].Address != "nobody@example.com" || me.Missing[1].Address != "dave@example.com" {
		t.Fatalf("got %v", err)
	}
	if want := "certsel: no usable encryption certificate for nobody@example.com, dave@example.com"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	var nm *NoMatchError
	if !errors.As(err, &nm) {
		t.Error("a MissingError unwraps to its NoMatchErrors")
	}
	if len(sels) != 4 || sels[0].Origin != "alice-encrypt" || sels[1] != nil || sels[2].Origin != "bob" || sels[3] != nil {
		t.Fatalf("got %v", sels)
	}
	opts.MaxRecipients = 1
	var le *LimitError
	if _, err := Recipients(context.Background(), []string{"a@example.com", "b@example.com"}, opts); !errors.As(err, &le) || le.Count != 2 || le.Limit != 1 {
		t.Fatalf("got %v", err)
	}
}
