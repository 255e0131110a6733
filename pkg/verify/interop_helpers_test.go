package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
	"github.com/smimectl/smimectl/pkg/verify"
)

// interopPass protects the PKCS#12 files the peers import.
const interopPass = "interop-pass"

// interopEnv is the default lab written to disk, where the peers read it.
type interopEnv struct {
	lab *lab.Lab
	dir string
}

// newInteropEnv writes the test lab into a fresh temporary directory.
func newInteropEnv(t *testing.T) *interopEnv {
	t.Helper()
	l := labtest.Default(t)
	dir := filepath.Join(t.TempDir(), "lab")
	if err := l.WriteDir(dir, interopPass); err != nil {
		t.Fatal(err)
	}
	return &interopEnv{lab: l, dir: dir}
}

// file returns the path of a lab file such as "bob.crt".
func (e *interopEnv) file(name string) string { return filepath.Join(e.dir, name) }

// opts returns verification options at the test time trusting the lab
// root, with the intermediate as an extra chain certificate if inter.
func (e *interopEnv) opts(inter bool) verify.Options {
	o := verify.Options{Roots: []*x509.Certificate{e.lab.Root.Cert}, Now: func() time.Time { return at }}
	if inter {
		o.Intermediates = []*x509.Certificate{e.lab.Intermediate.Cert}
	}
	return o
}

// runOpenSSL runs openssl with args and fails t if it fails.
func runOpenSSL(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("openssl", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// writeFile writes data to name in dir and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantValid verifies msg and fails t unless it is valid, the output holds
// text, and the single signer used the digest and signature algorithms
// named (skipped when empty).
func wantValid(t *testing.T, msg []byte, opts verify.Options, text, digest, sigAlg string) {
	t.Helper()
	var out bytes.Buffer
	res, err := verify.Verify(context.Background(), &out, bytes.NewReader(msg), opts)
	if err != nil {
		t.Fatalf("got %v (%T), want valid\nmessage:\n%s", err, err, msg)
	}
	if !res.Valid || len(res.Signers) != 1 {
		t.Fatalf("valid=%v with %d signers, want valid with 1", res.Valid, len(res.Signers))
	}
	if !bytes.Contains(out.Bytes(), []byte(text)) {
		t.Fatalf("output %q does not hold %q", out.String(), text)
	}
	s := res.Signers[0]
	if digest != "" && s.DigestAlgorithm.String() != digest {
		t.Errorf("digest algorithm %q, want %q", s.DigestAlgorithm, digest)
	}
	if sigAlg != "" && s.SignatureAlgorithm != sigAlg {
		t.Errorf("signature algorithm %q, want %q", s.SignatureAlgorithm, sigAlg)
	}
}

// wantRejected verifies msg and fails t unless check accepts the error,
// nothing was written and the result (if any) is not valid. It returns
// the error.
func wantRejected(t *testing.T, msg []byte, opts verify.Options, check func(error) bool) error {
	t.Helper()
	var out bytes.Buffer
	res, err := verify.Verify(context.Background(), &out, bytes.NewReader(msg), opts)
	if err == nil || !check(err) {
		t.Fatalf("got error %v (%T), want the other kind", err, err)
	}
	t.Logf("rejected: %v", err)
	if out.Len() != 0 {
		t.Errorf("rejected message released %d bytes", out.Len())
	}
	if res != nil && res.Valid {
		t.Error("result says valid")
	}
	return err
}

func isSignatureError(err error) bool {
	var se *verify.SignatureError
	return errors.As(err, &se)
}

func isSenderError(err error) bool {
	var se *verify.SenderError
	return errors.As(err, &se)
}

// splitSMIME returns the raw CMS of an S/MIME signed message and, for a
// multipart/signed one, the signed entity (nil for opaque).
func splitSMIME(t *testing.T, msg []byte, opaque bool) (sig, content []byte) {
	t.Helper()
	var err error
	if opaque {
		if sig, err = testpeer.SMIMEBody(msg); err != nil {
			t.Fatal(err)
		}
		return sig, nil
	}
	if content, err = testpeer.MIMEPartRaw(msg, 1); err != nil {
		t.Fatal(err)
	}
	if sig, err = testpeer.MIMEPart(msg, 2); err != nil {
		t.Fatal(err)
	}
	return sig, content
}

// wrapSMIME builds an S/MIME message from raw CMS, the signed entity
// (multipart/signed) or none (application/pkcs7-mime), with a From field.
func wrapSMIME(t *testing.T, from string, sig, content []byte, micalg string) []byte {
	t.Helper()
	var body []byte
	var err error
	if content == nil {
		body, err = testpeer.WrapPKCS7MIME(sig)
	} else {
		body, err = testpeer.WrapSigned(content, sig, micalg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("From: "+from+"\r\nTo: bob@example.com\r\nSubject: interop\r\n"), body...)
}

// flipSignature returns a copy of the CMS sig with one bit changed in the
// middle of the first signer's signature value, found by parsing it.
func flipSignature(t *testing.T, sig []byte) []byte {
	t.Helper()
	sd, err := cms.ReadSignedData(bytes.NewReader(sig), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.SignerInfos) == 0 {
		t.Fatal("signature has no signer")
	}
	v := sd.SignerInfos[0].Signature
	i := bytes.Index(sig, v)
	if i < 0 || bytes.Contains(sig[i+1:], v) {
		t.Fatal("signature value not found exactly once in the CMS")
	}
	out := bytes.Clone(sig)
	out[i+len(v)/2] ^= 0x01
	return out
}

// flipText returns a copy of data with the first 'H' of "Hello" made 'J'.
func flipText(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.Index(data, []byte("Hello"))
	if i < 0 {
		t.Fatalf("no text to change in %q", data)
	}
	out := bytes.Clone(data)
	out[i] = 'J'
	return out
}
