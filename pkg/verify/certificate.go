package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/keys"
)

// A certificate on its own (issue #11 item 7): the guide's Chapter 6
// "Certificate Validation" without a message around it, for Chapter 8's
// "why is this certificate not trusted?". [Certificate] runs the very
// checks [Verify] runs on a signer's certificate — the same chain
// building, intermediate fetching and revocation code, not a second
// pipeline — with the key usage checked for the purpose asked.

// Purpose is what [Certificate] checks a certificate for.
type Purpose int

const (
	// PurposeSign: key usage must allow signing (digitalSignature or
	// nonRepudiation), as for the signer of a message.
	PurposeSign Purpose = iota
	// PurposeEncrypt: key usage must allow encryption (keyEncipherment
	// for RSA, keyAgreement for EC), as for a recipient.
	PurposeEncrypt
	// PurposeAny: key usage is not checked. The chain is, with extended
	// key usage allowing e-mail protection on every certificate that has
	// one, as for the other purposes.
	PurposeAny
)

var purposeNames = []string{"sign", "encrypt", "any"}

func (p Purpose) String() string { return enumName(purposeNames, "Purpose", int(p)) }

// MarshalText gives the purpose's name, as UnmarshalText reads it.
func (p Purpose) MarshalText() ([]byte, error) { return marshalEnum(purposeNames, "purpose", int(p)) }

// UnmarshalText reads "sign", "encrypt" or "any" (the CLI's --purpose).
func (p *Purpose) UnmarshalText(b []byte) error {
	i, err := unmarshalEnum(purposeNames, b)
	if err == nil {
		*p = Purpose(i)
	}
	return err
}

// CertificateResult describes the check of one certificate by
// [Certificate]. Field names are stable: they are the --json output of
// smimectl cert-verify.
type CertificateResult struct {
	// At is the evaluation time.
	At time.Time `json:"at"`
	// Purpose is what the certificate was checked for.
	Purpose Purpose `json:"purpose"`
	// Valid is true only if every check passed.
	Valid bool `json:"valid"`
	// Certificate describes the certificate checked; nil (null) when none
	// could be read, in results callers make for such failures.
	Certificate *CertificateInfo `json:"certificate"`
	// Chain is the trusted chain found, leaf first, root last; empty when
	// none was found.
	Chain []CertificateInfo `json:"chain,omitempty"`
	// Checks are the checks run, in order, as in a Signer of [Result]:
	// "fetch-intermediates", "chain", "chain-signatures", "key-usage" and
	// "revocation" (one per certificate of the chain but the root).
	Checks   []Check  `json:"checks"`
	Warnings []string `json:"warnings,omitempty"`
	// Error is the failure, if any.
	Error string `json:"error,omitempty"`

	// Cert is the certificate checked, ChainCerts the chain of Chain.
	Cert       *x509.Certificate   `json:"-"`
	ChainCerts []*x509.Certificate `json:"-"`
}

// CertificateError reports a certificate that [Certificate] found not
// valid for its purpose. Err is the cause: a [*TrustError] (no chain to a
// trusted root, a certificate of the chain expired or not yet valid, key
// usage), a [*revocation.RevokedError], or a [*revocation.UnavailableError]
// (no revocation answer where one was required, a temporary failure).
type CertificateError struct {
	Cert    *x509.Certificate
	Purpose Purpose
	Err     error
}

