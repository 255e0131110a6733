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
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"testing"
	"time"
)

func TestGCMStreamMatchesAEAD(t *testing.T) {
	key := make([]byte, 32)
	nonce := make([]byte, 12)
	rand.Read(key)
	rand.Read(nonce)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	for _, tc := range []struct {
		size, chunk int
		aad         string
	}{
		{0, 16, ""}, {1, 16, ""}, {16, 16, ""}, {100, 32, ""}, {chunkSize*2 + 7, chunkSize, ""},
		{5000, 4096, "authenticated attributes"}, {0, 16, "aad only"},
	} {
		t.Run(fmt.Sprintf("%d/%d/%q", tc.size, tc.chunk, tc.aad), func(t *testing.T) {
			msg := make([]byte, tc.size)
			rand.Read(msg)
			want := aead.Seal(nil, nonce, msg, []byte(tc.aad))
			g, err := newGCMStream(block, nonce)
			if err != nil {
				t.Fatal(err)
			}
			got := append([]byte(nil), msg...)
			for off := 0; off < len(got); off += tc.chunk {
				if err := g.seal(got[off:min(off+tc.chunk, len(got))]); err != nil {
					t.Fatal(err)
				}
			}
			got = append(got, g.tag([]byte(tc.aad))...)
			if !bytes.Equal(got, want) {
				t.Fatalf("streamed GCM differs from crypto/cipher")
			}
			d, _ := newGCMStream(block, nonce)
			ct := append([]byte(nil), want[:tc.size]...)
			d.open(ct)
			if !bytes.Equal(ct, msg) || !d.checkTag([]byte(tc.aad), want[tc.size:]) {
				t.Fatal("streamed GCM does not open")
			}
		})
	}
}

func TestAESKeyWrapRFC3394(t *testing.T) {
	// RFC 3394 section 4.1 and 4.6.
	for _, tc := range []struct{ kek, key, wrapped string }{
		{"000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF", "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	} {
		kek, _ := hex.DecodeString(tc.kek)
		key, _ := hex.DecodeString(tc.key)
		want, _ := hex.DecodeString(tc.wrapped)
		got, err := aesKeyWrap(kek, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("wrap: got %x, %v, want %x", got, err, want)
		}
		back, err := aesKeyUnwrap(kek, got)
		if err != nil || !bytes.Equal(back, key) {
			t.Fatalf("unwrap: got %x, %v", back, err)
		}
		got[3] ^= 1
		if _, err := aesKeyUnwrap(kek, got); !errors.Is(err, errUnwrap) {
			t.Fatalf("unwrap of a modified key: got %v, want errUnwrap", err)
		}
	}
}

var (
	p384Once sync.Once
	p384ID   testIdentity
)

// p384Identity is a P-384 key-agreement identity.
func p384Identity(t testing.TB) testIdentity {
	p384Once.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(384), Subject: pkix.Name{CommonName: "cms test p384"},
			NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC),
			KeyUsage: x509.KeyUsageKeyAgreement, SubjectKeyId: []byte{3, 8, 4},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
		if err != nil {
			panic(err)
		}
		c, _ := x509.ParseCertificate(der)
		p384ID = testIdentity{k, c}
	})
	return p384ID
}

// decryptWith reads an enveloped message with the key of id, choosing the
// recipient that names id's certificate.
func decryptWith(msg []byte, id testIdentity) ([]byte, *Enveloped, error) {
	var out bytes.Buffer
	env, err := ReadEnveloped(bytes.NewReader(msg), &out, func(e *Enveloped) ([]byte, error) {
		for _, ri := range e.Recipients {
			if ri.Matches(id.cert) {
				return ri.UnwrapKey(id.key, e.Cipher.KeySize(), rand.Reader)
			}
		}
		return nil, errors.New("not for us")
	})
	return out.Bytes(), env, err
}

