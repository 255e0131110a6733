package cms

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/kem"
)

// SignedData is a parsed SignedData (RFC 5652 section 5.1) without its
// encapsulated content, which [ReadSignedData] streams to the caller.
//
//	SignedData ::= SEQUENCE {
//	  version CMSVersion,
//	  digestAlgorithms DigestAlgorithmIdentifiers,
//	  encapContentInfo EncapsulatedContentInfo,
//	  certificates [0] IMPLICIT CertificateSet OPTIONAL,
//	  crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//	  signerInfos SignerInfos }
type SignedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier
	ContentType      asn1.ObjectIdentifier // eContentType
	// Detached is true when eContent is absent (a multipart/signed signature).
	Detached bool
	// ContentDigests holds, for embedded content, the digest of the content
	// under every supported algorithm listed in DigestAlgorithms.
	ContentDigests map[crypto.Hash][]byte
	// ContentLength is the number of embedded content bytes streamed.
	ContentLength int64
	Certificates  []*x509.Certificate
	// CRLs holds the DER of every CertificateList in the crls field; other
	// RevocationInfoChoices are skipped.
	CRLs        [][]byte
	SignerInfos []*SignerInfo
}

// SignerInfo is one signer's block (RFC 5652 section 5.3).
//
//	SignerInfo ::= SEQUENCE {
//	  version CMSVersion,
//	  sid SignerIdentifier,
//	  digestAlgorithm DigestAlgorithmIdentifier,
//	  signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//	  signatureAlgorithm SignatureAlgorithmIdentifier,
//	  signature SignatureValue,
//	  unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//
//	SignerIdentifier ::= CHOICE {
//	  issuerAndSerialNumber IssuerAndSerialNumber,
//	  subjectKeyIdentifier [0] SubjectKeyIdentifier }
type SignerInfo struct {
	Version int
	// Exactly one of IssuerAndSerial and SubjectKeyID is set.
	IssuerAndSerial    *IssuerAndSerial
	SubjectKeyID       []byte
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        []Attribute
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      []Attribute

	// rawSignedAttrs is the DER of signedAttrs with the SET OF tag, the
	// exact bytes the signature covers (RFC 5652 section 5.4).
	rawSignedAttrs []byte
}

// IssuerAndSerial identifies a certificate (RFC 5652 section 10.2.4).
type IssuerAndSerial struct {
	RawIssuer []byte // DER Name
	Serial    *big.Int
}

// Attribute is a CMS attribute with its DER-encoded values.
//
//	Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
}

// maxSignedDataHead bounds the fields of a SignedData other than the
// content, certificates, crls and signerInfos (which have limits of their
// own, see [MaxSigners]): version, digestAlgorithms, eContentType.
const maxSignedDataHead = 1 << 20

// ReadSignedData reads a BER or DER ContentInfo holding SignedData from r.
// Embedded content is streamed, de-chunked, to content (which may be nil to
// discard it) and digested on the way with each digest algorithm the
// SignedData lists; nothing is verified here. The certificates, CRLs and
// signer infos are held in memory, within the limits [MaxSigners],
// [MaxCertificates], [MaxCRLs], [MaxSignerInfoBytes], [MaxCertificateBytes]
// and [MaxCRLBytes]: past one, reading stops with a [*LimitError].
func ReadSignedData(r io.Reader, content io.Writer) (*SignedData, error) {
	return ReadSignedDataWith(r, content, nil)
}

