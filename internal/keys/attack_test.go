package keys

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"
)

// TestParseCertificatesNoConfusion: a certificate file is read as one thing,
// PEM or DER, and every PEM block in it is read or refused, never skipped.
// Otherwise the certificate smimectl checks (cert-verify's verdict, the
// trust given with --trust) is not the one another reader takes from the
// same bytes: openssl and Windows read a DER certificate at the start of a
// file, a lenient base64 reader a block Go's PEM decoder passes over.
// Before the fix each of these files was read as Alice's certificate alone.
func TestParseCertificatesNoConfusion(t *testing.T) {
	pki := newTestPKI(t)
	alice := certPEM(pki.alice)
	// One character of the base64 changed to one base64 does not have:
	// pem.Decode gives up on the block and looks for the next one.
	broken := bytes.Replace(certPEM(pki.bob), []byte("\n"), []byte("\n!"), 3)
	// A DER certificate whose common name carries Alice's certificate in PEM.
	key := testKey(t, "p256")
	mallory := testCert(t, "mallory\n"+string(alice), key, nil, nil)

	tests := []struct {
		name string
		data []byte
		want []*x509.Certificate // nil: an error
		err  string
	}{
		{"broken block before alice", append(broken, alice...), nil, "PEM block 1 is malformed"},
		{"der then pem", append(append(bytes.Clone(pki.bob.Raw), '\n'), alice...), nil, "binary data"},
		{"pem then der", append(bytes.Clone(alice), pki.bob.Raw...), nil, "binary data"},
		{"der certificate with pem in its name", mallory.Raw, []*x509.Certificate{mallory}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCertificates(tc.data)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("ParseCertificates: %v", err)
				}
				sameCerts(t, got, tc.want...)
				return
			}
			if err == nil || got != nil || !strings.Contains(err.Error(), tc.err) {
				var names []string
				for _, c := range got {
					names = append(names, c.Subject.CommonName)
				}
				t.Fatalf("got %q, error %v; want an error containing %q", names, err, tc.err)
			}
		})
	}
}
