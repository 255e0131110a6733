package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/smimectl/smimectl/internal/certinfo"
)

// maxOCSPResponseSize caps an OCSP response, below
// Options.MaxResponseSize: a response for one certificate, with the
// responder's certificate, is a few KB (RFC 5019 section 2.2.1 answers for
// one certificate). x/crypto/ocsp decodes every SingleResponse before any
// signature is checked, so a forged response of 15 MB cost 660 MiB and 3 s;
// 256 KiB costs some 10 MiB at most.
const maxOCSPResponseSize = 256 << 10

// ocsp asks each OCSP responder of the certificate's Authority Information
// Access (RFC 6960) in turn, until one gives a good or revoked answer. ctx
// carries the overall deadline.
func (q *query) ocsp(ctx context.Context) (Outcome, bool) {
	if len(q.cert.OCSPServer) == 0 {
		return Outcome{}, false
	}
	req, err := ocsp.CreateRequest(q.cert, q.issuer, nil)
	if err != nil {
		q.fail("making the OCSP request: %v", err)
		return Outcome{}, false
	}
	for _, u := range q.cert.OCSPServer {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") {
			q.fail("OCSP responder %s: not an http or https URL", u)
			continue
		}
		if ctx.Err() != nil {
			q.fail("OCSP responder %s was not asked: %v", u, q.opts.deadlineError(ctx))
			continue
		}
		q.urls = append(q.urls, u)
		var o Outcome
		err, refused := q.fetchTimed(ctx, SourceOCSP, u, func(ctx context.Context) ([]byte, error) {
			return q.opts.httpDo(ctx, "POST", u, "application/ocsp-request", req, min(q.opts.maxSize(), maxOCSPResponseSize))
		}, func(der []byte) (err error) {
			o, err = q.ocspAnswer(der, u)
			return err
		})
		if err != nil {
			q.fail("asking OCSP responder %s: %v", u, err)
			continue
		}
		if refused != nil {
			q.fail("the answer of OCSP responder %s was refused: %v", u, refused)
			continue
		}
		return o, true
	}
	return Outcome{}, false
}

// ocspAnswer checks an OCSP response for the query's certificate: its
// signature, that its signer may answer for the issuer, and its dates (see
// current: a response without nextUpdate is used for Options.MaxAge after
// its thisUpdate, RFC 6960 section 4.2.2.1 leaving that to the client).
func (q *query) ocspAnswer(der []byte, u string) (Outcome, error) {
	// Passing no issuer: x/crypto/ocsp would demand that an embedded
	// responder certificate be signed by the issuer, which refuses the
	// common case of the issuer answering for itself and embedding its
	// own certificate. The responder is authorised here instead.
	resp, err := ocsp.ParseResponseForCert(der, q.cert, nil)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			return Outcome{}, fmt.Errorf("the responder answered %q", re.Status.String())
		}
		return Outcome{}, fmt.Errorf("malformed OCSP response: %w", err)
	}
	if err := checkCertID(resp, q.cert, q.issuer); err != nil {
		return Outcome{}, err
	}
	if err := q.authoriseResponder(resp); err != nil {
		return Outcome{}, err
	}
	// A response that is not current is refused whatever it says, even
	// revoked: the CRLs remain to be asked.
	if err := q.current("the response", resp.ThisUpdate, resp.NextUpdate); err != nil {
		return Outcome{}, err
	}
	o := Outcome{Source: SourceOCSP, URL: u, Produced: resp.ProducedAt, NextUpdate: resp.NextUpdate}
	switch resp.Status {
	case ocsp.Good:
		o.Status, o.Detail = Good, fmt.Sprintf("good according to OCSP responder %s (produced %s)", u, stamp(resp.ProducedAt))
	case ocsp.Revoked:
		if resp.RevokedAt.After(q.at) {
			o.Status, o.Detail = Good, fmt.Sprintf("revoked only after %s according to OCSP responder %s", stamp(q.at), u)
			break
		}
		o.Status, o.RevokedAt, o.Reason = Revoked, resp.RevokedAt, resp.RevocationReason
		o.Detail = fmt.Sprintf("revoked according to OCSP responder %s (produced %s)", u, stamp(resp.ProducedAt))
	default:
		return Outcome{}, errors.New("the responder does not know the certificate (status unknown)")
	}
	return o, nil
}

