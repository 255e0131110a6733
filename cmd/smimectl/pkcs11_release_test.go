//go:build cgo

package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// TestPKCS11Released (issue #12): whatever a command does with a card key,
// success or any failure after the token was opened, the module is
// finalised when it returns (a fresh C_Initialize in the same process then
// succeeds instead of CKR_CRYPTOKI_ALREADY_INITIALIZED), no session is left
// open on the token (C_Finalize closes any), and the PIN is in none of the
// output.
func TestPKCS11Released(t *testing.T) {
	testpeer.Require(t, "softhsm")
	dir := t.TempDir()
	hsm, err := testpeer.NewSoftHSM(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", hsm.Conf)
	const pin = "271828"
	if err := hsm.InitToken("rel", "so"+pin, pin); err != nil {
		t.Fatal(err)
	}
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bob := l.User("bob")
	der, _ := x509.MarshalPKCS8PrivateKey(bob.Key)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile := write("bob.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	certFile := write("bob.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: bob.Cert.Raw}))
	if err := hsm.ImportKey("rel", pin, keyFile, "bob", []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := hsm.ImportCert("rel", pin, certFile, "bob", []byte{1}); err != nil {
		t.Fatal(err)
	}
	pinFile := write("pin", []byte(pin+"\n"))
	wrongPIN := write("wrong", []byte("99999999\n"))
	msg := write("msg.eml", []byte("From: bob@example.com\r\nSubject: x\r\n\r\nHello.\r\n"))
	notForBob := write("enc.eml", []byte("MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMAA=\r\n"))
	uri := "pkcs11:token=rel;object=bob?module-path=" + hsm.Module

	for _, tc := range []struct {
		name string
		code int
		args []string
	}{
		{"sign", 0, []string{"clear-sign", "--pkcs11", uri, "--pin-file", pinFile, "--in", msg, "--out", filepath.Join(dir, "s.eml")}},
		{"sign refused after login", 3, []string{"clear-sign", "--pkcs11", uri, "--pin-file", pinFile, "--from", "mallory@example.com", "--in", msg}},
		{"bad input after login", 1, []string{"decrypt", "--pkcs11", uri, "--pin-file", pinFile, "--in", notForBob}},
		{"wrong PIN", 2, []string{"clear-sign", "--pkcs11", uri, "--pin-file", wrongPIN, "--in", msg}},
		{"no such key", 3, []string{"clear-sign", "--pkcs11", "pkcs11:token=rel;object=nobody?module-path=" + hsm.Module, "--pin-file", pinFile, "--in", msg}},
		{"token absent", 3, []string{"clear-sign", "--pkcs11", "pkcs11:token=gone?module-path=" + hsm.Module, "--pin-file", pinFile, "--in", msg}},
		{"cert-match", 0, []string{"cert-match", "bob@example.com", "--purpose", "sign", "--smartcard-only", "--certs", "pkcs11:token=rel?module-path=" + hsm.Module, "--pin-file", pinFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
				Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, Getenv: func(string) string { return "" }}
			if code := run(e, tc.args); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, errb.String())
			}
			for _, secret := range []string{pin, "99999999"} {
				if strings.Contains(out.String()+errb.String(), secret) {
					t.Errorf("the output holds the PIN %s:\n%s", secret, errb.String())
				}
			}
			ctx := pkcs11.New(hsm.Module)
			if ctx == nil {
				t.Fatal("can't load the module")
			}
			defer ctx.Destroy()
			err := ctx.Initialize()
			var pe pkcs11.Error
			if errors.As(err, &pe) && pe == pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
				t.Fatal("the command left the module initialised")
			}
			if err != nil {
				t.Fatal(err)
			}
			// SoftHSM2 reports ulSessionCount as unavailable; that every
			// session is closed before C_Finalize is asserted through the
			// counting module of internal/keys (TestTokenSessions).
			if err := ctx.Finalize(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
