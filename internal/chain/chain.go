// Package chain builds and checks a certificate's path to a trusted root,
// the guide's Chapter 6 "Certificate Validation" steps: each certificate
// signed by the next, each valid at the evaluation time, each issuer a CA
// allowed to sign certificates, the chain ending at a root the user trusts,
// and extended key usage allowing e-mail protection along the way (the
// nesting Windows and Go's crypto/x509 apply).
//
// Why not x509.Certificate.Verify: mail outlives certificates, and mail
// signed in 2013 is checked against chains signed with SHA-1, which
// crypto/x509's Verify refuses outright. Here SHA-1 certificate signatures
// are accepted and reported (the caller warns), MD5 is refused. Name
// constraints are not evaluated (WARNING: a constrained intermediate is
// trusted for any name); no S/MIME CA in the guide's world uses them.
package chain

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// Options for [Build].
type Options struct {
	// Roots are the trust anchors.
	Roots []*x509.Certificate
	// Intermediates may be used to build the path.
	Intermediates []*x509.Certificate
	// Time is when every certificate must be valid.
	Time time.Time
}

// Reason classifies a chain failure.
type Reason int

const (
	// Untrusted: no path leads to a trusted root.
	Untrusted Reason = iota
	// Expired: a certificate's notAfter is before the time.
	Expired
	// NotYetValid: a certificate's notBefore is after the time.
	NotYetValid
	// NotAuthorized: an issuer is not a CA or may not sign certificates.
	NotAuthorized
	// BadSignature: a certificate's signature does not verify, or uses MD5.
	BadSignature
	// Usage: extended key usage does not allow e-mail protection.
	Usage
	// CriticalExtension: a certificate has a critical extension we do not know.
	CriticalExtension
)

var reasonNames = []string{"untrusted", "expired", "not-yet-valid", "not-authorized", "bad-signature", "usage", "critical-extension"}

func (r Reason) String() string { return reasonNames[r] }

// Error reports why no valid chain was found.
type Error struct {
	Reason Reason
	Cert   *x509.Certificate // the certificate at fault
	Detail string
}

func (e *Error) Error() string {
	return fmt.Sprintf("chain: %s: %s", e.Cert.Subject, e.Detail)
}

// Result is a valid chain, leaf first, root last.
type Result struct {
	Chain []*x509.Certificate
	// SHA1 is true if a certificate in the chain is signed with SHA-1.
	SHA1 bool
}

const maxChainLength = 8

// Build finds a valid chain from leaf to one of opts.Roots. When several
// paths fail it reports the most telling failure: one on a path that
// reaches a trusted root wins over "untrusted".
func Build(leaf *x509.Certificate, opts Options) (*Result, error) {
	b := &builder{opts: opts}
	if err := b.checkCert(leaf); err != nil {
		return nil, err
	}
	if err := checkLeafEKU(leaf); err != nil {
		return nil, err
	}
	if r := b.extend([]*x509.Certificate{leaf}); r != nil {
		return r, nil
	}
	if b.best != nil {
		return nil, b.best
	}
	return nil, b.untrusted
}

type builder struct {
	opts Options
	best *Error
	// untrusted names the end of the longest path that found no issuer.
	untrusted *Error
	depth     int
}

func (b *builder) fail(e *Error) {
	if b.best == nil || (b.best.Reason == Untrusted && e.Reason != Untrusted) {
		b.best = e
	}
}

