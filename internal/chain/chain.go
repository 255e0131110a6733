// Package chain builds and checks a certificate's path to a trusted root,
// the guide's Chapter 6 "Certificate Validation" steps: each certificate
// signed by the next, each valid at the evaluation time, each issuer a CA
// allowed to sign certificates, the chain ending at a root the user trusts,
// and extended key usage allowing e-mail protection along the way (the
// nesting Windows and Go's crypto/x509 apply). Certificate policies are
// processed as RFC 5280 6.1 does, with RFC 9618's policy graph (policy.go).
//
// Why not x509.Certificate.Verify: mail outlives certificates, and mail
// signed in 2013 is checked against chains signed with SHA-1, which
// crypto/x509's Verify refuses outright. Here SHA-1 certificate signatures
// are accepted and reported (the caller warns), MD5 is refused.
//
// # Name constraints
//
// The name constraints of every CA certificate on the path, trusted root
// included, bind every certificate below it (RFC 5280 6.1.3 (b) and (c),
// 6.1.4 (g)); a self-issued intermediate is exempt. Checked forms:
//
//   - rfc822Name, as a mailbox, a host or a ".domain", against every mail
//     address a sender may be matched against: subject emailAddress
//     attributes (with or without a subjectAltName; RFC 5280 asks for them
//     only without one), subjectAltName rfc822Names and RFC 9598
//     SmtpUTF8Mailbox otherNames (domain compared in A-labels);
//   - dNSName; URI, by host; iPAddress;
//   - directoryName, against the subject and subjectAltName directoryNames
//     (RDN prefix, strings compared without case and with white space
//     folded, RFC 5280 7.1).
//
// Where RFC 5280 and crypto/x509 read a host-form rfc822Name or URI
// constraint differently, the stricter reading wins: permitted
// "example.com" allows that host only (RFC 5280), excluded "example.com"
// excludes its subdomains too (crypto/x509); an excluded mailbox matches
// whatever the case of its local part. A critical nameConstraints extension
// with a form not checked here (x400Address, ediPartyName, registeredID,
// otherName, a minimum or maximum distance) fails the path, and so does an
// SmtpUTF8Mailbox constraint, critical or not: RFC 9598 section 6 forbids
// that form, and OpenSSL refuses it too.
//
// # Cost
//
// Certificates in a message are chosen by its sender. [Build] memoises
// signature results in a [Cache], tries at most 8 untrusted issuers per
// certificate, skips an issuer whose name and key are already on the path,
// and gives up with [TooComplex] after 100 new signature checks or 1,000
// candidate issuers per call (1,000 signature checks for all calls sharing
// a Cache) or 250,000 name constraint comparisons.
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
	// Cache, if not nil, carries signature results and the signature
	// budget across the Build calls of one verification (see [Cache]);
	// nil is a fresh Cache for this call.
	Cache *Cache
	// Memo, if not nil, remembers the certificate signatures found valid
	// across the verifications of a batch (see [SignatureMemo]); nil
	// remembers nothing beyond Cache.
	Memo *SignatureMemo
	// Policy holds the certificate policy inputs; the zero value is crypto/x509's.
	Policy PolicyOptions
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
	// NameConstraint: a certificate has a name outside the name
	// constraints of a CA above it, or a CA's critical name constraints
	// cannot be checked.
	NameConstraint
	// TooComplex: the certificates given form too many candidate chains
	// to examine within the cost bounds (see the package documentation).
	TooComplex
	// Policy: the path breaks its certificate policy rules (RFC 5280 6.1).
	Policy
)

var reasonNames = []string{"untrusted", "expired", "not-yet-valid", "not-authorized", "bad-signature", "usage", "critical-extension",
	"name-constraint", "too-complex", "policy"}

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
//
// When the certificates form more candidate paths than the cost bounds
// allow (see the package documentation), the error's Reason is
// [TooComplex].
func Build(leaf *x509.Certificate, opts Options) (*Result, error) {
	b := &builder{opts: opts, leaf: leaf, cache: opts.Cache}
	if b.cache == nil {
		b.cache = new(Cache)
	}
	if err := b.checkCert(leaf); err != nil {
		return nil, err
	}
	if err := checkLeafEKU(leaf); err != nil {
		return nil, err
	}
	b.index()
	if r := b.extend([]*x509.Certificate{leaf}); r != nil {
		return r, nil
	}
	if b.exhausted != nil {
		return nil, b.exhausted
	}
	if b.best != nil {
		return nil, b.best
	}
	return nil, b.untrusted
}

type builder struct {
	opts  Options
	leaf  *x509.Certificate
	cache *Cache
	best  *Error
	// untrusted names the end of the longest path that found no issuer.
	untrusted *Error
	depth     int
	// roots holds the Raw bytes of opts.Roots; bySubject the roots and
	// then the intermediates by RawSubject, without duplicates.
	roots     map[string]bool
	bySubject map[string][]candidate
	// Spent budgets (see cache.go); exhausted is set once one runs out.
	sigChecks, candidates, comparisons int
	exhausted                          *Error
	policyIn                           int // policies and mappings processed (policy.go)
}

