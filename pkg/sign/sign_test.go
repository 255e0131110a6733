package sign_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const msg = "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: hi\r\n" +
	"Content-Type: text/plain\r\n\r\nhello\r\n"

// signature extracts the SignedData of a signed message.
func signature(t *testing.T, signed []byte) *cms.SignedData {
	t.Helper()
	e, err := mime.ReadEntity(bytes.NewReader(signed))
	if err != nil {
		t.Fatal(err)
	}
	mt, _, _ := e.Header.MediaType()
	if mt == "multipart/signed" {
		p, err := mime.ReadSigned(e, mime.Spool{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		sd, err := cms.ReadSignedData(bytes.NewReader(p.Signature), nil)
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	body, err := mime.DecodeBody(e)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.ReadSignedData(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func TestSignOptions(t *testing.T) {
	l := labtest.Default(t)
	alice := l.User("alice-sign")
	carol := l.User("carol")
	tests := []struct {
		name      string
		opts      sign.Options
		input     string
		certs     int
		hash      crypto.Hash
		alg       string
		ski       bool
		outerKept string
	}{
		{name: "default", opts: sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()},
			certs: 2, hash: crypto.SHA256, alg: "RSA", outerKept: "Subject: hi"},
		{name: "none", opts: sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Include: sign.IncludeNone},
			certs: 0, hash: crypto.SHA256, alg: "RSA"},
		{name: "signer", opts: sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Include: sign.IncludeSigner},
			certs: 1, hash: crypto.SHA256, alg: "RSA"},
		{name: "chain+root", opts: sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Include: sign.IncludeChainWithRoot},
			certs: 3, hash: crypto.SHA256, alg: "RSA"},
		{name: "pss sha512 opaque", opts: sign.Options{Key: alice.Key, Certificate: alice.Cert, PSS: true, Hash: crypto.SHA512, Mode: sign.Opaque},
			certs: 1, hash: crypto.SHA512, alg: "RSA-PSS", outerKept: "To: bob@example.com"},
		{name: "ecdsa sha384 keyid", opts: sign.Options{Key: carol.Key, Certificate: carol.Cert, Hash: crypto.SHA384, SubjectKeyID: true, From: "carol@example.com"},
			certs: 1, hash: crypto.SHA384, alg: "ECDSA", ski: true},
		{name: "LF input", opts: sign.Options{Key: alice.Key, Certificate: alice.Cert},
			input: strings.ReplaceAll(msg, "\r\n", "\n"), certs: 1, hash: crypto.SHA256, alg: "RSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = func() time.Time { return now }
			in := tc.input
			if in == "" {
				in = msg
			}
			var out bytes.Buffer
			if err := sign.Sign(context.Background(), &out, strings.NewReader(in), tc.opts); err != nil {
				t.Fatal(err)
			}
			if tc.outerKept != "" && !strings.Contains(out.String(), tc.outerKept+"\r\n") {
				t.Errorf("outer field %q not kept", tc.outerKept)
			}
			sd := signature(t, out.Bytes())
			si := sd.SignerInfos[0]
			if len(sd.Certificates) != tc.certs || si.Hash() != tc.hash || si.SignatureAlgorithmName() != tc.alg || (si.SubjectKeyID != nil) != tc.ski {
				t.Errorf("certs %d hash %v alg %s ski %v; want %d %v %s %v", len(sd.Certificates), si.Hash(),
					si.SignatureAlgorithmName(), si.SubjectKeyID != nil, tc.certs, tc.hash, tc.alg, tc.ski)
			}
			if st, ok, _ := si.SigningTime(); !ok || !st.Equal(now) {
				t.Errorf("signing time %v, want %v", st, now)
			}
			if si.Attribute(cms.OIDAttrSMIMECapabilities) == nil {
				t.Error("no S/MIME capabilities attribute")
			}
			_, err := verify.Verify(context.Background(), new(bytes.Buffer), bytes.NewReader(out.Bytes()), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Intermediates: append(l.Chain(), tc.opts.Certificate), Now: func() time.Time { return now },
				SenderCheck: verify.SenderWarn})
			if err != nil {
				t.Errorf("does not verify: %v", err)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	l := labtest.Default(t)
	alice, enc, dave, bob := l.User("alice-sign"), l.User("alice-encrypt"), l.User("dave-expired"), l.User("bob")
	tests := []struct {
		name string
		opts sign.Options
		want string
	}{
		{"encryption-only certificate", sign.Options{Key: enc.Key, Certificate: enc.Cert}, "key usage"},
		{"expired", sign.Options{Key: dave.Key, Certificate: dave.Cert, From: "dave@example.com"}, "expired"},
		{"not yet valid", sign.Options{Key: alice.Key, Certificate: alice.Cert, Now: func() time.Time { return alice.Cert.NotBefore.Add(-time.Hour) }}, "not valid before"},
		{"address", sign.Options{Key: bob.Key, Certificate: bob.Cert}, "alice@example.com"},
		{"key mismatch", sign.Options{Key: bob.Key, Certificate: alice.Cert, Force: true}, "does not belong"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Now == nil {
				tc.opts.Now = func() time.Time { return now }
			}
			var out bytes.Buffer
			err := sign.Sign(context.Background(), &out, strings.NewReader(msg), tc.opts)
			var ce *sign.CertificateError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a CertificateError about %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Fatal("output written before the refusal")
			}
		})
	}
	// --force signs with what the checks refused, except a mismatched key.
	var out bytes.Buffer
	if err := sign.Sign(context.Background(), &out, strings.NewReader(msg), sign.Options{Key: enc.Key, Certificate: enc.Cert, Force: true, Now: func() time.Time { return now }}); err != nil {
		t.Fatalf("forced: %v", err)
	}
}

// The signer's own certificate is checked for revocation when a checker is
// given: eve's is in the intermediate's CRL.
func TestSignRevocation(t *testing.T) {
	l := labtest.Default(t)
	crls, err := revocation.ParseCRLs(l.Intermediate.CRL)
	if err != nil {
		t.Fatal(err)
	}
	eve, bob := l.User("eve-revoked"), l.User("bob")
	msg := "From: eve@example.com\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
	tests := []struct {
		name  string
		user  *lab.User
		from  string
		check revocation.Checker
		want  func(error) bool
	}{
		{"revoked", eve, "eve@example.com", revocation.New(revocation.Options{CRLs: crls, Offline: true}), func(err error) bool {
			var ce *sign.CertificateError
			var re *revocation.RevokedError
			return errors.As(err, &ce) && errors.As(err, &re)
		}},
		{"good", bob, "bob@example.com", revocation.New(revocation.Options{CRLs: crls, Offline: true}), func(err error) bool { return err == nil }},
		{"no answer, hard", bob, "bob@example.com", revocation.New(revocation.Options{Mode: revocation.Hard, Offline: true}), func(err error) bool {
			var ue *revocation.UnavailableError
			return errors.As(err, &ue)
		}},
		{"no checker", eve, "eve@example.com", nil, func(err error) bool { return err == nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := sign.Sign(context.Background(), &out, strings.NewReader(msg), sign.Options{Key: tc.user.Key, Certificate: tc.user.Cert,
				Chain: l.Chain(), From: tc.from, Revocation: tc.check, Now: func() time.Time { return now }})
			if !tc.want(err) {
				t.Fatalf("got %v", err)
			}
			if err != nil && out.Len() != 0 {
				t.Fatal("output written before the refusal")
			}
		})
	}
}

// TestSignRevocationCancel (issue #17 item 6): the revocation check of the
// signer's certificate runs under the caller's context, so cancelling it (the
// CLI's Ctrl-C or --timeout) stops a check stuck on a CRL server that accepts
// the connection and never answers, in either mode, with nothing written.
func TestSignRevocationCancel(t *testing.T) {
	l := labtest.Default(t)
	bob := l.User("bob")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	// Every CRL fetch (the lab's http://crl.lab.example/...) goes to ln.
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
		},
	}}
	for _, mode := range []revocation.Mode{revocation.Soft, revocation.Hard} {
		t.Run(mode.String(), func(t *testing.T) {
			checker := revocation.New(revocation.Options{Mode: mode, HTTPClient: client,
				URLTimeout: time.Hour, TotalTimeout: time.Hour})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- sign.Sign(ctx, &out, strings.NewReader("From: bob@example.com\r\nContent-Type: text/plain\r\n\r\nhi\r\n"),
					sign.Options{Key: bob.Key, Certificate: bob.Cert, Chain: l.Chain(), Revocation: checker,
						Now: func() time.Time { return now }})
			}()
			select {
			case c := <-accepted:
				defer c.Close()
			case err := <-done:
				t.Fatalf("Sign returned %v before the CRL server was asked", err)
			case <-time.After(30 * time.Second):
				t.Fatal("the CRL server was never asked")
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("got %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Sign still waits for the CRL server 5s after its context was cancelled")
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written after the cancelled check", out.Len())
			}
		})
	}
}

