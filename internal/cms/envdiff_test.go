package cms

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"testing"

	"go.mozilla.org/pkcs7"
)

// Differential tests against go.mozilla.org/pkcs7's EnvelopedData with
// RSA PKCS#1 v1.5 and CBC content encryption: each decrypts what the other
// encrypts. pkcs7 picks its cipher through a package variable, so these
// tests do not run in parallel.

func TestPKCS7DecryptsOurs(t *testing.T) {
	id := identities(t)["rsa"]
	content := bytes.Repeat([]byte("differential envelope\r\n"), 3000)
	for _, c := range []Cipher{AES256CBC, AES128CBC} {
		msg := encryptTo(t, content, c, Recipient{Certificate: id.cert})
		p7, err := pkcs7.Parse(msg)
		if err != nil {
			t.Fatalf("%v: pkcs7.Parse: %v", c, err)
		}
		got, err := p7.Decrypt(id.cert, id.key.(*rsa.PrivateKey))
		if err != nil {
			t.Fatalf("%v: pkcs7 Decrypt: %v", c, err)
		}
		if !bytes.Equal(got, content) {
			t.Fatalf("%v: pkcs7 decrypts different content", c)
		}
	}
}

func TestOursDecryptsPKCS7(t *testing.T) {
	id := identities(t)["rsa"]
	content := bytes.Repeat([]byte("from pkcs7\r\n"), 500)
	saved := pkcs7.ContentEncryptionAlgorithm
	defer func() { pkcs7.ContentEncryptionAlgorithm = saved }()
	for _, tc := range []struct {
		alg  int
		want Cipher
	}{
		{pkcs7.EncryptionAlgorithmAES256CBC, AES256CBC},
		{pkcs7.EncryptionAlgorithmAES128CBC, AES128CBC},
		{pkcs7.EncryptionAlgorithmDESCBC, DESCBC},
	} {
		pkcs7.ContentEncryptionAlgorithm = tc.alg
		msg, err := pkcs7.Encrypt(content, []*x509.Certificate{id.cert})
		if err != nil {
			t.Fatal(err)
		}
		got, env, err := decryptWith(msg, id)
		if err != nil {
			t.Fatalf("%v: %v", tc.want, err)
		}
		if env.Cipher != tc.want || !bytes.Equal(got, content) {
			t.Fatalf("%v: got cipher %v, %d bytes", tc.want, env.Cipher, len(got))
		}
	}
}