func encryptTo(t testing.TB, content []byte, c Cipher, rs ...Recipient) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewEnvelopedDataWriter(&out, EnvelopeOptions{Recipients: rs, Cipher: c})
	if err != nil {
		t.Fatal(err)
	}
	// Odd write sizes exercise the chunking.
	for off := 0; off < len(content); off += 1000 {
		if _, err := w.Write(content[off:min(off+1000, len(content))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestEnvelopedRoundTrip(t *testing.T) {
	ids := identities(t)
	rsaID, ecID, p384 := ids["rsa"], ids["ecdsa"], p384Identity(t)
	recipients := []struct {
		name string
		r    Recipient
		id   testIdentity
		km   string
	}{
		{"rsa-v15", Recipient{Certificate: rsaID.cert}, rsaID, "rsa-pkcs1v15"},
		{"rsa-oaep-keyid", Recipient{Certificate: rsaID.cert, OAEP: true, SubjectKeyID: true}, rsaID, "rsa-"},
		{"p256", Recipient{Certificate: ecID.cert}, ecID, "ecdh-sha256kdf-aes"},
		{"p384-keyid", Recipient{Certificate: p384.cert, SubjectKeyID: true}, p384, "ecdh-sha256kdf-aes"},
	}
	for _, c := range []Cipher{AES256CBC, AES128CBC, AES256GCM, AES128GCM} {
		for _, size := range []int{0, 15, 16, chunkSize, chunkSize*3 + 5} {
			content := make([]byte, size)
			rand.Read(content)
			var rs []Recipient
			for _, r := range recipients {
				rs = append(rs, r.r)
			}
			msg := encryptTo(t, content, c, rs...)
			for _, r := range recipients {
				t.Run(fmt.Sprintf("%v/%d/%s", c, size, r.name), func(t *testing.T) {
					got, env, err := decryptWith(msg, r.id)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, content) {
						t.Fatalf("content differs: got %d bytes, want %d", len(got), len(content))
					}
					if env.Cipher != c || env.Auth != c.AEAD() || len(env.Recipients) != len(recipients) {
						t.Fatalf("got cipher %v auth %v, %d recipients", env.Cipher, env.Auth, len(env.Recipients))
					}
					var km string
					for _, ri := range env.Recipients {
						if ri.Matches(r.id.cert) && km == "" {
							km = ri.KeyManagement()
						}
					}
					if len(km) < len(r.km) || km[:len(r.km)] != r.km {
						t.Fatalf("key management %q, want %q...", km, r.km)
					}
				})
			}
		}
	}
}

func TestEnvelopedFailures(t *testing.T) {
	ids := identities(t)
	rsaID, ecID := ids["rsa"], ids["ecdsa"]
	content := bytes.Repeat([]byte("secret "), 10000)
	for _, c := range []Cipher{AES256CBC, AES256GCM} {
		msg := encryptTo(t, content, c, Recipient{Certificate: rsaID.cert}, Recipient{Certificate: ecID.cert})
		t.Run(c.String()+"/flipped", func(t *testing.T) {
			bad := append([]byte(nil), msg...)
			bad[len(bad)-200] ^= 1 // in the last content segment
			_, _, err := decryptWith(bad, ecID)
			if c.AEAD() && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("got %v, want ErrDecrypt", err)
			}
		})
		t.Run(c.String()+"/truncated", func(t *testing.T) {
			for _, n := range []int{10, len(msg) / 2, len(msg) - 1} {
				if _, _, err := decryptWith(msg[:n], rsaID); err == nil {
					t.Fatalf("truncated at %d: no error", n)
				}
			}
		})
		t.Run(c.String()+"/wrong-rsa-key", func(t *testing.T) {
			// The RSA recipient's encrypted key, decrypted with the
			// right key after the ciphertext changed, gives a random
			// content key: the content fails, no padding error shows.
			_, env, _ := decryptWith(msg, rsaID)
			ri := env.Recipients[0]
			ek := append([]byte(nil), ri.EncryptedKey...)
			ek[10] ^= 0xff
			ri2 := *ri
			ri2.EncryptedKey = ek
			k, err := ri2.UnwrapKey(rsaID.key, c.KeySize(), rand.Reader)
			if err != nil || len(k) != c.KeySize() {
				t.Fatalf("PKCS#1 v1.5 failure visible: %v", err)
			}
		})
	}
	// A key-agreement recipient with the wrong key fails the key unwrap.
	msg := encryptTo(t, content, AES128CBC, Recipient{Certificate: ecID.cert})
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err := ReadEnveloped(bytes.NewReader(msg), io.Discard, func(e *Enveloped) ([]byte, error) {
		return e.Recipients[0].UnwrapKey(other, 16, rand.Reader)
	})
	if !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong EC key: got %v, want ErrDecrypt", err)
	}
}

func TestEnvelopedRefusals(t *testing.T) {
	ids := identities(t)
	for _, tc := range []struct {
		name string
		opts EnvelopeOptions
	}{
		{"no recipients", EnvelopeOptions{}},
		{"3des", EnvelopeOptions{Cipher: DES3CBC, Recipients: []Recipient{{Certificate: ids["rsa"].cert}}}},
		{"oaep to ec", EnvelopeOptions{Recipients: []Recipient{{Certificate: ids["ecdsa"].cert, OAEP: true}}}},
	} {
		if _, err := NewEnvelopedDataWriter(io.Discard, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestEnvelopedOAEPOnly(t *testing.T) {
	id := identities(t)["rsa"]
	content := []byte("oaep")
	msg := encryptTo(t, content, AES256GCM, Recipient{Certificate: id.cert, OAEP: true, SubjectKeyID: true})
	got, env, err := decryptWith(msg, id)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("got %q, %v", got, err)
	}
	if km := env.Recipients[0].KeyManagement(); km != "rsa-oaep-sha256" || env.Recipients[0].SubjectKeyID == nil {
		t.Fatalf("got %s", km)
	}
}

func TestRC2Vectors(t *testing.T) {
	// RFC 2268 section 5.
	for _, tc := range []struct {
		key  string
		bits int
		pt   string
		ct   string
	}{
		{"0000000000000000", 63, "0000000000000000", "ebb773f993278eff"},
		{"ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"},
		{"3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"},
		{"88", 64, "0000000000000000", "61a8a244adacccf0"},
		{"88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"},
	} {
		key, _ := hex.DecodeString(tc.key)
		pt, _ := hex.DecodeString(tc.pt)
		want, _ := hex.DecodeString(tc.ct)
		c := newRC2(key, tc.bits)
		got := make([]byte, 8)
		c.Encrypt(got, pt)
		if !bytes.Equal(got, want) {
			t.Errorf("key %s/%d: got %x, want %x", tc.key, tc.bits, got, want)
		}
		c.Decrypt(got, got)
		if !bytes.Equal(got, pt) {
			t.Errorf("key %s/%d: decrypt gives %x", tc.key, tc.bits, got)
		}
	}
}