// authoriseResponder accepts a response signed by the issuer itself, or by
// a delegated responder: a certificate the issuer signed with the
// id-kp-OCSPSigning extended key usage, valid at the time asked (RFC 6960
// section 4.2.2.2).
func (q *query) authoriseResponder(resp *ocsp.Response) error {
	signer := resp.Certificate
	if signer == nil || bytes.Equal(signer.Raw, q.issuer.Raw) {
		if err := resp.CheckSignatureFrom(q.issuer); err != nil {
			return fmt.Errorf("the response's signature does not verify with the key of %s: %w", certinfo.Name(q.issuer.Subject), err)
		}
		return nil
	}
	// ParseResponseForCert checked the response's signature with signer.
	who := certinfo.Name(signer.Subject)
	if !bytes.Equal(signer.RawIssuer, q.issuer.RawSubject) || signer.CheckSignatureFrom(q.issuer) != nil {
		return fmt.Errorf("the responder %s is not certified by %s", who, certinfo.Name(q.issuer.Subject))
	}
	if !slices.Contains(signer.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return fmt.Errorf("the responder %s is not authorised to sign OCSP responses (no id-kp-OCSPSigning)", who)
	}
	if q.at.Before(signer.NotBefore) || q.at.After(signer.NotAfter) {
		return fmt.Errorf("the responder certificate %s is not valid at %s", who, stamp(q.at))
	}
	return nil
}

// checkCertID checks that the single response x/crypto/ocsp picked for
// cert, the first whose CertID has cert's serial number, names cert's
// issuer too (RFC 6960 sections 4.1.1 and 4.2.2.1): x/crypto/ocsp compares
// the serial number only. Without this, a responder that answers for
// several CAs (one delegated responder key certified by each) has its
// "good" for serial S of one CA taken as the answer for serial S of
// another, the embedded responder certificate, which the signature does
// not cover, swapped for that CA's.
//
//	ResponseData ::= SEQUENCE {
//	   version              [0] EXPLICIT Version DEFAULT v1,
//	   responderID              ResponderID,
//	   producedAt               GeneralizedTime,
//	   responses                SEQUENCE OF SingleResponse,
//	   responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
//	SingleResponse ::= SEQUENCE { certID CertID, ... }
//	CertID ::= SEQUENCE {
//	   hashAlgorithm       AlgorithmIdentifier,
//	   issuerNameHash      OCTET STRING, -- Hash of issuer's DN
//	   issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
//	   serialNumber        CertificateSerialNumber }
func checkCertID(resp *ocsp.Response, cert, issuer *x509.Certificate) error {
	errMalformed := errors.New("malformed OCSP response: its response data can't be read")
	if !resp.IssuerHash.Available() {
		return fmt.Errorf("the response names the issuer with an unsupported hash (%v)", resp.IssuerHash)
	}
	in := cryptobyte.String(resp.TBSResponseData)
	var rd, singles, responderID cryptobyte.String
	if !in.ReadASN1(&rd, cbasn1.SEQUENCE) ||
		!rd.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!rd.ReadAnyASN1(&responderID, nil) || // a CHOICE of [1] or [2]
		!rd.SkipASN1(cbasn1.GeneralizedTime) ||
		!rd.ReadASN1(&singles, cbasn1.SEQUENCE) {
		return errMalformed
	}
	for !singles.Empty() {
		var single, certID, nameHash, keyHash cryptobyte.String
		serial := new(big.Int)
		if !singles.ReadASN1(&single, cbasn1.SEQUENCE) || !single.ReadASN1(&certID, cbasn1.SEQUENCE) ||
			!certID.SkipASN1(cbasn1.SEQUENCE) || !certID.ReadASN1(&nameHash, cbasn1.OCTET_STRING) ||
			!certID.ReadASN1(&keyHash, cbasn1.OCTET_STRING) || !certID.ReadASN1Integer(serial) {
			return errMalformed
		}
		if serial.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		h := resp.IssuerHash.New()
		h.Write(issuer.RawSubject)
		wantName := h.Sum(nil)
		spki := cryptobyte.String(issuer.RawSubjectPublicKeyInfo)
		var info cryptobyte.String
		var key asn1.BitString
		if !spki.ReadASN1(&info, cbasn1.SEQUENCE) || !info.SkipASN1(cbasn1.SEQUENCE) || !info.ReadASN1BitString(&key) {
			return fmt.Errorf("the public key of %s can't be read", certinfo.Name(issuer.Subject))
		}
		h.Reset()
		h.Write(key.Bytes)
		if !bytes.Equal(nameHash, wantName) || !bytes.Equal(keyHash, h.Sum(nil)) {
			return fmt.Errorf("the response is about serial number %X of another issuer than %s (its CertID names another issuer name or key)",
				cert.SerialNumber, certinfo.Name(issuer.Subject))
		}
		return nil
	}
	return errMalformed
}
