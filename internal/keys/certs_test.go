package keys

import (
	"bytes"
	"crypto/x509"
	"errors"
	"github.com/smimectl/smimectl/internal/cms"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testPKI is a CA with two end-entity certificates.
type testPKI struct {
	ca, alice, bob *x509.Certificate
}

func newTestPKI(t testing.TB) testPKI {
	caKey := testKey(t, "p256")
	ca := testCert(t, "ca", caKey, nil, nil)
	return testPKI{
		ca:    ca,
		alice: testCert(t, "alice", testKey(t, "p256"), ca, caKey),
		bob:   testCert(t, "bob", testKey(t, "p384"), ca, caKey),
	}
}

func sameCerts(t *testing.T, got []*x509.Certificate, want ...*x509.Certificate) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d certificates, want %d", len(got), len(want))
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			t.Errorf("certificate %d: got %q, want %q", i, got[i].Subject.CommonName, want[i].Subject.CommonName)
		}
	}
}

func TestParseCertificates(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	writeFile(t, dir, "two.pem", certPEM(pki.alice, pki.ca))
	p7b := openssl(t, dir, "two.p7b", "crl2pkcs7", "-nocrl", "-certfile", "two.pem", "-outform", "DER", "-out", "two.p7b")
	p7bPEM := openssl(t, dir, "two.p7b.pem", "crl2pkcs7", "-nocrl", "-certfile", "two.pem", "-out", "two.p7b.pem")

	key := pkcs8PEM(t, testKey(t, "p256"))
	crl := pemBytes("X509 CRL", []byte{0x30, 0x00})
	cmsPEM := bytes.ReplaceAll(p7bPEM, []byte("PKCS7"), []byte("CMS"))

	tests := []struct {
		name string
		data []byte
		want []*x509.Certificate
	}{
		{"pem-one", certPEM(pki.alice), []*x509.Certificate{pki.alice}},
		{"pem-three-with-key-and-crl", bytes.Join([][]byte{certPEM(pki.alice), key, crl, certPEM(pki.bob, pki.ca)}, nil), []*x509.Certificate{pki.alice, pki.bob, pki.ca}},
		{"pem-with-text-around", append(append([]byte("subject=CN=alice\n"), certPEM(pki.alice)...), "trailer\n"...), []*x509.Certificate{pki.alice}},
		{"der", pki.bob.Raw, []*x509.Certificate{pki.bob}},
		{"p7b-der", p7b, []*x509.Certificate{pki.alice, pki.ca}},
		{"p7b-pem", p7bPEM, []*x509.Certificate{pki.alice, pki.ca}},
		{"cms-pem", cmsPEM, []*x509.Certificate{pki.alice, pki.ca}},
		{"p7b-ber-indefinite", toIndefinite(t, p7b), []*x509.Certificate{pki.alice, pki.ca}},
		{"p7b-and-cert-pem", append(p7bPEM, certPEM(pki.bob)...), []*x509.Certificate{pki.alice, pki.ca, pki.bob}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCertificates(tc.data)
			if err != nil {
				t.Fatalf("ParseCertificates: %v", err)
			}
			sameCerts(t, got, tc.want...)
		})
	}
}

// TestParseCertificatesSignedMessage reads the certificates of a signed
// message as openssl cms -stream writes it: BER with indefinite lengths.
func TestParseCertificatesSignedMessage(t *testing.T) {
	needOpenSSL(t)
	key := testKey(t, "rsa")
	cert := testCert(t, "alice", key, nil, nil)
	dir := t.TempDir()
	writeFile(t, dir, "cert.pem", certPEM(cert))
	writeFile(t, dir, "key.pem", pkcs8PEM(t, key))
	writeFile(t, dir, "msg.txt", []byte("hello\r\n"))
	signed := openssl(t, dir, "signed.der", "cms", "-sign", "-in", "msg.txt", "-signer", "cert.pem", "-inkey", "key.pem",
		"-nodetach", "-stream", "-outform", "DER", "-out", "signed.der")
	if signed[1] != 0x80 {
		t.Fatalf("openssl did not write indefinite lengths: % x", signed[:4])
	}
	got, err := ParseCertificates(signed)
	if err != nil {
		t.Fatal(err)
	}
	sameCerts(t, got, cert)
}

