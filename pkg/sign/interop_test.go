package sign_test

// Interoperability: what pkg/sign writes must verify in the real S/MIME
// implementations (OpenSSL, GnuPG's gpgsm, NSS's cmsutil), driven through
// internal/testpeer (see PEERS.md for their quirks), and a changed body
// must not. Outside CI a missing peer skips its test; with CI=true it fails.

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
	"github.com/smimectl/smimectl/pkg/sign"
)

// interopPass protects the PKCS#12 files the peers import.
const interopPass = "interop-pass"

// interopText is in the body of every message signed for a peer.
const interopText = "this is signed for a peer."

func interopMessage(from string) string {
	return "From: " + from + "\r\nTo: bob@example.com\r\nSubject: interop\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\nHello,\r\n\r\n" + interopText + "\r\n"
}

// interopSigner is one way pkg/sign signs: a lab user and a scheme.
type interopSigner struct {
	name, user, from string
	hash             crypto.Hash
	pss              bool
}

var (
	rsaV15    = interopSigner{name: "rsa-sha256", user: "alice-sign", from: "alice@example.com"}
	rsaV15512 = interopSigner{name: "rsa-sha512", user: "bob", from: "bob@example.com", hash: crypto.SHA512}
	rsaPSS    = interopSigner{name: "pss-sha256", user: "alice-sign", from: "alice@example.com", pss: true}
	rsaPSS384 = interopSigner{name: "pss-sha384", user: "bob", from: "bob@example.com", hash: crypto.SHA384, pss: true}
	ecdsa256  = interopSigner{name: "ecdsa-p256-sha256", user: "carol", from: "carol@example.com"}
)

var modes = []struct {
	name string
	mode sign.Mode
}{{"clear", sign.Clear}, {"opaque", sign.Opaque}}

