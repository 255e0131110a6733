package cms

import (
	"bytes"
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/mldsa"
)

// TestHashMLDSAVectors checks the signatures of Bouncy Castle's three
// HashML-DSA-with-SHA512 SignedData (../shared/vectors/pqc/bc, read in
// place): each verifies with its signer's certificate, and fails when one
// byte of the signature or of the signed attributes changes, when the
// digest algorithm is not SHA-512, when the identifier is the pure one,
// or when the algorithm has parameters (issue #18 item 4: verify every
// vector; before, HashML-DSA was refused as unsupported).
func TestHashMLDSAVectors(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/vectors/pqc/bc/ml-dsa-*-with-sha512-*_signed_attrs.der")
	if len(files) != 3 {
		t.Fatalf("found %d HashML-DSA vectors, want 3", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			der, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var content bytes.Buffer
			sd, err := ReadSignedData(bytes.NewReader(der), &content)
			if err != nil {
				t.Fatal(err)
			}
			if len(sd.SignerInfos) != 1 {
				t.Fatalf("%d signers", len(sd.SignerInfos))
			}
			si := sd.SignerInfos[0]
			cert := si.FindCertificate(sd.Certificates)
			if cert == nil {
				t.Fatal("no signer certificate")
			}
			p, ok := mldsa.HashParametersForOID(si.SignatureAlgorithm.Algorithm)
			if !ok {
				t.Fatalf("signature algorithm %v is not HashML-DSA", si.SignatureAlgorithm.Algorithm)
			}
			name := si.SignatureAlgorithmName()
			if want := "Hash" + p.String() + " (pre-hash, read only)"; name != want {
				t.Fatalf("name %q, want %q", name, want)
			}
			digest := sd.ContentDigests[si.Hash()]
			if err := si.CheckSignature(cert, sd.ContentType, digest); err != nil {
				t.Fatalf("CheckSignature: %v", err)
			}
			check := func(what string, edit func(si *SignerInfo), want string) {
				t.Helper()
				c := *si
				c.Signature = bytes.Clone(si.Signature)
				c.rawSignedAttrs = bytes.Clone(si.rawSignedAttrs)
				edit(&c)
				err := c.CheckSignature(cert, sd.ContentType, digest)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: got %v, want an error containing %q", what, err, want)
				}
			}
			bad := ErrBadSignature.Error()
			for _, at := range []int{0, len(si.Signature) / 2, len(si.Signature) - 1} {
				check("signature byte changed", func(c *SignerInfo) { c.Signature[at] ^= 0x01 }, bad)
			}
			// The last byte of the signed attributes is inside the
			// messageDigest value, which CheckSignature has already
			// compared with the parsed attribute, so only the signature
			// can catch it.
			check("signed attributes' last byte changed", func(c *SignerInfo) {
				c.rawSignedAttrs[len(c.rawSignedAttrs)-1] ^= 0x01
			}, bad)
			check("signed attributes' middle byte changed", func(c *SignerInfo) {
				c.rawSignedAttrs[len(c.rawSignedAttrs)/2] ^= 0x01
			}, bad)
			check("pure identifier", func(c *SignerInfo) { c.SignatureAlgorithm.Algorithm = p.OID() },
				"signature with a certificate whose key is for Hash"+p.String()+" with SHA-512 only")
			check("parameters NULL", func(c *SignerInfo) {
				c.SignatureAlgorithm.Parameters = asn1.RawValue{FullBytes: []byte{5, 0}}
			}, "has parameters; they must be absent")
			check("digest SHA-384", func(c *SignerInfo) {
				o, err := oidForHash(crypto.SHA384)
				if err != nil {
					t.Fatal(err)
				}
				c.DigestAlgorithm = pkix.AlgorithmIdentifier{Algorithm: o}
			}, "with digest SHA-384; the algorithm requires SHA-512")
			check("without signed attributes", func(c *SignerInfo) { c.rawSignedAttrs, c.SignedAttrs = nil, nil },
				"signatures without signed attributes are not supported")
			check("other set", func(c *SignerInfo) {
				c.SignatureAlgorithm.Algorithm = (mldsa.MLDSA44 + (p % 3)).HashOID()
			}, "certificate")
		})
	}
}

// TestHashMLDSAWithPureCertificate: a HashML-DSA SignerInfo over a
// certificate whose key carries the pure identifier is checked as
// HashML-DSA (FIPS 204 lets one key make both kinds), so a pure signature
// relabelled HashML-DSA fails: M' starts with a different domain byte.
func TestHashMLDSAWithPureCertificate(t *testing.T) {
	l := testPQLab(t)
	frank := l.User("frank-mldsa")
	si := pureSignerInfo(t, frank.Key, frank.Cert, crypto.SHA512)
	if err := si.CheckSignature(frank.Cert, OIDData, digestOf(crypto.SHA512)); err != nil {
		t.Fatalf("the pure signature: %v", err)
	}
	si.SignatureAlgorithm.Algorithm = mldsa.MLDSA65.HashOID()
	if err := si.CheckSignature(frank.Cert, OIDData, digestOf(crypto.SHA512)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a pure signature labelled HashML-DSA: got %v, want ErrBadSignature", err)
	}
}
