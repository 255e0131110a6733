package keys

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"software.sslmate.com/src/go-pkcs12"
)

// The PKCS#12 key derivation and MAC match the decoder's: the MAC of files
// go-pkcs12 writes (SHA-1 with one round, SHA-256 with 2048) is reproduced.
func TestP12MACMatchesEncoder(t *testing.T) {
	key := testKey(t, "rsa")
	cert := testCert(t, "alice", key, nil, nil)
	for _, tc := range []struct {
		name string
		enc  *pkcs12.Encoder
	}{{"modern sha-256", pkcs12.Modern}, {"legacy rc2 sha-1", pkcs12.LegacyRC2}, {"legacy des sha-1", pkcs12.LegacyDES}} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := tc.enc.Encode(key, cert, nil, "secret")
			if err != nil {
				t.Fatal(err)
			}
			p, err := parsePFX(der)
			if err != nil {
				t.Fatal(err)
			}
			h, u, v, err := macHash(p.macAlg)
			if err != nil {
				t.Fatal(err)
			}
			if got := p12MAC(h, u, v, p.salt, bmpPassword([]byte("secret")), p.iter, p.authSafe); !bytes.Equal(got, p.mac) {
				t.Errorf("MAC %x, want %x", got, p.mac)
			}
			// DER files pass through unchanged.
			norm, err := normalizePKCS12(der, []byte("secret"))
			if err != nil || !bytes.Equal(norm, der) {
				t.Errorf("normalizePKCS12 changed a DER file (err %v)", err)
			}
		})
	}
}

// nssShape rewrites a DER PFX in the shape NSS's pk12util writes (issue #15
// item 3): every constructed element, inside the authenticated safe too, with
// indefinite lengths, the encrypted content in chunks, and the MAC over those
// BER bytes, with iter rounds.
func nssShape(t *testing.T, der []byte, pass string, iter int) []byte {
	t.Helper()
	p, err := parsePFX(der)
	if err != nil {
		t.Fatal(err)
	}
	s := cryptobyte.String(p.authSafe)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		t.Fatal("authenticated safe")
	}
	var safe []byte
	for !seq.Empty() {
		var ci, content cryptobyte.String
		var oid []byte
		if !seq.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1Element((*cryptobyte.String)(&oid), cbasn1.OBJECT_IDENTIFIER) ||
			!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			t.Fatal("content info")
		}
		var inner []byte
		if bytes.Contains(oid, []byte{1, 7, 1}) { // data: BER SafeContents in the OCTET STRING
			var octets cryptobyte.String
			content.ReadASN1(&octets, cbasn1.OCTET_STRING)
			sc := toIndefinite(t, octets)
			inner = append([]byte{0x24, 0x80}, derOctets(sc[:len(sc)/2])...)
			inner = append(append(inner, derOctets(sc[len(sc)/2:])...), 0, 0)
		} else { // encryptedData: the [0] IMPLICIT content in two chunks
			inner = chunkEncrypted(t, content)
		}
		ciBER := append([]byte{0x30, 0x80}, oid...)
		ciBER = append(append(append(ciBER, 0xa0, 0x80), inner...), 0, 0, 0, 0)
		safe = append(safe, ciBER...)
	}
	m := append(append([]byte{0x30, 0x80}, safe...), 0, 0)
	h, u, v, err := macHash(p.macAlg)
	if err != nil {
		t.Fatal(err)
	}
	mac := p12MAC(h, u, v, p.salt, bmpPassword([]byte(pass)), iter, m)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(p.macAlg)
				b.AddASN1NULL()
			})
			b.AddASN1OctetString(mac)
		})
		b.AddASN1OctetString(p.salt)
		b.AddASN1Int64(int64(iter))
	})
	macData := toIndefinite(t, b.BytesOrPanic())
	out := []byte{0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x80, 0x24, 0x80}
	out = append(out, derOctets(m)...)
	out = append(out, 0, 0, 0, 0, 0, 0)
	out = append(out, macData...)
	return append(out, 0, 0)
}

func derOctets(b []byte) []byte {
	var bb cryptobyte.Builder
	bb.AddASN1OctetString(b)
	return bb.BytesOrPanic()
}

