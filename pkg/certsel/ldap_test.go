package certsel

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mozilla.org/pkcs7"

	"github.com/smimectl/smimectl/internal/testpeer"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// directoryLDIF renders the entries of the LDAP tests: Alice with her
// encryption certificate in userCertificate and a different, newer one in
// userSMIMECertificate (a PKCS#7 bundle with the chain), aliases in
// proxyAddresses as Active Directory writes them; Dave (expired) and Eve
// (revoked); Bob as a user with his certificate and as a contact with
// another, newer one (contactBob).
func directoryLDIF(t *testing.T, smimeAlice, contactBob *x509.Certificate) string {
	l := labtest.Default(t)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	var raw []byte
	for _, c := range []*x509.Certificate{smimeAlice, l.Intermediate.Cert} {
		raw = append(raw, c.Raw...)
	}
	p7, err := pkcs7.DegenerateCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(cn, mail string, extra ...string) string {
		return fmt.Sprintf("dn: cn=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\ncn: %s\nsn: %s\nmail: %s\n%s\n",
			cn, testpeer.SLAPDSuffix, cn, cn, mail, strings.Join(extra, "\n"))
	}
	return entry("Alice", "alice@example.com",
		"proxyAddresses: SMTP:alice@example.com",
		"proxyAddresses: smtp:al@example.com",
		"proxyAddresses: X400:c=US;a= ;p=Example;o=Mail;s=Alice;",
		"userCertificate;binary:: "+b64(l.User("alice-encrypt").Cert.Raw),
		"userSMIMECertificate:: "+b64(p7)) + "\n" +
		entry("Dave", "dave@example.com", "userCertificate;binary:: "+b64(l.User("dave-expired").Cert.Raw)) + "\n" +
		entry("Eve", "eve@example.com", "userSMIMECertificate:: "+b64(l.User("eve-revoked").Cert.Raw)) + "\n" +
		// The contact is listed first, so the user wins by its kind, not by order.
		fmt.Sprintf("dn: cn=Bob Contact,%s\nobjectClass: contact\ncn: Bob Contact\nsn: Bob\nmail: bob@example.com\nuserCertificate;binary:: %s\n\n",
			testpeer.SLAPDSuffix, b64(contactBob.Raw)) +
		entry("Bob", "bob@example.com", "userCertificate;binary:: "+b64(l.User("bob").Cert.Raw))
}

