package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestTrustErrorFault (issue #17 item 1): a caller that words a trust
// failure itself finds the certificate at fault and what is wrong with it
// through TrustError.Fault, as smimectl's error line does, without
// internal/chain's error type.
func TestTrustErrorFault(t *testing.T) {
	l := labtest.Default(t)
	signed := signLab(t, l, sign.Clear, []byte(message("alice@example.com")))
	alice := l.User("alice-sign").Cert
	for _, tc := range []struct {
		name   string
		opts   verify.Options
		reason verify.TrustReason
		cert   *x509.Certificate
		detail string
	}{
		{"no root trusted", verify.Options{Now: func() time.Time { return at }}, verify.Untrusted,
			l.Intermediate.Cert, "issued by an untrusted source (" + l.Root.Cert.Subject.String() + ")"},
		{"expired", verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return alice.NotAfter.Add(time.Hour) }},
			verify.Expired, alice, "expired on " + alice.NotAfter.UTC().Format(time.RFC3339)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify.Verify(context.Background(), &bytes.Buffer{}, bytes.NewReader(signed), tc.opts)
			var te *verify.TrustError
			if !errors.As(err, &te) || te.Reason != tc.reason {
				t.Fatalf("got %v, want a %v *verify.TrustError", err, tc.reason)
			}
			cert, detail, when := te.Fault()
			if cert == nil || !cert.Equal(tc.cert) || detail != tc.detail {
				var got string
				if cert != nil {
					got = cert.Subject.String()
				}
				t.Fatalf("Fault() = %q, %q; want %q, %q", got, detail, tc.cert.Subject, tc.detail)
			}
			// What e.Err says is when, then the certificate, then detail.
			if !strings.HasPrefix(te.Err.Error(), when) || !strings.HasSuffix(te.Err.Error(), detail) || strings.Contains(detail, tc.cert.Subject.CommonName) {
				t.Errorf("Fault() = %q, %q does not cut %q", when, detail, te.Err)
			}
		})
	}
	// A failure that names no certificate says so.
	te := &verify.TrustError{Cert: alice, Reason: verify.IncompatibleUsage, Err: errors.New("no digitalSignature")}
	if cert, detail, when := te.Fault(); cert != nil || detail != "" || when != "" {
		t.Errorf("Fault() of a plain error = %v, %q, %q; want nothing", cert, detail, when)
	}
}

// TestLimitErrorCMS (issue #17 item 1): a bound of reading CMS (65
// signers) and a bound of the MIME walk (too many signed parts) are both a
// *verify.LimitError; CMS tells them apart, for a caller that lists the
// CMS bounds, without internal/cms's type.
func TestLimitErrorCMS(t *testing.T) {
	l := labtest.Default(t)
	u := l.User("alice-sign")
	signers := make([]labtest.CoSigner, 65)
	for i := range signers {
		signers[i] = labtest.CoSigner{Key: u.Key, Certificate: u.Cert}
	}
	many, err := labtest.CoSign([]byte(message("alice@example.com")), at, l.Chain(), signers...)
	if err != nil {
		t.Fatal(err)
	}
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	_, err = verify.Verify(context.Background(), &bytes.Buffer{}, bytes.NewReader(many), opts)
	var le *verify.LimitError
	if !errors.As(err, &le) || le.What != "signers" || le.Max != 64 || !le.CMS() {
		t.Fatalf("65 signers: got %v, want a *verify.LimitError of CMS over 64 signers", err)
	}
	mime := &verify.LimitError{What: "parts in a multipart entity", Max: verify.MaxParts}
	if mime.CMS() {
		t.Error("a bound of the MIME walk is not one of CMS")
	}
}

// TestSpoolErrorInterface (issue #17 item 1): a temporary file that can't
// be created is found with the public SpoolError interface, from Verify
// and from encrypt.Decrypt, with its directory and its cause, as
// smimectl's exit status and hints need it.
func TestSpoolErrorInterface(t *testing.T) {
	l := labtest.Default(t)
	dir := filepath.Join(t.TempDir(), "missing")
	signed := signLab(t, l, sign.Opaque, []byte(message("alice@example.com")))
	_, verr := verify.Verify(context.Background(), &bytes.Buffer{}, bytes.NewReader(signed),
		verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, SpoolDir: dir, SpoolThreshold: 1})
	sealed := encryptTo(t, l, false, []byte(message("alice@example.com")))
	bob := l.User("bob")
	_, derr := encrypt.Decrypt(&bytes.Buffer{}, bytes.NewReader(sealed),
		encrypt.DecryptOptions{Certificate: bob.Cert, Key: bob.Key.(crypto.Decrypter), SpoolDir: dir, SpoolThreshold: 1})
	for name, err := range map[string]error{"Verify": verr, "Decrypt": derr} {
		var se verify.SpoolError
		if !errors.As(err, &se) || se.SpoolDir() != dir || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: got %v (%T), want a SpoolError in %q caused by a missing directory", name, err, err, dir)
		}
	}
	// Other errors are not one.
	var se verify.SpoolError
	if errors.As(&fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}, &se) {
		t.Error("a bare *fs.PathError is a SpoolError")
	}
}
