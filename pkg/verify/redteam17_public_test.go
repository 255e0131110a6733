package verify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestZeroOptionsFailClosed (issue #17 items 1 and 6, redteam17): an
// importer who fills in nothing gets no "valid", no content and no
// selected certificate for a signer or recipient nobody vouched for; and
// the errors are the public ones, found with errors.Is and errors.As from
// outside the packages.
func TestZeroOptionsFailClosed(t *testing.T) {
	signed, err := os.ReadFile("../testdata/example/bob-signed.eml")
	if err != nil {
		t.Fatal(err)
	}
	bob := exampleCerts("bob.crt")[0]
	for _, tc := range []struct {
		name string
		run  func(w *bytes.Buffer) (*verify.Result, error)
	}{
		{"Verify", func(w *bytes.Buffer) (*verify.Result, error) {
			return verify.Verify(context.Background(), w, bytes.NewReader(signed), verify.Options{})
		}},
		{"Open", func(w *bytes.Buffer) (*verify.Result, error) {
			return verify.Open(context.Background(), w, bytes.NewReader(signed), verify.Options{})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			res, err := tc.run(&w)
			if err == nil || (res != nil && res.Valid) {
				t.Fatalf("zero Options: err %v, valid %v; want untrusted", err, res != nil && res.Valid)
			}
			if w.Len() != 0 {
				t.Errorf("zero Options released %d bytes of content", w.Len())
			}
			var te *verify.TrustError
			if !errors.As(err, &te) || te.Reason != verify.Untrusted {
				t.Errorf("error %v (%T): want a *verify.TrustError with Reason Untrusted", err, err)
			}
			if got := verify.ReasonCode(err); got == "" {
				t.Errorf("ReasonCode(%v) is empty", err)
			}
			checkText(t, err)
		})
	}

	// A changed byte of the signed content: ErrContentModified through
	// *SignatureError, whatever the trust options.
	tampered := bytes.Replace(signed, []byte("All green."), []byte("All green!"), 1)
	if bytes.Equal(tampered, signed) {
		t.Fatal("the fixture's content moved: update the test")
	}
	for _, opts := range []verify.Options{{}, {Roots: exampleCerts("root.crt"), Now: exampleNow}} {
		var w bytes.Buffer
		res, err := verify.Verify(context.Background(), &w, bytes.NewReader(tampered), opts)
		var se *verify.SignatureError
		if !errors.Is(err, verify.ErrContentModified) || !errors.As(err, &se) || errors.Is(err, verify.ErrBadSignature) {
			t.Errorf("tampered content: error %v (%T); want ErrContentModified in a *SignatureError", err, err)
		}
		if w.Len() != 0 || (res != nil && res.Valid) {
			t.Errorf("tampered content released or valid")
		}
		checkText(t, err)
	}

	// Encrypted, no key: ErrNoKey; with the wrong key: not valid.
	sealed, err := os.ReadFile("../testdata/example/to-bob.eml")
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	_, err = verify.Open(context.Background(), &w, bytes.NewReader(sealed), verify.Options{})
	if !errors.Is(err, verify.ErrNoKey) || w.Len() != 0 {
		t.Errorf("encrypted, no key: %v (%T), %d bytes out; want ErrNoKey and nothing", err, err, w.Len())
	}
	checkText(t, err)
	carol, err := tls.LoadX509KeyPair("../testdata/example/carol.crt", "../testdata/example/carol.key")
	if err != nil {
		t.Fatal(err)
	}
	_, err = encrypt.Decrypt(&w, bytes.NewReader(sealed), encrypt.DecryptOptions{Certificate: carol.Leaf, Key: carol.PrivateKey})
	var nf *encrypt.NotForUsError
	if !errors.As(err, &nf) || w.Len() != 0 {
		t.Errorf("decrypt with carol's key: %v (%T), %d bytes out; want a *encrypt.NotForUsError and nothing", err, err, w.Len())
	}
	checkText(t, err)
	_, err = encrypt.Decrypt(&w, bytes.NewReader(signed), encrypt.DecryptOptions{Certificate: carol.Leaf, Key: carol.PrivateKey})
	if !errors.Is(err, encrypt.ErrNotEncrypted) {
		t.Errorf("decrypt a signed message: %v (%T); want ErrNotEncrypted", err, err)
	}
	checkText(t, err)

	// certsel: zero Options select nothing, even the only candidate.
	src := certsel.Memory{Name: "mem", Found: []certsel.Found{{Cert: bob}}}
	sel, err := certsel.Select(context.Background(), "bob@example.com", certsel.PurposeEncrypt, certsel.Options{Sources: []certsel.Source{src}})
	var nm *certsel.NoMatchError
	if sel != nil || !errors.As(err, &nm) {
		t.Errorf("certsel zero Options: selected %v, error %v (%T); want a *certsel.NoMatchError", sel != nil, err, err)
	}
	checkText(t, err)
	// ... and so does encrypt planning built on it.
	_, err = encrypt.PlanRecipients(context.Background(), []string{"bob@example.com"},
		encrypt.PlanOptions{Select: certsel.Options{Sources: []certsel.Source{src}}})
	var me *certsel.MissingError
	if !errors.As(err, &me) {
		t.Errorf("PlanRecipients, zero Select options: %v (%T); want a *certsel.MissingError", err, err)
	}
	checkText(t, err)

	// Encrypt and Sign with nothing given refuse, and write nothing.
	var out bytes.Buffer
	if err := encrypt.Encrypt(&out, strings.NewReader("From: a@example.com\r\n\r\nx\r\n"), encrypt.Options{}); err == nil || out.Len() != 0 {
		t.Errorf("Encrypt, zero Options: %v, %d bytes", err, out.Len())
	} else {
		checkText(t, err)
	}
	if err := sign.Sign(context.Background(), &out, strings.NewReader("From: a@example.com\r\n\r\nx\r\n"), sign.Options{}); err == nil || out.Len() != 0 {
		t.Errorf("Sign, zero Options: %v, %d bytes", err, out.Len())
	} else {
		checkText(t, err)
	}
}

// checkText: an error says its package once ("verify: verify: ..." is a
// prefix added twice) and names no CLI flag.
func checkText(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, p := range []string{"verify: ", "encrypt: ", "certsel: ", "sign: ", "decrypt: "} {
		if strings.Count(msg, p) > 1 {
			t.Errorf("%q: prefix %q more than once", msg, p)
		}
	}
	if strings.Contains(msg, " --") {
		t.Errorf("%q names a CLI flag", msg)
	}
}