// TestErrKeyCannotSign (issue #17 item 1): a caller tells an ML-KEM key,
// which no --force can sign with, from a certificate check it could force,
// with sign's own sentinel; nothing is written.
func TestErrKeyCannotSign(t *testing.T) {
	l, err := lab.New(lab.Options{PQ: true})
	if err != nil {
		t.Fatal(err)
	}
	dan, alice := l.User("dan-mlkem"), l.User("alice-sign")
	danKey, ok := dan.PrivateKey.(crypto.Signer)
	if !ok {
		t.Fatalf("dan-mlkem's key is a %T, not a crypto.Signer", dan.PrivateKey)
	}
	at := func() time.Time { return dan.Cert.NotBefore.Add(time.Hour) }
	for _, tc := range []struct {
		name string
		opts sign.Options
		want bool
	}{
		{"ML-KEM key", sign.Options{Key: danKey, Certificate: dan.Cert, From: dan.Email, Now: at}, true},
		{"ML-KEM key, forced", sign.Options{Key: danKey, Certificate: dan.Cert, Force: true, Now: at}, true},
		{"expired signing key", sign.Options{Key: alice.Key, Certificate: alice.Cert,
			Now: func() time.Time { return alice.Cert.NotAfter.Add(time.Hour) }}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := sign.Sign(context.Background(), &out, strings.NewReader(msg), tc.opts)
			var ce *sign.CertificateError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *sign.CertificateError", err)
			}
			if got := errors.Is(err, sign.ErrKeyCannotSign); got != tc.want {
				t.Errorf("errors.Is(%v, ErrKeyCannotSign) = %v, want %v", err, got, tc.want)
			}
			if out.Len() != 0 {
				t.Error("output written before the refusal")
			}
		})
	}
}

