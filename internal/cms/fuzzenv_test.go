package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The enveloped fuzz target decrypts with a fixed P-256 key and, for
// recipients it cannot unwrap, with the content key the seed generator drew
// from a fixed stream, so that mutations reach the content decryption too.

// fuzzStream is the deterministic "randomness" of the seed messages: AES-CTR
// under the zero key. Its first bytes are the content-encryption key.
func fuzzStream() io.Reader {
	b, _ := aes.NewCipher(make([]byte, 16))
	return cipher.StreamReader{S: cipher.NewCTR(b, make([]byte, 16)), R: zeroReader{}}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func fuzzCEK(n int) []byte {
	k := make([]byte, n)
	io.ReadFull(fuzzStream(), k)
	return k
}

// fuzzECKey is the fixed key-agreement key of the fuzz target.
func fuzzECKey() *ecdsa.PrivateKey {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		panic(err)
	}
	return k
}

// envelopedSeeds are messages for FuzzReadEnveloped: every writable cipher,
// a key-agreement recipient and a key-transport one by key identifier, in
// the BER form we write and in DER.
func envelopedSeeds(t testing.TB) [][]byte {
	ec := fuzzECKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "fuzz"},
		NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageKeyAgreement,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ec.Public(), ec)
	if err != nil {
		t.Fatal(err)
	}
	ecCert, _ := x509.ParseCertificate(der)
	rsaCert := identities(t)["rsa"].cert
	var seeds [][]byte
	for i, c := range []Cipher{AES256CBC, AES128GCM, AES128CBC, AES256GCM} {
		var out bytes.Buffer
		w, err := NewEnvelopedDataWriter(&out, EnvelopeOptions{
			Recipients: []Recipient{{Certificate: ecCert}, {Certificate: rsaCert, SubjectKeyID: true, OAEP: i%2 == 0}},
			Cipher:     c, Rand: fuzzStream(),
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "Content-Type: text/plain\r\n\r\nseed %d %s\r\n", i, bytes.Repeat([]byte{'x'}, 100*i))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, out.Bytes())
		if i%2 == 1 {
			d, err := ToDER(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, d)
		}
	}
	return seeds
}

func writeEnvelopedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadEnveloped")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range envelopedSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnvelopedSeedsDecrypt(t *testing.T) {
	if *updateCorpus {
		writeEnvelopedCorpus(t)
	}
	m, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzReadEnveloped", "seed-*"))
	if len(m) == 0 {
		t.Fatal("no seed corpus for FuzzReadEnveloped: run with -update-corpus")
	}
	for _, s := range envelopedSeeds(t) {
		if _, err := fuzzDecrypt(s, io.Discard); err != nil {
			t.Fatalf("seed does not decrypt: %v", err)
		}
	}
}

func fuzzDecrypt(data []byte, w io.Writer) (*Enveloped, error) {
	ec := fuzzECKey()
	return ReadEnveloped(bytes.NewReader(data), w, func(e *Enveloped) ([]byte, error) {
		for _, ri := range e.Recipients {
			ri.KeyManagement()
			if ri.Type == KeyAgreement {
				if k, err := ri.UnwrapKey(ec, e.Cipher.KeySize(), rand.Reader); err == nil {
					return k, nil
				}
			}
		}
		return fuzzCEK(e.Cipher.KeySize()), nil
	})
}

// FuzzReadEnveloped: hostile EnvelopedData and AuthEnvelopedData never
// panic or hang; an error comes with no result; what decrypts in BER
// decrypts to the same plaintext after conversion to DER.
func FuzzReadEnveloped(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var p1 bytes.Buffer
		env, err := fuzzDecrypt(data, &p1)
		if err != nil {
			if env != nil {
				t.Fatal("result with error")
			}
			return
		}
		der, err := ToDER(data[:len(data)-trailing(data)])
		if err != nil {
			return
		}
		var p2 bytes.Buffer
		if _, err := fuzzDecrypt(der, &p2); err != nil {
			t.Fatalf("DER form of a readable message does not read: %v", err)
		}
		if !bytes.Equal(p1.Bytes(), p2.Bytes()) {
			t.Fatal("BER and DER forms decrypt differently")
		}
	})
}