// chunkEncrypted returns the EncryptedData in content with indefinite lengths
// and its encrypted content as a constructed [0] of two OCTET STRINGs.
func chunkEncrypted(t *testing.T, content cryptobyte.String) []byte {
	var ed, eci, alg, enc cryptobyte.String
	var version, ct []byte
	if !content.ReadASN1(&ed, cbasn1.SEQUENCE) || !ed.ReadASN1Element((*cryptobyte.String)(&version), cbasn1.INTEGER) ||
		!ed.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1Element((*cryptobyte.String)(&ct), cbasn1.OBJECT_IDENTIFIER) ||
		!eci.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !eci.ReadASN1(&enc, cbasn1.Tag(0).ContextSpecific()) {
		t.Fatal("encrypted data")
	}
	out := append([]byte{0x30, 0x80}, version...)
	out = append(append(out, 0x30, 0x80), ct...)
	out = append(out, toIndefinite(t, alg)...)
	out = append(out, 0xa0, 0x80)
	out = append(out, derOctets(enc[:len(enc)/2])...)
	out = append(out, derOctets(enc[len(enc)/2:])...)
	return append(out, 0, 0, 0, 0, 0, 0)
}

// Issue #15 item 3: PKCS#12 files in NSS's BER shape are read, with every
// cipher and MAC go-pkcs12 writes; a wrong password is still one; the
// iteration cap holds for counts the BER used to hide.
func TestParsePKCS12BER(t *testing.T) {
	key := testKey(t, "rsa")
	ca := testCert(t, "ca", testKey(t, "p256"), nil, nil)
	cert := testCert(t, "alice", key, nil, nil)
	for _, tc := range []struct {
		name string
		enc  *pkcs12.Encoder
	}{{"pbes2 aes, sha-256 mac", pkcs12.Modern}, {"3des and rc2-40, sha-1 mac", pkcs12.LegacyRC2}, {"3des, sha-1 mac", pkcs12.LegacyDES}} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := tc.enc.Encode(key, cert, []*x509.Certificate{ca}, "secret")
			if err != nil {
				t.Fatal(err)
			}
			ber := nssShape(t, der, "secret", 2048)
			if _, _, _, err := pkcs12.DecodeChain(ber, "secret"); err == nil {
				t.Fatal("the decoder reads the BER file on its own: the test shape is not BER")
			}
			id, err := ParsePKCS12(ber, []byte("secret"))
			if err != nil {
				t.Fatalf("ParsePKCS12: %v", err)
			}
			if !id.Certificate.Equal(cert) || len(id.Chain) != 1 || !id.Chain[0].Equal(ca) {
				t.Errorf("got certificate %v and chain %d, want alice and the CA", id.Certificate.Subject, len(id.Chain))
			}
			if _, err := ParsePKCS12(ber, []byte("wrong")); !errors.Is(err, ErrIncorrectPassphrase) {
				t.Errorf("wrong password: got %v, want ErrIncorrectPassphrase", err)
			}
		})
	}
	t.Run("hostile iteration count", func(t *testing.T) {
		der, err := pkcs12.LegacyDES.Encode(key, cert, nil, "secret")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ber := nssShape(t, der, "secret", 1) // the MAC is made with 1 round...
		ber = bytes.Replace(ber, []byte{0x02, 0x01, 0x01, 0, 0}, []byte{0x02, 0x04, 0x7f, 0xff, 0xff, 0xff, 0, 0}, 1)
		_, err = ParsePKCS12(ber, []byte("secret"))
		if err == nil || !strings.Contains(err.Error(), "iteration count") {
			t.Errorf("got %v, want an iteration count error", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusing took %v", d)
		}
	})
	t.Run("no MAC", func(t *testing.T) {
		der, err := pkcs12.LegacyDES.Encode(key, cert, nil, "secret")
		if err != nil {
			t.Fatal(err)
		}
		ber := nssShape(t, der, "secret", 1)
		i := bytes.LastIndex(ber, []byte{0x30, 0x80, 0x30, 0x80, 0x30, 0x80})
		if i < 0 {
			t.Fatal("no MacData in the test shape")
		}
		ber = append(ber[:i:i], 0, 0)
		if _, err := ParsePKCS12(ber, []byte("secret")); err == nil || !strings.Contains(err.Error(), "no MAC") {
			t.Errorf("got %v, want a missing MAC error", err)
		}
	})
}