// ReadSignedDataWith is [ReadSignedData] parsing each certificate with
// parse, kem.ParseCertificate if nil: a caller that reads many messages
// carrying the same certificates can give those it parsed before. parse
// must return what kem.ParseCertificate would for the same bytes.
func ReadSignedDataWith(r io.Reader, content io.Writer, parse func(der []byte) (*x509.Certificate, error)) (*SignedData, error) {
	if parse == nil {
		parse = kem.ParseCertificate
	}
	b := newBERReader(r)
	ci, err := b.open(classUniversal, 16, "ContentInfo")
	if err != nil {
		return nil, err
	}
	budget := int64(maxSignedDataHead)
	oid, err := b.readOID(&budget)
	if err != nil {
		return nil, err
	}
	if !oid.Equal(OIDSignedData) {
		return nil, &FormatError{fmt.Sprintf("content type %v is not SignedData", oid)}
	}
	explicit, err := b.open(classContext, 0, "ContentInfo content")
	if err != nil {
		return nil, err
	}
	sdFrame, err := b.open(classUniversal, 16, "SignedData")
	if err != nil {
		return nil, err
	}
	sd := &SignedData{}
	v, err := b.readElement(&budget)
	if err != nil {
		return nil, err
	}
	if sd.Version, err = parseSmallInt(v); err != nil {
		return nil, err
	}
	da, err := b.readElement(&budget)
	if err != nil {
		return nil, err
	}
	if sd.DigestAlgorithms, err = parseAlgorithmSet(da); err != nil {
		return nil, err
	}
	if err := sd.readEncapContent(b, content, &budget); err != nil {
		return nil, err
	}
	t := trailer{
		certs:   newFieldReader("certificates", MaxCertificates, MaxCertificateBytes),
		crls:    newFieldReader("CRLs", MaxCRLs, MaxCRLBytes),
		signers: newFieldReader("signers", MaxSigners, MaxSignerInfoBytes),
		parse:   parse,
	}
	for {
		more, err := b.more(sdFrame)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if err := sd.readTrailer(b, &t); err != nil {
			return nil, err
		}
	}
	for _, f := range []frame{sdFrame, explicit, ci} {
		if err := b.close(f); err != nil {
			return nil, err
		}
	}
	if sd.SignerInfos == nil {
		return nil, &FormatError{"SignedData has no signerInfos"}
	}
	return sd, nil
}

//	EncapsulatedContentInfo ::= SEQUENCE {
//	  eContentType ContentType,
//	  eContent [0] EXPLICIT OCTET STRING OPTIONAL }
func (sd *SignedData) readEncapContent(b *berReader, content io.Writer, budget *int64) error {
	f, err := b.open(classUniversal, 16, "EncapsulatedContentInfo")
	if err != nil {
		return err
	}
	if sd.ContentType, err = b.readOID(budget); err != nil {
		return err
	}
	more, err := b.more(f)
	if err != nil {
		return err
	}
	if !more {
		sd.Detached = true
		return b.close(f)
	}
	ef, err := b.open(classContext, 0, "eContent")
	if err != nil {
		return err
	}
	h, err := b.readHeader()
	if err != nil {
		return err
	}
	cr, err := newContentReader(b, h)
	if err != nil {
		return err
	}
	hashers := map[crypto.Hash]hash.Hash{}
	writers := []io.Writer{}
	if content != nil {
		writers = append(writers, content)
	}
	for _, alg := range sd.DigestAlgorithms {
		hh := HashForOID(alg.Algorithm)
		if hh == 0 || !hh.Available() || hashers[hh] != nil {
			continue
		}
		hashers[hh] = hh.New()
		writers = append(writers, hashers[hh])
	}
	n, err := io.Copy(io.MultiWriter(writers...), cr)
	if err != nil {
		return fmt.Errorf("cms: reading encapsulated content: %w", err)
	}
	sd.ContentLength = n
	sd.ContentDigests = map[crypto.Hash][]byte{}
	for k, hh := range hashers {
		sd.ContentDigests[k] = hh.Sum(nil)
	}
	if err := b.close(ef); err != nil {
		return err
	}
	return b.close(f)
}

// trailer counts the members of certificates, crls and signerInfos; parse
// reads a certificate.
type trailer struct {
	certs, crls, signers *fieldReader
	parse                func(der []byte) (*x509.Certificate, error)
}

// readTrailer reads one of certificates [0], crls [1] or signerInfos, a
// member at a time, so that a field past its limit is refused at the first
// member too many rather than after all of it was read.
func (sd *SignedData) readTrailer(b *berReader, t *trailer) error {
	h, err := b.readHeader()
	if err != nil {
		return err
	}
	switch {
	case h.is(classContext, 0): // certificates [0] IMPLICIT CertificateSet
		return t.certs.read(b, h, func(raw []byte) error {
			if raw[0] != 0x30 {
				return nil // attribute certificates and other formats are not used here
			}
			if c, err := t.parse(raw); err == nil {
				sd.Certificates = append(sd.Certificates, c)
			}
			return nil
		})
	case h.is(classContext, 1): // crls [1] IMPLICIT RevocationInfoChoices
		return t.crls.read(b, h, func(raw []byte) error {
			if raw[0] == 0x30 {
				sd.CRLs = append(sd.CRLs, raw)
			}
			return nil
		})
	case h.is(classUniversal, 17): // signerInfos SignerInfos
		if sd.SignerInfos != nil {
			return &FormatError{"two signerInfos fields"}
		}
		sd.SignerInfos = []*SignerInfo{}
		return t.signers.read(b, h, func(raw []byte) error {
			if raw[0] != 0x30 {
				return &FormatError{"bad SignerInfo"}
			}
			si, err := parseSignerInfo(raw)
			if err != nil {
				return err
			}
			sd.SignerInfos = append(sd.SignerInfos, si)
			return nil
		})
	}
	return &FormatError{fmt.Sprintf("unexpected SignedData field with tag %#x", int(h.tag))}
}

