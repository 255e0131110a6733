package keys

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/mldsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// mldsaPKCS8 builds a PKCS#8 ML-DSA key: version, the algorithm (with
// params, if not nil, as its parameters), and inner as the privateKey
// OCTET STRING's content; pub, if not nil, as OneAsymmetricKey's [1].
func mldsaPKCS8(p mldsa.Parameters, version int64, params, inner, pub []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(version)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(p.OID())
			b.AddBytes(params)
		})
		b.AddASN1OctetString(inner)
		if pub != nil {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddUint8(0)
				b.AddBytes(pub)
			})
		}
	})
	return b.BytesOrPanic()
}

func seedForm(seed []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(seed) })
	return b.BytesOrPanic()
}

func expandedForm(sk []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1OctetString(sk)
	return b.BytesOrPanic()
}

func bothForm(seed, sk []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(seed)
		b.AddASN1OctetString(sk)
	})
	return b.BytesOrPanic()
}

// TestParsePrivateKeyMLDSA reads ML-DSA keys in the three RFC 9881 forms
// and checks that each signs with the key its seed gives (issue #18
// item 4).
func TestParsePrivateKeyMLDSA(t *testing.T) {
	for _, p := range []mldsa.Parameters{mldsa.MLDSA44, mldsa.MLDSA65, mldsa.MLDSA87} {
		seed := bytes.Repeat([]byte{byte(p)}, 32)
		ref, err := mldsa.NewPrivateKeyFromSeed(p, seed)
		if err != nil {
			t.Fatal(err)
		}
		sk := ref.ExpandedKey()
		pub := ref.Public().(*mldsa.PublicKey).Bytes()
		forms := []struct {
			name string
			der  []byte
		}{
			{"seed", mldsaPKCS8(p, 0, nil, seedForm(seed), nil)},
			{"expandedKey", mldsaPKCS8(p, 0, nil, expandedForm(sk), nil)},
			{"both", mldsaPKCS8(p, 0, nil, bothForm(seed, sk), nil)},
			{"seed-with-publicKey", mldsaPKCS8(p, 1, nil, seedForm(seed), pub)},
			{"marshalled", mldsa.MarshalPKCS8PrivateKey(ref)},
		}
		for _, f := range forms {
			t.Run(p.String()+"/"+f.name, func(t *testing.T) {
				for _, data := range [][]byte{f.der, pemBytes("PRIVATE KEY", f.der)} {
					signer, err := ParsePrivateKey(data, nil)
					if err != nil {
						t.Fatalf("ParsePrivateKey: %v", err)
					}
					if !ref.Public().(*mldsa.PublicKey).Equal(signer.Public()) {
						t.Fatal("got a different public key")
					}
					sig, err := signer.Sign(rand.Reader, []byte("message"), crypto.Hash(0))
					if err != nil {
						t.Fatal(err)
					}
					if !signer.Public().(*mldsa.PublicKey).Verify([]byte("message"), sig) {
						t.Fatal("signature does not verify")
					}
					if _, err := signer.Sign(rand.Reader, make([]byte, 64), crypto.SHA512); err == nil {
						t.Fatal("signed a SHA-512 digest; ML-DSA here signs messages only")
					}
				}
			})
		}
	}
}

// TestParsePrivateKeyMLDSAHostile: keys that are wrong in each way RFC 9881
// rules out fail with an error naming the problem (issue #18, hostile
// sender).
func TestParsePrivateKeyMLDSAHostile(t *testing.T) {
	p := mldsa.MLDSA65
	seed := bytes.Repeat([]byte{7}, 32)
	ref, _ := mldsa.NewPrivateKeyFromSeed(p, seed)
	sk := ref.ExpandedKey()
	other, _ := mldsa.NewPrivateKeyFromSeed(p, bytes.Repeat([]byte{8}, 32))
	null, _ := asn1.Marshal(asn1.NullRawValue)
	// An out-of-range s1 coefficient: eta = 4 packs in 4 bits, values
	// above 2*eta are not an encoding of any key.
	badCoeff := bytes.Clone(sk)
	badCoeff[32+32+64] = 0xff
	badTR := bytes.Clone(sk)
	badTR[64] ^= 1
	tests := []struct {
		name, want string
		der        []byte
	}{
		{"null-parameters", "parameters", mldsaPKCS8(p, 0, null, seedForm(seed), nil)},
		{"short-seed", "seed is 31 bytes", mldsaPKCS8(p, 0, nil, seedForm(seed[:31]), nil)},
		{"long-seed", "seed is 33 bytes", mldsaPKCS8(p, 0, nil, seedForm(append(bytes.Clone(seed), 0)), nil)},
		{"short-expanded", "expanded private key is 4031 bytes", mldsaPKCS8(p, 0, nil, expandedForm(sk[:len(sk)-1]), nil)},
		{"expanded-of-other-set", "want 4032", mldsaPKCS8(p, 0, nil, expandedForm(make([]byte, 2560)), nil)},
		{"out-of-range-coefficient", "coefficients out of range", mldsaPKCS8(p, 0, nil, expandedForm(badCoeff), nil)},
		{"wrong-tr", "tr is not the public key's hash", mldsaPKCS8(p, 0, nil, expandedForm(badTR), nil)},
		{"both-disagree", "seed and expanded key disagree", mldsaPKCS8(p, 0, nil, bothForm(seed, other.ExpandedKey()), nil)},
		{"publicKey-mismatch", "publicKey field does not match", mldsaPKCS8(p, 1, nil, seedForm(seed), other.Public().(*mldsa.PublicKey).Bytes())},
		{"publicKey-in-v1", "publicKey in a version 1", mldsaPKCS8(p, 0, nil, seedForm(seed), ref.Public().(*mldsa.PublicKey).Bytes())},
		{"unknown-form", "unknown form", mldsaPKCS8(p, 0, nil, []byte{0x81, 0x01, 0x00}, nil)},
		{"trailing-inner", "malformed", mldsaPKCS8(p, 0, nil, append(seedForm(seed), 0x00), nil)},
		{"version-2", "version 2", mldsaPKCS8(p, 2, nil, seedForm(seed), nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signer, err := ParsePrivateKey(pemBytes("PRIVATE KEY", tc.der), nil)
			if err == nil {
				t.Fatalf("got a %T, want an error containing %q", signer, tc.want)
			}
			if signer != nil {
				t.Error("got a signer with the error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestParsePrivateKeyEd25519: Ed25519 keys are read for RFC 8419 signing
// (issue #18 item 5; they were refused before).
func TestParsePrivateKeyEd25519(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ParsePrivateKey(pemBytes("PRIVATE KEY", der), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !edKey.Public().(ed25519.PublicKey).Equal(signer.Public()) {
		t.Fatal("got a different key")
	}
}
