package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// writePEM writes certificates, or a key, as PEM to dir/name and returns
// the path.
func writePEM(t *testing.T, dir, name string, key crypto.Signer, certs ...*x509.Certificate) string {
	t.Helper()
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		out = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVerifyNameConstraintCLI is issue #11 item 3 at the command line:
// alice@example.com under a sub-CA permitted only example.org signs; verify
// exits 1 and says why, and --annotate says smime=fail.
func TestVerifyNameConstraintCLI(t *testing.T) {
	at, _ := time.Parse(time.RFC3339, annotateAt)
	dir := t.TempDir()
	root, sub, key, alice := labtest.Constrained(t, at, "alice@example.com", func(c *x509.Certificate) {
		c.PermittedEmailAddresses, c.PermittedDNSDomainsCritical = []string{"example.org"}, true
	})
	msg := filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.com\r\nSubject: hi\r\n\r\nhello\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed.eml")
	mustRun(t, "clear-sign", "--key", writePEM(t, dir, "alice.key", key), "--cert", writePEM(t, dir, "alice.crt", nil, alice),
		"--intermediates", writePEM(t, dir, "sub.crt", nil, sub), "--at", annotateAt, "--in", msg, "--out", signed)
	rootPath := writePEM(t, dir, "root.crt", nil, root)

	out, errOut, code := runIn(t, "", "verify", "--trust", rootPath, "--revocation", "off", "--at", annotateAt, "--in", signed)
	want := `smimectl: error: the signer's certificate is outside the names its issuing authority may certify: ` +
		`"alice@example.com" has the mail address alice@example.com, which the name constraints of "Constrained Sub CA" do not permit (permitted: example.org)`
	t.Log(errOut)
	if code != exitFailed || out != "" || !strings.Contains(errOut, want+"\n") || !strings.Contains(errOut, "smimectl: hint: ") {
		t.Fatalf("status %d, stdout %q, stderr:\n%s\nwant status 1 and %q", code, out, errOut, want)
	}

	raw, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = runIn(t, string(raw), "verify", "--annotate", "--authserv-id", "mx.example.com",
		"--trust", rootPath, "--revocation", "off", "--at", annotateAt)
	f := splitAnnotated(t, out, string(raw))
	if code != exitOK || len(f.Results) != 1 || f.Results[0].Result != "fail" ||
		!strings.Contains(f.Results[0].Reason, "name constraints") {
		t.Fatalf("status %d, results %+v, want smime=fail for the name constraints", code, f.Results)
	}
}

// TestVerifyCrossSignedCLI is issue #11 item 11 at the command line: a
// message carrying 200 cross-signed CA certificates fails at once with
// exit 1 and a clear reason, and --annotate says smime=permerror.
func TestVerifyCrossSignedCLI(t *testing.T) {
	at, _ := time.Parse(time.RFC3339, annotateAt)
	dir := t.TempDir()
	key, alice, junk := labtest.CrossSigned(t, labtest.Mesh, 200, at)
	root, _, _, _ := labtest.Constrained(t, at, "nobody@example.com", nil)
	msg := filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.com\r\nSubject: hi\r\n\r\nhello\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed.eml")
	mustRun(t, "clear-sign", "--key", writePEM(t, dir, "alice.key", key), "--cert", writePEM(t, dir, "alice.crt", nil, alice),
		"--intermediates", writePEM(t, dir, "junk.pem", nil, junk...), "--at", annotateAt, "--in", msg, "--out", signed)
	rootPath := writePEM(t, dir, "root.crt", nil, root)

	start := time.Now()
	out, errOut, code := runIn(t, "", "verify", "--trust", rootPath, "--revocation", "off", "--at", annotateAt, "--in", signed)
	want := `smimectl: error: the signer's certificate chain could not be checked: "alice" has too many candidate chains ` +
		`among the certificates given (path building gave up after 100 signature checks)`
	t.Log(errOut)
	if code != exitFailed || out != "" || !strings.Contains(errOut, want+"\n") {
		t.Fatalf("status %d, stdout %q, stderr:\n%s\nwant status 1 and %q", code, out, errOut, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	raw, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = runIn(t, string(raw), "verify", "--annotate", "--authserv-id", "mx.example.com",
		"--trust", rootPath, "--revocation", "off", "--at", annotateAt)
	f := splitAnnotated(t, out, string(raw))
	if code != exitOK || len(f.Results) != 1 || f.Results[0].Result != "permerror" {
		t.Fatalf("status %d, results %+v, want smime=permerror", code, f.Results)
	}
}
