package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mozilla.org/pkcs7"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// TestCertMatchSLAPD runs cert-match and sign --from against a real slapd
// (issue #6): the two attribute orders disagree when the attributes do and
// --explain says why; an address with filter syntax finds nothing; a stopped
// directory exits 75.
func TestCertMatchSLAPD(t *testing.T) {
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := l.WriteDir(filepath.Join(dir, "lab"), "pw"); err != nil {
		t.Fatal(err)
	}
	// Alice's directory entry disagrees with itself: alice-encrypt in
	// userCertificate, a second, newer encryption certificate for her (with
	// the chain, as PKCS#7) in userSMIMECertificate.
	second := newerAliceCert(t, l)
	p7, err := pkcs7.DegenerateCertificate(append(append([]byte{}, second.Raw...), l.Intermediate.Cert.Raw...))
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	srv := testpeer.StartSLAPD(t, fmt.Sprintf(`dn: cn=Alice,%s
objectClass: inetOrgPerson
objectClass: extensibleObject
cn: Alice
sn: Alice
mail: alice@example.com
proxyAddresses: smtp:al@example.com
userCertificate;binary:: %s
userSMIMECertificate:: %s
`, testpeer.SLAPDSuffix, b64(l.User("alice-encrypt").Cert.Raw), b64(p7)))

	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, Getenv: func(string) string { return "" }}
		code := run(e, args)
		return code, out.String(), errb.String()
	}
	root := filepath.Join(dir, "lab", "root.crt")
	args := []string{"cert-match", "alice@example.com", "--purpose", "encrypt", "--certs", srv.URL, "--trust", root, "--explain"}
	code, out, stderr := cli(args...)
	if code != 0 || !regexp.MustCompile(`userCertificate;binary +Alice .* selected +passed`).MatchString(out) ||
		!regexp.MustCompile(`userSMIMECertificate +Alice .* outranked +source-order +the certificate from .*userCertificate;binary is read first`).MatchString(out) {
		t.Fatalf("OWA order: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = cli(append(args, "--attr-order", "smime-first")...)
	if code != 0 || !regexp.MustCompile(`userSMIMECertificate +Alice .* selected +passed`).MatchString(out) ||
		!regexp.MustCompile(`userCertificate;binary +Alice .* outranked +source-order`).MatchString(out) {
		t.Fatalf("Outlook order: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = cli("cert-match", "al@example.com", "--purpose", "encrypt", "--certs", srv.URL, "--trust", root, "--json")
	if code != 0 || !strings.Contains(out, `"match":"proxy","verdict":"selected"`) {
		t.Fatalf("alias: exit %d\n%s", code, out)
	}
	code, _, stderr = cli("cert-match", "al@example.com", "--purpose", "encrypt", "--certs", srv.URL, "--trust", root, "--no-proxies")
	if code != 3 || !strings.Contains(stderr, "no-proxies") {
		t.Fatalf("--no-proxies: exit %d: %s", code, stderr)
	}
	code, out, stderr = cli("cert-match", "*)(mail=*", "--purpose", "encrypt", "--certs", srv.URL, "--explain")
	if code != 3 || !strings.Contains(out, "(no certificates found)") {
		t.Fatalf("injection: exit %d\n%s%s", code, out, stderr)
	}
	srv.Stop()
	start := time.Now()
	code, _, stderr = cli("cert-match", "alice@example.com", "--purpose", "encrypt", "--certs", srv.URL, "--lookup-timeout", "2s")
	if code != exitTempFail || time.Since(start) > 4*time.Second {
		t.Fatalf("stopped: exit %d after %v: %s", code, time.Since(start), stderr)
	}
}

// newerAliceCert issues a second encryption-only certificate for Alice from
// the lab's intermediate, newer than alice-encrypt.
func newerAliceCert(t *testing.T, l *lab.Lab) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "Alice"},
		NotBefore: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageKeyAgreement, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{"alice@example.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.Intermediate.Cert, key.Public(), l.Intermediate.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
