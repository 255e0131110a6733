package cms

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/kem"
)

// bcVectors is Bouncy Castle's ML-KEM folder of the shared vectors
// (../shared/vectors/README.md); read in place, never copied.
const bcVectors = "../../../shared/vectors/pqc/bc"

// kemIdentity is an ML-KEM certificate and key: the key from a fixed seed,
// the certificate signed by the test RSA identity over an ML-KEM
// SubjectPublicKeyInfo spliced into a crypto/x509 certificate.
type kemIdentity struct {
	key  *kem.PrivateKey
	cert *x509.Certificate
}

var (
	kemIDOnce sync.Once
	kemIDs    map[kem.ParameterSet]kemIdentity
)

func kemIdentities(t testing.TB) map[kem.ParameterSet]kemIdentity {
	t.Helper()
	ca := identities(t)["rsa"]
	kemIDOnce.Do(func() {
		kemIDs = map[kem.ParameterSet]kemIdentity{}
		for _, set := range []kem.ParameterSet{kem.MLKEM512, kem.MLKEM768, kem.MLKEM1024} {
			k, err := kem.NewPrivateKeyFromSeed(set, bytes.Repeat([]byte{byte(set)}, kem.SeedSize))
			if err != nil {
				panic(err)
			}
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(9000 + set)),
				Subject:      pkix.Name{CommonName: "cms test " + set.String()},
				NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
				NotAfter:     time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC),
				KeyUsage:     x509.KeyUsageKeyEncipherment,
				SubjectKeyId: []byte{9, 9, byte(set)},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, ca.key.Public(), ca.key)
			if err != nil {
				panic(err)
			}
			c, err := kem.ParseCertificate(spliceSPKI(der, kem.MarshalPublicKeyInfo(k.PublicKey())))
			if err != nil {
				panic(err)
			}
			kemIDs[set] = kemIdentity{k, c}
		}
	})
	return kemIDs
}

// spliceSPKI replaces the SubjectPublicKeyInfo of a certificate; the
// signature no longer verifies, which these tests do not need.
func spliceSPKI(der, spki []byte) []byte {
	s := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	var tbsRaw, rest []byte
	s.ReadASN1(&cert, cbasn1.SEQUENCE)
	cert.ReadASN1Element((*cryptobyte.String)(&tbsRaw), cbasn1.SEQUENCE)
	rest = cert
	tbs = cryptobyte.String(tbsRaw)
	var body cryptobyte.String
	tbs.ReadASN1(&body, cbasn1.SEQUENCE)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := 0; !body.Empty(); i++ {
				var el cryptobyte.String
				body.ReadAnyASN1Element(&el, nil)
				if i == 6 { // version, serial, signature, issuer, validity, subject, spki
					b.AddBytes(spki)
				} else {
					b.AddBytes(el)
				}
			}
		})
		b.AddBytes(rest)
	})
	return b.BytesOrPanic()
}

func decryptKEM(msg []byte, id kemIdentity) ([]byte, *Enveloped, error) {
	var out bytes.Buffer
	env, err := ReadEnveloped(bytes.NewReader(msg), &out, func(e *Enveloped) ([]byte, error) {
		for _, ri := range e.Recipients {
			if ri.Matches(id.cert) {
				return ri.UnwrapKey(id.key, e.Cipher.KeySize(), nil)
			}
		}
		return nil, errors.New("not for us")
	})
	return out.Bytes(), env, err
}

