// Package certsel picks the certificate a client uses for a mail address, as
// the Exchange Server 2003 Message Security Guide's Chapter 6 "Certificate
// Searching with Outlook Web Access with the S/MIME Control", "Obtaining
// Digital Certificates for Public Keys" / "… for User's Private Keys" and
// Appendix B (CertMatchingDoNotUseProxies, SmartCardOnly) describe.
//
// [Select] asks every [Source] (certificate files and directories, PKCS#12
// files, an LDAP directory) for candidates, applies the rules below in the
// guide's order, and returns the chosen certificate, its private key when the
// source has one, and every candidate with the [Rule] that kept or rejected
// it. When nothing qualifies it returns a [*NoMatchError] holding the same
// list, which is what `smimectl cert-match --explain` prints.
//
// # Rules
//
//  1. Address: the subject's emailAddress, then a subjectAltName rfc822Name,
//     then the proxy addresses (aliases) a directory lists for the entry,
//     unless [Options.NoProxies]. Domains compare case-insensitively, local
//     parts exactly (RFC 8398: UTF-8 local parts are not case-folded).
//  2. Purpose: key usage (digitalSignature or nonRepudiation to sign,
//     keyEncipherment or keyAgreement to encrypt) and, if present, extended
//     key usage including emailProtection (RFC 8550 section 4.4).
//  3. Private key and the smart-card-only policy, when [Options.RequireKey].
//  4. Validity at [Options.Now].
//  5. Chain to [Options.Roots] and revocation through [Options.Revocation].
//
// Among the candidates that pass, one from a directory's user entry wins
// over one from a contact entry (contacts after users), then a certificate
// whose key usage serves only the purpose over a multi-usage one, then the
// earlier source rank (the directory attribute order), then the latest notBefore, the longest
// remaining validity, and the lowest serial number and SHA-256 fingerprint,
// so the choice never depends on map or network order.
//
// # Limits
//
// Addresses follow RFC 8398, by the rules pkg/sign and pkg/verify share:
// SmtpUTF8Mailbox subjectAltNames are read, local parts compare exactly, and a domain's
// A-label (xn--…) and U-label forms match. The LDAP search sends the
// address as given. With SmartCardOnly only keys from a [PKCS11] source (a
// smart card) qualify.
package certsel

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// Found is one certificate a [Source] offers for an address.
type Found struct {
	// Cert is the candidate certificate.
	Cert *x509.Certificate
	// Chain holds other certificates that came with it (a PKCS#7 bundle's or
	// a PKCS#12 file's), used as intermediates.
	Chain []*x509.Certificate
	// Key is the private key of Cert, or nil if the source has none.
	Key crypto.Signer
	// Hardware is true if Key lives in a hardware token (smart card).
	Hardware bool
	// Origin says where Cert came from, for reports ("alice.p12",
	// "ldap://…/cn=Alice,… userCertificate;binary").
	Origin string
	// Rank orders candidates of equal usage from one source: lower wins.
	// The LDAP source ranks the attribute it reads first 0, the other 1.
	Rank int
	// Aliases are the addresses a directory entry lists for the holder of
	// Cert (mail and its proxy addresses); nil for files.
	Aliases []string
	// Contact is true if Cert came from a directory's contact entry (a copy
	// of someone else's certificate) rather than a user's own entry; a
	// user's certificate is preferred.
	Contact bool
}

// Source finds candidate certificates for an address. A source may return
// certificates for other addresses too; [Select] applies the rules.
type Source interface {
	// Find returns the candidates for address. An error means the source
	// could not be asked (a missing file, a directory that is down).
	Find(ctx context.Context, address string) ([]Found, error)
	// String names the source for reports.
	String() string
}

// Options configure [Select]. The zero value trusts no certificate: give
// Roots, or set SkipTrust to select without checking trust.
type Options struct {
	// Sources are asked in order; a failing source fails the selection.
	Sources []Source
	// Now is the evaluation time. If nil, it is time.Now.
	Now func() time.Time
	// Roots are the trust anchors. If empty, no certificate is trusted
	// (unless SkipTrust).
	Roots []*x509.Certificate
	// SkipTrust selects without building chains: trust is not checked
	// (and, lacking an issuer, neither is revocation), and candidates
	// record that. For looking a certificate up, as `cert-match` without
	// --trust does; never for deciding that a certificate is trustworthy.
	SkipTrust bool
	// Intermediates help build chains, besides those sources supply.
	Intermediates []*x509.Certificate
	// Revocation checks the chosen chain's leaf. If nil, revocation is not
	// checked; candidates record the check as skipped.
	Revocation revocation.Checker
	// NoProxies disables matching through directory aliases (the guide's
	// CertMatchingDoNotUseProxies).
	NoProxies bool
	// RequireKey admits only candidates with a private key (choosing one's
	// own signing identity). If false, keys are returned when present.
	RequireKey bool
	// SmartCardOnly, with RequireKey, admits private keys only from
	// hardware tokens (the guide's SmartCardOnly policy).
	SmartCardOnly bool
}

