package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
)

// pqcVectors is the folder of the IETF hackathon's post-quantum CMS
// artifacts (Bouncy Castle and OpenSSL 3.5), read in place, never copied.
const pqcVectors = "../../../shared/vectors/pqc"

// pkcs7Mime wraps a DER SignedData as an application/pkcs7-mime message,
// the form Verify reads.
func pkcs7Mime(der []byte) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// TestPQCVectorsMLDSA verifies every pure ML-DSA SignedData of Bouncy
// Castle and OpenSSL 3.5 against its folder's trust anchor, and checks that
// the HashML-DSA (pre-hash) ones, which RFC 9882 does not use, fail with
// an unsupported-algorithm error that names them, never "valid".
// Issue #18 item 4: known answers from two other implementations.
func TestPQCVectorsMLDSA(t *testing.T) {
	for _, impl := range []string{"bc", "openssl35"} {
		dir := filepath.Join(pqcVectors, impl)
		ta := readDERCert(t, filepath.Join(dir, "ta.der"))
		want, err := os.ReadFile(filepath.Join(dir, "expected_plaintext.txt"))
		if err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "ml-dsa-*_signed_attrs.der"))
		if len(files) < 3 {
			t.Fatalf("%s: found %d ML-DSA vectors, want at least 3", dir, len(files))
		}
		for _, f := range files {
			name := impl + "/" + filepath.Base(f)
			t.Run(name, func(t *testing.T) {
				der, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				// The signer certificates are valid for a year from
				// their issue: check at the trust anchor's start + 1h.
				at := ta.NotBefore.Add(time.Hour)
				var out bytes.Buffer
				res, err := Verify(context.Background(), &out, bytes.NewReader(pkcs7Mime(der)), Options{
					Roots: []*x509.Certificate{ta}, Now: func() time.Time { return at }, SenderCheck: SenderOff,
				})
				if strings.Contains(f, "-with-sha512") {
					var ua *cms.UnsupportedAlgorithmError
					if err == nil || !errors.As(err, &ua) || !strings.Contains(err.Error(), "HashML-DSA") {
						t.Fatalf("HashML-DSA vector: got %v, want an unsupported algorithm error naming HashML-DSA", err)
					}
					if res != nil && res.Valid {
						t.Fatal("HashML-DSA vector reported valid")
					}
					if out.Len() != 0 {
						t.Fatal("HashML-DSA vector released content")
					}
					return
				}
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !res.Valid {
					t.Fatalf("not valid: %+v", res)
				}
				if !bytes.Contains(out.Bytes(), bytes.TrimSpace(want)) {
					t.Errorf("released %q, want it to hold %q", out.Bytes(), want)
				}
				// The last byte is the signature's: changed, never valid.
				bad := bytes.Clone(der)
				bad[len(bad)-1] ^= 0x01
				out.Reset()
				res, err = Verify(context.Background(), &out, bytes.NewReader(pkcs7Mime(bad)), Options{
					Roots: []*x509.Certificate{ta}, Now: func() time.Time { return at }, SenderCheck: SenderOff,
				})
				if err == nil || (res != nil && res.Valid) || out.Len() != 0 {
					t.Fatalf("tampered vector: err %v, released %d bytes; want a failure and nothing released", err, out.Len())
				}
			})
		}
	}
}

func readDERCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	der, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
