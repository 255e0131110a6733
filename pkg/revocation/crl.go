package revocation

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/chain"
)

// CRL extension OIDs, RFC 5280 sections 5.2 and 5.3.
var (
	oidAuthorityKeyID = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber      = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRL       = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDP      = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidFreshestCRL    = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidCertIssuer     = asn1.ObjectIdentifier{2, 5, 29, 29}
	oidExpiredCertsOn = asn1.ObjectIdentifier{2, 5, 29, 60}
	oidAuthorityInfo  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	understoodCRLExts = []asn1.ObjectIdentifier{oidAuthorityKeyID, oidCRLNumber, oidIssuingDP, oidFreshestCRL, oidExpiredCertsOn, oidAuthorityInfo}
	// CRL entry extensions, section 5.3: reasonCode, holdInstructionCode
	// and invalidityDate (certificateIssuer is refused on its own).
	understoodEntryExts = []asn1.ObjectIdentifier{{2, 5, 29, 21}, {2, 5, 29, 23}, {2, 5, 29, 24}}
)

// CRLReason codes (RFC 5280 section 5.3.1) the answer depends on.
const (
	reasonCertHoldCode = 6
	// removeFromCRL, in a delta CRL: the certificate is no longer on hold.
	reasonRemoveFromCRL = 8
)

// errCRLNotForIssuer marks a CRL from another authority: skipped quietly.
var errCRLNotForIssuer = errors.New("the CRL is from another issuer")

// crlScope is what a CRL that passed checkCRL can tell about a certificate.
type crlScope struct {
	// partial, if not "", says why the CRL is not complete for the
	// certificate: it proves a revocation it lists, never that the
	// certificate is good (RFC 5280 section 6.3.3 (d): the reasons it
	// covers are not all reasons).
	partial string
	// delta is true for a delta CRL, where an entry with the reason
	// removeFromCRL lifts an earlier revocation (a hold).
	delta bool
}

// checkCRL tells whether crl can answer for cert: from cert's issuer, signed
// with the issuer's key, direct (not indirect), in scope (RFC 5280 section
// 6.3.3 steps b, c, f; see checkScope) and with no critical extension, of
// the CRL or of an entry, that is not understood (sections 5.2 and 5.3).
// A CRL that passes but is a delta CRL or covers only some reasons is
// partial (see crlScope). It does not look at the dates: see
// answerFromCRL.
func checkCRL(crl *x509.RevocationList, cert, issuer *x509.Certificate) (crlScope, error) {
	var scope crlScope
	if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) {
		return scope, errCRLNotForIssuer
	}
	if err := chain.CheckCRLSignature(crl, issuer); err != nil {
		return scope, fmt.Errorf("the CRL's signature does not verify with the key of %s: %w", certinfo.Name(issuer.Subject), err)
	}
	seen := make(map[string]bool)
	for _, ext := range crl.Extensions {
		id := ext.Id.String()
		if seen[id] {
			return scope, fmt.Errorf("the CRL has extension %s twice", id)
		}
		seen[id] = true
		switch {
		case ext.Id.Equal(oidDeltaCRL):
			// Section 5.2.4: a delta CRL lists only the changes since
			// its base CRL; alone, it is no complete answer.
			scope.delta = true
			if scope.partial == "" {
				scope.partial = "it is a delta CRL, which lists only the changes since its base CRL: give the complete (base) CRL"
			}
		case ext.Id.Equal(oidIssuingDP):
			partial, err := checkScope(ext.Value, crl, cert)
			if err != nil {
				return scope, err
			}
			if partial != "" {
				scope.partial = partial
			}
		case ext.Critical && !slices.ContainsFunc(understoodCRLExts, ext.Id.Equal):
			return scope, fmt.Errorf("the CRL has an unsupported critical extension %s", ext.Id)
		}
	}
	for _, e := range crl.RevokedCertificateEntries {
		for _, ext := range e.Extensions {
			switch {
			case ext.Id.Equal(oidCertIssuer):
				// An entry's serial number alone may be another
				// issuer's certificate: not even a revocation is told.
				return scope, errors.New("it is an indirect CRL (entries name another certificate issuer), which is not supported")
			case ext.Critical && !slices.ContainsFunc(understoodEntryExts, ext.Id.Equal):
				// RFC 5280 section 5.3: a CRL with a critical entry
				// extension not understood must not be used at all.
				return scope, fmt.Errorf("an entry of the CRL has an unsupported critical extension %s", ext.Id)
			}
		}
	}
	return scope, nil
}