// Candidate is one certificate considered, with its verdict.
type Candidate struct {
	Found
	// Verdict is Selected, Outranked or Rejected.
	Verdict Verdict
	// Rule is the rule that decided the verdict (Passed for the selected).
	Rule Rule
	// Detail explains the rule's finding in one line.
	Detail string
	// Match says how the address matched: "subject", "subjectAltName",
	// "proxy", or "" when it did not.
	Match string
	// Path is the chain built for the certificate, leaf first, if trust
	// was checked and succeeded.
	Path []*x509.Certificate
	// Revocation is the revocation answer, if one was asked for.
	Revocation *revocation.Outcome
}

// Selection is the result of [Select].
type Selection struct {
	// Certificate is the chosen certificate.
	Certificate *x509.Certificate
	// Key is its private key, or nil if the source had none.
	Key crypto.Signer
	// Chain holds the certificates to send with it: the built path without
	// the leaf when trust was checked, else what came with the certificate.
	Chain []*x509.Certificate
	// Origin says where the certificate came from.
	Origin string
	// Candidates are every certificate considered, in source order, the
	// selected one included.
	Candidates []Candidate
}

// SameAddress reports whether a and b are the same mail address by the
// rules selection matches addresses with: domains compare
// case-insensitively and in A-label or U-label form, local parts exactly
// (RFC 8398).
func SameAddress(a, b string) bool { return certinfo.SameAddress(a, b) }

// Decided returns the rule that chose the selected certificate over the
// other usable candidates, and its detail: of the outranked candidates'
// rules (MultiUsage, SourceOrder, TieBreak), the one that came last in the
// order of preference, so the one that settled the closest contest; or
// Passed with "the only usable candidate" when no other candidate passed
// every rule.
func (s *Selection) Decided() (Rule, string) {
	rule, detail := Passed, "the only usable candidate"
	for _, c := range s.Candidates {
		if c.Verdict == Outranked && (rule == Passed || c.Rule > rule) {
			rule, detail = c.Rule, c.Detail
		}
	}
	return rule, detail
}

// NoMatchError reports that no certificate qualifies for the address and
// purpose. Candidates carry each one's rejecting rule.
type NoMatchError struct {
	Address    string
	Purpose    Purpose
	Candidates []Candidate
}

func (e *NoMatchError) Error() string {
	what := "encryption certificate"
	if e.Purpose == PurposeSign {
		what = "signing certificate"
	}
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("certsel: no %s found for %s", what, e.Address)
	}
	return fmt.Sprintf("certsel: no usable %s for %s (%s)", what, e.Address, e.Summary())
}

// Summary counts the candidates by rejecting rule: "2 candidates rejected:
// 1 expired, 1 address".
func (e *NoMatchError) Summary() string {
	rules := map[Rule]int{}
	var order []Rule
	for _, c := range e.Candidates {
		if rules[c.Rule] == 0 {
			order = append(order, c.Rule)
		}
		rules[c.Rule]++
	}
	parts := make([]string, 0, len(order))
	for _, r := range order {
		parts = append(parts, fmt.Sprintf("%d %s", rules[r], r))
	}
	noun := "candidates"
	if len(e.Candidates) == 1 {
		noun = "candidate"
	}
	return fmt.Sprintf("%d %s rejected: %s", len(e.Candidates), noun, strings.Join(parts, ", "))
}

// Temporary reports whether a retry may succeed: a candidate was rejected
// only because no revocation answer could be had.
func (e *NoMatchError) Temporary() bool {
	return slices.ContainsFunc(e.Candidates, func(c Candidate) bool { return c.Rule == RevocationUnavailable })
}

