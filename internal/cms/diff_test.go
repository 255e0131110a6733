package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"testing"

	"go.mozilla.org/pkcs7"
)

// Differential tests against go.mozilla.org/pkcs7, an independent
// implementation: each must verify what the other signs.

func TestPKCS7VerifiesOurs(t *testing.T) {
	ids := identities(t)
	content := []byte("Content-Type: text/plain\r\n\r\ndifferential\r\n")
	for _, key := range []string{"rsa", "ecdsa"} {
		for _, detached := range []bool{false, true} {
			id := ids[key]
			opts := SignOptions{Signer: Signer{Key: id.key, Certificate: id.cert}, Certificates: []*x509.Certificate{id.cert}}
			var out bytes.Buffer
			if detached {
				h := crypto.SHA256.New()
				h.Write(content)
				der, err := SignDetachedDigest(h.Sum(nil), opts)
				if err != nil {
					t.Fatal(err)
				}
				out.Write(der)
			} else {
				w, err := NewSignedDataWriter(&out, opts)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(content)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			p7, err := pkcs7.Parse(out.Bytes())
			if err != nil {
				t.Fatalf("%s detached=%v: pkcs7.Parse: %v", key, detached, err)
			}
			if detached {
				p7.Content = content
			} else if !bytes.Equal(p7.Content, content) {
				t.Fatalf("%s: pkcs7 sees different content", key)
			}
			if err := p7.Verify(); err != nil {
				t.Errorf("%s detached=%v: pkcs7 Verify: %v", key, detached, err)
			}
		}
	}
}

func TestOursVerifiesPKCS7(t *testing.T) {
	ids := identities(t)
	content := []byte("Content-Type: text/plain\r\n\r\nfrom pkcs7\r\n")
	for _, key := range []string{"rsa", "ecdsa"} {
		for _, detached := range []bool{false, true} {
			id := ids[key]
			sd, err := pkcs7.NewSignedData(content)
			if err != nil {
				t.Fatal(err)
			}
			sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
			if err := sd.AddSigner(id.cert, id.key, pkcs7.SignerInfoConfig{}); err != nil {
				t.Fatal(err)
			}
			if detached {
				sd.Detach()
			}
			der, err := sd.Finish()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			parsed, err := ReadSignedData(bytes.NewReader(der), &got)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if parsed.Detached != detached || (!detached && !bytes.Equal(got.Bytes(), content)) {
				t.Fatalf("%s detached=%v: content mismatch", key, detached)
			}
			si := parsed.SignerInfos[0]
			h := si.Hash().New()
			h.Write(content)
			cert := si.FindCertificate(parsed.Certificates)
			if cert == nil {
				t.Fatal("no signer certificate")
			}
			if err := si.CheckSignature(cert, parsed.ContentType, h.Sum(nil)); err != nil {
				t.Errorf("%s detached=%v: %v", key, detached, err)
			}
		}
	}
}
