package lab

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/smimectl/smimectl/internal/mldsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The post-quantum part of the lab (Options.PQ, `lab init --pq`, issue
// #18): a second chain of authorities that sign with ML-DSA (RFC 9881),
// an ML-DSA signing user under it, and an Ed25519 user (RFC 8419) under the
// classic intermediate. ML-KEM users come from kemUsers (pqkem.go).
//
// crypto/x509 can neither marshal ML-DSA keys nor sign with them, so
// certificates with such keys or issuers are made in two steps: crypto/x509
// encodes the TBSCertificate from the template (names, dates, extensions)
// with a placeholder key, then issueSPKI puts in the real
// SubjectPublicKeyInfo and signature algorithm and signs it (issueRaw).

// Names of the post-quantum authorities (file stems).
const (
	pqRootName         = "pq-root"
	pqIntermediateName = "pq-intermediate"
	pqRootCN           = "smimectl lab PQ root CA"
	pqIntermediateCN   = "smimectl lab PQ intermediate CA"
)

// Key kinds of the post-quantum lab; keys.go derives the classic ones.
const (
	kindMLDSA65 keyKind = iota + 100
	kindMLDSA87
	kindEd25519
)

// pqUsers are the signing identities a --pq lab adds. issuer names the
// authority: the ML-DSA user belongs to the PQ chain, the Ed25519 user to
// the classic one (Ed25519 is not post-quantum, only modern).
var pqUsers = []struct {
	spec   userSpec
	issuer string
}{
	{userSpec{
		name: "frank-mldsa", local: "frank", person: "Frank", kind: kindMLDSA65,
		usage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		lifetime: tenYears,
		note:     "ML-DSA-65 signing certificate (FIPS 204, RFC 9881) under the PQ chain: trust pq-root.crt",
	}, pqIntermediateName},
	{userSpec{
		name: "grace-ed25519", local: "grace", person: "Grace", kind: kindEd25519,
		usage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		lifetime: tenYears,
		note:     "Ed25519 signing certificate (RFC 8419) under the classic intermediate",
	}, "intermediate"},
}

// pqKeyJobs lists the keys a --pq lab derives besides the classic ones.
func pqKeyJobs() map[string]keyKind {
	jobs := map[string]keyKind{pqRootName: kindMLDSA87, pqIntermediateName: kindMLDSA65}
	for _, u := range pqUsers {
		jobs[u.spec.name] = u.spec.kind
	}
	return jobs
}

// derivePQKey derives a post-quantum or Ed25519 key from r: both derive
// from a 32-byte seed, which is the first 32 bytes of the stream.
func derivePQKey(r io.Reader, kind keyKind) (crypto.Signer, error) {
	seed := make([]byte, 32)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("reading key seed: %w", err)
	}
	switch kind {
	case kindMLDSA65:
		return mldsa.NewPrivateKeyFromSeed(mldsa.MLDSA65, seed)
	case kindMLDSA87:
		return mldsa.NewPrivateKeyFromSeed(mldsa.MLDSA87, seed)
	case kindEd25519:
		return ed25519.NewKeyFromSeed(seed), nil
	}
	return nil, fmt.Errorf("unknown key kind %d", kind)
}

// buildPQ adds the post-quantum authorities and users to l.
func (b *builder) buildPQ(l *Lab) error {
	epoch := b.opts.Epoch
	root, err := b.pqAuthority(pqRootName, pqRootCN, nil, epoch.Add(-day), epoch.AddDate(20, 0, 0))
	if err != nil {
		return err
	}
	inter, err := b.pqAuthority(pqIntermediateName, pqIntermediateCN, root, epoch.Add(-day), epoch.AddDate(15, 0, 0))
	if err != nil {
		return err
	}
	l.PQRoot, l.PQIntermediate = root, inter
	for _, pu := range pqUsers {
		ca := l.Intermediate
		if pu.issuer == pqIntermediateName {
			ca = inter
		}
		u, err := b.user(pu.spec, ca)
		if err != nil {
			return err
		}
		l.Users = append(l.Users, u)
	}
	kem, err := b.kemUsers(inter)
	if err != nil {
		return err
	}
	l.Users = append(l.Users, kem...)
	for _, ca := range []*Authority{root, inter} {
		if ca.CRL, err = b.pqCRL(ca); err != nil {
			return err
		}
	}
	return nil
}

