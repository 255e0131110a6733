package revocation

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// crypto/x509 parses neither a CRL's issuing distribution point nor the
// parts of a certificate's CRL distribution points that a partitioned CRL
// is matched against (it keeps only their URIs), so both are read here.

// oidCRLDistributionPoints is the certificate extension of RFC 5280
// section 4.2.1.13.
var oidCRLDistributionPoints = asn1.ObjectIdentifier{2, 5, 29, 31}

var errMalformedIDP = errors.New("the CRL's issuing distribution point extension is malformed")

// issuingDistributionPoint is the CRL extension of RFC 5280 section 5.2.5:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	     distributionPoint          [0] DistributionPointName OPTIONAL,
//	     onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
//	     onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
//	     onlySomeReasons            [3] ReasonFlags OPTIONAL,
//	     indirectCRL                [4] BOOLEAN DEFAULT FALSE,
//	     onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
//
//	DistributionPointName ::= CHOICE {
//	     fullName                [0] GeneralNames,
//	     nameRelativeToCRLIssuer [1] RelativeDistinguishedName }
//
// The module's tags are implicit, except that a tag on a CHOICE is
// explicit: distributionPoint is a constructed [0] around a constructed [0]
// (fullName) or [1] (nameRelativeToCRLIssuer).
type issuingDistributionPoint struct {
	// hasPoint is true when distributionPoint is present: the CRL is the
	// partition of that distribution point, not the issuer's complete CRL.
	hasPoint bool
	// names are the distribution point's names, each a DER GeneralName; a
	// nameRelativeToCRLIssuer is turned into the directoryName it stands
	// for (RFC 5280 section 4.2.1.13).
	names                   [][]byte
	onlyUser, onlyCA        bool
	someReasons             bool // onlySomeReasons is present
	indirect, onlyAttribute bool
}

// parseIDP reads an issuing distribution point extension's value. crlIssuer
// is the CRL's DER issuer name, which a nameRelativeToCRLIssuer extends.
// Fields must come in the order of the definition, and nothing may follow
// them: a CRL whose scope cannot be read completely is not used.
func parseIDP(der, crlIssuer []byte) (*issuingDistributionPoint, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errMalformedIDP
	}
	idp := new(issuingDistributionPoint)
	var dp cryptobyte.String
	if !seq.ReadOptionalASN1(&dp, &idp.hasPoint, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, errMalformedIDP
	}
	if idp.hasPoint {
		names, err := distributionPointNames(dp, crlIssuer)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformedIDP, err)
		}
		idp.names = names
	}
	var reasons cryptobyte.String
	if !readOptionalBool(&seq, 1, &idp.onlyUser) ||
		!readOptionalBool(&seq, 2, &idp.onlyCA) ||
		!seq.ReadOptionalASN1(&reasons, &idp.someReasons, cbasn1.Tag(3).ContextSpecific()) ||
		!readOptionalBool(&seq, 4, &idp.indirect) ||
		!readOptionalBool(&seq, 5, &idp.onlyAttribute) ||
		!seq.Empty() {
		return nil, errMalformedIDP
	}
	// ReasonFlags is a BIT STRING: the count of unused bits, then the bits.
	if idp.someReasons && (len(reasons) == 0 || reasons[0] > 7 || (len(reasons) == 1 && reasons[0] != 0)) {
		return nil, errMalformedIDP
	}
	return idp, nil
}

// readOptionalBool reads an implicitly tagged [tag] BOOLEAN DEFAULT FALSE.
// An explicit FALSE, which DER forbids, is accepted: it means the default.
func readOptionalBool(s *cryptobyte.String, tag uint8, out *bool) bool {
	var v cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&v, &present, cbasn1.Tag(tag).ContextSpecific()) {
		return false
	}
	if !present {
		return true
	}
	if len(v) != 1 || (v[0] != 0 && v[0] != 0xff) {
		return false
	}
	*out = v[0] == 0xff
	return true
}

// distributionPointNames reads the contents of a distributionPoint field
// (one DistributionPointName) as DER GeneralNames. relativeTo is the DER
// name a nameRelativeToCRLIssuer is relative to.
func distributionPointNames(dp cryptobyte.String, relativeTo []byte) ([][]byte, error) {
	var inner cryptobyte.String
	var tag cbasn1.Tag
	if !dp.ReadAnyASN1(&inner, &tag) || !dp.Empty() {
		return nil, errors.New("malformed distribution point name")
	}
	switch tag {
	case cbasn1.Tag(0).ContextSpecific().Constructed(): // fullName
		var names [][]byte
		for !inner.Empty() {
			var gn cryptobyte.String
			var gnTag cbasn1.Tag
			if !inner.ReadAnyASN1Element(&gn, &gnTag) {
				return nil, errors.New("malformed general name in a distribution point")
			}
			names = append(names, gn)
		}
		if len(names) == 0 {
			return nil, errors.New("a distribution point's fullName is empty")
		}
		return names, nil
	case cbasn1.Tag(1).ContextSpecific().Constructed(): // nameRelativeToCRLIssuer
		issuer := cryptobyte.String(relativeTo)
		var rdns cryptobyte.String
		if !issuer.ReadASN1(&rdns, cbasn1.SEQUENCE) || len(inner) == 0 {
			return nil, errors.New("malformed nameRelativeToCRLIssuer")
		}
		// directoryName [4] Name, explicit because Name is a CHOICE; the
		// RelativeDistinguishedName (a SET OF, here under an implicit [1])
		// becomes the last RDN of the issuer's name.
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(rdns)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(inner) })
			})
		})
		name, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		return [][]byte{name}, nil
	}
	return nil, errors.New("unknown form of distribution point name")
}

