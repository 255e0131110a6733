package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// at is a time when every lab certificate but the expired one is valid
// and after eve's revocation.
var at = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func message(from string) string {
	return "From: " + from + "\r\nTo: bob@example.com\r\nSubject: test\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\nHello,\r\n\r\nthis is signed.\r\n"
}

func signAs(t *testing.T, l *lab.Lab, user string, mode sign.Mode, from string, force bool) []byte {
	t.Helper()
	u := l.User(user)
	var out bytes.Buffer
	err := sign.Sign(context.Background(), &out, strings.NewReader(message(from)), sign.Options{
		Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Mode: mode, Force: force,
		Now: func() time.Time { return at.Add(-time.Hour) },
	})
	if err != nil {
		t.Fatalf("signing as %s: %v", user, err)
	}
	return out.Bytes()
}

func TestVerify(t *testing.T) {
	l := labtest.Default(t)
	crls, err := revocation.ParseCRLs(l.Intermediate.CRL)
	if err != nil {
		t.Fatal(err)
	}
	roots := []*x509.Certificate{l.Root.Cert}
	base := verify.Options{Roots: roots, Now: func() time.Time { return at },
		Revocation: revocation.New(revocation.Options{CRLs: crls, Offline: true})}

	flipBody := func(b []byte) []byte { return bytes.Replace(b, []byte("this is signed"), []byte("this is signet"), 1) }
	tests := []struct {
		name   string
		user   string
		from   string
		force  bool
		mutate func([]byte) []byte
		opts   func(*verify.Options)
		check  func(error) bool
	}{
		{name: "valid rsa", user: "alice-sign", from: "alice@example.com"},
		{name: "valid ecdsa", user: "carol", from: "carol@example.com"},
		{name: "valid dual use", user: "bob", from: "bob@example.com"},
		{name: "valid with LF line ends", user: "bob", from: "bob@example.com",
			mutate: func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }},
		{name: "body changed", user: "bob", from: "bob@example.com", mutate: flipBody,
			check: func(err error) bool {
				var se *verify.SignatureError
				return errors.As(err, &se)
			}},
		{name: "untrusted root", user: "bob", from: "bob@example.com",
			opts:  func(o *verify.Options) { o.Roots = nil },
			check: trustReason(verify.Untrusted)},
		{name: "expired signer", user: "dave-expired", from: "dave@example.com", force: true,
			check: trustReason(verify.Expired)},
		{name: "revoked signer", user: "eve-revoked", from: "eve@example.com",
			check: func(err error) bool {
				var re *revocation.RevokedError
				return errors.As(err, &re)
			}},
		{name: "no digitalSignature", user: "alice-encrypt", from: "alice@example.com", force: true,
			check: trustReason(verify.IncompatibleUsage)},
		{name: "from not in certificate", user: "bob", from: "mallory@example.com", force: true,
			check: func(err error) bool {
				var se *verify.SenderError
				return errors.As(err, &se)
			}},
		{name: "from mismatch as warning", user: "bob", from: "mallory@example.com", force: true,
			opts: func(o *verify.Options) { o.SenderCheck = verify.SenderWarn }},
	}
	for _, tc := range tests {
		for _, mode := range []sign.Mode{sign.Clear, sign.Opaque} {
			t.Run(tc.name+map[sign.Mode]string{sign.Clear: " clear", sign.Opaque: " opaque"}[mode], func(t *testing.T) {
				if tc.mutate != nil && mode == sign.Opaque && tc.name == "body changed" {
					t.Skip("opaque content is base64 inside the signature; see TestVerifyOpaqueTampered")
				}
				msg := signAs(t, l, tc.user, mode, tc.from, tc.force)
				if tc.mutate != nil {
					msg = tc.mutate(msg)
				}
				opts := base
				if tc.opts != nil {
					tc.opts(&opts)
				}
				var out bytes.Buffer
				res, err := verify.Verify(context.Background(), &out, bytes.NewReader(msg), opts)
				if tc.check == nil {
					if err != nil {
						t.Fatalf("got %v, want valid", err)
					}
					if !res.Valid || !strings.Contains(out.String(), "this is signed.") || !strings.HasPrefix(out.String(), "From: ") {
						t.Fatalf("valid=%v output %q", res.Valid, out.String())
					}
					return
				}
				if !tc.check(err) {
					t.Fatalf("got error %v (%T)", err, err)
				}
				if out.Len() != 0 {
					t.Fatalf("failed verification released %d bytes", out.Len())
				}
				if res != nil && res.Valid {
					t.Fatal("result says valid")
				}
			})
		}
	}
}

func trustReason(r verify.TrustReason) func(error) bool {
	return func(err error) bool {
		var te *verify.TrustError
		return errors.As(err, &te) && te.Reason == r
	}
}