// pqCRL issues an ML-DSA authority's CRL number 1, empty, dated like the
// classic ones: crypto/x509 encodes the TBSCertList with a placeholder key,
// then the signature algorithm is replaced and the list signed with ML-DSA.
func (b *builder) pqCRL(ca *Authority) ([]byte, error) {
	thisUpdate := b.opts.Epoch.Add(crlOffset)
	tmpl := &x509.RevocationList{
		SignatureAlgorithm: x509.PureEd25519,
		Number:             big.NewInt(1),
		ThisUpdate:         thisUpdate,
		NextUpdate:         thisUpdate.AddDate(10, 0, 0),
	}
	ph := placeholderKey()
	der, err := x509.CreateRevocationList(b.stream("crl/"+ca.Name), tmpl, ca.Cert, ph)
	if err != nil {
		return nil, fmt.Errorf("lab: encoding %s CRL: %w", ca.Name, err)
	}
	sigAlg, sign, err := certSigner(ca.Key)
	if err != nil {
		return nil, fmt.Errorf("lab: issuing %s CRL: %w", ca.Name, err)
	}
	// TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL (v2, present),
	//   signature AlgorithmIdentifier, issuer, thisUpdate, ... }
	s := cryptobyte.String(der)
	var list, tbs, version, oldAlg cryptobyte.String
	if !s.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&version, cbasn1.INTEGER) || !tbs.ReadASN1Element(&oldAlg, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("lab: re-reading the %s CRL", ca.Name)
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(version)
		b.AddBytes(sigAlg)
		b.AddBytes(tbs)
	})
	newTBS, err := tb.Bytes()
	if err != nil {
		return nil, err
	}
	sig, err := sign(newTBS)
	if err != nil {
		return nil, fmt.Errorf("lab: signing the %s CRL: %w", ca.Name, err)
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	return cb.Bytes()
}

// pqAuthority builds an ML-DSA authority; parent nil means self-signed.
// Like the classic ones, the PQ authorities publish CRLs (pq-root.crl,
// pq-intermediate.crl, signed with ML-DSA by pqCRL).
func (b *builder) pqAuthority(name, cn string, parent *Authority, notBefore, notAfter time.Time) (*Authority, error) {
	key, err := b.key(name)
	if err != nil {
		return nil, err
	}
	serial, err := b.serial(name)
	if err != nil {
		return nil, err
	}
	tmpl := b.caTemplate(serial, cn, parent, notBefore, notAfter)
	spki, err := marshalSPKI(key.Public())
	if err != nil {
		return nil, err
	}
	ca := parent
	if parent == nil {
		// Self-signed: the issuer is the certificate itself.
		ca = &Authority{Name: name, Key: key}
	}
	cert, err := b.issueSPKI(name, tmpl, spki, ca)
	if err != nil {
		return nil, err
	}
	return &Authority{Name: name, Cert: cert, Key: key}, nil
}

// marshalSPKI returns the DER SubjectPublicKeyInfo of pub.
func marshalSPKI(pub crypto.PublicKey) ([]byte, error) {
	if k, ok := pub.(*mldsa.PublicKey); ok {
		return mldsa.MarshalPKIXPublicKey(k), nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("lab: encoding public key: %w", err)
	}
	return der, nil
}

// keyIDFromSPKI is RFC 5280 section 4.2.1.2 method (1): the SHA-1 hash of
// the subjectPublicKey BIT STRING of a DER SubjectPublicKeyInfo.
func keyIDFromSPKI(spki []byte) ([]byte, error) {
	var v struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(spki, &v); err != nil || len(rest) != 0 {
		return nil, errors.New("lab: malformed SubjectPublicKeyInfo")
	}
	sum := sha1.Sum(v.PublicKey.Bytes)
	return sum[:], nil
}

// placeholderKey stands in for keys crypto/x509 cannot handle while it
// encodes a TBSCertificate; its signature is thrown away.
func placeholderKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
}