func parseSignerInfo(der []byte) (*SignerInfo, error) {
	bad := func(what string) error { return &FormatError{"bad SignerInfo " + what} }
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, bad("sequence")
	}
	si := &SignerInfo{}
	var v int64
	if !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v < 0 || v > 5 {
		return nil, bad("version")
	}
	si.Version = int(v)
	switch {
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer cryptobyte.String
		serial := new(big.Int)
		if !seq.ReadASN1(&ias, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(serial) || !ias.Empty() {
			return nil, bad("issuerAndSerialNumber")
		}
		si.IssuerAndSerial = &IssuerAndSerial{RawIssuer: append([]byte(nil), issuer...), Serial: serial}
	case seq.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var ski cryptobyte.String
		if !seq.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) {
			return nil, bad("subjectKeyIdentifier")
		}
		si.SubjectKeyID = append([]byte(nil), ski...)
	default:
		return nil, bad("signer identifier")
	}
	var err error
	if si.DigestAlgorithm, err = readAlgorithm(&seq); err != nil {
		return nil, err
	}
	if seq.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		var attrs cryptobyte.String
		var full cryptobyte.String
		if !seq.ReadASN1Element(&full, cbasn1.Tag(0).ContextSpecific().Constructed()) {
			return nil, bad("signedAttrs")
		}
		// The signature covers the attributes with their SET OF tag.
		si.rawSignedAttrs = append([]byte(nil), full...)
		si.rawSignedAttrs[0] = 0x31
		attrs = cryptobyte.String(full)
		if !attrs.ReadASN1(&attrs, cbasn1.Tag(0).ContextSpecific().Constructed()) {
			return nil, bad("signedAttrs")
		}
		if si.SignedAttrs, err = parseAttributes(attrs); err != nil {
			return nil, err
		}
	}
	if si.SignatureAlgorithm, err = readAlgorithm(&seq); err != nil {
		return nil, err
	}
	var sig cryptobyte.String
	if !seq.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, bad("signature")
	}
	si.Signature = append([]byte(nil), sig...)
	if seq.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific().Constructed()) {
		var attrs cryptobyte.String
		if !seq.ReadASN1(&attrs, cbasn1.Tag(1).ContextSpecific().Constructed()) {
			return nil, bad("unsignedAttrs")
		}
		if si.UnsignedAttrs, err = parseAttributes(attrs); err != nil {
			return nil, err
		}
	}
	if !seq.Empty() {
		return nil, bad("trailing fields")
	}
	return si, nil
}

func parseAttributes(s cryptobyte.String) ([]Attribute, error) {
	var out []Attribute
	for !s.Empty() {
		var a, vals cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !s.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&oid) ||
			!a.ReadASN1(&vals, cbasn1.SET) || !a.Empty() {
			return nil, &FormatError{"bad attribute"}
		}
		attr := Attribute{Type: oid}
		for !vals.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !vals.ReadAnyASN1Element(&v, &tag) {
				return nil, &FormatError{"bad attribute value"}
			}
			attr.Values = append(attr.Values, append([]byte(nil), v...))
		}
		out = append(out, attr)
	}
	return out, nil
}

func readAlgorithm(s *cryptobyte.String) (pkix.AlgorithmIdentifier, error) {
	var raw cryptobyte.String
	var ai pkix.AlgorithmIdentifier
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return ai, &FormatError{"bad AlgorithmIdentifier"}
	}
	rest, err := asn1.Unmarshal(raw, &ai)
	if err != nil || len(rest) != 0 {
		return ai, &FormatError{"bad AlgorithmIdentifier"}
	}
	return ai, nil
}