func (e *CertificateError) Error() string {
	var te *TrustError
	if !errors.As(e.Err, &te) {
		// A revocation error names its package, which this one's name
		// stands for.
		return "verify: " + strings.TrimPrefix(detailOf(e.Err), "revocation: ")
	}
	return "verify: " + trustWhat(te.Reason, "the certificate", e.Purpose.use()) + ": " + chainText(te.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// use completes "the certificate may not be used ...".
func (p Purpose) use() string {
	switch p {
	case PurposeEncrypt:
		return "to encrypt mail"
	case PurposeAny:
		return "for e-mail protection"
	}
	return "to sign mail"
}

// Certificate checks cert on its own, as [Verify] checks a signer's
// certificate: a chain to one of opts.Roots valid at the evaluation time
// (opts.Now), built with opts.Intermediates and, if set,
// opts.FetchIssuers; the key usage for purpose; and, with
// opts.Revocation, that no certificate of the chain is revoked, within
// opts.NetworkTimeout. The other fields of opts are ignored.
//
// The CertificateResult lists every check, whatever the outcome. The
// error is nil only if every check passed; otherwise it is a
// [*CertificateError] saying why (it wraps a *revocation.UnavailableError
// when revocation could not be checked in hard mode: try again later).
func Certificate(ctx context.Context, cert *x509.Certificate, purpose Purpose, opts Options) (*CertificateResult, error) {
	if cert == nil {
		return nil, errors.New("verify: no certificate to check")
	}
	if _, err := purpose.MarshalText(); err != nil {
		return nil, err
	}
	at := opts.now()
	opts.Now = func() time.Time { return at } // one evaluation time for every check
	res := &Result{At: at.UTC()}
	v := &verifier{ctx: ctx, opts: &opts, msg: &message{sd: &cms.SignedData{}}, res: res, purpose: purpose, certificate: true}
	defer func() {
		if v.cancelNet != nil {
			v.cancelNet()
		}
	}()
	s := &Signer{}
	s.setCertificate(cert)
	err := v.checkCertificate(s, cert)

	cr := &CertificateResult{
		At: res.At, Purpose: purpose, Certificate: new(certificateInfo(cert)), Checks: s.Checks,
		Cert: cert, ChainCerts: s.Chain,
	}
	if cr.Checks == nil {
		cr.Checks = []Check{}
	}
	for _, c := range s.Chain {
		cr.Chain = append(cr.Chain, certificateInfo(c))
	}
	cr.Warnings = res.Warnings
	if err != nil {
		err = &CertificateError{Cert: cert, Purpose: purpose, Err: err}
		cr.Error = err.Error()
		return cr, err
	}
	cr.Valid = true
	return cr, nil
}

// checkKeyUsage checks cert's key usage for v.purpose: signing for the
// signers of a message.
func (v *verifier) checkKeyUsage(s *Signer, cert *x509.Certificate) error {
	var p certinfo.Purpose
	switch v.purpose {
	case PurposeAny:
		s.add(CheckKeyUsage, StatusSkipped, "not checked for purpose any (it allows "+certinfo.UsageString(cert.KeyUsage)+")")
		return nil
	case PurposeEncrypt:
		p = certinfo.Encryption
	default:
		p = certinfo.Signing
	}
	if err := certinfo.CheckUsage(cert, p); err != nil {
		te := &TrustError{Cert: cert, Reason: IncompatibleUsage, Err: err}
		detail := te.Error()
		if v.purpose != PurposeSign {
			detail = (&CertificateError{Cert: cert, Purpose: v.purpose, Err: te}).Error()
		}
		s.Checks = append(s.Checks, Check{Name: CheckKeyUsage, Status: StatusFail, Detail: trimPrefixes(detail), Reason: ReasonKeyUsage})
		return te
	}
	s.add(CheckKeyUsage, StatusPass, certinfo.UsageString(cert.KeyUsage))
	return nil
}

// certificateInfo describes c for the JSON output.
func certificateInfo(c *x509.Certificate) CertificateInfo {
	return CertificateInfo{
		Subject: certinfo.Name(c.Subject), Issuer: certinfo.Name(c.Issuer),
		Serial: strings.ToUpper(c.SerialNumber.Text(16)), Emails: certinfo.Addresses(c),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), KeyUsage: certinfo.UsageString(c.KeyUsage),
		FingerprintSHA256: Fingerprint(c),
	}
}

// Fingerprint is the SHA-256 digest of c's DER encoding in upper-case
// hexadecimal, as the --json output gives it.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Limits of [ReadCertificates]: a certificate file is a certificate with
// its chain, not a directory dump. A file past them is refused before its
// certificates are used.
const (
	// MaxCertificateFileSize is the most bytes ReadCertificates reads.
	MaxCertificateFileSize = 4 << 20
	// MaxFileCertificates is the most certificates it accepts, as many as
	// a message may carry.
	MaxFileCertificates = 1000
)

// ReadCertificates reads the certificates of a PEM or DER file from r:
// PEM CERTIFICATE blocks, a DER certificate, or a PKCS#7 certs-only bundle
// (.p7b, .p7c) in PEM or DER, in the file's order ([Leaf] picks the one to
// check). It reads at most [MaxCertificateFileSize] bytes and accepts at
// most [MaxFileCertificates] certificates; past them, when r holds no
// certificate or a malformed one, or when it is a signed message (a
// SignedData with signers, not a certs-only bundle), the error is a
// [*MalformedCertificateError].
func ReadCertificates(r io.Reader) ([]*x509.Certificate, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxCertificateFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxCertificateFileSize {
		return nil, &MalformedCertificateError{Err: fmt.Errorf("the file is larger than %d bytes", MaxCertificateFileSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &MalformedCertificateError{Err: errors.New("the file is empty")}
	}
	certs, err := keys.ParseCertificates(data)
	if err != nil {
		return nil, &MalformedCertificateError{Err: err}
	}
	if isSignedMessage(data) {
		return nil, &MalformedCertificateError{Err: ErrSignedMessage}
	}
	if len(certs) > MaxFileCertificates {
		return nil, &MalformedCertificateError{Err: fmt.Errorf("the file holds %d certificates, more than %d", len(certs), MaxFileCertificates)}
	}
	return certs, nil
}

// ErrSignedMessage is wrapped by the [*MalformedCertificateError] of
// [ReadCertificates] for a signed message: [Verify] checks those.
var ErrSignedMessage = errors.New("the file is a signed message (a SignedData with signers), not a certificate file")

// isSignedMessage reports whether data, or a PKCS7 or CMS block of it in
// PEM, is a SignedData with signers: a signed message or a detached
// signature (.p7s), not a certs-only bundle. Its certificates read as a
// bundle would make cert-verify pass on a file whose signature nothing
// checked.
func isSignedMessage(data []byte) bool {
	ders := [][]byte{data}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "PKCS7" || b.Type == "CMS" {
			ders = append(ders, b.Bytes)
		}
	}
	for _, der := range ders {
		if sd, err := cms.ReadSignedData(bytes.NewReader(der), io.Discard); err == nil && len(sd.SignerInfos) > 0 {
			return true
		}
	}
	return false
}

// MalformedCertificateError reports a certificate file that can't be
// read as certificates: not PEM nor DER, a malformed certificate, no
// certificate at all, or past the limits of [ReadCertificates].
type MalformedCertificateError struct{ Err error }

func (e *MalformedCertificateError) Error() string {
	return "verify: not a certificate file: " + e.Err.Error()
}
func (e *MalformedCertificateError) Unwrap() error { return e.Err }

// Leaf picks the certificate to check among the certificates of one file
// and returns the others, in the file's order, as intermediates for
// [Certificate]: the leaf is the one certificate that issued none of the
// others (by name), so a certificate with its chain is checked whatever
// the order — leaf first as in a "fullchain" PEM file, or in the sorted
// order of a DER PKCS#7 bundle. A single certificate is its own leaf, even
// a CA's; a certificate given twice counts once. When no certificate or
// more than one issued none of the others (two users' certificates, or
// certificates that issued one another in a loop), or when another
// certificate is not a CA certificate of the leaf's chain, the file is
// ambiguous and the error is an [*AmbiguousCertificateError]: whichever one were
// checked, the verdict could be about another certificate than the caller
// meant.
func Leaf(certs []*x509.Certificate) (*x509.Certificate, []*x509.Certificate, error) {
	var uniq []*x509.Certificate
	for _, c := range certs {
		if !slices.ContainsFunc(uniq, c.Equal) {
			uniq = append(uniq, c)
		}
	}
	if len(uniq) == 0 {
		return nil, nil, &MalformedCertificateError{Err: errors.New("no certificate")}
	}
	if len(uniq) == 1 {
		return uniq[0], nil, nil
	}
	// issuers holds the raw subjects that issued another certificate of the file.
	issuers := make(map[string]bool, len(uniq))
	for _, c := range uniq {
		if !bytes.Equal(c.RawIssuer, c.RawSubject) {
			issuers[string(c.RawIssuer)] = true
		}
	}
	var leaves []*x509.Certificate
	for _, c := range uniq {
		if !issuers[string(c.RawSubject)] {
			leaves = append(leaves, c)
		}
	}
	if len(leaves) != 1 {
		return nil, nil, &AmbiguousCertificateError{Count: len(uniq), Leaves: leaves}
	}
	rest := slices.DeleteFunc(slices.Clone(uniq), leaves[0].Equal)
	if stray := strayCertificate(leaves[0], rest); stray != nil {
		return nil, nil, &AmbiguousCertificateError{Count: len(uniq), Leaves: leaves, Stray: stray}
	}
	return leaves[0], rest, nil
}

// strayCertificate returns a certificate of rest that can't be part of
// leaf's chain, nil if there is none. Each must be a CA certificate whose
// subject is an issuer on leaf's path by name (leaf's issuer, that one's
// issuer, and so on). Otherwise the file is not a certificate with its
// chain, and the heuristic of Leaf can be steered: certificates that name
// one another as issuer, or an end-entity certificate named as leaf's
// issuer, put beside someone else's valid certificate, would have that
// one checked while the file's own certificate (the first, which a mail
// client imports and openssl verify checks) never is. A certificate that
// is not a CA can't be an intermediate anyway.
func strayCertificate(leaf *x509.Certificate, rest []*x509.Certificate) *x509.Certificate {
	path := map[string]bool{string(leaf.RawIssuer): true}
	for grew := true; grew; { // at most len(rest) rounds
		grew = false
		for _, c := range rest {
			if path[string(c.RawSubject)] && !path[string(c.RawIssuer)] {
				path[string(c.RawIssuer)], grew = true, true
			}
		}
	}
	for _, c := range rest {
		if !path[string(c.RawSubject)] || !c.BasicConstraintsValid || !c.IsCA {
			return c
		}
	}
	return nil
}

// AmbiguousCertificateError reports a certificate file in which [Leaf]
// finds no single certificate to check: Leaves are those that issued none
// of the others (none when they issued one another in a loop) among Count
// certificates.
type AmbiguousCertificateError struct {
	Count  int
	Leaves []*x509.Certificate
	// Stray, if not nil, is a certificate of the file that is no CA
	// certificate of the chain of the one leaf (Leaves[0]).
	Stray *x509.Certificate
}

func (e *AmbiguousCertificateError) Error() string {
	if e.Stray != nil {
		what := "is not a certification authority"
		if e.Stray.BasicConstraintsValid && e.Stray.IsCA {
			what = "is not an issuer of its chain"
		}
		return fmt.Sprintf("verify: ambiguous certificate file: of its %d certificates, %q issued none of the others, but %q %s, so which one to check is not clear",
			e.Count, certinfo.Name(e.Leaves[0].Subject), certinfo.Name(e.Stray.Subject), what)
	}
	if len(e.Leaves) == 0 {
		return fmt.Sprintf("verify: ambiguous certificate file: each of its %d certificates issued another one, so none is the certificate to check", e.Count)
	}
	names := make([]string, 0, 3)
	for _, c := range e.Leaves[:min(len(e.Leaves), 3)] {
		names = append(names, strconv.Quote(certinfo.Name(c.Subject)))
	}
	more := ""
	if len(e.Leaves) > 3 {
		more = fmt.Sprintf(" and %d more", len(e.Leaves)-3)
	}
	return fmt.Sprintf("verify: ambiguous certificate file: %d of its %d certificates issued none of the others (%s%s), so which one to check is not clear",
		len(e.Leaves), e.Count, strings.Join(names, ", "), more)
}