func TestParseCertificatesErrors(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	writeFile(t, dir, "one.pem", certPEM(pki.alice))
	empty := openssl(t, dir, "empty.p7b", "crl2pkcs7", "-nocrl", "-outform", "DER", "-out", "empty.p7b")
	p7b := openssl(t, dir, "one.p7b", "crl2pkcs7", "-nocrl", "-certfile", "one.pem", "-outform", "DER", "-out", "one.p7b")
	// A ContentInfo of type id-data: SEQUENCE { OID 1.2.840.113549.1.7.1, [0] { OCTET STRING "" } }.
	data := []byte{0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x02, 0x04, 0x00}

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no certificate found"},
		{"text", []byte("not a certificate\n"), "no certificate found"},
		{"key-only-pem", pkcs8PEM(t, testKey(t, "p256")), "no certificate found in PEM data"},
		{"corrupt-cert-pem", pemBytes("CERTIFICATE", pki.alice.Raw[:100]), "PEM block 1"},
		{"truncated-der", pki.alice.Raw[:len(pki.alice.Raw)-1], "no certificate found"},
		{"p7b-no-certs", empty, "holds no certificates"},
		{"p7b-truncated", p7b[:len(p7b)-10], "PKCS#7 bundle: cms: malformed input: truncated"},
		{"p7b-trailing-data", append(p7b[:len(p7b):len(p7b)], 0), "trailing data"},
		{"p7-data", data, "is not SignedData"},
		{"p7b-unterminated-ber", toIndefinite(t, p7b)[:len(p7b)], "PKCS#7 bundle: cms: malformed input: truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCertificates(tc.data)
			if err == nil {
				t.Fatalf("got %d certificates, want an error", len(certs))
			}
			if certs != nil {
				t.Errorf("got certificates with error %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "keys: ") || strings.Count(msg, "keys: ") > 1 || !strings.Contains(msg, tc.want) {
				t.Errorf("got error %q, want one \"keys: \" prefix and %q", msg, tc.want)
			}
		})
	}
}

func TestBERToDERKeepsDER(t *testing.T) {
	pki := newTestPKI(t)
	for _, c := range []*x509.Certificate{pki.ca, pki.alice, pki.bob} {
		got, err := cms.ToDER(c.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.Raw) {
			t.Errorf("%s: DER changed by cms.ToDER", c.Subject.CommonName)
		}
		got, err = cms.ToDER(toIndefinite(t, c.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.Raw) {
			t.Errorf("%s: indefinite lengths did not convert back to the DER", c.Subject.CommonName)
		}
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, 66)
	deep = append(deep, bytes.Repeat([]byte{0, 0}, 66)...)
	if _, err := cms.ToDER(deep); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Errorf("deep nesting: got %v", err)
	}
}

func TestLoadCertificates(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	writeFile(t, dir, "ca.pem", certPEM(pki.ca))
	p7b := openssl(t, dir, "ca.pem.p7b", "crl2pkcs7", "-nocrl", "-certfile", "ca.pem", "-outform", "DER", "-out", "ca.pem.p7b")

	certDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(filepath.Join(certDir, "sub.pem"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, certDir, "b-alice.PEM", certPEM(pki.alice))
	writeFile(t, certDir, "a-bob.der", pki.bob.Raw)
	writeFile(t, certDir, "c-ca.p7b", p7b)
	writeFile(t, certDir, "d.cer", certPEM(pki.bob))
	writeFile(t, certDir, "key.key", pkcs8PEM(t, testKey(t, "p256")))
	writeFile(t, certDir, "notes.txt", []byte("not a certificate"))
	writeFile(t, filepath.Join(certDir, "sub.pem"), "x.pem", certPEM(pki.ca))

	t.Run("directory", func(t *testing.T) {
		got, err := LoadCertificates(certDir)
		if err != nil {
			t.Fatal(err)
		}
		sameCerts(t, got, pki.bob, pki.alice, pki.ca, pki.bob)
	})
	t.Run("file", func(t *testing.T) {
		got, err := LoadCertificates(filepath.Join(certDir, "c-ca.p7b"))
		if err != nil {
			t.Fatal(err)
		}
		sameCerts(t, got, pki.ca)
	})
	t.Run("missing", func(t *testing.T) {
		name := filepath.Join(dir, "missing.pem")
		_, err := LoadCertificates(name)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("got %v, want fs.ErrNotExist", err)
		}
		want := `keys: reading "` + name + `": no such file or directory`
		if err == nil || err.Error() != want {
			t.Errorf("got %q, want %q", err, want)
		}
	})
	t.Run("bad-file-in-directory", func(t *testing.T) {
		bad := filepath.Join(certDir, "e-bad.crt")
		writeFile(t, certDir, "e-bad.crt", []byte("garbage"))
		defer os.Remove(bad)
		_, err := LoadCertificates(certDir)
		want := `keys: reading "` + bad + `": no certificate found`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %q, want it to start with %q", err, want)
		}
	})
	t.Run("empty-directory", func(t *testing.T) {
		empty := t.TempDir()
		writeFile(t, empty, "readme.txt", nil)
		_, err := LoadCertificates(empty)
		if err == nil || !strings.Contains(err.Error(), "no certificate files in directory") {
			t.Errorf("got %v", err)
		}
	})
}