// extend tries to complete path, whose last element is already checked.
func (b *builder) extend(path []*x509.Certificate) *Result {
	last := path[len(path)-1]
	if slices.ContainsFunc(b.opts.Roots, last.Equal) {
		return result(path)
	}
	// A self-signed certificate that is not trusted ends the path: it
	// cannot be issued by another root, even one of the same name.
	if len(path) > b.depth {
		b.depth = len(path)
		b.untrusted = &Error{Reason: Untrusted, Cert: last,
			Detail: fmt.Sprintf("issued by an untrusted source (%s)", last.Issuer)}
		if bytes.Equal(last.RawIssuer, last.RawSubject) {
			b.untrusted.Detail = "is a self-signed root that is not trusted"
		}
	}
	if len(path) >= maxChainLength || bytes.Equal(last.RawIssuer, last.RawSubject) {
		return nil
	}
	for _, pool := range [][]*x509.Certificate{b.opts.Roots, b.opts.Intermediates} {
		for _, issuer := range pool {
			if !bytes.Equal(issuer.RawSubject, last.RawIssuer) || slices.ContainsFunc(path, issuer.Equal) {
				continue
			}
			if len(last.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 &&
				!bytes.Equal(last.AuthorityKeyId, issuer.SubjectKeyId) {
				continue
			}
			if err := b.checkIssuer(last, issuer, len(path)); err != nil {
				b.fail(err)
				continue
			}
			if r := b.extend(append(slices.Clip(path), issuer)); r != nil {
				return r
			}
		}
	}
	return nil
}

func result(path []*x509.Certificate) *Result {
	r := &Result{Chain: path}
	for _, c := range path[:len(path)-1] { // a root's self-signature is not relied on
		if c.SignatureAlgorithm == x509.SHA1WithRSA || c.SignatureAlgorithm == x509.ECDSAWithSHA1 {
			r.SHA1 = true
		}
	}
	return r
}

// checkCert checks what every certificate in a chain must satisfy.
func (b *builder) checkCert(c *x509.Certificate) *Error {
	t := b.opts.Time
	if t.Before(c.NotBefore) {
		return &Error{Reason: NotYetValid, Cert: c, Detail: fmt.Sprintf("not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))}
	}
	if t.After(c.NotAfter) {
		return &Error{Reason: Expired, Cert: c, Detail: fmt.Sprintf("expired on %s", c.NotAfter.UTC().Format(time.RFC3339))}
	}
	if len(c.UnhandledCriticalExtensions) > 0 {
		return &Error{Reason: CriticalExtension, Cert: c, Detail: fmt.Sprintf("unknown critical extension %v", c.UnhandledCriticalExtensions[0])}
	}
	return nil
}

// checkIssuer checks that issuer, at the given depth above the leaf,
// signed child and may issue it.
func (b *builder) checkIssuer(child, issuer *x509.Certificate, depth int) *Error {
	if err := b.checkCert(issuer); err != nil {
		return err
	}
	if !issuer.BasicConstraintsValid || !issuer.IsCA {
		return &Error{Reason: NotAuthorized, Cert: issuer, Detail: "is not a certification authority"}
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
		return &Error{Reason: NotAuthorized, Cert: issuer, Detail: "may not sign certificates (key usage)"}
	}
	// depth-1 CA certificates lie between issuer and the leaf.
	if issuer.MaxPathLen >= 0 && depth-1 > issuer.MaxPathLen { // -1: no constraint
		return &Error{Reason: NotAuthorized, Cert: issuer, Detail: "path length constraint exceeded"}
	}
	// An extended key usage that lists only purposes crypto/x509 does not
	// name (UnknownExtKeyUsage, such as documentSigning) restricts too.
	if (len(issuer.ExtKeyUsage) > 0 || len(issuer.UnknownExtKeyUsage) > 0) &&
		!slices.Contains(issuer.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) &&
		!slices.Contains(issuer.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return &Error{Reason: Usage, Cert: issuer, Detail: "may not issue e-mail protection certificates (extended key usage)"}
	}
	if child.SignatureAlgorithm == x509.MD5WithRSA {
		return &Error{Reason: BadSignature, Cert: child, Detail: "is signed with MD5"}
	}
	// CheckSignature, unlike CheckSignatureFrom, still accepts SHA-1.
	if err := issuer.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature); err != nil {
		return &Error{Reason: BadSignature, Cert: child, Detail: fmt.Sprintf("signature by %s does not verify: %v", issuer.Subject, err)}
	}
	return nil
}

func checkLeafEKU(c *x509.Certificate) *Error {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	if slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil
	}
	return &Error{Reason: Usage, Cert: c, Detail: "extended key usage does not include emailProtection"}
}