// answerFromCRL looks cert up in a CRL that passed checkCRL with scope. A
// CRL that is not current (see current) still proves a revocation, other
// than a hold, which may have been lifted since; it does not prove that
// the certificate is good, and neither does a partial one.
func (q *query) answerFromCRL(crl *x509.RevocationList, scope crlScope, src Source, url string) (Outcome, error) {
	o := Outcome{Source: src, URL: url, Produced: crl.ThisUpdate, NextUpdate: crl.NextUpdate}
	notCurrent := q.current("the CRL of "+certinfo.Name(crl.Issuer), crl.ThisUpdate, crl.NextUpdate)
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(q.cert.SerialNumber) != 0 || e.RevocationTime.After(q.at) {
			continue
		}
		if (notCurrent != nil && e.ReasonCode == reasonCertHoldCode) || (scope.delta && e.ReasonCode == reasonRemoveFromCRL) {
			break
		}
		o.Status, o.RevokedAt, o.Reason = Revoked, e.RevocationTime, e.ReasonCode
		o.Detail = fmt.Sprintf("listed in the CRL of %s issued %s (%s)", certinfo.Name(crl.Issuer), stamp(crl.ThisUpdate), src)
		return o, nil
	}
	if notCurrent != nil {
		return o, notCurrent
	}
	if scope.partial != "" {
		return o, fmt.Errorf("the CRL of %s does not list the certificate, but does not show it is good: %s", certinfo.Name(crl.Issuer), scope.partial)
	}
	o.Status = Good
	o.Detail = fmt.Sprintf("not listed in the CRL of %s issued %s (%s)", certinfo.Name(crl.Issuer), stamp(crl.ThisUpdate), src)
	return o, nil
}

// current says why an answer (what: "the CRL of ...", "the response")
// issued at thisUpdate and due again at nextUpdate cannot tell the status
// at the time asked; nil if it can. It cannot when it was issued in the
// future (beyond clockSkew of the present, Options.Clock): one clock is
// wrong, or it was made in advance; when the time asked is past its
// nextUpdate; or, naming no nextUpdate, when the time asked is more than
// Options.MaxAge after its thisUpdate. An answer issued after the time
// asked is current: it still tells whether the certificate had been
// revoked by then.
func (q *query) current(what string, thisUpdate, nextUpdate time.Time) error {
	if now := q.opts.now(); thisUpdate.After(now.Add(clockSkew)) {
		return fmt.Errorf("%s was issued at %s, in the future (the clock says %s): one of the clocks is wrong",
			what, stamp(thisUpdate), stamp(now))
	}
	if nextUpdate.IsZero() {
		if maxAge := q.opts.maxAge(); q.at.After(thisUpdate.Add(maxAge)) {
			return fmt.Errorf("%s names no next update and was issued at %s, more than the maximum age of %s before %s",
				what, stamp(thisUpdate), days(maxAge), stamp(q.at))
		}
		return nil
	}
	if q.at.After(nextUpdate) {
		return fmt.Errorf("%s expired at %s, before %s", what, stamp(nextUpdate), stamp(q.at))
	}
	return nil
}