func TestLDAP(t *testing.T) {
	l := labtest.Default(t)
	smimeAlice, _ := issue(t, certSpec{serial: 400, subject: "alice@example.com", usage: x509.KeyUsageKeyAgreement,
		notBefore: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}, nil, nil)
	contactBob, _ := issue(t, certSpec{serial: 401, subject: "bob@example.com", usage: x509.KeyUsageKeyAgreement,
		notBefore: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}, nil, nil)
	srv := testpeer.StartSLAPD(t, directoryLDIF(t, smimeAlice, contactBob))
	crl, err := x509.ParseRevocationList(l.Intermediate.CRL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sel := func(addr string, dir LDAP, mod func(*Options)) (*Selection, error) {
		opts := Options{
			Sources: []Source{dir}, Now: func() time.Time { return at },
			Roots:         []*x509.Certificate{l.Root.Cert},
			Intermediates: []*x509.Certificate{l.Intermediate.Cert},
			Revocation:    newCRLChecker(crl),
		}
		if mod != nil {
			mod(&opts)
		}
		return Select(ctx, addr, PurposeEncrypt, opts)
	}
	owa := LDAP{URL: srv.URL, Timeout: 5 * time.Second}
	outlook := LDAP{URL: srv.URL, Timeout: 5 * time.Second, SMIMEFirst: true}

	// The two attribute orders disagree, and say why.
	s, err := sel("alice@example.com", owa, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Certificate.Equal(l.User("alice-encrypt").Cert) || !strings.HasSuffix(s.Origin, "userCertificate;binary") {
		t.Fatalf("OWA order chose %s from %s", s.Certificate.Subject, s.Origin)
	}
	if c := s.Candidates[1]; c.Rule != SourceOrder || c.Verdict != Outranked || !strings.Contains(c.Detail, "userCertificate;binary is read first") {
		t.Errorf("the other candidate: %+v", c)
	}
	s, err = sel("alice@example.com", outlook, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Certificate.Equal(smimeAlice) || !strings.HasSuffix(s.Origin, "userSMIMECertificate") || len(s.Chain) != 2 {
		t.Fatalf("Outlook order chose %s from %s", s.Certificate.Subject, s.Origin)
	}

	// An alias through proxyAddresses, and not with NoProxies.
	s, err = sel("al@example.com", owa, nil)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(s.Candidates, func(c Candidate) bool { return c.Verdict == Selected }); s.Candidates[i].Match != "proxy" {
		t.Errorf("alias match: %+v", s.Candidates[i])
	}
	var nm *NoMatchError
	if _, err := sel("al@example.com", owa, func(o *Options) { o.NoProxies = true }); !errors.As(err, &nm) || nm.Candidates[0].Rule != NoProxies {
		t.Fatalf("got %v", err)
	}

	// Expired and revoked contacts lose.
	for addr, rule := range map[string]Rule{"dave@example.com": Expired, "eve@example.com": Revoked} {
		if _, err := sel(addr, owa, nil); !errors.As(err, &nm) || len(nm.Candidates) != 1 || nm.Candidates[0].Rule != rule {
			t.Errorf("%s: got %v", addr, err)
		}
	}

	// A user's entry wins over a contact's, though the contact's
	// certificate is newer and encryption-only (Bob's own is dual-use).
	s, err = sel("bob@example.com", owa, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Certificate.Equal(l.User("bob").Cert) || !strings.HasPrefix(s.Origin, "cn=Bob,") {
		t.Fatalf("chose %s from %s\n%s", s.Certificate.Subject, s.Origin, explain(s.Candidates))
	}
	if i := slices.IndexFunc(s.Candidates, func(c Candidate) bool { return c.Contact }); i < 0 || s.Candidates[i].Rule != SourceOrder ||
		!strings.Contains(s.Candidates[i].Detail, "preferred over a contact's") {
		t.Errorf("the contact's candidate:\n%s", explain(s.Candidates))
	}

	// Filter syntax in the address is escaped and finds nothing.
	evil := "*)(mail=*"
	if got, want := owa.Filter(evil), `(|(mail=\2a\29\28mail=\2a)(otherMailbox=\2a\29\28mail=\2a)(proxyAddresses=smtp:\2a\29\28mail=\2a))`; got != want {
		t.Errorf("filter %s, want %s", got, want)
	}
	if found, err := owa.Find(ctx, evil); err != nil || len(found) != 0 {
		t.Errorf("got %d entries, %v", len(found), err)
	}

	// The server stopped: a temporary source error, quickly.
	srv.Stop()
	start := time.Now()
	_, err = sel("alice@example.com", owa, nil)
	var se *SourceError
	if !errors.As(err, &se) || !se.Temporary() || time.Since(start) > 6*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

// TestLDAPTimeout points the source at a server that accepts connections and
// never answers: the lookup fails within its timeout, as a temporary error.
func TestLDAPTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dir := LDAP{URL: "ldap://" + ln.Addr().String() + "/dc=example,dc=com", Timeout: 500 * time.Millisecond}
	start := time.Now()
	_, err = Select(context.Background(), "alice@example.com", PurposeEncrypt, Options{Sources: []Source{dir}})
	var se *SourceError
	if !errors.As(err, &se) || !se.Temporary() {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v with a 500ms timeout", d)
	}
}

func newCRLChecker(crl *x509.RevocationList) revocation.Checker {
	return revocation.New(revocation.Options{CRLs: []*x509.RevocationList{crl}, Offline: true})
}

// TestLDAPTLS reads the directory over ldaps:// and over ldap:// with
// StartTLS, the server's certificate checked against the lab root; a wrong
// root fails as a setup error, not a temporary one.
func TestLDAPTLS(t *testing.T) {
	l := labtest.Default(t)
	smimeAlice, _ := issue(t, certSpec{serial: 400, subject: "alice@example.com", usage: x509.KeyUsageKeyAgreement,
		notBefore: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}, nil, nil)
	contactBob, _ := issue(t, certSpec{serial: 401, subject: "bob@example.com", usage: x509.KeyUsageKeyAgreement,
		notBefore: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}, nil, nil)
	srv := testpeer.StartSLAPDWith(t, directoryLDIF(t, smimeAlice, contactBob),
		testpeer.ServerCertificate(t, l.Intermediate.Cert, l.Intermediate.Key))
	roots := x509.NewCertPool()
	roots.AddCert(l.Root.Cert)
	other, _ := otherCA(t)
	wrong := x509.NewCertPool()
	wrong.AddCert(other)
	for _, tc := range []struct {
		name string
		dir  LDAP
		ok   bool
		err  string
	}{
		{"ldaps", LDAP{URL: srv.TLSURL, RootCAs: roots}, true, ""},
		{"starttls", LDAP{URL: srv.URL, StartTLS: true, RootCAs: roots}, true, ""},
		{"ldaps, wrong root", LDAP{URL: srv.TLSURL, RootCAs: wrong}, false, "the directory's TLS certificate: x509: certificate signed by unknown authority"},
		{"starttls, wrong root", LDAP{URL: srv.URL, StartTLS: true, RootCAs: wrong}, false, "StartTLS: the directory's TLS certificate: x509"},
		{"starttls on ldaps", LDAP{URL: srv.TLSURL, StartTLS: true, RootCAs: roots}, false, "ldaps:// is TLS already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.dir.Timeout = 5 * time.Second
			found, err := tc.dir.Find(context.Background(), "alice@example.com")
			if !tc.ok {
				var tmp interface{ Temporary() bool }
				if err == nil || errors.As(err, &tmp) && tmp.Temporary() || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %d, %v; want a lasting error with %q", len(found), err, tc.err)
				}
				return
			}
			if err != nil || len(found) != 2 {
				t.Fatalf("got %d, %v", len(found), err)
			}
		})
	}
}

// TestLDAPInternationalDomain: the search tries the A-label and the U-label
// form of an internationalised domain (issue #16 item 13), so a user who types
// hans@bücher.example finds the entry the directory holds as
// hans@xn--bcher-kva.example, and the reverse.
func TestLDAPInternationalDomain(t *testing.T) {
	for _, tc := range []struct{ address, want string }{
		{"hans@bücher.example", `(|(mail=hans@b\c3\bccher.example)(otherMailbox=hans@b\c3\bccher.example)(proxyAddresses=smtp:hans@b\c3\bccher.example)` +
			`(mail=hans@xn--bcher-kva.example)(otherMailbox=hans@xn--bcher-kva.example)(proxyAddresses=smtp:hans@xn--bcher-kva.example))`},
		{"hans@xn--bcher-kva.example", `(|(mail=hans@xn--bcher-kva.example)(otherMailbox=hans@xn--bcher-kva.example)(proxyAddresses=smtp:hans@xn--bcher-kva.example)` +
			`(mail=hans@b\c3\bccher.example)(otherMailbox=hans@b\c3\bccher.example)(proxyAddresses=smtp:hans@b\c3\bccher.example))`},
		// ASCII and case differences: one form, as before.
		{"Bob@Example.com", `(|(mail=Bob@Example.com)(otherMailbox=Bob@Example.com)(proxyAddresses=smtp:Bob@Example.com))`},
		// Not a valid IDNA name: searched as given, escaped.
		{"x@xn--*.example", `(|(mail=x@xn--\2a.example)(otherMailbox=x@xn--\2a.example)(proxyAddresses=smtp:x@xn--\2a.example))`},
	} {
		if got := (LDAP{}).Filter(tc.address); got != tc.want {
			t.Errorf("Filter(%q)\n got %s\nwant %s", tc.address, got, tc.want)
		}
	}

	l := labtest.Default(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hans, _ := issue(t, certSpec{serial: 500, subject: "hans@xn--bcher-kva.example", usage: x509.KeyUsageKeyAgreement,
		notBefore: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}, nil, nil)
	srv := testpeer.StartSLAPD(t, fmt.Sprintf("dn: cn=Hans,%s\nobjectClass: inetOrgPerson\ncn: Hans\nsn: Hans\nmail: hans@xn--bcher-kva.example\nuserCertificate;binary:: %s\n",
		testpeer.SLAPDSuffix, base64.StdEncoding.EncodeToString(hans.Raw)))
	dir := LDAP{URL: srv.URL, Timeout: 5 * time.Second}
	for _, addr := range []string{"hans@bücher.example", "hans@xn--bcher-kva.example", "hans@BÜCHER.example"} {
		s, err := Select(context.Background(), addr, PurposeEncrypt, Options{
			Sources: []Source{dir}, Now: func() time.Time { return at },
			Roots: []*x509.Certificate{l.Root.Cert}, Intermediates: []*x509.Certificate{l.Intermediate.Cert},
		})
		if err != nil || !s.Certificate.Equal(hans) {
			t.Errorf("%s: got %v, %v", addr, s, err)
		}
	}
}