// TestVerifyThunderbird checks a real Thunderbird 24 message of 2013 (SHA-1,
// StartCom chain): valid at its date, expired now.
func TestVerifyThunderbird(t *testing.T) {
	dir := "../../../shared/vectors/mimekit/"
	msg, err := os.ReadFile(dir + "thunderbird-signed.txt")
	if err != nil {
		t.Fatalf("the shared vectors must be next to the checkout: %v", err)
	}
	var roots []*x509.Certificate
	for _, f := range []string{"StartComCertificationAuthority.crt", "StartComClass1PrimaryIntermediateClientCA.crt"} {
		b, err := os.ReadFile(dir + f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parsePEMCert(b)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, c)
	}
	then := time.Date(2013, 11, 2, 20, 28, 4, 0, time.UTC)
	res, err := verify.Verify(context.Background(), new(bytes.Buffer), bytes.NewReader(msg),
		verify.Options{Roots: roots[:1], Intermediates: roots[1:], Now: func() time.Time { return then }})
	if err != nil {
		t.Fatalf("at %v: %v", then, err)
	}
	if len(res.Warnings) == 0 {
		t.Error("SHA-1 accepted without a warning")
	}
	_, err = verify.Verify(context.Background(), new(bytes.Buffer), bytes.NewReader(msg),
		verify.Options{Roots: roots[:1], Intermediates: roots[1:], Now: func() time.Time { return at }})
	if !trustReason(verify.Expired)(err) {
		t.Fatalf("now: got %v, want expired", err)
	}
}

// TestSealedErrors is issue #17 item 1: a caller tells the failures of
// Verify and Open apart with this package's own types and sentinels, never
// with an internal package's.
func TestSealedErrors(t *testing.T) {
	l := labtest.Default(t)
	signed := signLab(t, l, sign.Clear, []byte(message("alice@example.com")))
	noFrom := signLab(t, l, sign.Clear, []byte(strings.Replace(message("alice@example.com"), "From: alice@example.com\r\n", "", 1)))
	_, entity := entityOf(t, signed)
	outer, _ := entityOf(t, signed)
	var many strings.Builder
	many.WriteString(outer + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n")
	for range verify.MaxSignedParts + 1 {
		many.WriteString("--m\r\n" + strings.TrimSuffix(entity, "\r\n") + "\r\n")
	}
	many.WriteString("--m--\r\n")
	u := l.User("alice-sign")
	detached := signDetached(t, sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Force: true,
		Now: func() time.Time { return at.Add(-time.Hour) }}, []byte("report\n"), false)
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	allow := opts
	allow.AllowUnsignedParts = true

	for _, tc := range []struct {
		name  string
		open  bool
		msg   []byte
		opts  verify.Options
		check func(error) bool
	}{
		{"content modified", false, bytes.Replace(signed, []byte("this is signed"), []byte("this is signet"), 1), opts, func(err error) bool {
			return errors.Is(err, verify.ErrContentModified) && !errors.Is(err, verify.ErrBadSignature)
		}},
		{"not mail", false, []byte{0x00, 0x01, 0x02, 0xff, 0xfe}, opts, func(err error) bool {
			var nm *verify.NotMailError
			var me *verify.MalformedError
			return errors.As(err, &nm) && nm.Start == "binary data" && errors.As(err, &me)
		}},
		{"too many signed parts", true, []byte(many.String()), allow, func(err error) bool {
			var le *verify.LimitError
			return errors.As(err, &le) && le.Max == verify.MaxSignedParts && verify.ReasonCode(err) == verify.ReasonTooComplex
		}},
		{"no From", false, noFrom, opts, func(err error) bool {
			var se *verify.SenderError
			return errors.As(err, &se) && errors.Is(err, verify.ErrNoFrom)
		}},
		{"a detached signature alone", true, detached, opts, func(err error) bool {
			var me *verify.MalformedError
			return errors.Is(err, verify.ErrDetachedSignature) && errors.As(err, &me)
		}},
		{"empty Roots trust nothing (item 6)", false, signed, verify.Options{Now: opts.Now}, func(err error) bool {
			var te *verify.TrustError
			return errors.As(err, &te) && te.Reason == verify.Untrusted && te.Reason.String() == "untrusted"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			var err error
			if tc.open {
				_, err = verify.Open(context.Background(), &out, bytes.NewReader(tc.msg), tc.opts)
			} else {
				_, err = verify.Verify(context.Background(), &out, bytes.NewReader(tc.msg), tc.opts)
			}
			if err == nil || !tc.check(err) {
				t.Fatalf("error %v (%T) is not told apart by verify's own types", err, err)
			}
			if out.Len() != 0 {
				t.Errorf("released %d bytes", out.Len())
			}
		})
	}
}

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
// be created is found with the public SpoolError interface, with its
// directory and its cause, as smimectl's exit status and hints need it
// (pkg/encrypt's TestDecryptSpoolError does the same for Decrypt).
func TestSpoolErrorInterface(t *testing.T) {
	l := labtest.Default(t)
	dir := filepath.Join(t.TempDir(), "missing")
	signed := signLab(t, l, sign.Opaque, []byte(message("alice@example.com")))
	_, err := verify.Verify(context.Background(), &bytes.Buffer{}, bytes.NewReader(signed),
		verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, SpoolDir: dir, SpoolThreshold: 1})
	var se verify.SpoolError
	if !errors.As(err, &se) || se.SpoolDir() != dir || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v (%T), want a SpoolError in %q caused by a missing directory", err, err, dir)
	}
	// Other errors are not one.
	if errors.As(&fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}, &se) {
		t.Error("a bare *fs.PathError is a SpoolError")
	}
}
