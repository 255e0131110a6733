package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/smimectl/smimectl/internal/chain"
)

// TestRFC9882Examples verifies the SignedData examples of RFC 9882
// Appendix B with the example certificates of RFC 9881 Appendix C, whose
// self-signatures (ML-DSA) chain.CheckCertificateSignature checks; a
// changed content fails (issue #18 item 4: the specification's example
// appendix).
func TestRFC9882Examples(t *testing.T) {
	dir := filepath.Join("testdata", "rfc9882")
	pemFile := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			t.Fatalf("%s: no PEM block", name)
		}
		return block.Bytes
	}
	for _, set := range []string{"44", "65", "87"} {
		t.Run("ML-DSA-"+set, func(t *testing.T) {
			cert, err := x509.ParseCertificate(pemFile("ML-DSA-" + set + ".crt"))
			if err != nil {
				t.Fatal(err)
			}
			if err := chain.CheckCertificateSignature(cert, cert); err != nil {
				t.Fatalf("the certificate's self-signature: %v", err)
			}
			der := pemFile("mldsa" + set + "-signed-attrs.pem")
			var content bytes.Buffer
			sd, err := ReadSignedData(bytes.NewReader(der), &content)
			if err != nil {
				t.Fatal(err)
			}
			if len(sd.SignerInfos) != 1 {
				t.Fatalf("%d signers", len(sd.SignerInfos))
			}
			si := sd.SignerInfos[0]
			if !si.Matches(cert) {
				t.Fatal("the signer is not the example certificate")
			}
			if got := si.SignatureAlgorithmName(); got != "ML-DSA-"+set {
				t.Fatalf("signature algorithm %s", got)
			}
			digest := sd.ContentDigests[si.Hash()]
			if err := si.CheckSignature(cert, sd.ContentType, digest); err != nil {
				t.Fatalf("CheckSignature: %v (content %q)", err, content.Bytes())
			}
			h := si.Hash().New()
			h.Write(append(content.Bytes(), '!'))
			if err := si.CheckSignature(cert, sd.ContentType, h.Sum(nil)); !errors.Is(err, ErrContentModified) {
				t.Fatalf("changed content: got %v, want ErrContentModified", err)
			}
		})
	}
}
