package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/testpeer"
)

// cliRun runs smimectl in-process at 2026-01-01 with an empty environment.
func cliRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, Getenv: func(string) string { return "" }}
	return run(e, args), out.String(), errb.String()
}

// readPEMFile returns the DER of the first PEM block of path.
func readPEMFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return b.Bytes
}

// signAs clear-signs a short message from the lab user name at time at and
// returns the signed file.
func signAs(t *testing.T, labDir, name, email, at string) string {
	t.Helper()
	dir := filepath.Dir(labDir)
	msg := filepath.Join(dir, name+".txt")
	if err := os.WriteFile(msg, []byte("From: "+email+"\r\nSubject: plans\r\n\r\nMeet at noon.\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".eml")
	if code, _, stderr := cliRun("clear-sign", "--key", filepath.Join(labDir, name+".key"), "--cert", filepath.Join(labDir, name+".crt"),
		"--intermediates", filepath.Join(labDir, "chain.pem"), "--at", at, "--in", msg, "--out", out); code != 0 {
		t.Fatalf("signing as %s: exit %d: %s", name, code, stderr)
	}
	return out
}

// TestVerifyOCSP verifies through a real "openssl ocsp" responder named in
// the users' certificates by lab init --ocsp-url (issue #7): with --ocsp a
// revoked signer exits 1 with the date and reason and a good one 0, and the
// intermediate's CRL distribution point is never asked.
func TestVerifyOCSP(t *testing.T) {
	crlSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("CRL fetched although the OCSP responder answers: %s", r.URL)
		http.NotFound(w, r)
	}))
	defer crlSrv.Close()
	port := testpeer.FreePort(t)
	ocspURL := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	dir := t.TempDir()
	ld := filepath.Join(dir, "lab")
	if code, _, stderr := cliRun("lab", "init", "--crl-url", crlSrv.URL+"/", "--ocsp-url", ocspURL, ld); code != 0 {
		t.Fatalf("lab init: exit %d: %s", code, stderr)
	}
	parseCert := func(name string) *x509.Certificate {
		c, err := x509.ParseCertificate(readPEMFile(t, filepath.Join(ld, name+".crt")))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	key, err := x509.ParsePKCS8PrivateKey(readPEMFile(t, filepath.Join(ld, "intermediate.key")))
	if err != nil {
		t.Fatal(err)
	}
	alice, eve := parseCert("alice-sign"), parseCert("eve-revoked")
	if len(alice.OCSPServer) != 1 || alice.OCSPServer[0] != ocspURL {
		t.Fatalf("alice's OCSP responders %v, want %s", alice.OCSPServer, ocspURL)
	}
	testpeer.StartOCSP(t, port, parseCert("intermediate"), key.(crypto.Signer), []testpeer.IndexEntry{
		{Cert: alice},
		{Cert: eve, RevokedAt: time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC), Reason: "keyCompromise"},
	})
	aliceMsg := signAs(t, ld, "alice-sign", "alice@example.com", "2026-01-01")
	eveMsg := signAs(t, ld, "eve-revoked", "eve@example.com", "2025-03-01")
	// The intermediate's own certificate names no responder: its CRL (from
	// the root) is given by hand.
	verify := func(in string, extra ...string) (int, string, string) {
		return cliRun(append([]string{"verify", "--trust", filepath.Join(ld, "root.crt"), "--crl", filepath.Join(ld, "root.crl"),
			"--crl-cache", "none", "--crl-timeout", "5s", "--at", "2026-01-01T00:00:00Z", "--in", in}, extra...)...)
	}

	for _, mode := range []string{"soft", "hard"} {
		code, out, stderr := verify(eveMsg, "--ocsp", "--revocation", mode)
		if code != exitFailed || out != "" ||
			!strings.Contains(stderr, "smimectl: error: the signer's certificate was revoked on 2025-04-01T12:00:00Z (keyCompromise)") {
			t.Errorf("eve, %s: exit %d\n%s%s", mode, code, out, stderr)
		}
	}
	code, out, stderr := verify(aliceMsg, "--ocsp", "--revocation", "hard", "--json")
	if code != exitOK || !strings.Contains(out, `"certificate":"Alice","revocation":{"status":"good","source":"ocsp","url":"`+ocspURL+`"`) {
		t.Errorf("alice: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = verify(aliceMsg, "--ocsp")
	if code != exitOK || !strings.Contains(out, "Meet at noon.") || stderr != "" {
		t.Errorf("alice, soft: exit %d\n%s%s", code, out, stderr)
	}
}
