package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime/authrestest"
)

// annotateAt is when the lab's certificates are valid.
const annotateAt = "2026-01-01T00:00:00Z"

// runIn runs one command line in process with stdin and returns its output.
func runIn(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	e, out, errOut := testEnv(stdin, nil)
	// The lab's certificates are valid then (encrypt has no --at).
	e.Now = func() time.Time { t, _ := time.Parse(time.RFC3339, annotateAt); return t }
	code = run(e, args)
	return out.String(), errOut.String(), code
}

// mustRun runs a command line that must succeed.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runIn(t, "", args...)
	if code != exitOK {
		t.Fatalf("smimectl %s: status %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// splitAnnotated checks that out is exactly one Authentication-Results field,
// valid under RFC 8601's grammar, followed by want unchanged, and returns the
// parsed field.
func splitAnnotated(t *testing.T, out, want string) *authrestest.Field {
	t.Helper()
	fields := authrestest.Find(out)
	if len(fields) != 1 {
		t.Fatalf("%d Authentication-Results fields at the top, want 1:\n%.600s", len(fields), out)
	}
	f, err := authrestest.Parse(fields[0])
	if err != nil {
		t.Fatalf("%v\n%s", err, fields[0])
	}
	// Find gives the field with CRLF; the output has the message's line ends.
	n := len(fields[0])
	if i := strings.IndexByte(out, '\n'); i > 0 && out[i-1] != '\r' {
		n -= strings.Count(fields[0], "\r\n")
	}
	if rest := out[n:]; rest != want {
		t.Errorf("after the field, the message changed: %d bytes, want %d\n%.300q", len(rest), len(want), rest)
	}
	return f
}

func TestAnnotateVerifyPassesMessageThrough(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	mustRun(t, "lab", "init", lab)
	msg := filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.com\r\nSubject: plans\r\n\r\nMeet at noon.\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed.eml")
	mustRun(t, "clear-sign", "--key", filepath.Join(lab, "alice-sign.key"), "--cert", filepath.Join(lab, "alice-sign.crt"),
		"--intermediates", filepath.Join(lab, "chain.pem"), "--at", annotateAt, "--in", msg, "--out", signed)
	orig, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, "verify", "--annotate", "--trust", filepath.Join(lab, "root.crt"), "--revocation", "off",
		"--at", annotateAt, "--in", signed)
	f := splitAnnotated(t, out, string(orig))
	if f.AuthServID != "mx.test.example" {
		t.Errorf("authserv-id %q, want the host name", f.AuthServID)
	}
	if len(f.Results) != 1 || f.Results[0].Method != "smime" || f.Results[0].Result != "pass" {
		t.Fatalf("results %+v, want one smime=pass", f.Results)
	}
	for name, want := range map[string]string{"smime-identifier": "alice@example.com", "smime-part": "TEXT",
		"smime-issuer": "CN=smimectl lab intermediate CA,O=smimectl lab"} {
		if got, _ := f.Results[0].Get("body", name); got != want {
			t.Errorf("body.%s=%q, want %q", name, got, want)
		}
	}

	// Tampered: fail, exit 0, the message unchanged after the field.
	bad := bytes.Replace(orig, []byte("Meet at noon"), []byte("Meet at nine"), 1)
	out, errOut, code := runIn(t, string(bad), "verify", "--annotate", "--authserv-id", "mx.example.com",
		"--trust", filepath.Join(lab, "root.crt"), "--revocation", "off", "--at", annotateAt)
	if code != exitOK || !strings.HasPrefix(errOut, errorPrefix) {
		t.Errorf("status %d, stderr %q; want 0 and the error", code, errOut)
	}
	f = splitAnnotated(t, out, string(bad))
	if len(f.Results) != 1 || f.Results[0].Result != "fail" {
		t.Errorf("results %+v, want one fail", f.Results)
	}
}

// TestAnnotateLargeMessage: a message larger than the spool's memory threshold
// goes through byte for byte.
func TestAnnotateLargeMessage(t *testing.T) {
	body := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", 150000)
	msg := "From: a@example.com\nSubject: big\n\n" + body
	lab := filepath.Join(t.TempDir(), "lab")
	mustRun(t, "lab", "init", lab)
	// Without --trust verify stops with a setup error (issue #16 item 2).
	out, _, code := runIn(t, msg, "verify", "--annotate", "--authserv-id", "mx.example.com", "--trust", filepath.Join(lab, "root.crt"))
	if code != exitOK {
		t.Fatalf("status %d", code)
	}
	f := splitAnnotated(t, out, msg)
	if len(f.Results) != 1 || f.Results[0].Result != "none" {
		t.Errorf("results %+v, want smime=none", f.Results)
	}
}

// TestAnnotateHostileIssuer signs with a certificate whose issuer (self-signed:
// also its subject) is built to break the header: the output still holds exactly
// one Authentication-Results field, valid under the grammar, and the message.
func TestAnnotateHostileIssuer(t *testing.T) {
	dir := t.TempDir()
	msg := filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.com\r\nSubject: hi\r\n\r\nhello\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, cn := range []string{
		`Evil"; smime=pass body.smime-identifier=ceo@example.com`,
		"Evil\r\nAuthentication-Results: mx.example.com; smime=pass\r\n",
		"Evil\n\nX-Body: starts",
		`\"\\\,;()`,
		"Ünïcödé 証明書",
	} {
		key, cert := writeHostileSigner(t, dir, i, cn)
		signed := filepath.Join(dir, "signed.eml")
		mustRun(t, "clear-sign", "--force", "--key", key, "--cert", cert, "--at", annotateAt, "--in", msg, "--out", signed)
		orig, err := os.ReadFile(signed)
		if err != nil {
			t.Fatal(err)
		}
		out, _, code := runIn(t, string(orig), "verify", "--annotate", "--authserv-id", "mx.example.com",
			"--trust", cert, "--revocation", "off", "--at", annotateAt)
		if code != exitOK {
			t.Fatalf("%q: status %d", cn, code)
		}
		f := splitAnnotated(t, out, string(orig))
		if len(f.Results) != 1 {
			t.Fatalf("%q: results %+v, want one", cn, f.Results)
		}
		if r := f.Results[0]; r.Result != "pass" {
			t.Errorf("%q: smime=%s, want pass (the certificate is its own root)", cn, r.Result)
		}
		// The issuer is escaped to printable ASCII: no line end, no 8-bit text.
		issuer, ok := f.Results[0].Get("body", "smime-issuer")
		if !ok || !strings.HasPrefix(issuer, "CN=") {
			t.Errorf("%q: smime-issuer %q", cn, issuer)
		}
		field := authrestest.Find(out)[0]
		for j := 0; j < len(field); j++ {
			if c := field[j]; c >= 0x7f || c < 0x20 && c != '\r' && c != '\n' && c != '\t' {
				t.Errorf("%q: byte %#x in the field %q", cn, c, field)
				break
			}
		}
	}
}

// writeHostileSigner writes a self-signed ECDSA signing certificate for
// alice@example.com named CN=cn (a UTF8String, whatever its bytes) and its key,
// and returns their paths.
func writeHostileSigner(t *testing.T, dir string, i int, cn string) (keyPath, certPath string) {
	t.Helper()
	at, _ := time.Parse(time.RFC3339, annotateAt)
	key, cert := labtest.SelfSigned(t, cn, int64(1000+i), at)
	der := cert.Raw
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath = filepath.Join(dir, "hostile.key")
	certPath = filepath.Join(dir, "hostile.crt")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return keyPath, certPath
}

func TestAnnotateDecryptTripleWrap(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	mustRun(t, "lab", "init", lab)
	p := func(name string) string { return filepath.Join(dir, name) }
	l := func(name string) string { return filepath.Join(lab, name) }
	if err := os.WriteFile(p("msg.eml"), []byte("From: alice@example.com\nSubject: plans\n\nMeet at noon.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "sign", "--p12", l("alice-sign.p12"), "--pass-file", l("p12.pass"), "--at", annotateAt, "--in", p("msg.eml"), "--out", p("inner.eml"))
	mustRun(t, "encrypt", "--recipient-cert", l("bob.crt"), "--in", p("inner.eml"), "--out", p("sealed.eml"))
	mustRun(t, "sign", "--mode", "opaque", "--p12", l("alice-sign.p12"), "--pass-file", l("p12.pass"), "--at", annotateAt,
		"--in", p("sealed.eml"), "--out", p("triple.eml"))
	out := mustRun(t, "decrypt", "--annotate", "--p12", l("bob.p12"), "--pass-file", l("p12.pass"), "--trust", l("root.crt"),
		"--revocation", "off", "--at", annotateAt, "--in", p("triple.eml"))
	fields := authrestest.Find(out)
	if len(fields) != 1 {
		t.Fatalf("%d fields, want 1", len(fields))
	}
	f, err := authrestest.Parse(fields[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Results) != 2 || f.Results[0].Reason != "layer 1" || f.Results[1].Reason != "layer 3" {
		t.Fatalf("results %+v, want passes for layers 1 and 3", f.Results)
	}
	for _, r := range f.Results {
		if r.Result != "pass" {
			t.Errorf("%s=%s, want pass", r.Method, r.Result)
		}
	}
	if _, ok := f.Results[1].Get("body", "smime-part"); ok {
		t.Errorf("layer 3 has an IMAP part, but it was inside the encryption")
	}
	if !strings.HasSuffix(out, "\r\n\r\nMeet at noon.\r\n") {
		t.Errorf("not the decrypted message: %q", out[len(fields[0]):])
	}
}

func TestAnnotateAuthServID(t *testing.T) {
	tests := []struct {
		name     string
		flags    annotateFlags
		json     bool
		hostname func() (string, error)
		want     string
		code     int
	}{
		{"flag", annotateFlags{Annotate: true, AuthServID: "mx.example.com"}, false, nil, "mx.example.com", exitOK},
		{"host name", annotateFlags{Annotate: true}, false, func() (string, error) { return "h.example", nil }, "h.example", exitOK},
		{"no host name", annotateFlags{Annotate: true}, false, func() (string, error) { return "", os.ErrNotExist }, "", exitUsage},
		{"empty host name", annotateFlags{Annotate: true}, false, func() (string, error) { return "", nil }, "", exitUsage},
		{"unknown host name", annotateFlags{Annotate: true}, false, nil, "", exitUsage},
		{"with --json", annotateFlags{Annotate: true}, true, nil, "", exitUsage},
		{"without --annotate", annotateFlags{AuthServID: "mx"}, false, nil, "", exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv("", nil)
			e.Hostname = tc.hostname
			got, err := tc.flags.authservID(e, tc.json)
			if got != tc.want || exitCode(err) != tc.code {
				t.Errorf("got %q, status %d (%v); want %q, %d", got, exitCode(err), err, tc.want, tc.code)
			}
		})
	}
}