// issueSPKI issues a certificate from tmpl for the DER SubjectPublicKeyInfo
// spki, signed by ca's key (ML-DSA, RSA or Ed25519). ca.Cert nil means
// tmpl is self-signed by ca.Key. It fills tmpl.SubjectKeyId from spki.
// Any key crypto/x509 cannot marshal (ML-DSA, ML-KEM) works here.
func (b *builder) issueSPKI(name string, tmpl *x509.Certificate, spki []byte, ca *Authority) (*x509.Certificate, error) {
	skid, err := keyIDFromSPKI(spki)
	if err != nil {
		return nil, err
	}
	tmpl.SubjectKeyId = skid
	tmpl.SignatureAlgorithm = x509.PureEd25519
	ph := placeholderKey()
	parent := tmpl
	if ca.Cert != nil {
		// A copy without the public key, so crypto/x509 does not insist
		// that the placeholder be the issuer's key; it takes the issuer
		// name and the authority key identifier from it.
		p := *ca.Cert
		p.PublicKey = nil
		parent = &p
	}
	der, err := x509.CreateCertificate(b.stream("sign/"+name), tmpl, parent, ph.Public(), ph)
	if err != nil {
		return nil, fmt.Errorf("lab: encoding certificate %q: %w", name, err)
	}
	tmpl.SignatureAlgorithm = 0
	return issueRaw(name, der, spki, ca.Key)
}

// issueRaw takes the TBSCertificate of the certificate der, replaces its
// signature algorithm and subjectPublicKeyInfo, and signs it with signer.
func issueRaw(name string, der, spki []byte, signer crypto.Signer) (*x509.Certificate, error) {
	sigAlg, sign, err := certSigner(signer)
	if err != nil {
		return nil, fmt.Errorf("lab: issuing certificate %q: %w", name, err)
	}
	s := cryptobyte.String(der)
	var certSeq, tbs cryptobyte.String
	if !s.ReadASN1(&certSeq, cbasn1.SEQUENCE) || !certSeq.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("lab: re-reading certificate %q", name)
	}
	// TBSCertificate ::= SEQUENCE { version [0], serialNumber,
	//   signature, issuer, validity, subject, subjectPublicKeyInfo, ... }
	var version, serial, oldAlg, issuer, validity, subject, oldSPKI cryptobyte.String
	if !tbs.ReadASN1Element(&version, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!tbs.ReadASN1Element(&serial, cbasn1.INTEGER) ||
		!tbs.ReadASN1Element(&oldAlg, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&validity, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&oldSPKI, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("lab: re-reading the TBSCertificate of %q", name)
	}
	var nb cryptobyte.Builder
	nb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, f := range [][]byte{version, serial, sigAlg, issuer, validity, subject, spki, tbs} {
			b.AddBytes(f)
		}
	})
	newTBS, err := nb.Bytes()
	if err != nil {
		return nil, err
	}
	sig, err := sign(newTBS)
	if err != nil {
		return nil, fmt.Errorf("lab: signing certificate %q: %w", name, err)
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	out, err := cb.Bytes()
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(out)
	if err != nil {
		return nil, fmt.Errorf("lab: parsing certificate %q: %w", name, err)
	}
	return cert, nil
}

// certSigner returns the DER signatureAlgorithm a lab authority key signs
// certificates with and a function that signs a TBSCertificate: ML-DSA in
// its deterministic variant (so the lab stays reproducible), RSA PKCS#1
// v1.5 with SHA-256, Ed25519.
func certSigner(key crypto.Signer) ([]byte, func([]byte) ([]byte, error), error) {
	alg := func(oid asn1.ObjectIdentifier, params []byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddBytes(params)
		})
		return b.BytesOrPanic()
	}
	switch k := key.(type) {
	case *mldsa.PrivateKey:
		d := k.Deterministic()
		return alg(k.Parameters().OID(), nil), func(tbs []byte) ([]byte, error) {
			return d.Sign(nil, tbs, crypto.Hash(0))
		}, nil
	case *rsa.PrivateKey:
		oidSHA256WithRSA := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
		return alg(oidSHA256WithRSA, []byte{0x05, 0x00}), func(tbs []byte) ([]byte, error) {
			h := sha256.Sum256(tbs)
			return rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
		}, nil
	case ed25519.PrivateKey:
		return alg(asn1.ObjectIdentifier{1, 3, 101, 112}, nil), func(tbs []byte) ([]byte, error) {
			return ed25519.Sign(k, tbs), nil
		}, nil
	}
	return nil, nil, fmt.Errorf("unsupported issuer key type %T", key)
}