// TestKEMBouncyCastleVectors decrypts every ML-KEM message Bouncy Castle
// wrote for the IETF hackathon (issue #18 item 3, "known answers"):
// ML-KEM-512, -768 and -1024, EnvelopedData and AuthEnvelopedData, with
// and without ukm, each with its recipient's certificate and key.
func TestKEMBouncyCastleVectors(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(bcVectors, "expected_plaintext.txt"))
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := filepath.Glob(filepath.Join(bcVectors, "ml-kem-*_kemri_*.der"))
	if len(msgs) != 12 {
		t.Fatalf("found %d ML-KEM messages in %s, want 12", len(msgs), bcVectors)
	}
	for _, path := range msgs {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			stem := name[:strings.Index(name, "_kemri")]
			certDER, err := os.ReadFile(filepath.Join(bcVectors, stem+"_ee.der"))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := kem.ParseCertificate(certDER)
			if err != nil {
				t.Fatal(err)
			}
			keyDER, err := os.ReadFile(filepath.Join(bcVectors, stem+"_priv.der"))
			if err != nil {
				t.Fatal(err)
			}
			key, err := kem.ParsePKCS8PrivateKey(keyDER)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, env, err := decryptKEM(msg, kemIdentity{key, cert})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
			if env.Auth != strings.Contains(name, "_auth_") {
				t.Errorf("Auth = %v for %s", env.Auth, name)
			}
			ri := env.Recipients[0]
			if ri.Type != KEMRecipient || (ri.UKM != nil) != strings.Contains(name, "_ukm") {
				t.Errorf("recipient type %v, ukm %x", ri.Type, ri.UKM)
			}
			set := key.ParameterSet()
			// Bouncy Castle wraps with AES-256 for every parameter set,
			// ML-KEM-512 too (RFC 9936 requires AES-128 to be supported
			// there and allows others).
			wantKM := strings.ToLower(set.String()) + "-hkdf-sha256-aes256wrap"
			if km := ri.KeyManagement(); km != wantKM {
				t.Errorf("key management %q, want %q", km, wantKM)
			}
			// A key of the same parameter set that is not the recipient's
			// decapsulates without error (implicit rejection): the wrap
			// check must be what stops it.
			other, _ := kem.NewPrivateKeyFromSeed(set, make([]byte, kem.SeedSize))
			_, _, err = decryptKEM(msg, kemIdentity{other, cert})
			if !errors.Is(err, ErrKEMUnwrap) || !errors.Is(err, ErrDecrypt) {
				t.Errorf("another %v key: got %v, want ErrKEMUnwrap", set, err)
			}
		})
	}
}

// TestKEMRoundTrip: ML-KEM recipients (issue #18 item 3) in EnvelopedData
// and AuthEnvelopedData, in one message with RSA and ECDH recipients; each
// recipient decrypts, and the EnvelopedData is version 3 (RFC 5652 6.1).
func TestKEMRoundTrip(t *testing.T) {
	ids := identities(t)
	kids := kemIdentities(t)
	type rcpt struct {
		name string
		r    Recipient
		dec  func(msg []byte) ([]byte, *Enveloped, error)
		km   string
	}
	rs := []rcpt{
		{"rsa", Recipient{Certificate: ids["rsa"].cert}, func(m []byte) ([]byte, *Enveloped, error) { return decryptWith(m, ids["rsa"]) }, "rsa-pkcs1v15"},
		{"ecdh", Recipient{Certificate: ids["ecdsa"].cert}, func(m []byte) ([]byte, *Enveloped, error) { return decryptWith(m, ids["ecdsa"]) }, "ecdh-sha256kdf-aes"},
	}
	for _, set := range []kem.ParameterSet{kem.MLKEM512, kem.MLKEM768, kem.MLKEM1024} {
		id := kids[set]
		wrap := "aes256wrap"
		if set == kem.MLKEM512 {
			wrap = "aes128wrap"
		}
		rs = append(rs, rcpt{set.String(), Recipient{Certificate: id.cert, SubjectKeyID: set == kem.MLKEM1024},
			func(m []byte) ([]byte, *Enveloped, error) { return decryptKEM(m, id) },
			strings.ToLower(set.String()) + "-hkdf-sha256-" + wrap})
	}
	content := make([]byte, chunkSize*2+7)
	rand.Read(content)
	for _, c := range []Cipher{AES256CBC, AES128CBC, AES256GCM, AES128GCM} {
		var all []Recipient
		for _, r := range rs {
			all = append(all, r.r)
		}
		msg := encryptTo(t, content, c, all...)
		for _, r := range rs {
			t.Run(fmt.Sprintf("%v/%s", c, r.name), func(t *testing.T) {
				got, env, err := r.dec(msg)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, content) {
					t.Fatal("content differs")
				}
				wantV := 3
				if c.AEAD() {
					wantV = 0
				}
				if env.Version != wantV || len(env.Recipients) != len(rs) {
					t.Fatalf("version %d with %d recipients, want %d with %d", env.Version, len(env.Recipients), wantV, len(rs))
				}
				found := false
				for _, ri := range env.Recipients {
					found = found || strings.HasPrefix(ri.KeyManagement(), r.km)
				}
				if !found {
					t.Errorf("no recipient with key management %q", r.km)
				}
			})
		}
	}
}

