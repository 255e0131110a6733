package cms

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/mldsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	pqLabOnce sync.Once
	pqLab     *lab.Lab
	pqLabErr  error
)

// testPQLab returns the lab with its ML-DSA and Ed25519 users, built once.
func testPQLab(t testing.TB) *lab.Lab {
	t.Helper()
	pqLabOnce.Do(func() { pqLab, pqLabErr = lab.New(lab.Options{PQ: true}) })
	if pqLabErr != nil {
		t.Fatal(pqLabErr)
	}
	return pqLab
}

var pureContent = []byte("Content-Type: text/plain\r\n\r\npure signatures\r\n")

// pureSignerInfo signs pureContent's digest under h with u's key, through
// signerInfo itself so that digests SignOptions.check refuses (what a
// hostile sender would write) can be made, and returns the parsed
// SignerInfo.
func pureSignerInfo(t *testing.T, key crypto.Signer, cert *x509.Certificate, h crypto.Hash) *SignerInfo {
	t.Helper()
	hh := h.New()
	hh.Write(pureContent)
	o := SignOptions{Signer: Signer{Key: key, Certificate: cert, Hash: h}}
	der, err := o.signerInfo(hh.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	si, err := parseSignerInfo(der)
	if err != nil {
		t.Fatal(err)
	}
	return si
}

func digestOf(h crypto.Hash) []byte {
	hh := h.New()
	hh.Write(pureContent)
	return hh.Sum(nil)
}

// TestPureSignatureRoundTrip: ML-DSA-65 and Ed25519 SignerInfos made by
// this package verify, and fail once the content changes (issue #18
// items 4, 5).
func TestPureSignatureRoundTrip(t *testing.T) {
	l := testPQLab(t)
	for _, name := range []string{"frank-mldsa", "grace-ed25519"} {
		t.Run(name, func(t *testing.T) {
			u := l.User(name)
			o := SignOptions{Signer: Signer{Key: u.Key, Certificate: u.Cert}}
			if err := o.Check(); err != nil {
				t.Fatal(err)
			}
			if h := o.Signer.DigestHash(); h != crypto.SHA512 {
				t.Fatalf("default digest %v, want SHA-512", h)
			}
			si := pureSignerInfo(t, u.Key, u.Cert, crypto.SHA512)
			if err := si.CheckSignature(u.Cert, OIDData, digestOf(crypto.SHA512)); err != nil {
				t.Fatalf("CheckSignature: %v", err)
			}
			other := sha512.Sum512([]byte("other content"))
			if err := si.CheckSignature(u.Cert, OIDData, other[:]); !errors.Is(err, ErrContentModified) {
				t.Fatalf("changed content: got %v, want ErrContentModified", err)
			}
			si.Signature[len(si.Signature)/2] ^= 1
			if err := si.CheckSignature(u.Cert, OIDData, digestOf(crypto.SHA512)); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("changed signature: got %v, want ErrBadSignature", err)
			}
		})
	}
}

// withSPKI returns a copy of cert whose key is the DER spki, as a
// certificate crypto/x509 leaves unparsed would carry it.
func withSPKI(cert *x509.Certificate, spki []byte) *x509.Certificate {
	c := *cert
	c.PublicKey = nil
	c.PublicKeyAlgorithm = x509.UnknownPublicKeyAlgorithm
	c.RawSubjectPublicKeyInfo = spki
	return &c
}

func spkiDER(oid asn1.ObjectIdentifier, params, key []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddBytes(params)
		})
		b.AddASN1BitString(key)
	})
	return b.BytesOrPanic()
}

