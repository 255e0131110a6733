package kem

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// bcDir holds Bouncy Castle's ML-KEM files (../shared/vectors/pqc/README
// in the vectors' README); tests read them in place.
const bcDir = "../../../shared/vectors/pqc/bc"

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bcDir, name))
	if err != nil {
		t.Fatalf("reading the shared vector: %v", err)
	}
	return b
}

// TestBouncyCastleKeys reads the hackathon's ML-KEM certificates and
// private keys (issue #18 item 3): the certificate's key is the private
// key's, and each of the three PKCS#8 forms gives the same key.
func TestBouncyCastleKeys(t *testing.T) {
	for _, tc := range []struct {
		stem string
		set  ParameterSet
	}{
		{"ml-kem-512-2.16.840.1.101.3.4.4.1", MLKEM512},
		{"ml-kem-768-2.16.840.1.101.3.4.4.2", MLKEM768},
		{"ml-kem-1024-2.16.840.1.101.3.4.4.3", MLKEM1024},
	} {
		t.Run(tc.set.String(), func(t *testing.T) {
			cert, err := ParseCertificate(readVector(t, tc.stem+"_ee.der"))
			if err != nil {
				t.Fatal(err)
			}
			pub, ok := cert.PublicKey.(*PublicKey)
			if !ok || pub.ParameterSet() != tc.set {
				t.Fatalf("certificate key %T, want an %v *PublicKey", cert.PublicKey, tc.set)
			}
			der := readVector(t, tc.stem+"_priv.der")
			both, err := ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatal(err)
			}
			if !both.PublicKey().Equal(pub) {
				t.Fatal("the private key is not the certificate's")
			}
			// The file holds "both": make the seed-only and expanded-only
			// forms from it and read them back.
			seedOnly := MarshalPKCS8PrivateKey(both)
			k1, err := ParsePKCS8PrivateKey(seedOnly)
			if err != nil || !k1.PublicKey().Equal(pub) || k1.Seed() == nil {
				t.Fatalf("seed form: %v", err)
			}
			exp, err := NewPrivateKeyExpanded(tc.set, both.ExpandedKey())
			if err != nil {
				t.Fatal(err)
			}
			k2, err := ParsePKCS8PrivateKey(MarshalPKCS8PrivateKey(exp))
			if err != nil || !k2.PublicKey().Equal(pub) || k2.Seed() != nil {
				t.Fatalf("expanded form: %v", err)
			}
			// Every form decapsulates what the public key encapsulates.
			ss, ct := pub.Encapsulate()
			for i, k := range []*PrivateKey{both, k1, k2} {
				got, err := k.Decapsulate(ct)
				if err != nil || !bytes.Equal(got, ss) {
					t.Errorf("form %d: decapsulation gives another secret (%v)", i, err)
				}
			}
		})
	}
}

// bothDER builds the "both" PKCS#8 form with the given parts.
func bothDER(set ParameterSet, seed, expanded []byte) []byte {
	var inner cryptobyte.Builder
	inner.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(seed)
		b.AddASN1OctetString(expanded)
	})
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(set.OID()) })
		b.AddASN1OctetString(inner.BytesOrPanic())
	})
	return b.BytesOrPanic()
}

// TestPKCS8Refused: malformed or inconsistent private keys are errors that
// say what is wrong (issue #18 item 3), never a key that is not the file's.
func TestPKCS8Refused(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, SeedSize)
	k, err := NewPrivateKeyFromSeed(MLKEM768, seed)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewPrivateKeyFromSeed(MLKEM768, bytes.Repeat([]byte{8}, SeedSize))
	exp := k.ExpandedKey()
	tampered := bytes.Clone(exp)
	tampered[len(tampered)-40] ^= 1 // inside H(ek)
	for _, tc := range []struct {
		name, der, want string
	}{
		{"both mismatch", string(bothDER(MLKEM768, seed, other.ExpandedKey())), "not the one its seed gives"},
		{"both short expanded", string(bothDER(MLKEM768, seed, exp[:100])), "not the one its seed gives"},
		{"short seed", string(bothDER(MLKEM768, seed[:10], exp)), "seed of 10 bytes"},
		{"garbage", "\x30\x03\x02\x01\x00", "not an ML-KEM key (not PKCS#8)"},
		{"no key", "\x30\x10\x02\x01\x00\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x04\x02", "malformed ML-KEM-768 PKCS#8"},
		{"seed and junk", string(bothDER(MLKEM768, seed, exp)[:20]), "not PKCS#8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePKCS8PrivateKey([]byte(tc.der))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := NewPrivateKeyExpanded(MLKEM768, tampered); err == nil {
		t.Error("an expanded key whose H(ek) does not match was accepted")
	}
	if _, err := ParsePKCS8PrivateKey([]byte("\x30\x0d\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x01\x00")); !errors.Is(err, ErrNotMLKEMKey) {
		t.Errorf("an Ed25519 PKCS#8 key: got %v, want ErrNotMLKEMKey", err)
	}
	if _, err := k.Sign(nil, nil, nil); !errors.Is(err, ErrCannotSign) {
		t.Errorf("Sign: got %v, want ErrCannotSign", err)
	}
}