func parseAlgorithmSet(der []byte) ([]pkix.AlgorithmIdentifier, error) {
	s := cryptobyte.String(der)
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) {
		return nil, &FormatError{"bad digestAlgorithms"}
	}
	var out []pkix.AlgorithmIdentifier
	for !set.Empty() {
		ai, err := readAlgorithm(&set)
		if err != nil {
			return nil, err
		}
		out = append(out, ai)
	}
	return out, nil
}

func parseSmallInt(der []byte) (int, error) {
	s := cryptobyte.String(der)
	var v int64
	if !s.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v < 0 || v > 1000 {
		return 0, &FormatError{"bad version"}
	}
	return int(v), nil
}

// Attribute returns the values of the signed attribute of type oid, or nil.
func (si *SignerInfo) Attribute(oid asn1.ObjectIdentifier) [][]byte {
	for _, a := range si.SignedAttrs {
		if a.Type.Equal(oid) {
			return a.Values
		}
	}
	return nil
}

func (si *SignerInfo) singleAttr(oid asn1.ObjectIdentifier, name string) ([]byte, error) {
	n := 0
	for _, a := range si.SignedAttrs {
		if a.Type.Equal(oid) {
			n++
		}
	}
	vals := si.Attribute(oid)
	if n != 1 || len(vals) != 1 {
		return nil, &FormatError{fmt.Sprintf("%s attribute must appear once with one value", name)}
	}
	return vals[0], nil
}

// SigningTime returns the signingTime attribute (RFC 5652 section 11.3);
// ok is false if the signer did not include one.
func (si *SignerInfo) SigningTime() (t time.Time, ok bool, err error) {
	if si.Attribute(OIDAttrSigningTime) == nil {
		return time.Time{}, false, nil
	}
	v, err := si.singleAttr(OIDAttrSigningTime, "signingTime")
	if err != nil {
		return time.Time{}, false, err
	}
	s := cryptobyte.String(v)
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		err = errIf(!s.ReadASN1UTCTime(&t))
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		err = errIf(!s.ReadASN1GeneralizedTime(&t))
	default:
		err = errIf(true)
	}
	if err != nil {
		return time.Time{}, false, &FormatError{"bad signingTime"}
	}
	return t, true, nil
}

func errIf(b bool) error {
	if b {
		return errors.New("bad")
	}
	return nil
}

// Hash returns the signer's digest algorithm, or 0 if it is not one this
// package knows.
func (si *SignerInfo) Hash() crypto.Hash { return HashForOID(si.DigestAlgorithm.Algorithm) }

// Matches reports whether cert is the certificate the signer identifier names.
func (si *SignerInfo) Matches(cert *x509.Certificate) bool {
	if si.IssuerAndSerial != nil {
		return si.IssuerAndSerial.Matches(cert)
	}
	return len(si.SubjectKeyID) > 0 && string(si.SubjectKeyID) == string(cert.SubjectKeyId)
}

// Matches reports whether cert has this issuer and serial number.
func (ias *IssuerAndSerial) Matches(cert *x509.Certificate) bool {
	return cert.SerialNumber != nil && ias.Serial.Cmp(cert.SerialNumber) == 0 &&
		string(ias.RawIssuer) == string(cert.RawIssuer)
}

// FindCertificate returns the certificate among certs that the signer
// identifier names, or nil.
func (si *SignerInfo) FindCertificate(certs []*x509.Certificate) *x509.Certificate {
	for _, c := range certs {
		if si.Matches(c) {
			return c
		}
	}
	return nil
}

// Certificates parses a PKCS#7/CMS "certs-only" bundle (a degenerate
// SignedData, the .p7b/.p7c and userSMIMECertificate format), BER or DER,
// and returns its certificates.
func Certificates(ber []byte) ([]*x509.Certificate, error) {
	sd, err := readBundle(ber)
	if err != nil {
		return nil, err
	}
	return sd.Certificates, nil
}

func readBundle(ber []byte) (*SignedData, error) {
	der, err := ToDER(ber) // also refuses trailing data
	if err != nil {
		return nil, err
	}
	sd, err := ReadSignedData(bytesReader(der), nil)
	if err != nil {
		return nil, err
	}
	return sd, nil
}