// SourceError reports a source that could not be asked.
type SourceError struct {
	Source string
	Err    error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("certsel: searching %s: %v", e.Source, e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

// Temporary reports whether the source's failure is worth retrying (a
// directory that is down or slow), as opposed to a local setup error.
func (e *SourceError) Temporary() bool {
	var t interface{ Temporary() bool }
	return errors.As(e.Err, &t) && t.Temporary() || errors.Is(e.Err, context.DeadlineExceeded)
}

// Select asks opts.Sources for certificates for address and returns the one
// to use for purpose under the package's rules, or a *NoMatchError naming
// every candidate's rejecting rule, or a *SourceError when a source fails.
func Select(ctx context.Context, address string, purpose Purpose, opts Options) (*Selection, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	at := now()
	var cands []Candidate
	inter := slices.Clone(opts.Intermediates)
	// keyLevel records, per certificate seen, the best private key a copy
	// came with: none, in a file, on a smart card. When a key is required,
	// a copy with a better key is not a duplicate of an earlier one (a
	// directory entry, then the user's own .p12; a file, then the same
	// certificate on a smart card): the earlier one is rejected by the rule
	// it fails (no key, smart-card-only) or loses to it.
	keyLevel := map[[32]byte]int{}
	for _, src := range opts.Sources {
		found, err := src.Find(ctx, address)
		if err != nil {
			return nil, &SourceError{Source: src.String(), Err: err}
		}
		for _, f := range found {
			inter = append(inter, f.Chain...)
			c := Candidate{Found: f}
			sum := sha256.Sum256(f.Cert.Raw)
			level := 0
			if f.Key != nil {
				level = 1
				if f.Hardware {
					level = 2
				}
			}
			if had, dup := keyLevel[sum]; dup && (had >= level || !opts.RequireKey) {
				c.Rule, c.Detail = Duplicate, "the same certificate was found earlier"
			}
			keyLevel[sum] = max(keyLevel[sum], level)
			cands = append(cands, c)
		}
	}
	s := &selector{ctx: ctx, address: address, purpose: purpose, opts: opts, at: at, inter: inter}
	var ok []int
	for i := range cands {
		c := &cands[i]
		if c.Rule == Duplicate {
			continue
		}
		if s.check(c) {
			ok = append(ok, i)
		}
	}
	if len(ok) == 0 {
		return nil, &NoMatchError{Address: address, Purpose: purpose, Candidates: cands}
	}
	slices.SortStableFunc(ok, func(a, b int) int { return s.compare(&cands[a], &cands[b]).cmp })
	best := &cands[ok[0]]
	best.Verdict, best.Rule = Selected, Passed
	if best.Detail == "" {
		best.Detail = "passed every rule"
	}
	for _, i := range ok[1:] {
		d := s.compare(best, &cands[i])
		cands[i].Verdict, cands[i].Rule, cands[i].Detail = Outranked, d.rule, d.detail
	}
	sel := &Selection{Certificate: best.Cert, Key: best.Key, Origin: best.Origin, Candidates: cands}
	if len(best.Path) > 1 {
		sel.Chain = slices.Clone(best.Path[1:])
	} else {
		sel.Chain = slices.Clone(best.Found.Chain)
	}
	return sel, nil
}

type selector struct {
	ctx     context.Context
	address string
	purpose Purpose
	opts    Options
	at      time.Time
	inter   []*x509.Certificate
}

// check applies the rules in order, recording the first that rejects c.
func (s *selector) check(c *Candidate) bool {
	reject := func(r Rule, format string, args ...any) bool {
		c.Verdict, c.Rule, c.Detail = Rejected, r, fmt.Sprintf(format, args...)
		return false
	}
	cert := c.Cert
	switch m := certinfo.MatchAddress(cert, s.address); {
	case m != certinfo.NoAddressMatch:
		c.Match = m.String()
	case s.viaAlias(c):
		if s.opts.NoProxies {
			return reject(NoProxies, "%s is a proxy address of %s; proxies are disabled",
				s.address, strings.Join(certinfo.Addresses(cert), ", "))
		}
		c.Match = "proxy"
	default:
		have := strings.Join(certinfo.Addresses(cert), ", ")
		if have == "" {
			have = "no address"
		}
		return reject(Address, "carries %s", have)
	}
	if err := certinfo.CheckUsage(cert, s.purpose.usage()); err != nil {
		if errors.Is(err, certinfo.ErrExtKeyUsage) {
			return reject(ExtKeyUsage, "extended key usage does not include emailProtection")
		}
		return reject(KeyUsage, "key usage %s does not allow %s", Usage(cert.KeyUsage), s.purpose)
	}
	if s.opts.RequireKey {
		if c.Key == nil {
			return reject(PrivateKey, "%s holds no private key for it", c.Origin)
		}
		if s.opts.SmartCardOnly && !c.Hardware {
			return reject(SmartCardOnly, "the private key is in %s, not on a smart card, and the policy is smart-card-only", c.Origin)
		}
	}
	if s.at.Before(cert.NotBefore) {
		return reject(NotYetValid, "valid from %s", day(cert.NotBefore))
	}
	if s.at.After(cert.NotAfter) {
		return reject(Expired, "expired %s", day(cert.NotAfter))
	}
	if s.opts.SkipTrust {
		c.Detail = "trust not checked (no roots)"
		return true
	}
	if len(s.opts.Roots) == 0 {
		return reject(Untrusted, "issued by an untrusted source (%s): no trust anchors were given", certinfo.Name(cert.Issuer))
	}
	res, err := chain.Build(cert, chain.Options{Roots: s.opts.Roots, Intermediates: s.inter, Time: s.at})
	if err != nil {
		var ce *chain.Error
		if errors.As(err, &ce) && ce.Reason != chain.Untrusted {
			return reject(Chain, "%s: %s", ce.Reason, ce.Detail)
		}
		return reject(Untrusted, "issued by an untrusted source (%s)", certinfo.Name(cert.Issuer))
	}
	c.Path = res.Chain
	if s.opts.Revocation == nil || len(res.Chain) < 2 {
		c.Detail = "revocation not checked"
		return true
	}
	out, err := s.opts.Revocation.Check(s.ctx, cert, res.Chain[1], s.at)
	c.Revocation = &out
	var re *revocation.RevokedError
	switch {
	case errors.As(err, &re):
		return reject(Revoked, "revoked %s, reason %s", day(re.At), revocation.ReasonString(re.Reason))
	case err != nil:
		return reject(RevocationUnavailable, "%v", err)
	}
	c.Detail = "revocation " + out.Status.String()
	return true
}

// viaAlias reports whether the directory entry c came from lists address
// as one of its addresses and c's certificate carries another of them.
func (s *selector) viaAlias(c *Candidate) bool {
	same := func(a string) func(string) bool { return func(b string) bool { return certinfo.SameAddress(a, b) } }
	if !slices.ContainsFunc(c.Aliases, same(s.address)) {
		return false
	}
	return slices.ContainsFunc(c.Aliases, func(a string) bool { return certinfo.HasAddress(c.Cert, a) })
}

type decision struct {
	cmp    int
	rule   Rule
	detail string
}

// compare orders two usable candidates, preferred first, and names the rule
// that decides between them.
func (s *selector) compare(a, b *Candidate) decision {
	// The guide (Ch. 6 "Obtaining Digital Certificates for User's Private
	// Keys"): hardware-based certificates, smart cards included, are always
	// used if one is located.
	if s.opts.RequireKey && a.Hardware != b.Hardware {
		if a.Hardware {
			return decision{-1, SourceOrder, "a certificate with its key on a smart card (" + a.Origin + ") is preferred"}
		}
		return decision{1, SourceOrder, ""}
	}
	// Contacts after users: a contact entry holds someone's copy of another
	// person's certificate, the user's own entry the certificate they chose.
	if a.Contact != b.Contact {
		if b.Contact {
			return decision{-1, SourceOrder, "a user's certificate (" + a.Origin + ") is preferred over a contact's"}
		}
		return decision{1, SourceOrder, ""}
	}
	if sa, sb := certinfo.SingleUsage(a.Cert, s.purpose.usage()), certinfo.SingleUsage(b.Cert, s.purpose.usage()); sa != sb {
		if sa {
			return decision{-1, MultiUsage, fmt.Sprintf("a %s-only certificate is preferred", s.purpose)}
		}
		return decision{1, MultiUsage, ""}
	}
	if a.Rank != b.Rank {
		return decision{cmpInt(a.Rank, b.Rank), SourceOrder, "the certificate from " + a.Origin + " is read first"}
	}
	tie := func(c int, why string) decision { return decision{c, TieBreak, why} }
	if c := b.Cert.NotBefore.Compare(a.Cert.NotBefore); c != 0 {
		return tie(c, "a newer certificate (notBefore "+day(a.Cert.NotBefore)+") is preferred")
	}
	if c := b.Cert.NotAfter.Compare(a.Cert.NotAfter); c != 0 {
		return tie(c, "a certificate valid longer (to "+day(a.Cert.NotAfter)+") is preferred")
	}
	if c := a.Cert.SerialNumber.Cmp(b.Cert.SerialNumber); c != 0 {
		return tie(c, fmt.Sprintf("equal dates; the lower serial number %X is preferred", a.Cert.SerialNumber))
	}
	fa, fb := sha256.Sum256(a.Cert.Raw), sha256.Sum256(b.Cert.Raw)
	return tie(bytes.Compare(fa[:], fb[:]), "equal dates and serial; the lower SHA-256 fingerprint is preferred")
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func day(t time.Time) string { return t.UTC().Format(time.RFC3339) }