// days writes a whole number of days as such ("7 days"), any other
// duration as Go does ("36h0m0s").
func days(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// givenCRLs asks the CRLs given by hand.
func (q *query) givenCRLs() (Outcome, bool) {
	for _, crl := range q.opts.CRLs {
		scope, err := checkCRL(crl, q.cert, q.issuer)
		if err != nil {
			if !errors.Is(err, errCRLNotForIssuer) {
				q.fail("a CRL given by hand was refused: %v", err)
			}
			continue
		}
		o, err := q.answerFromCRL(crl, scope, SourceFile, "")
		if err != nil {
			q.fail("%v", err)
			continue
		}
		return o, true
	}
	return Outcome{}, false
}

// notForIssuerError is errCRLNotForIssuer from parseCRLFor, with the
// CRL's issuer name for a message.
type notForIssuerError struct{ name string }

func (e *notForIssuerError) Error() string { return errCRLNotForIssuer.Error() + ": " + e.name }
func (e *notForIssuerError) Unwrap() error { return errCRLNotForIssuer }

// parseCRLFor reads the CRL in data (PEM or DER; the first one, as
// ParseCRLs reads it) if it is from the issuer of cert: its issuer name is
// cert's issuer and its signature verifies with issuer's key. Both are
// checked on the raw bytes before x509.ParseRevocationList, which builds
// every entry first: a CRL from the network or the cache is believed only
// once it is signed, and a forged one of millions of tiny entries costs no
// more than its download (parsed, 12 MB of them took 600 MiB). A CRL from
// another issuer is errCRLNotForIssuer. checkCRL checks the rest.
func parseCRLFor(data []byte, cert, issuer *x509.Certificate) (*x509.RevocationList, error) {
	der := data
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "X509 CRL" {
			der = b.Bytes
			break
		}
	}
	//	CertificateList ::= SEQUENCE {
	//	     tbsCertList          TBSCertList,
	//	     signatureAlgorithm   AlgorithmIdentifier,
	//	     signatureValue       BIT STRING }
	//	TBSCertList ::= SEQUENCE {
	//	     version              Version OPTIONAL, -- if present, MUST be v2
	//	     signature            AlgorithmIdentifier,
	//	     issuer               Name,
	//	     thisUpdate           Time, ... }
	errMalformed := errors.New(`revocation: no CRL found (PEM "X509 CRL" or DER): malformed CRL`)
	in := cryptobyte.String(der)
	var list, tbs, algID, sigElem, body, version, tbsAlg, name, thisUpdate cryptobyte.String
	var sig asn1.BitString
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!list.ReadASN1Element(&algID, cbasn1.SEQUENCE) || !list.ReadASN1Element(&sigElem, cbasn1.BIT_STRING) || !list.Empty() {
		return nil, errMalformed
	}
	if s := sigElem; !s.ReadASN1BitString(&sig) {
		return nil, errMalformed
	}
	if s := tbs; !s.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, errMalformed
	}
	if body.PeekASN1Tag(cbasn1.INTEGER) && !body.ReadASN1Element(&version, cbasn1.INTEGER) {
		return nil, errMalformed
	}
	var tag cbasn1.Tag
	if !body.ReadASN1Element(&tbsAlg, cbasn1.SEQUENCE) || !body.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
		!body.ReadAnyASN1Element(&thisUpdate, &tag) {
		return nil, errMalformed
	}
	if !bytes.Equal(name, cert.RawIssuer) {
		var rdns pkix.RDNSequence
		if rest, err := asn1.Unmarshal(name, &rdns); err != nil || len(rest) > 0 {
			return nil, errMalformed
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdns)
		return nil, &notForIssuerError{name: n.String()}
	}
	// The same CRL without its entries and extensions, for crypto/x509 to
	// read the signature algorithm (with its parameters) as it would.
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(version)
			b.AddBytes(tbsAlg)
			b.AddBytes(name)
			b.AddBytes(thisUpdate)
		})
		b.AddBytes(algID)
		b.AddBytes(sigElem)
	})
	skeleton, err := b.Bytes()
	if err != nil {
		return nil, errMalformed
	}
	head, err := x509.ParseRevocationList(skeleton)
	if err != nil {
		return nil, fmt.Errorf("revocation: parsing CRL: %w", err)
	}
	// chain.CheckSignature: crypto/x509's algorithms and ML-DSA (RFC 9881).
	if err := chain.CheckSignature(issuer, head.SignatureAlgorithm, algID, tbs, sig.RightAlign()); err != nil {
		return nil, fmt.Errorf("the CRL's signature does not verify with the key of %s: %w", certinfo.Name(issuer.Subject), err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("revocation: parsing CRL: %w", err)
	}
	return crl, nil
}