// kemri is a KEMRecipientInfo to encode, for the hostile-sender tests.
type kemri struct {
	version      int64
	kemOID       []byte // AlgorithmIdentifier DER
	ct           []byte
	kdf          []byte
	kekLen       int64
	ukm          []byte
	wrap         []byte
	encryptedKey []byte
}

func (k kemri) der(cert *x509.Certificate) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidORIKEM)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(k.version)
			addIssuerAndSerial(b, cert)
			b.AddBytes(k.kemOID)
			b.AddASN1OctetString(k.ct)
			b.AddBytes(k.kdf)
			b.AddASN1Int64(k.kekLen)
			if k.ukm != nil {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(k.ukm) })
			}
			b.AddBytes(k.wrap)
			b.AddASN1OctetString(k.encryptedKey)
		})
	})
	return b.BytesOrPanic()
}

// validKEMRI encapsulates cek to id with the given ukm, AES-256 wrap.
func validKEMRI(t testing.TB, id kemIdentity, cek, ukm []byte) kemri {
	ss, ct := id.key.PublicKey().Encapsulate()
	wrap := algorithmDER(oidAES256Wrap, nil)
	kek, err := deriveKEK(cryptoSHA256, ss, kemOtherInfo(wrap, 32, ukm), 32)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := aesKeyWrap(kek, cek)
	if err != nil {
		t.Fatal(err)
	}
	return kemri{0, algorithmDER(id.key.ParameterSet().OID(), nil), ct, algorithmDER(oidHKDFSHA256, nil), 32, ukm, wrap, ek}
}

// TestKEMHostileSender: every malformed or inconsistent KEMRecipientInfo
// (issue #18 item 3) fails with an error that says what is wrong, of the
// package's types, and never panics or yields a key.
func TestKEMHostileSender(t *testing.T) {
	id := kemIdentities(t)[kem.MLKEM768]
	cek := bytes.Repeat([]byte{0x5c}, 32)
	good := validKEMRI(t, id, cek, []byte("ukm"))
	if k, err := unwrapDER(good.der(id.cert), id.key, 32); err != nil || !bytes.Equal(k, cek) {
		t.Fatalf("the valid entry: %v", err)
	}
	mod := func(f func(*kemri)) kemri { k := good; f(&k); return k }
	other, _ := kem.NewPrivateKeyFromSeed(kem.MLKEM768, make([]byte, kem.SeedSize))
	k1024 := kemIdentities(t)[kem.MLKEM1024].key
	for _, tc := range []struct {
		name  string
		ri    kemri
		key   any
		is    func(error) bool
		words string
	}{
		{"short ciphertext", mod(func(k *kemri) { k.ct = k.ct[:1000] }), id.key, IsFormatError, "ML-KEM-768 ciphertext of 1000 bytes, want 1088"},
		{"long ciphertext", mod(func(k *kemri) { k.ct = append(k.ct, 0) }), id.key, IsFormatError, "ciphertext of 1089 bytes"},
		{"kekLength mismatch", mod(func(k *kemri) { k.kekLen = 16 }), id.key, IsFormatError, "kekLength 16 does not match AES-256 key wrap"},
		{"kekLength zero", mod(func(k *kemri) { k.kekLen = 0 }), id.key, IsFormatError, "kekLength (RFC 9629: 1 to 65535)"},
		{"kekLength huge", mod(func(k *kemri) { k.kekLen = 1 << 20 }), id.key, IsFormatError, "kekLength"},
		{"unknown KDF", mod(func(k *kemri) { k.kdf = algorithmDER(oidECDHSHA256KDF, nil) }), id.key, isUnsupported, "unsupported KEM key-derivation algorithm"},
		{"KDF parameters", mod(func(k *kemri) { k.kdf = algorithmDER(oidHKDFSHA256, derNull) }), id.key, IsFormatError, "HKDF identifier with parameters"},
		{"wrap of the wrong key size", mod(func(k *kemri) { k.wrap = algorithmDER(oidAES128Wrap, nil) }), id.key, IsFormatError, "kekLength 32 does not match AES-128 key wrap"},
		{"unknown wrap", mod(func(k *kemri) { k.wrap = algorithmDER(OIDAES256CBC, nil) }), id.key, isUnsupported, "unsupported key wrap"},
		{"unknown KEM", mod(func(k *kemri) { k.kemOID = algorithmDER(oidRSAEncryption, nil) }), id.key, isUnsupported, "unsupported KEM algorithm"},
		{"KEM parameters", mod(func(k *kemri) { k.kemOID = algorithmDER(kem.OIDMLKEM768, derNull) }), id.key, IsFormatError, "with parameters"},
		{"version 1", mod(func(k *kemri) { k.version = 1 }), id.key, IsFormatError, "version"},
		{"huge ukm", mod(func(k *kemri) { k.ukm = make([]byte, 1<<20) }), id.key, IsLimitError, "user keying material (ukm) take more than 1024 bytes"},
		{"changed ukm", mod(func(k *kemri) { k.ukm = []byte("UKM") }), id.key, isKEMUnwrap, "AES key-wrap integrity check failed"},
		{"ukm dropped", mod(func(k *kemri) { k.ukm = nil }), id.key, isKEMUnwrap, "made for another ML-KEM key"},
		{"changed ciphertext", mod(func(k *kemri) { k.ct = bytes.Clone(k.ct); k.ct[5] ^= 1 }), id.key, isKEMUnwrap, "does not unwrap the content key"},
		{"changed encryptedKey", mod(func(k *kemri) { k.encryptedKey = bytes.Clone(k.encryptedKey); k.encryptedKey[9] ^= 1 }), id.key, isKEMUnwrap, "does not unwrap"},
		{"short encryptedKey", mod(func(k *kemri) { k.encryptedKey = k.encryptedKey[:12] }), id.key, IsFormatError, "wrapped key has a bad length"},
		{"another ML-KEM-768 key", good, other, isKEMUnwrap, "made for another ML-KEM key"},
		{"an ML-KEM-1024 key", good, k1024, func(err error) bool { return err != nil }, "entry is for an ML-KEM-768 key and this private key is not one"},
		{"an RSA key", good, identities(t)["rsa"].key, func(err error) bool { return err != nil }, "needs an ML-KEM private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := unwrapDER(tc.ri.der(id.cert), tc.key, 32)
			if k != nil || err == nil || !tc.is(err) || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("got key %x, error %v; want an error saying %q", k, err, tc.words)
			}
		})
	}
}