// TestPureSignatureHostile: what a hostile sender can put in an Ed25519 or
// ML-DSA SignerInfo (or certificate) gives an error that says what is
// wrong, never a valid signature (issue #18, hostile sender).
func TestPureSignatureHostile(t *testing.T) {
	l := testPQLab(t)
	frank, grace := l.User("frank-mldsa"), l.User("grace-ed25519")
	null := []byte{0x05, 0x00}
	frankPub, _, _ := mldsa.CertificatePublicKey(frank.Cert)
	mldsa44, _ := mldsa.NewPrivateKeyFromSeed(mldsa.MLDSA44, bytes.Repeat([]byte{1}, 32))
	sha256Digest := sha256.Sum256(pureContent)

	tests := []struct {
		name   string
		signer *lab.User
		hash   crypto.Hash // digest the SignerInfo is made with
		edit   func(si *SignerInfo) *x509.Certificate
		want   string
	}{
		{"mldsa-signature-one-byte-short", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.Signature = si.Signature[:len(si.Signature)-1]
			return frank.Cert
		}, "ML-DSA-65 signature is 3308 bytes, want 3309"},
		{"mldsa-signature-one-byte-long", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.Signature = append(si.Signature, 0)
			return frank.Cert
		}, "ML-DSA-65 signature is 3310 bytes, want 3309"},
		{"mldsa-empty-signature", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.Signature = nil
			return frank.Cert
		}, "signature is 0 bytes"},
		{"mldsa-with-sha256", frank, crypto.SHA256, nil,
			"ML-DSA-65 signature with digest SHA-256, which is weaker than the parameter set"},
		{"mldsa-parameters-null", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.SignatureAlgorithm.Parameters = asn1.RawValue{FullBytes: null}
			return frank.Cert
		}, "ML-DSA-65 signature algorithm has parameters; they must be absent"},
		{"mldsa-claims-44-with-65-key", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.SignatureAlgorithm.Algorithm = mldsa.MLDSA44.OID()
			return frank.Cert
		}, "ML-DSA-44 signature with an ML-DSA-65 certificate"},
		{"mldsa-signature-ed25519-certificate", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			return grace.Cert
		}, "certificate whose key is not ML-DSA"},
		{"mldsa-certificate-key-short", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			return withSPKI(frank.Cert, spkiDER(mldsa.MLDSA65.OID(), nil, frankPub.Bytes()[:1951]))
		}, "ML-DSA-65 public key is 1951 bytes, want 1952"},
		{"mldsa-certificate-key-parameters", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			return withSPKI(frank.Cert, spkiDER(mldsa.MLDSA65.OID(), null, frankPub.Bytes()))
		}, "public key algorithm has parameters"},
		{"mldsa-other-key", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			return withSPKI(frank.Cert, spkiDER(mldsa.MLDSA44.OID(), nil, mldsa44.Public().(*mldsa.PublicKey).Bytes()))
		}, "ML-DSA-65 signature with an ML-DSA-44 certificate"},
		{"hash-mldsa-identifier", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.SignatureAlgorithm.Algorithm = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 33}
			return frank.Cert
		}, "HashML-DSA-65 with SHA-512"},
		{"mldsa-without-signed-attributes", frank, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.rawSignedAttrs, si.SignedAttrs = nil, nil
			return frank.Cert
		}, "ML-DSA-65 signatures without signed attributes are not supported"},
		{"ed25519-claims-sha256", grace, crypto.SHA256, nil,
			"Ed25519 signature with digest SHA-256; RFC 8419 requires SHA-512"},
		{"ed25519-parameters-null", grace, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.SignatureAlgorithm.Parameters = asn1.RawValue{FullBytes: null}
			return grace.Cert
		}, "Ed25519 signature algorithm has parameters"},
		{"ed25519-signature-short", grace, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.Signature = si.Signature[:63]
			return grace.Cert
		}, "Ed25519 signature is 63 bytes, want 64"},
		{"ed25519-signature-mldsa-certificate", grace, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			return frank.Cert
		}, "certificate whose key is not Ed25519"},
		{"ed448-identifier", grace, crypto.SHA512, func(si *SignerInfo) *x509.Certificate {
			si.SignatureAlgorithm.Algorithm = oidEd448
			return grace.Cert
		}, "Ed448, not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			si := pureSignerInfo(t, tc.signer.Key, tc.signer.Cert, tc.hash)
			cert := tc.signer.Cert
			if tc.edit != nil {
				cert = tc.edit(si)
			}
			digest := digestOf(tc.hash)
			if tc.hash == crypto.SHA256 && !bytes.Equal(digest, sha256Digest[:]) {
				t.Fatal("digest helper broken")
			}
			err := si.CheckSignature(cert, OIDData, digest)
			if err == nil {
				t.Fatal("CheckSignature accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestPureSignRefusals: this package never writes what it would refuse to
// read (issue #18 items 4, 5).
func TestPureSignRefusals(t *testing.T) {
	l := testPQLab(t)
	frank, grace := l.User("frank-mldsa"), l.User("grace-ed25519")
	for _, tc := range []struct {
		name string
		s    Signer
		want string
	}{
		{"mldsa65-sha256", Signer{Key: frank.Key, Certificate: frank.Cert, Hash: crypto.SHA256}, "weaker than the parameter set"},
		{"ed25519-sha384", Signer{Key: grace.Key, Certificate: grace.Cert, Hash: crypto.SHA384}, "RFC 8419 requires SHA-512"},
		{"ed25519-pss", Signer{Key: grace.Key, Certificate: grace.Cert, PSS: true}, "RSASSA-PSS needs an RSA key"},
		{"mldsa-key-ed25519-certificate", Signer{Key: frank.Key, Certificate: grace.Cert}, "does not match the certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SignDetachedDigest(make([]byte, tc.s.DigestHash().Size()), SignOptions{Signer: tc.s})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// SHA-384 is strong enough for ML-DSA-65.
	o := SignOptions{Signer: Signer{Key: frank.Key, Certificate: frank.Cert, Hash: crypto.SHA384}}
	if err := o.Check(); err != nil {
		t.Fatalf("ML-DSA-65 with SHA-384: %v", err)
	}
}

// FuzzPureSignerInfo: a mutated Ed25519 or ML-DSA SignerInfo is never
// valid. The first byte picks the signer (even: ML-DSA-65, odd: Ed25519);
// the rest is the SignerInfo DER. If CheckSignature accepts it, the signed
// attributes and the signature must be the ones the signer made: a change
// may only touch what the signature does not cover (issue #18, fuzz
// targets for the new parsers).
func FuzzPureSignerInfo(f *testing.F) {
	l := testPQLab(f)
	users := []*lab.User{l.User("frank-mldsa"), l.User("grace-ed25519")}
	type orig struct{ attrs, sig []byte }
	origs := make([]orig, 2)
	for i, u := range users {
		// Each fuzz worker runs this again: the seeds must come out the
		// same, so ML-DSA signs deterministically here.
		key := u.Key
		if k, ok := key.(*mldsa.PrivateKey); ok {
			key = k.Deterministic()
		}
		o := SignOptions{Signer: Signer{Key: key, Certificate: u.Cert}}
		der, err := o.signerInfo(digestOf(crypto.SHA512))
		if err != nil {
			f.Fatal(err)
		}
		si, err := parseSignerInfo(der)
		if err != nil {
			f.Fatal(err)
		}
		origs[i] = orig{si.rawSignedAttrs, si.Signature}
		f.Add(append([]byte{byte(i)}, der...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		i := int(in[0] & 1)
		si, err := parseSignerInfo(in[1:])
		if err != nil {
			return
		}
		for _, h := range []crypto.Hash{crypto.SHA512, crypto.SHA384, crypto.SHA256} {
			if si.CheckSignature(users[i].Cert, OIDData, digestOf(h)) != nil {
				continue
			}
			if !bytes.Equal(si.rawSignedAttrs, origs[i].attrs) || !bytes.Equal(si.Signature, origs[i].sig) {
				t.Fatalf("a changed SignerInfo verified (digest %v)", h)
			}
			if si.Hash() != crypto.SHA512 {
				t.Fatalf("verified with digest %v", si.Hash())
			}
		}
	})
}