// signFor signs the interop message as s, in mode, with the intermediate
// in the signature (sign.IncludeChain).
func signFor(t *testing.T, l *lab.Lab, s interopSigner, mode sign.Mode) []byte {
	t.Helper()
	u := l.User(s.user)
	var out bytes.Buffer
	err := sign.Sign(context.Background(), &out, strings.NewReader(interopMessage(s.from)), sign.Options{
		Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Mode: mode, Hash: s.hash, PSS: s.pss,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatalf("signing as %s: %v", s.user, err)
	}
	return out.Bytes()
}

// signedEntity returns the MIME entity pkg/sign signs for s: the first
// part of its clear-signed message, which opaque signing encapsulates too.
func signedEntity(t *testing.T, l *lab.Lab, s interopSigner) []byte {
	t.Helper()
	entity, err := testpeer.MIMEPartRaw(signFor(t, l, s, sign.Clear), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(entity, []byte("Content-Type: text/plain")) || !bytes.Contains(entity, []byte(interopText)) ||
		bytes.Contains(entity, []byte("From:")) {
		t.Fatalf("unexpected signed entity %q", entity)
	}
	return entity
}

// tamperBody changes one byte of the text of a signed message: in the
// clear part, or (opaque) inside the base64 CMS.
func tamperBody(t *testing.T, msg []byte, mode sign.Mode) []byte {
	t.Helper()
	if mode == sign.Clear {
		i := bytes.Index(msg, []byte(interopText))
		if i < 0 {
			t.Fatal("no text to change")
		}
		out := bytes.Clone(msg)
		out[i] = 'T'
		return out
	}
	der, err := testpeer.SMIMEBody(msg)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(der, []byte(interopText))
	if i < 0 {
		t.Fatal("no text to change in the CMS")
	}
	der[i] = 'T'
	out, err := testpeer.WrapPKCS7MIME(der)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("From: x@example.com\r\n"), out...)
}

// tamperSignature changes one bit in the middle of the signature value
// of a signed message, found by parsing its CMS, and rebuilds the message.
func tamperSignature(t *testing.T, msg []byte, mode sign.Mode) []byte {
	t.Helper()
	var der, entity []byte
	var err error
	if mode == sign.Opaque {
		der, err = testpeer.SMIMEBody(msg)
	} else {
		if entity, err = testpeer.MIMEPartRaw(msg, 1); err == nil {
			der, err = testpeer.MIMEPart(msg, 2)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.ReadSignedData(bytes.NewReader(der), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := sd.SignerInfos[0].Signature
	i := bytes.Index(der, v)
	if i < 0 {
		t.Fatal("signature value not found in the CMS")
	}
	der[i+len(v)/2] ^= 0x01
	var out []byte
	if mode == sign.Opaque {
		out, err = testpeer.WrapPKCS7MIME(der)
	} else {
		out, err = testpeer.WrapSigned(entity, der, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("From: x@example.com\r\n"), out...)
}

// tampers are the changes every peer must reject, with what openssl
// says for each; the first, no change, must be accepted.
var tampers = []struct {
	name    string
	f       func(*testing.T, []byte, sign.Mode) []byte
	openssl string
}{
	{"", nil, ""},
	{"/body changed", tamperBody, "content verify error"},
	{"/signature changed", tamperSignature, "CMS_SignerInfo_verify:verification failure"},
}

// splitForPeer writes the raw CMS of msg, and for a clear-signed message
// the signed entity, to files in dir; content is "" for opaque.
func splitForPeer(t *testing.T, dir string, msg []byte, mode sign.Mode) (sig, content string) {
	t.Helper()
	sig = filepath.Join(dir, "sig.p7")
	var der []byte
	var err error
	if mode == sign.Opaque {
		if der, err = testpeer.SMIMEBody(msg); err != nil {
			t.Fatal(err)
		}
	} else {
		if der, err = testpeer.MIMEPart(msg, 2); err != nil {
			t.Fatal(err)
		}
		entity, err := testpeer.MIMEPartRaw(msg, 1)
		if err != nil {
			t.Fatal(err)
		}
		content = filepath.Join(dir, "content.txt")
		writeTestFile(t, content, entity)
	}
	writeTestFile(t, sig, der)
	return sig, content
}

func writeTestFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeLab writes the lab for the peers and returns its directory.
func writeLab(t *testing.T, l *lab.Lab) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	if err := l.WriteDir(dir, interopPass); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInteropOpenSSLVerifies has `openssl cms -verify` check clear and
// opaque messages from pkg/sign, with the S/MIME signing purpose, and
// compares the content it recovers with the signed entity.
func TestInteropOpenSSLVerifies(t *testing.T) {
	testpeer.Require(t, "openssl")
	l := labtest.Default(t)
	labDir := writeLab(t, l)
	// openssl builds chains from the CAfile only (PEERS.md).
	caFile := filepath.Join(labDir, "chain.pem")
	attime := strconv.FormatInt(now.Unix(), 10)
	for _, s := range []interopSigner{rsaV15, rsaV15512, rsaPSS, rsaPSS384, ecdsa256} {
		entity := signedEntity(t, l, s)
		for _, m := range modes {
			for _, tc := range tampers {
				t.Run(s.name+"/"+m.name+tc.name, func(t *testing.T) {
					msg := signFor(t, l, s, m.mode)
					tamper := tc.f != nil
					if tamper {
						msg = tc.f(t, msg, m.mode)
					}
					dir := t.TempDir()
					in := filepath.Join(dir, "signed.eml")
					out := filepath.Join(dir, "content.out")
					writeTestFile(t, in, msg)
					cmd := exec.Command("openssl", "cms", "-verify", "-CAfile", caFile, "-purpose", "smimesign",
						"-attime", attime, "-in", in, "-out", out)
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					err := cmd.Run()
					var ee *exec.ExitError
					switch {
					case err != nil && !errors.As(err, &ee):
						t.Fatalf("running openssl: %v", err)
					case tamper && err == nil:
						t.Fatalf("openssl accepted a changed body: %s", stderr.String())
					case tamper && !strings.Contains(stderr.String(), tc.openssl):
						t.Fatalf("openssl rejected it, but without %q: %s", tc.openssl, stderr.String())
					case tamper:
						t.Logf("openssl rejected it: %s", strings.TrimSpace(stderr.String()))
					case err != nil:
						t.Fatalf("openssl rejected it: %v: %s", err, stderr.String())
					default:
						got, err := os.ReadFile(out)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got, entity) {
							t.Errorf("openssl recovered %q, want the signed entity %q", got, entity)
						}
					}
				})
			}
		}
	}
}

// TestInteropGPGSMVerifies has gpgsm check clear and opaque messages from
// pkg/sign, split into raw CMS (and detached content) as a mail client
// does. gpgsm trusts only the root: the intermediate comes from the
// signature.
func TestInteropGPGSMVerifies(t *testing.T) {
	testpeer.Require(t, "gpgsm")
	l := labtest.Default(t)
	labDir := writeLab(t, l)
	g, err := testpeer.NewGPGSM(filepath.Join(labDir, "root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	})
	// pkg/sign writes PSS with a salt of the hash length, which gpgsm 2.2
	// verifies (it rejects only openssl's default maximal salt). gpgsm 2.2
	// cannot import an EC key, but it does verify ECDSA signatures.
	for _, s := range []interopSigner{rsaV15, rsaV15512, rsaPSS, rsaPSS384, ecdsa256} {
		for _, m := range modes {
			for _, tc := range tampers {
				t.Run(s.name+"/"+m.name+tc.name, func(t *testing.T) {
					msg := signFor(t, l, s, m.mode)
					tamper := tc.f != nil
					if tamper {
						msg = tc.f(t, msg, m.mode)
					}
					sig, content := splitForPeer(t, t.TempDir(), msg, m.mode)
					wantPeerVerdict(t, g.Verify(sig, content), !tamper)
				})
			}
		}
	}
}

// TestInteropNSSVerifies has cmsutil check clear and opaque messages from
// pkg/sign. The database trusts only the root: the intermediate comes
// from the signature. NSS 3.87 verifies RSA-PSS (salt of the hash
// length, as pkg/sign writes it) as well as PKCS#1 v1.5 and ECDSA; the
// changed-signature rows show it really checks the PSS signature
// (status BadSignature), not only the digest.
func TestInteropNSSVerifies(t *testing.T) {
	testpeer.Require(t, "cmsutil")
	l := labtest.Default(t)
	labDir := writeLab(t, l)
	n, err := testpeer.NewNSS(filepath.Join(t.TempDir(), "nssdb"), filepath.Join(labDir, "root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []interopSigner{rsaV15, rsaV15512, rsaPSS, rsaPSS384, ecdsa256} {
		for _, m := range modes {
			for _, tc := range tampers {
				t.Run(s.name+"/"+m.name+tc.name, func(t *testing.T) {
					msg := signFor(t, l, s, m.mode)
					tamper := tc.f != nil
					if tamper {
						msg = tc.f(t, msg, m.mode)
					}
					sig, content := splitForPeer(t, t.TempDir(), msg, m.mode)
					wantPeerVerdict(t, n.Verify(sig, content), !tamper)
				})
			}
		}
	}
}

// wantPeerVerdict fails t unless the peer accepted (accept) or rejected
// the signature; an error that is not a verdict always fails.
func wantPeerVerdict(t *testing.T, err error, accept bool) {
	t.Helper()
	var rej *testpeer.RejectedError
	switch {
	case accept && err != nil:
		t.Fatalf("got %v, want accepted", err)
	case !accept && err == nil:
		t.Fatal("peer accepted a changed message")
	case !accept && !errors.As(err, &rej):
		t.Fatalf("got %v, want a rejection", err)
	case !accept:
		t.Logf("rejected as expected: %v", err)
	}
}