// TestKEMWrongContentKeySize: an entry that wraps a content key of another
// size than the cipher's is refused by name, never handed to the cipher.
func TestKEMWrongContentKeySize(t *testing.T) {
	id := kemIdentities(t)[kem.MLKEM768]
	short := validKEMRI(t, id, bytes.Repeat([]byte{1}, 16), nil)
	k, err := unwrapDER(short.der(id.cert), id.key, 32)
	if k != nil || !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "carries a 16-byte content key, the cipher needs 32") {
		t.Fatalf("got key %x, error %v", k, err)
	}
}

var cryptoSHA256 = kemKDFs[0].hash

func isUnsupported(err error) bool {
	var ua *UnsupportedAlgorithmError
	return errors.As(err, &ua)
}

func isKEMUnwrap(err error) bool { return errors.Is(err, ErrKEMUnwrap) && errors.Is(err, ErrDecrypt) }

// unwrapDER parses one RecipientInfo and unwraps it with key.
func unwrapDER(der []byte, key any, keyLen int) ([]byte, error) {
	ris, err := parseRecipientInfo(der, MaxRecipients)
	if err != nil {
		return nil, err
	}
	if len(ris) != 1 || ris[0].Type != KEMRecipient {
		return nil, fmt.Errorf("parsed %d recipients", len(ris))
	}
	return ris[0].UnwrapKey(key, keyLen, nil)
}

// TestKEMOtherInfo pins CMSORIforKEMOtherInfo's DER (RFC 9629 section 5):
// the HKDF info must be exact, or no other implementation's KEK matches.
func TestKEMOtherInfo(t *testing.T) {
	wrap := algorithmDER(oidAES256Wrap, nil)
	for _, tc := range []struct {
		ukm  []byte
		want string
	}{
		{nil, "3010300b060960864801650304012d020120"},
		{[]byte{1, 2, 3}, "3017300b060960864801650304012d020120a0050403010203"},
	} {
		if got := fmt.Sprintf("%x", kemOtherInfo(wrap, 32, tc.ukm)); got != tc.want {
			t.Errorf("ukm %x: got %s, want %s", tc.ukm, got, tc.want)
		}
	}
}
