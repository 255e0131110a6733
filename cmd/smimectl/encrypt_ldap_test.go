package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// TestEncryptSignSLAPD runs encrypt --to and sign --from against a real slapd
// end to end (issue #6): the recipient's certificate comes from the directory
// and the message decrypts with the recipient's key; the signer's certificate
// is in the directory too, but only the lab directory has its private key, so
// that copy signs and the message verifies.
func TestEncryptSignSLAPD(t *testing.T) {
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	labDir := filepath.Join(dir, "lab")
	if err := l.WriteDir(labDir, "pw"); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	srv := testpeer.StartSLAPD(t, fmt.Sprintf(`dn: cn=Bob,%[1]s
objectClass: inetOrgPerson
cn: Bob
sn: Bob
mail: bob@example.com
userCertificate;binary:: %[2]s

dn: cn=Alice,%[1]s
objectClass: inetOrgPerson
cn: Alice
sn: Alice
mail: alice@example.com
userCertificate;binary:: %[3]s
userCertificate;binary:: %[4]s
`, testpeer.SLAPDSuffix, b64(l.User("bob").Cert.Raw), b64(l.User("alice-sign").Cert.Raw), b64(l.User("alice-encrypt").Cert.Raw)))

	msg := filepath.Join(dir, "msg.eml")
	const body = "Meet at noon, by the directory."
	if err := os.WriteFile(msg, []byte("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: plans\r\n"+
		"Content-Type: text/plain\r\n\r\n"+body+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, Getenv: func(string) string { return "" }}
		code := run(e, args)
		return code, out.String(), errb.String()
	}
	lf := func(name string) string { return filepath.Join(labDir, name) }

	// encrypt --to: bob's certificate from the directory (the entry has no
	// chain, so the intermediate comes from --intermediates), checked against
	// the lab root and the intermediate's CRL.
	sealed := filepath.Join(dir, "sealed.eml")
	code, out, stderr := cli("encrypt", "-v", "--to", "bob@example.com", "--certs", srv.URL, "--trust", lf("root.crt"),
		"--intermediates", lf("intermediate.crt"), "--crl", lf("intermediate.crl"), "--no-self", "--in", msg, "--out", sealed)
	if code != 0 || !regexp.MustCompile(`(?m)^smimectl: encrypting for bob@example.com with Bob <bob@example.com> serial [0-9A-F]+ from cn=Bob,dc=example,dc=com userCertificate;binary$`).MatchString(stderr) {
		t.Fatalf("encrypt: exit %d\n%s%s", code, out, stderr)
	}
	if data, _ := os.ReadFile(sealed); bytes.Contains(data, []byte(body)) {
		t.Fatal("the encrypted message holds the text in clear")
	}
	code, out, stderr = cli("decrypt", "--key", lf("bob.key"), "--cert", lf("bob.crt"), "--in", sealed)
	if code != 0 || !strings.Contains(out, body) {
		t.Fatalf("decrypt: exit %d\n%s%s", code, out, stderr)
	}
	// Nobody in the directory: exit 3, the address named.
	code, _, stderr = cli("encrypt", "--to", "zoe@example.com", "--certs", srv.URL, "--in", msg)
	if code != exitNoCert || !strings.Contains(stderr, "error: no encryption certificate for zoe@example.com\n") ||
		!strings.Contains(stderr, "zoe@example.com: no certificate found") {
		t.Fatalf("zoe: exit %d\n%s", code, stderr)
	}

	// sign --from: the directory offers alice-sign and alice-encrypt without
	// keys; the lab directory's alice-sign, with its key beside it, signs.
	signed := filepath.Join(dir, "signed.eml")
	code, out, stderr = cli("sign", "-v", "--from", "alice@example.com", "--certs", srv.URL, "--certs", labDir, "--in", msg, "--out", signed)
	if code != 0 || !strings.Contains(stderr, "from "+lf("alice-sign.crt")+"\n") {
		t.Fatalf("sign: exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = cli("sign", "--from", "alice@example.com", "--certs", srv.URL, "--in", msg)
	if code != exitNoCert || !strings.Contains(stderr, "no usable signing certificate for alice@example.com: 2 candidates rejected: 1 private-key, 1 key-usage") {
		t.Fatalf("sign from the directory alone: exit %d\n%s", code, stderr)
	}
	code, out, stderr = cli("cert-match", "alice@example.com", "--purpose", "sign", "--certs", srv.URL, "--certs", labDir, "--explain")
	// cert-match needs no key, so the directory's copy wins there and the
	// lab's is a duplicate; sign requires the key.
	if code != 0 || !regexp.MustCompile(`userCertificate;binary +Alice .* selected +passed`).MatchString(out) {
		t.Fatalf("cert-match: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = cli("verify", "-v", "--trust", lf("root.crt"), "--crl", lf("intermediate.crl"), "--in", signed)
	if code != 0 || !strings.Contains(stderr, "verified: signed by Alice <alice@example.com>") || !strings.Contains(out, body) {
		t.Fatalf("verify: exit %d\n%s%s", code, out, stderr)
	}
}

// TestDirectoryFlagsSLAPD covers the directory flags of cert-match, sign and
// encrypt against a real slapd: a simple bind with the password from a file or
// the environment (a wrong one fails, so the bind happens), and contacts after
// users; ldaps:// and StartTLS with --ldap-ca.
func TestDirectoryFlagsSLAPD(t *testing.T) {
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	labDir := filepath.Join(dir, "lab")
	if err := l.WriteDir(labDir, "pw"); err != nil {
		t.Fatal(err)
	}
	contactAlice := newerAliceCert(t, l) // newer than alice-encrypt, encryption-only too
	b64 := base64.StdEncoding.EncodeToString
	srv := testpeer.StartSLAPDWith(t, fmt.Sprintf(`dn: cn=Reader,%[1]s
objectClass: inetOrgPerson
cn: Reader
sn: Reader
userPassword: r3ad-only

dn: cn=Alice Contact,%[1]s
objectClass: contact
objectClass: extensibleObject
cn: Alice Contact
sn: Alice
mail: alice@example.com
userCertificate;binary:: %[2]s

dn: cn=Alice,%[1]s
objectClass: inetOrgPerson
cn: Alice
sn: Alice
mail: alice@example.com
userCertificate;binary:: %[3]s
`, testpeer.SLAPDSuffix, b64(contactAlice.Raw), b64(l.User("alice-encrypt").Cert.Raw)),
		testpeer.ServerCertificate(t, l.Intermediate.Cert, l.Intermediate.Key))
	pwFile := filepath.Join(dir, "ldap.pass")
	if err := os.WriteFile(pwFile, []byte("r3ad-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(getenv map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, Getenv: func(k string) string { return getenv[k] }}
		code := run(e, args)
		return code, out.String(), errb.String()
	}
	bind := []string{"--ldap-bind-dn", "cn=Reader," + testpeer.SLAPDSuffix}
	match := append([]string{"cert-match", "alice@example.com", "--purpose", "encrypt", "--certs", srv.URL, "--explain"}, bind...)

	// Bound with the password from a file: the user's certificate wins over
	// the contact's, though the contact's is newer and listed first.
	code, out, stderr := cli(nil, append(match, "--ldap-pass-file", pwFile)...)
	if code != 0 || !regexp.MustCompile(`cn=Alice,dc=example,dc=com userCertificate;binary +Alice .* selected +passed`).MatchString(out) ||
		!regexp.MustCompile(`cn=Alice Contact,.* outranked +source-order +a user's certificate .* is preferred over a contact's`).MatchString(out) {
		t.Fatalf("bind with --ldap-pass-file: exit %d\n%s%s", code, out, stderr)
	}
	// From the environment; a wrong password fails the bind and is not shown.
	code, _, stderr = cli(map[string]string{"LDAPPW": "r3ad-only"}, append(match, "--ldap-pass-env", "LDAPPW")...)
	if code != 0 {
		t.Fatalf("bind with --ldap-pass-env: exit %d\n%s", code, stderr)
	}
	code, _, stderr = cli(map[string]string{"LDAPPW": "wrong-pw"}, append(match, "--ldap-pass-env", "LDAPPW")...)
	// A refused bind is a setup error, exit 2 (issue #16 item 13), and so for
	// encrypt, whose lookup goes the same way.
	if code != exitUsage || !strings.Contains(stderr, "Invalid Credentials") || strings.Contains(stderr, "wrong-pw") {
		t.Fatalf("wrong password: exit %d\n%s", code, stderr)
	}
	code, _, stderr = cli(map[string]string{"LDAPPW": "wrong-pw"}, append([]string{"encrypt", "--to", "alice@example.com", "--certs", srv.URL,
		"--ldap-pass-env", "LDAPPW", "--in", "-"}, bind...)...)
	if code != exitUsage || !strings.Contains(stderr, "Invalid Credentials") {
		t.Fatalf("encrypt, wrong password: exit %d\n%s", code, stderr)
	}
	// encrypt and sign take the same flags.
	code, _, stderr = cli(nil, append([]string{"encrypt", "-v", "--to", "alice@example.com", "--certs", srv.URL,
		"--ldap-pass-file", pwFile, "--in", "-"}, bind...)...)
	if code != 0 || !strings.Contains(stderr, "from cn=Alice,dc=example,dc=com userCertificate;binary") {
		t.Fatalf("encrypt: exit %d\n%s", code, stderr)
	}
	code, _, stderr = cli(nil, append([]string{"sign", "--from", "alice@example.com", "--certs", srv.URL,
		"--ldap-pass-env", "UNSET", "--in", "-"}, bind...)...)
	if code != exitUsage || !strings.Contains(stderr, "UNSET named by --ldap-pass-env is empty or unset") {
		t.Fatalf("sign: exit %d\n%s", code, stderr)
	}

	// TLS: ldaps://, and StartTLS with a bind, the server checked against
	// the lab root; a CA that did not issue the server's certificate fails
	// for good (not 75).
	root := filepath.Join(labDir, "root.crt")
	code, out, stderr = cli(nil, "cert-match", "alice@example.com", "--purpose", "encrypt", "--certs", srv.TLSURL, "--ldap-ca", root)
	if code != 0 || !strings.Contains(out, "from cn=Alice,dc=example,dc=com userCertificate;binary") {
		t.Fatalf("ldaps: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = cli(nil, append(match, "--ldap-pass-file", pwFile, "--ldap-starttls", "--ldap-ca", root)...)
	if code != 0 {
		t.Fatalf("StartTLS: exit %d\n%s%s", code, out, stderr)
	}
	for _, certs := range [][]string{{"--certs", srv.TLSURL}, {"--certs", srv.URL, "--ldap-starttls"}} {
		args := append([]string{"cert-match", "alice@example.com", "--purpose", "encrypt", "--ldap-ca", filepath.Join(labDir, "bob.crt")}, certs...)
		code, _, stderr = cli(nil, args...)
		// A --ldap-ca that does not verify the directory: setup, exit 2 (issue #16 item 13).
		if code != exitUsage || !strings.Contains(stderr, "the directory's TLS certificate: x509: certificate signed by unknown authority") {
			t.Errorf("%q: exit %d\n%s", args, code, stderr)
		}
	}

	// Misuse: a DN without a password, a password without a DN, both sources.
	for _, args := range [][]string{
		match,
		{"cert-match", "alice@example.com", "--purpose", "encrypt", "--certs", srv.URL, "--ldap-pass-file", pwFile},
		append(match, "--ldap-pass-file", pwFile, "--ldap-pass-env", "X"),
	} {
		if code, _, stderr := cli(nil, args...); code != exitUsage {
			t.Errorf("%q: exit %d\n%s", args, code, stderr)
		}
	}
}
