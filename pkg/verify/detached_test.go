package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// signDetached signs content with sign.SignDetached as the lab user.
func signDetached(t testing.TB, opts sign.Options, content []byte, armor bool) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := sign.SignDetached(context.Background(), &out, bytes.NewReader(content), opts, armor); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Issue #15 item 2: a detached signature over a file, in each form, byte for
// byte, with the checks of mail; the sender is compared only with Signer.
func TestVerifyDetached(t *testing.T) {
	l := labtest.Default(t)
	crls, err := revocation.ParseCRLs(l.Intermediate.CRL)
	if err != nil {
		t.Fatal(err)
	}
	base := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
		Revocation: revocation.New(revocation.Options{CRLs: crls, Offline: true})}
	as := func(user string) sign.Options {
		u := l.User(user)
		return sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Force: true, Now: func() time.Time { return at.Add(-time.Hour) }}
	}
	content := []byte("report\nwith LF lines\x00and a NUL\n")
	crlf := bytes.ReplaceAll(content, []byte("\n"), []byte("\r\n"))
	der := signDetached(t, as("alice-sign"), content, false)
	armored := signDetached(t, as("alice-sign"), content, true)
	smimePart := append([]byte("Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n"),
		[]byte(strings.Join(strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: der})), "\n")[1:], "\r\n"))...)
	smimePart = bytes.Replace(smimePart, []byte("-----END X-----"), nil, 1)
	var opaque bytes.Buffer
	if err := sign.Sign(context.Background(), &opaque, strings.NewReader(message("alice@example.com")), sign.Options{Key: l.User("alice-sign").Key,
		Certificate: l.User("alice-sign").Cert, Mode: sign.Opaque, Now: func() time.Time { return at }}); err != nil {
		t.Fatal(err)
	}
	crlfSig := signDetached(t, as("alice-sign"), crlf, false)

	sender := func(status verify.Status) func(*verify.Result, error) bool {
		return func(res *verify.Result, err error) bool {
			if err != nil || !res.Valid || res.Form != "detached" {
				return false
			}
			for _, c := range res.Signers[0].Checks {
				if c.Name == "sender" {
					return c.Status == status
				}
			}
			return false
		}
	}
	failsWith := func(target any) func(*verify.Result, error) bool {
		return func(res *verify.Result, err error) bool {
			return err != nil && errors.As(err, target) && (res == nil || !res.Valid)
		}
	}
	tests := []struct {
		name    string
		sig     []byte
		content []byte
		text    bool
		opts    func(*verify.Options)
		check   func(*verify.Result, error) bool
	}{
		{name: "DER", sig: der, content: content, check: sender(verify.StatusSkipped)},
		{name: "PEM", sig: armored, content: content, check: sender(verify.StatusSkipped)},
		{name: "an smime.p7s part", sig: smimePart, content: content, check: sender(verify.StatusSkipped)},
		{name: "signer named", sig: der, content: content, opts: func(o *verify.Options) { o.Signer = "alice@example.com" }, check: sender(verify.StatusPass)},
		{name: "another signer named", sig: der, content: content, opts: func(o *verify.Options) { o.Signer = "bob@example.com" },
			check: failsWith(new(*verify.SenderError))},
		{name: "CRLF is other bytes", sig: der, content: crlf, check: failsWith(new(*verify.SignatureError))},
		{name: "--text hashes CRLF", sig: crlfSig, content: content, text: true, check: sender(verify.StatusSkipped)},
		{name: "without --text, LF is other bytes", sig: crlfSig, content: content, check: failsWith(new(*verify.SignatureError))},
		{name: "one byte changed", sig: der, content: append([]byte("R"), content[1:]...), check: failsWith(new(*verify.SignatureError))},
		{name: "empty content", sig: der, content: nil, check: failsWith(new(*verify.SignatureError))},
		{name: "untrusted", sig: der, content: content, opts: func(o *verify.Options) { o.Roots = nil }, check: failsWith(new(*verify.TrustError))},
		{name: "revoked signer", sig: signDetached(t, as("eve-revoked"), content, false), content: content, check: func(res *verify.Result, err error) bool {
			return err != nil && strings.Contains(err.Error(), "revoked")
		}},
		{name: "an opaque signature", sig: opaque.Bytes(), content: content, check: failsWith(new(*verify.MalformedError))},
		{name: "not CMS", sig: []byte("\x00\x01\x02binary"), content: content, check: failsWith(new(*verify.MalformedError))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := base
			if tc.opts != nil {
				tc.opts(&opts)
			}
			res, err := verify.VerifyDetached(context.Background(), bytes.NewReader(tc.sig), bytes.NewReader(tc.content), opts, verify.DetachedOptions{Text: tc.text})
			if !tc.check(res, err) {
				t.Errorf("got %+v, %v", res, err)
			}
		})
	}
}

// FuzzVerifyDetached: a detached signature is never reported valid over
// content other than the bytes that were signed, whatever is changed in
// either; failures are the package's error types.
func FuzzVerifyDetached(f *testing.F) {
	s := selfSignedTB(f)
	content := []byte("signed bytes\n")
	opts := verify.Options{Roots: []*x509.Certificate{s.Certificate}, Now: func() time.Time { return at }}
	for _, armor := range []bool{false, true} {
		sig := signDetached(f, s, content, armor)
		if _, err := verify.VerifyDetached(context.Background(), bytes.NewReader(sig), bytes.NewReader(content), opts, verify.DetachedOptions{}); err != nil {
			f.Fatalf("seed does not verify: %v", err)
		}
		f.Add(sig, content)
	}
	f.Fuzz(func(t *testing.T, sig, data []byte) {
		res, err := verify.VerifyDetached(context.Background(), bytes.NewReader(sig), bytes.NewReader(data), opts, verify.DetachedOptions{})
		if err != nil {
			if res != nil && res.Valid {
				t.Fatal("valid with an error")
			}
			if errorKind(err) == "" {
				t.Fatalf("error of no package type: %v (%T)", err, err)
			}
			return
		}
		if !res.Valid || !vouched(res) {
			t.Fatalf("no error, but not valid")
		}
		if !bytes.Equal(data, content) {
			t.Fatalf("valid over other bytes: %q", data)
		}
	})
}