type candidate struct {
	cert *x509.Certificate
	root bool
}

// index files opts.Roots and opts.Intermediates by subject, dropping
// copies of a certificate (a message and the caller may both give it).
func (b *builder) index() {
	b.roots = make(map[string]bool, len(b.opts.Roots))
	b.bySubject = map[string][]candidate{}
	seen := map[string]bool{}
	for i, pool := range [][]*x509.Certificate{b.opts.Roots, b.opts.Intermediates} {
		for _, c := range pool {
			if seen[string(c.Raw)] {
				continue
			}
			seen[string(c.Raw)] = true
			if i == 0 {
				b.roots[string(c.Raw)] = true
			}
			b.bySubject[string(c.RawSubject)] = append(b.bySubject[string(c.RawSubject)], candidate{c, i == 0})
		}
	}
}

// issuers returns the candidate issuers of last, the top of path: every
// root of that name, then at most maxIssuersPerName intermediates, those
// whose subject key identifier is last's authority key identifier first.
// A certificate whose key identifier differs, or whose name and key are
// those of an issuer already on the path (a loop, perhaps through a
// reissued certificate: the same certificate is always usable where the
// loop began), is no candidate; nor is one with the name, key and
// subjectAltName of the certificate being verified (crypto/x509's
// alreadyInChain), which a CA certificate of its name and key but other
// subjectAltNames may issue.
func (b *builder) issuers(path []*x509.Certificate) []*x509.Certificate {
	last := path[len(path)-1]
	var roots, matched, other []*x509.Certificate
	for _, c := range b.bySubject[string(last.RawIssuer)] {
		issuer := c.cert
		if len(last.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 &&
			!bytes.Equal(last.AuthorityKeyId, issuer.SubjectKeyId) {
			continue
		}
		sameKey := func(p *x509.Certificate) bool {
			return bytes.Equal(p.RawSubject, issuer.RawSubject) && bytes.Equal(p.RawSubjectPublicKeyInfo, issuer.RawSubjectPublicKeyInfo)
		}
		if sameKey(path[0]) && bytes.Equal(sanValue(path[0]), sanValue(issuer)) || slices.ContainsFunc(path[1:], sameKey) {
			continue
		}
		switch {
		case c.root:
			roots = append(roots, issuer)
		case len(last.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0:
			matched = append(matched, issuer)
		default:
			other = append(other, issuer)
		}
	}
	inter := append(matched, other...)
	if len(inter) > maxIssuersPerName {
		inter = inter[:maxIssuersPerName]
	}
	return append(roots, inter...)
}

func (b *builder) fail(e *Error) {
	if b.best == nil || (b.best.Reason == Untrusted && e.Reason != Untrusted) {
		b.best = e
	}
}

// extend tries to complete path, whose last element is already checked.
func (b *builder) extend(path []*x509.Certificate) *Result {
	last := path[len(path)-1]
	if b.roots[string(last.Raw)] {
		if err := b.checkPolicies(path); err != nil {
			b.fail(err) // another path may satisfy the policies
			return nil
		}
		return result(path)
	}
	// A self-signed certificate that is not trusted ends the path: it
	// cannot be issued by another root, even one of the same name. A
	// self-issued one signed by another key (a CA's new key certified by
	// its old one, RFC 5280 section 6.1) goes on.
	selfSigned := bytes.Equal(last.RawIssuer, last.RawSubject) && b.checkSignature(last, last) == nil
	if len(path) > b.depth {
		b.depth = len(path)
		b.untrusted = &Error{Reason: Untrusted, Cert: last,
			Detail: fmt.Sprintf("issued by an untrusted source (%s)", last.Issuer)}
		if selfSigned {
			b.untrusted.Detail = "is a self-signed root that is not trusted"
		}
	}
	if len(path) >= maxChainLength || selfSigned || b.exhausted != nil {
		return nil
	}
	for _, issuer := range b.issuers(path) {
		if b.candidates++; b.candidates > maxCandidates {
			b.exhaust(fmt.Sprintf("has too many candidate chains among the certificates given (path building gave up after examining %d candidate issuers)", maxCandidates))
		}
		if b.exhausted != nil {
			return nil
		}
		if err := b.checkIssuer(last, issuer, len(path)); err != nil {
			if b.exhausted == nil {
				b.fail(err)
			}
			continue
		}
		next := append(slices.Clip(path), issuer)
		if err := b.checkNames(next); err != nil {
			b.fail(err)
			continue
		}
		if r := b.extend(next); r != nil {
			return r
		}
	}
	return nil
}

// ValidAt reports whether every certificate of the chain is within its
// validity period at t. The other checks do not depend on the time, so a
// chain valid at t is what [Build] would accept at t.
func (r *Result) ValidAt(t time.Time) bool {
	for _, c := range r.Chain {
		if t.Before(c.NotBefore) || t.After(c.NotAfter) {
			return false
		}
	}
	return true
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
	if oid := unhandledCritical(c); oid != nil {
		return &Error{Reason: CriticalExtension, Cert: c, Detail: fmt.Sprintf("unknown critical extension %v", oid)}
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
	return b.checkSignature(child, issuer)
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
