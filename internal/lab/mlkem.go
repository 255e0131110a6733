package lab

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/kem"
)

// KEMUser is a lab identity whose key is ML-KEM (FIPS 203): it receives
// encrypted mail (RFC 9936 KEMRecipientInfo) and cannot sign.
type KEMUser struct {
	// Name is the file stem, e.g. "dan-mlkem".
	Name string
	// Email is the user's address.
	Email string
	// Cert is the user's certificate; its PublicKey is a *kem.PublicKey.
	Cert *x509.Certificate
	// Key is the user's ML-KEM private key.
	Key *kem.PrivateKey
}

// CertPEM is the certificate as a PEM "CERTIFICATE" block.
func (u *KEMUser) CertPEM() []byte { return certPEM(u.Cert) }

// KeyPEM is the private key as a PEM "PRIVATE KEY" block: PKCS#8 in RFC
// 9935's seed form.
func (u *KEMUser) KeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kem.MarshalPKCS8PrivateKey(u.Key)})
}

// MLKEMUser issues an ML-KEM encryption certificate for local@Domain
// (common name person) under the lab's intermediate authority, the one
// that issues every classic user. Like the rest of the lab it is
// deterministic from the seed: the key's 64-byte ML-KEM seed is the start
// of the stream "key/"+name, the serial number comes from "serial/"+name.
// The certificate allows keyEncipherment only (RFC 9935 section 5) and
// e-mail protection; it is signed with SHA-256 and RSA as the others are.
//
// crypto/x509 cannot put an ML-KEM key in a certificate: the certificate
// is made by crypto/x509 around the authority's own public key, and the
// SubjectPublicKeyInfo is then replaced and the TBSCertificate signed
// again (see [spliceAndSign]).
func (l *Lab) MLKEMUser(name, local, person string, set kem.ParameterSet) (*KEMUser, error) {
	prk, err := extractSeed(l.Options.Seed)
	if err != nil {
		return nil, err
	}
	b := &builder{opts: l.Options, prk: prk}
	seed := make([]byte, kem.SeedSize)
	if _, err := io.ReadFull(b.stream("key/"+name), seed); err != nil {
		return nil, err
	}
	key, err := kem.NewPrivateKeyFromSeed(set, seed)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	ca := l.Intermediate
	tmpl, err := b.userTemplate(name, local, person, x509.KeyUsageKeyEncipherment, tenYears(l.Options.Epoch), ca)
	if err != nil {
		return nil, err
	}
	spki := kem.MarshalPublicKeyInfo(key.PublicKey())
	// RFC 5280 section 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
	skid := sha1.Sum(key.PublicKey().Bytes())
	tmpl.SubjectKeyId = skid[:]
	email := tmpl.EmailAddresses[0]
	der, err := x509.CreateCertificate(b.stream("sign/"+name), tmpl, ca.Cert, ca.Key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("lab: issuing certificate %q: %w", name, err)
	}
	if der, err = spliceAndSign(b.stream("sign-spki/"+name), der, spki, ca.Key); err != nil {
		return nil, fmt.Errorf("lab: issuing certificate %q: %w", name, err)
	}
	cert, err := kem.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lab: parsing certificate %q: %w", name, err)
	}
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
		return nil, fmt.Errorf("lab: certificate %q: %w", name, err)
	}
	return &KEMUser{Name: name, Email: email, Cert: cert, Key: key}, nil
}

// spliceAndSign replaces the SubjectPublicKeyInfo of the DER certificate
// der with spki and signs the new TBSCertificate with signer, whose
// algorithm (sha256WithRSAEncryption, PKCS #1 v1.5, deterministic) is the
// one der names.
//
//	Certificate ::= SEQUENCE { tbsCertificate TBSCertificate,
//	  signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
//	TBSCertificate ::= SEQUENCE { version [0] EXPLICIT, serialNumber,
//	  signature, issuer, validity, subject, subjectPublicKeyInfo, ... }
func spliceAndSign(rand io.Reader, der, spki []byte, signer crypto.Signer) ([]byte, error) {
	s := cryptobyte.String(der)
	var cert, tbs, sigAlg cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed certificate")
	}
	var nb cryptobyte.Builder
	nb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := 0; !tbs.Empty(); i++ {
			var el cryptobyte.String
			if !tbs.ReadAnyASN1Element(&el, nil) {
				b.SetError(errors.New("malformed TBSCertificate"))
				return
			}
			if i == 6 {
				el = spki
			}
			b.AddBytes(el)
		}
	})
	newTBS, err := nb.Bytes()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(newTBS)
	sig, err := signer.Sign(rand, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	return out.Bytes()
}