// certPointNames returns the names of cert's CRL distribution points that
// a partitioned CRL of cert's issuer can stand for, each a DER GeneralName:
//
//	CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
//	DistributionPoint ::= SEQUENCE {
//	     distributionPoint       [0]     DistributionPointName OPTIONAL,
//	     reasons                 [1]     ReasonFlags OPTIONAL,
//	     cRLIssuer               [2]     GeneralNames OPTIONAL }
//
// A point with cRLIssuer names an indirect CRL and one with reasons a CRL
// for some reasons only; neither is supported, so their names are left out
// (RFC 5280 section 6.3.3 (b)(2)(i) and (d)).
func certPointNames(cert *x509.Certificate) ([][]byte, error) {
	i := slices.IndexFunc(cert.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidCRLDistributionPoints) })
	if i < 0 {
		return nil, nil
	}
	errMalformed := errors.New("the certificate's CRL distribution points extension is malformed")
	in := cryptobyte.String(cert.Extensions[i].Value)
	var points cryptobyte.String
	if !in.ReadASN1(&points, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errMalformed
	}
	var names [][]byte
	for !points.Empty() {
		var p, dp, reasons, crlIssuer cryptobyte.String
		var hasDP, hasReasons, hasCRLIssuer bool
		if !points.ReadASN1(&p, cbasn1.SEQUENCE) ||
			!p.ReadOptionalASN1(&dp, &hasDP, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
			!p.ReadOptionalASN1(&reasons, &hasReasons, cbasn1.Tag(1).ContextSpecific()) ||
			!p.ReadOptionalASN1(&crlIssuer, &hasCRLIssuer, cbasn1.Tag(2).ContextSpecific().Constructed()) ||
			!p.Empty() {
			return nil, errMalformed
		}
		if !hasDP || hasReasons || hasCRLIssuer {
			continue
		}
		n, err := distributionPointNames(dp, cert.RawIssuer)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		names = append(names, n...)
	}
	return names, nil
}

// generalNameString describes a DER GeneralName for a message: a URI as
// it is, a directoryName as a distinguished name.
func generalNameString(gn []byte) string {
	var v cryptobyte.String
	switch s := cryptobyte.String(gn); {
	case s.PeekASN1Tag(cbasn1.Tag(6).ContextSpecific()) && s.ReadASN1(&v, cbasn1.Tag(6).ContextSpecific()):
		return fmt.Sprintf("%q", string(v))
	case s.ReadASN1(&v, cbasn1.Tag(4).ContextSpecific().Constructed()):
		var rdns pkix.RDNSequence
		if rest, err := asn1.Unmarshal(v, &rdns); err == nil && len(rest) == 0 {
			return fmt.Sprintf("%q", rdns.String())
		}
	}
	return "(a name other than a URI or a directory name)"
}

// checkScope refuses a CRL whose issuing distribution point (der) does not
// cover cert (RFC 5280 section 6.3.3 (b)): such a CRL is no answer for
// cert, neither good nor revoked (a revocation in another partition is
// another certificate's). It returns why a CRL that covers cert covers it
// only in part (section 6.3.3 (d)), "" if it covers it completely.
func checkScope(der []byte, crl *x509.RevocationList, cert *x509.Certificate) (partial string, err error) {
	idp, err := parseIDP(der, crl.RawIssuer)
	if err != nil {
		return "", err
	}
	switch {
	case idp.indirect:
		return "", errors.New("it is an indirect CRL (issuing distribution point indirectCRL), which is not supported")
	case idp.onlyAttribute:
		return "", errors.New("it covers only attribute certificates")
	case idp.onlyUser && cert.IsCA:
		return "", errors.New("it covers only end-entity certificates, and this is a CA certificate")
	case idp.onlyCA && !cert.IsCA:
		return "", errors.New("it covers only CA certificates, and this is an end-entity certificate")
	}
	if idp.hasPoint {
		// A partition: it answers only for certificates that name it as
		// one of their distribution points (section 5.2.5).
		names, err := certPointNames(cert)
		if err != nil {
			return "", err
		}
		if !slices.ContainsFunc(idp.names, func(n []byte) bool {
			return slices.ContainsFunc(names, func(m []byte) bool { return bytes.Equal(n, m) })
		}) {
			return "", fmt.Errorf("it is the partial CRL of distribution point %s, which is not one of the certificate's distribution points",
				generalNameString(idp.names[0]))
		}
	}
	if idp.someReasons {
		return "it covers only some revocation reasons (issuing distribution point onlySomeReasons)", nil
	}
	return "", nil
}