// TestCertsOnly (issue #17 item 1): the certs-only message smimectl
// certs-only writes comes from sign's public CertsOnly; it reads back
// through the public verify.ReadCertificates as the same certificates in
// the same order (not as a signed message), and what can't make one is an
// error naming sign once, not a malformed file.
func TestCertsOnly(t *testing.T) {
	l := labtest.Default(t)
	certs := append([]*x509.Certificate{l.User("alice-sign").Cert}, l.Chain()...)
	der, err := sign.CertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := verify.ReadCertificates(bytes.NewReader(der))
	if err != nil {
		t.Fatalf("ReadCertificates of the certs-only message: %v", err)
	}
	if len(back) != len(certs) {
		t.Fatalf("read back %d certificates, want %d", len(back), len(certs))
	}
	for i := range certs {
		if !back[i].Equal(certs[i]) {
			t.Errorf("certificate %d: read back %s, want %s (the order given)", i+1, back[i].Subject, certs[i].Subject)
		}
	}
	for _, tc := range []struct {
		name  string
		certs []*x509.Certificate
	}{
		{"none", nil},
		{"a nil certificate", []*x509.Certificate{certs[0], nil}},
		{"a certificate never encoded", []*x509.Certificate{{Subject: certs[0].Subject}}},
	} {
		der, err := sign.CertsOnly(tc.certs)
		if err == nil || der != nil || bytes.Count([]byte(err.Error()), []byte("sign:")) != 1 || bytes.Contains([]byte(err.Error()), []byte("cms:")) {
			t.Errorf("%s: got %d bytes and %v, want no bytes and an error naming sign once", tc.name, len(der), err)
		}
	}
}
