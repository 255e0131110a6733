package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/kem"
)

// bcVectors is Bouncy Castle's ML-KEM folder of the shared vectors, read
// in place (../shared/vectors/README.md).
const bcVectors = "../../../shared/vectors/pqc/bc"

// TestLoadIdentityMLKEM: internal/keys reads ML-KEM certificates and
// PKCS#8 keys (issue #18 item 3), DER as the hackathon ships them and PEM,
// pairs the key with its certificate, and the key decrypts but never
// signs.
func TestLoadIdentityMLKEM(t *testing.T) {
	for _, stem := range []string{
		"ml-kem-512-2.16.840.1.101.3.4.4.1",
		"ml-kem-768-2.16.840.1.101.3.4.4.2",
		"ml-kem-1024-2.16.840.1.101.3.4.4.3",
	} {
		t.Run(stem, func(t *testing.T) {
			keyPath := filepath.Join(bcVectors, stem+"_priv.der")
			certPath := filepath.Join(bcVectors, stem+"_ee.der")
			id, err := LoadIdentity(keyPath, certPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			k, ok := id.Signer.(*kem.PrivateKey)
			if !ok {
				t.Fatalf("key %T, want *kem.PrivateKey", id.Signer)
			}
			if _, ok := id.Certificate.PublicKey.(*kem.PublicKey); !ok {
				t.Fatalf("certificate key %T, want *kem.PublicKey", id.Certificate.PublicKey)
			}
			if _, err := k.Sign(nil, []byte("x"), nil); err == nil {
				t.Fatal("an ML-KEM key signed")
			}
			// The same, as PEM: certificate and key in one file.
			der, _ := os.ReadFile(keyPath)
			cder, _ := os.ReadFile(certPath)
			both := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cder}),
				pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
			p := filepath.Join(t.TempDir(), "id.pem")
			if err := os.WriteFile(p, both, 0o600); err != nil {
				t.Fatal(err)
			}
			id2, err := LoadIdentity(p, p, nil)
			if err != nil || MatchesKey(id2.Certificate, id.Signer) != nil {
				t.Fatalf("PEM: %v", err)
			}
		})
	}
	// Another ML-KEM-768 key does not match the certificate.
	other, _ := kem.NewPrivateKeyFromSeed(kem.MLKEM768, make([]byte, 64))
	certs, err := LoadCertificates(filepath.Join(bcVectors, "ml-kem-768-2.16.840.1.101.3.4.4.2_ee.der"))
	if err != nil {
		t.Fatal(err)
	}
	if MatchesKey(certs[0], other) == nil {
		t.Error("another ML-KEM key matched the certificate")
	}
	// A "both" key whose halves disagree is refused by name.
	bad := append([]byte(nil), mustRead(t, filepath.Join(bcVectors, "ml-kem-768-2.16.840.1.101.3.4.4.2_priv.der"))...)
	bad[len(bad)-1] ^= 1 // last byte of the expanded key (z)
	if _, err := ParsePrivateKey(bad, nil); err == nil || !strings.Contains(err.Error(), "expanded key is not the one its seed gives") {
		t.Errorf("inconsistent key: got %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encryptPKCS8 wraps der in a PBES2 EncryptedPrivateKeyInfo (RFC 8018:
// PBKDF2 with HMAC-SHA-256, AES-256-CBC), as Bouncy Castle and OpenSSL
// 3.5 write encrypted ML-KEM keys.
func encryptPKCS8(t *testing.T, der []byte, pass string) []byte {
	t.Helper()
	salt, iv := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16)
	key, err := pbkdf2.Key(sha256.New, pass, salt, 2048, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	pad := 16 - len(der)%16
	plain := append(bytes.Clone(der), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(plain, plain)
	type algo struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	kdf := algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, raw(struct {
		Salt  []byte
		Iter  int
		KeyLn int
		PRF   algo
	}{salt, 2048, 32, algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, asn1.NullRawValue}})}
	enc := algo{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, raw(iv)}
	out, err := asn1.Marshal(struct {
		Alg  algo
		Data []byte
	}{algo{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, raw(struct{ KDF, Enc algo }{kdf, enc})}, plain})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEncryptedMLKEMKey: an ML-KEM key in an encrypted PKCS#8 file is read
// with its passphrase, and a wrong passphrase says so (issue #18 item 3).
func TestEncryptedMLKEMKey(t *testing.T) {
	der := mustRead(t, filepath.Join(bcVectors, "ml-kem-768-2.16.840.1.101.3.4.4.2_priv.der"))
	enc := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encryptPKCS8(t, der, "secret")})
	k, err := ParsePrivateKey(enc, func() ([]byte, error) { return []byte("secret"), nil })
	if err != nil {
		t.Fatal(err)
	}
	want, _ := kem.ParsePKCS8PrivateKey(der)
	if mk, ok := k.(*kem.PrivateKey); !ok || !mk.PublicKey().Equal(want.Public()) {
		t.Fatalf("got %T, not the file's ML-KEM key", k)
	}
	if _, err := ParsePrivateKey(enc, func() ([]byte, error) { return []byte("wrong"), nil }); !errors.Is(err, ErrIncorrectPassphrase) {
		t.Errorf("wrong passphrase: got %v", err)
	}
}
