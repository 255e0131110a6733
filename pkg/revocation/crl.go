package revocation

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
)

// CRL extension OIDs, RFC 5280 sections 5.2 and 5.3.
var (
	oidAuthorityKeyID  = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber       = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRL        = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDP       = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidFreshestCRL     = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidCertIssuer      = asn1.ObjectIdentifier{2, 5, 29, 29}
	oidExpiredCertsOn  = asn1.ObjectIdentifier{2, 5, 29, 60}
	oidAuthorityInfo   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	understoodCRLExts  = []asn1.ObjectIdentifier{oidAuthorityKeyID, oidCRLNumber, oidIssuingDP, oidFreshestCRL, oidExpiredCertsOn, oidAuthorityInfo}
	reasonCertHoldCode = 6
)

// issuingDistributionPoint is RFC 5280 section 5.2.5:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	     distributionPoint          [0] DistributionPointName OPTIONAL,
//	     onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
//	     onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
//	     onlySomeReasons            [3] ReasonFlags OPTIONAL,
//	     indirectCRL                [4] BOOLEAN DEFAULT FALSE,
//	     onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
//
// DistributionPointName is a CHOICE, so its [0] tag is explicit.
type issuingDistributionPoint struct {
	DistributionPoint asn1.RawValue  `asn1:"optional,tag:0"`
	OnlyUser          bool           `asn1:"optional,tag:1"`
	OnlyCA            bool           `asn1:"optional,tag:2"`
	OnlySomeReasons   asn1.BitString `asn1:"optional,tag:3"`
	Indirect          bool           `asn1:"optional,tag:4"`
	OnlyAttribute     bool           `asn1:"optional,tag:5"`
}

// idpURIs returns the URIs in the distributionPoint's fullName ([0]
// GeneralNames, uniformResourceIdentifier [6] IA5String).
func idpURIs(dp asn1.RawValue) []string {
	var name asn1.RawValue
	if _, err := asn1.Unmarshal(dp.Bytes, &name); err != nil || name.Class != asn1.ClassContextSpecific || name.Tag != 0 {
		return nil
	}
	var uris []string
	rest := name.Bytes
	for len(rest) > 0 {
		var gn asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
			return uris
		}
		if gn.Class == asn1.ClassContextSpecific && gn.Tag == 6 {
			uris = append(uris, string(gn.Bytes))
		}
	}
	return uris
}

// errCRLNotForIssuer marks a CRL from another authority: skipped quietly.
var errCRLNotForIssuer = errors.New("the CRL is from another issuer")

// checkCRL tells whether crl can answer for cert: from cert's issuer, signed
// with the issuer's key, complete (not a delta), direct (not indirect) and
// in scope (RFC 5280 section 6.3.3 steps b, c, f). It does not look at
// the dates: see answerFromCRL.
func checkCRL(crl *x509.RevocationList, cert, issuer *x509.Certificate) error {
	if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) {
		return errCRLNotForIssuer
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("the CRL's signature does not verify with the key of %s: %w", certinfo.Name(issuer.Subject), err)
	}
	for _, ext := range crl.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRL):
			return errors.New("it is a delta CRL, which is not supported: give the complete (base) CRL")
		case ext.Id.Equal(oidIssuingDP):
			if err := checkScope(ext.Value, cert); err != nil {
				return err
			}
		case ext.Critical && !slices.ContainsFunc(understoodCRLExts, ext.Id.Equal):
			return fmt.Errorf("the CRL has an unsupported critical extension %s", ext.Id)
		}
	}
	for _, e := range crl.RevokedCertificateEntries {
		for _, ext := range e.Extensions {
			if ext.Id.Equal(oidCertIssuer) {
				return errors.New("it is an indirect CRL (entries name another certificate issuer), which is not supported")
			}
		}
	}
	return nil
}

// checkScope refuses a CRL whose issuing distribution point does not cover
// cert.
func checkScope(der []byte, cert *x509.Certificate) error {
	var idp issuingDistributionPoint
	if rest, err := asn1.Unmarshal(der, &idp); err != nil || len(rest) > 0 {
		return errors.New("the CRL's issuing distribution point extension is malformed")
	}
	switch {
	case idp.Indirect:
		return errors.New("it is an indirect CRL, which is not supported")
	case idp.OnlySomeReasons.BitLength > 0:
		return errors.New("it covers only some revocation reasons (issuing distribution point onlySomeReasons), which is not supported")
	case idp.OnlyAttribute:
		return errors.New("it covers only attribute certificates")
	case idp.OnlyUser && cert.IsCA:
		return errors.New("it covers only end-entity certificates, and this is a CA certificate")
	case idp.OnlyCA && !cert.IsCA:
		return errors.New("it covers only CA certificates, and this is an end-entity certificate")
	}
	if uris := idpURIs(idp.DistributionPoint); len(uris) > 0 && len(cert.CRLDistributionPoints) > 0 &&
		!slices.ContainsFunc(uris, func(u string) bool { return slices.Contains(cert.CRLDistributionPoints, u) }) {
		return fmt.Errorf("its issuing distribution point %s is not one of the certificate's distribution points", uris[0])
	}
	return nil
}

// answerFromCRL looks cert up in a CRL that passed checkCRL. A CRL past
// its nextUpdate still proves a revocation (other than a hold, which may
// have been lifted since) but not that the certificate is good.
func answerFromCRL(crl *x509.RevocationList, cert *x509.Certificate, at time.Time, src Source, url string) (Outcome, error) {
	o := Outcome{Source: src, URL: url, Produced: crl.ThisUpdate, NextUpdate: crl.NextUpdate}
	stale := !crl.NextUpdate.IsZero() && at.After(crl.NextUpdate)
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) != 0 || e.RevocationTime.After(at) {
			continue
		}
		if stale && e.ReasonCode == reasonCertHoldCode {
			break
		}
		o.Status, o.RevokedAt, o.Reason = Revoked, e.RevocationTime, e.ReasonCode
		o.Detail = fmt.Sprintf("listed in the CRL of %s issued %s (%s)", certinfo.Name(crl.Issuer), stamp(crl.ThisUpdate), src)
		return o, nil
	}
	if stale {
		return o, fmt.Errorf("the CRL of %s expired at %s, before %s", certinfo.Name(crl.Issuer), stamp(crl.NextUpdate), stamp(at))
	}
	o.Status = Good
	o.Detail = fmt.Sprintf("not listed in the CRL of %s issued %s (%s)", certinfo.Name(crl.Issuer), stamp(crl.ThisUpdate), src)
	return o, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// givenCRLs asks the CRLs given by hand.
func (q *query) givenCRLs() (Outcome, bool) {
	for _, crl := range q.opts.CRLs {
		if err := checkCRL(crl, q.cert, q.issuer); err != nil {
			if !errors.Is(err, errCRLNotForIssuer) {
				q.fail("a CRL given by hand was refused: %v", err)
			}
			continue
		}
		o, err := answerFromCRL(crl, q.cert, q.at, SourceFile, "")
		if err != nil {
			q.fail("%v", err)
			continue
		}
		return o, true
	}
	return Outcome{}, false
}
