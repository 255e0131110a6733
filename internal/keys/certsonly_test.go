package keys

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/cms"
)

// TestParseCertsOnlyMessage reads certs-only messages in the forms mail
// clients write them, and refuses other S/MIME types (issue #14 item 4).
func TestParseCertsOnlyMessage(t *testing.T) {
	pki := newTestPKI(t)
	der, err := cms.CertsOnly([]*x509.Certificate{pki.alice})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(der)
	folded := b64[:40] + "\r\n" + b64[40:]
	for _, tc := range []struct {
		name, msg, want string
	}{
		{"rfc 8551", "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only; name=smime.p7c\r\nContent-Transfer-Encoding: base64\r\n\r\n" + folded + "\r\n", ""},
		{"lf, x-pkcs7-mime, name only", "Content-Type: application/x-pkcs7-mime; name=\"smime.p7c\"\nContent-Transfer-Encoding: base64\n\n" + b64 + "\n", ""},
		{"binary", "Content-Type: application/pkcs7-mime; smime-type=certs-only\r\nContent-Transfer-Encoding: binary\r\n\r\n" + string(der), ""},
		{"signed-data", "Content-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64, `smime-type "signed-data", not certs-only`},
		{"bad base64", "Content-Type: application/pkcs7-mime; smime-type=certs-only\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!", "base64 body is malformed"},
		{"unknown encoding", "Content-Type: application/pkcs7-mime; smime-type=certs-only\r\nContent-Transfer-Encoding: x-uu\r\n\r\n" + b64, "unknown Content-Transfer-Encoding"},
		{"empty body", "Content-Type: application/pkcs7-mime; smime-type=certs-only\r\n\r\n", "certs-only message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCertificates([]byte(tc.msg))
			if tc.want == "" {
				if err != nil || len(certs) != 1 || !certs[0].Equal(pki.alice) {
					t.Fatalf("got %d certificates, %v", len(certs), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
