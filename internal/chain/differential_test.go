package chain

// Differential check of Build against crypto/x509 (issue #11 item 6): for
// every certificate set that uses no SHA-1 signature, Build succeeds exactly
// when x509.Certificate.Verify does (Roots, Intermediates, CurrentTime,
// KeyUsages emailProtection), and a chain Build returns is one Verify accepts.
//
// Known, deliberate differences are kept out of the comparison by
// construction, or applied as extra checks on the chains Verify accepts
// (which can only turn its "valid" into "invalid"), each as narrowly as
// possible. Nothing else is excused.
//
//  1. SHA-1 and MD5: every certificate is signed with ECDSA P-256 and SHA-256.
//     Build accepts SHA-1 (mail signed years ago), Verify refuses it.
//  2. Work bounds: sets hold at most maxChainLength (8) certificates, so no
//     path is longer than Build's limit; a set on which crypto/x509 would
//     spend more than its 100 signature checks (goSearchCost) is skipped and
//     counted, because Verify then answers from a partial search.
//  3. Key identifiers: a subjectKeyIdentifier is derived from the key, so an
//     authorityKeyIdentifier never names another key than its signer's.
//     Build skips a same-name candidate whose SKID differs from the child's
//     AKID (as OpenSSL does); Verify only uses identifiers to order candidates.
//  4. Checks Build makes and Verify does not (RFC 5280 6.1.4 (k), (n)): every
//     issuer, the trust anchor included, must have basicConstraints cA TRUE
//     and, when keyUsage is present, keyCertSign. crypto/x509 ignores
//     keyUsage altogether and does not look at the anchor's basicConstraints.
//     The expectation is "Verify returns a chain that also passes these
//     checks" (extraChecks), not a skipped case: Verify's other verdicts
//     still count.
//  5. Names crypto/x509 does not constrain: no subject emailAddress attribute,
//     no SmtpUTF8Mailbox otherName, no directoryName constraints are
//     generated. Verify ignores the first two (RFC 5280 4.2.1.10 and RFC 9598
//     require them) and rejects a critical directoryName constraint as an
//     unhandled critical extension (or ignores a non-critical one); Build
//     implements all three.
//  6. Leaf key usage: neither verifier checks it here (pkg/verify does, for
//     the purpose); leaves get both CA and end-entity key usages.
//  7. Readings of host-form rfc822Name constraints, where Build takes the
//     stricter of RFC 5280 and crypto/x509: permitted "example.com" allows
//     mail at that host only (RFC 5280 4.2.1.10; crypto/x509 also allows
//     its subdomains), and an excluded mailbox matches whatever the case of
//     its local part (crypto/x509 compares it exactly). Like 4, this is an
//     extra check on the chains Verify accepts (stricterMailReadings), so
//     it can only turn crypto/x509's "valid" into "invalid". The same for a
//     permitted URI host "example.org" (crypto/x509 allows www.example.org).
//  8. Self-issued intermediates are exempt from name constraints (RFC 5280
//     6.1.3 (b), (c)); crypto/x509 checks their names. build drops the
//     SANs of every certificate in Intermediates whose issuer has its name,
//     other than the verified one (#0, the final certificate, is checked
//     by both).
//  9. A self-signed certificate that is verified and not itself trusted:
//     Build ends the path there (trust is by the certificate in Roots, byte
//     for byte), crypto/x509 looks for a root of the same name and key and
//     accepts one whose SAN differs from the verified certificate's (it
//     refuses one with equal SANs: alreadyInChain). Its verdict rests on
//     that SAN comparison, so the set is skipped when crypto/x509 accepts
//     and Build refuses (isUntrustedSelfSigned); Build accepting such a
//     certificate is still a disagreement.
//     A self-signed intermediate cannot change a verdict: the root it
//     would lead to, of the same name and key, issues the same child.
// 10. A policy mapping to or from anyPolicy in an intermediate fails the
//     path whatever the policy state (RFC 5280 6.1.4 (a), as OpenSSL does);
//     crypto/x509 checks it only while its policy graph is not NULL and
//     mapping is not inhibited. An extra check on Verify's chains, like 4.
//
// Certificates without a subjectAltName extension are generated (crypto/x509
// skips them in name-constraint checks; with no subject emailAddress there is
// nothing else to check, so both must accept), and so are leaves with CA
// extensions, self-issued certificates, name collisions and cross-signed
// loops: those are where builders disagree.

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
)

// diffOutcome is the comparison of one set.
type diffOutcome struct {
	skip      string // why the set is not compared, or ""
	disagree  string // what differs, or ""
	ours, std error  // the two verdicts
}

// errSignatureLimit's text in crypto/x509 (unexported).
const goSignatureLimit = "signature check attempts limit reached"

// compareDiff builds s and compares the two verdicts.
func compareDiff(s diffSet, cache diffCache) diffOutcome {
	b, err := s.build(cache)
	if err != nil {
		return diffOutcome{skip: "not a certificate crypto/x509 writes and parses: " + err.Error()}
	}
	if goSearchCost(b, false) > 100 {
		if cost := goSearchCost(b, true); cost > 100 {
			return diffOutcome{skip: fmt.Sprintf("crypto/x509 would make %d signature checks (budget 100)", cost)}
		}
	}
	var o diffOutcome
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range b.roots {
		roots.AddCert(c)
	}
	for _, c := range b.inters {
		inters.AddCert(c)
	}
	chains, stdErr := b.leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: diffAt,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}})
	if stdErr != nil && strings.Contains(stdErr.Error(), goSignatureLimit) {
		// goSearchCost said the search fits: the model of crypto/x509 is wrong.
		return diffOutcome{disagree: "test model: crypto/x509 ran out of signature checks", std: stdErr, ours: errors.New("not run")}
	}
	var accepted [][]*x509.Certificate
	var refusedExtra string
	for _, ch := range chains {
		if why := extraChecks(ch); why != "" {
			refusedExtra = why
			continue
		}
		accepted = append(accepted, ch)
	}
	if stdErr == nil && len(accepted) == 0 {
		stdErr = fmt.Errorf("every chain crypto/x509 accepts fails a check only Build makes (known differences 4, 7, 10): %s", refusedExtra)
	}
	o.std = stdErr
	res, ourErr := Build(b.leaf, Options{Roots: b.roots, Intermediates: b.inters, Time: diffAt})
	o.ours = ourErr
	if ourErr != nil && stdErr == nil && isUntrustedSelfSigned(b) {
		return diffOutcome{skip: "known difference 9: the verified certificate is self-signed and not trusted"}
	}
	switch {
	case ourErr == nil && stdErr != nil:
		o.disagree = "Build accepts, crypto/x509 refuses"
	case ourErr != nil && stdErr == nil:
		o.disagree = "Build refuses, crypto/x509 accepts"
	case ourErr == nil:
		if !containsChain(accepted, res.Chain) {
			o.disagree = "Build returns a chain crypto/x509 does not accept: " + chainNames(res.Chain)
		}
		if res.SHA1 {
			o.disagree = "Build reports SHA-1 in an ECDSA-SHA256 chain"
		}
	}
	return o
}

func isUntrustedSelfSigned(b *diffBuilt) bool {
	l := b.leaf
	return bytes.Equal(l.RawIssuer, l.RawSubject) && l.CheckSignature(l.SignatureAlgorithm, l.RawTBSCertificate, l.Signature) == nil &&
		!slices.ContainsFunc(b.roots, l.Equal)
}

// extraChecks applies to a chain what Build checks beyond crypto/x509
// (known differences 4, 7 and 10) and says what fails, or "".
func extraChecks(chain []*x509.Certificate) string {
	for _, c := range chain[1:] {
		if !c.BasicConstraintsValid || !c.IsCA {
			return fmt.Sprintf("%q is not a CA", c.Subject.CommonName)
		}
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return fmt.Sprintf("%q lacks keyCertSign", c.Subject.CommonName)
		}
	}
	if len(chain) > 2 {
		anyPolicy := mustOID(diffPolicyOIDs[polAny])
		for _, c := range chain[1 : len(chain)-1] {
			for _, m := range c.PolicyMappings {
				if m.IssuerDomainPolicy.Equal(anyPolicy) || m.SubjectDomainPolicy.Equal(anyPolicy) {
					return fmt.Sprintf("%q maps a policy to or from anyPolicy", c.Subject.CommonName)
				}
			}
		}
	}
	return stricterMailReadings(chain)
}

// stricterMailReadings checks the rfc822Name and URI constraints of a chain
// crypto/x509 accepted with the readings Build takes where RFC 5280 and
// crypto/x509 differ (known difference 7): a permitted host "example.com"
// allows that host only (RFC 5280 4.2.1.10; crypto/x509 allows its
// subdomains), and an excluded mailbox matches whatever the case of its
// local part (crypto/x509 compares it exactly). The other readings agree.
func stricterMailReadings(chain []*x509.Certificate) string {
	permits := func(c, addr string) bool {
		at := strings.LastIndexByte(addr, '@')
		local, domain := addr[:at], strings.ToLower(addr[at+1:])
		if ci := strings.LastIndexByte(c, '@'); ci >= 0 {
			return local == c[:ci] && domain == strings.ToLower(c[ci+1:])
		}
		c = strings.ToLower(c)
		if strings.HasPrefix(c, ".") {
			return strings.HasSuffix(domain, c)
		}
		return domain == c
	}
	excludes := func(c, addr string) bool {
		addr, c = strings.ToLower(addr), strings.ToLower(c)
		at := strings.LastIndexByte(addr, '@')
		domain := addr[at+1:]
		switch {
		case strings.Contains(c, "@"):
			return addr == c
		case strings.HasPrefix(c, "."):
			return strings.HasSuffix(domain, c)
		}
		return domain == c || strings.HasSuffix(domain, "."+c)
	}
	uriPermits := func(c string, u *url.URL) bool {
		host, c := strings.ToLower(u.Hostname()), strings.ToLower(c)
		if strings.HasPrefix(c, ".") {
			return strings.HasSuffix(host, c)
		}
		return host == c
	}
	for j, ca := range chain {
		for _, c := range chain[:j] {
			for _, u := range c.URIs {
				if len(ca.PermittedURIDomains) > 0 && !slices.ContainsFunc(ca.PermittedURIDomains, func(p string) bool { return uriPermits(p, u) }) {
					return fmt.Sprintf("%s is outside the permitted %v of %q read as RFC 5280 does", u, ca.PermittedURIDomains, ca.Subject.CommonName)
				}
			}
			for _, addr := range c.EmailAddresses {
				if len(ca.PermittedEmailAddresses) > 0 && !slices.ContainsFunc(ca.PermittedEmailAddresses, func(p string) bool { return permits(p, addr) }) {
					return fmt.Sprintf("%s is outside the permitted %v of %q read as RFC 5280 does", addr, ca.PermittedEmailAddresses, ca.Subject.CommonName)
				}
				if slices.ContainsFunc(ca.ExcludedEmailAddresses, func(e string) bool { return excludes(e, addr) }) {
					return fmt.Sprintf("%s is excluded by %v of %q, the local part compared without case", addr, ca.ExcludedEmailAddresses, ca.Subject.CommonName)
				}
			}
		}
	}
	return ""
}

func containsChain(chains [][]*x509.Certificate, chain []*x509.Certificate) bool {
	for _, ch := range chains {
		if len(ch) == len(chain) {
			same := true
			for i := range ch {
				same = same && ch[i].Equal(chain[i])
			}
			if same {
				return true
			}
		}
	}
	return false
}

func chainNames(chain []*x509.Certificate) string {
	var names []string
	for _, c := range chain {
		names = append(names, fmt.Sprintf("%q", c.Subject.CommonName))
	}
	return strings.Join(names, " <- ")
}

// goSearchCost counts the candidate issuers crypto/x509's buildChains
// considers for b (each costs one of its 100 signature checks) when it is
// not stopped early: its depth-first search, alreadyInChain and isValid,
// rewritten. It stops counting past 1000. Unless precise, every signature
// and check is taken to pass: an upper bound without public-key work.
func goSearchCost(b *diffBuilt, precise bool) int {
	leaf := b.leaf
	if len(leaf.UnhandledCriticalExtensions) > 0 || diffAt.Before(leaf.NotBefore) || diffAt.After(leaf.NotAfter) {
		return 0
	}
	for _, r := range b.roots {
		if r.Equal(leaf) {
			return 0
		}
	}
	byName := func(pool []*x509.Certificate, c *x509.Certificate) []*x509.Certificate {
		var out []*x509.Certificate
		for _, p := range pool {
			if bytes.Equal(p.RawSubject, c.RawIssuer) {
				out = append(out, p)
			}
		}
		return out
	}
	cost := 0
	var walk func(chain []*x509.Certificate)
	walk = func(chain []*x509.Certificate) {
		c := chain[len(chain)-1]
		for _, pool := range []struct {
			certs []*x509.Certificate
			root  bool
		}{{b.roots, true}, {b.inters, false}} {
			for _, cand := range byName(pool.certs, c) {
				if cost++; cost > 1000 {
					return
				}
				if goAlreadyInChain(cand, chain) {
					continue
				}
				if !precise {
					if !pool.root {
						walk(append(chain[:len(chain):len(chain)], cand))
					}
					continue
				}
				if c.CheckSignatureFrom(cand) != nil {
					continue
				}
				if len(cand.UnhandledCriticalExtensions) > 0 || diffAt.Before(cand.NotBefore) || diffAt.After(cand.NotAfter) {
					continue
				}
				if !pool.root && (!cand.BasicConstraintsValid || !cand.IsCA) {
					continue
				}
				if cand.BasicConstraintsValid && cand.MaxPathLen >= 0 && len(chain)-1 > cand.MaxPathLen {
					continue
				}
				if !pool.root {
					walk(append(chain[:len(chain):len(chain)], cand))
				}
			}
		}
	}
	walk([]*x509.Certificate{leaf})
	return cost
}

// goAlreadyInChain is crypto/x509's loop check: same subject, key and SAN,
// with its quirk: the first certificate of the same subject and key where
// only one of the two has a SAN extension answers "not in the chain",
// whatever follows (a self-signed CA without SANs below a verified
// certificate of its name and key with SANs is then repeated until the
// signature budget runs out).
func goAlreadyInChain(cand *x509.Certificate, chain []*x509.Certificate) bool {
	san := func(c *x509.Certificate) *pkix.Extension {
		for _, e := range c.Extensions {
			if e.Id.Equal([]int{2, 5, 29, 17}) {
				return &e
			}
		}
		return nil
	}
	candSAN := san(cand)
	for _, c := range chain {
		if !bytes.Equal(c.RawSubject, cand.RawSubject) || !bytes.Equal(c.RawSubjectPublicKeyInfo, cand.RawSubjectPublicKeyInfo) {
			continue
		}
		cSAN := san(c)
		if candSAN == nil && cSAN == nil {
			return true
		} else if candSAN == nil || cSAN == nil {
			return false
		}
		if bytes.Equal(candSAN.Value, cSAN.Value) {
			return true
		}
	}
	return false
}

// ---- the matrix ----

// diffCase is a named set.
type diffCase struct {
	name string
	set  diffSet
}

func rootSpec(name, key int) diffCert {
	return diffCert{Name: name, Key: key, In: inRoots, BC: bcCA, PathLen: -1, KU: kuCA,
		RequireExplicit: -1, InhibitMapping: -1, InhibitAny: -1, SKID: true}
}

func interSpec(name, key int) diffCert {
	c := rootSpec(name, key)
	c.In, c.AKID = inIntermediates, true
	return c
}

func leafSpec() diffCert {
	return diffCert{Name: 6, Key: 0, In: inNone, BC: bcAbsent, PathLen: -1, KU: kuEE, EKU: ekuEmail, Emails: 1,
		RequireExplicit: -1, InhibitMapping: -1, InhibitAny: -1, AKID: true}
}

// linear is leaf <- inter 1 <- … <- inter depth <- root, keys 0..depth+1.
func linear(depth int) diffSet {
	s := diffSet{Certs: []diffCert{leafSpec()}}
	for i := 1; i <= depth; i++ {
		c := interSpec(1+i, i) // "Inter i"
		s.Certs = append(s.Certs, c)
	}
	s.Certs = append(s.Certs, rootSpec(0, depth+1))
	for i := range s.Certs {
		s.Certs[i].Issuer = min(i+1, len(s.Certs)-1)
	}
	return s
}

func (s diffSet) clone() diffSet {
	c := diffSet{Certs: append([]diffCert(nil), s.Certs...)}
	for i := range c.Certs {
		if nc := c.Certs[i].NC; nc != nil {
			n := *nc
			c.Certs[i].NC = &n
		}
	}
	return c
}

func posName(s diffSet, i int) string {
	switch {
	case i == 0:
		return "leaf"
	case i == len(s.Certs)-1:
		return "root"
	}
	return fmt.Sprintf("inter%d", i)
}

// diffMatrix generates the cases: each property varied at each position of
// chains of depth 0 to 2, products of the properties that interact, and
// hand-picked loops and name collisions.
func diffMatrix(short bool) []diffCase {
	var cases []diffCase
	add := func(name string, s diffSet) { cases = append(cases, diffCase{name, s}) }
	depths := []int{0, 1, 2}
	if short {
		depths = []int{0, 1}
	}

	for _, d := range depths {
		base := linear(d)
		add(fmt.Sprintf("d%d/base", d), base)
		for i := range base.Certs {
			pos := fmt.Sprintf("d%d/%s", d, posName(base, i))
			vary := func(what string, f func(c *diffCert)) {
				s := base.clone()
				f(&s.Certs[i])
				add(pos+"/"+what, s)
			}
			// basic constraints and path length
			for _, bc := range []diffBC{bcCA, bcNotCA, bcAbsent} {
				for _, pl := range []int{-1, 0, 1} {
					vary(fmt.Sprintf("bc=%d,pathlen=%d", bc, pl), func(c *diffCert) { c.BC, c.PathLen = bc, pl })
				}
			}
			for _, ku := range []diffKU{kuAbsent, kuCA, kuEE, kuSignBoth} {
				vary(fmt.Sprintf("ku=%d", ku), func(c *diffCert) { c.KU = ku })
			}
			for _, eku := range []uint8{0, ekuEmail, ekuServer, ekuAny, ekuDocSigning, ekuServer | ekuClient,
				ekuEmail | ekuDocSigning, ekuServer | ekuAny} {
				vary(fmt.Sprintf("eku=%v", maskNames(eku, ekuNames)), func(c *diffCert) { c.EKU = eku })
			}
			for v := range numValidity {
				vary(fmt.Sprintf("validity=%d", v), func(c *diffCert) { c.Validity = v })
			}
			vary("unknown-critical", func(c *diffCert) { c.UnknownCritical = true })
			vary("no-key-ids", func(c *diffCert) { c.SKID, c.AKID = false, false })
			for _, role := range []diffRole{inNone, inRoots, inIntermediates, inBoth} {
				vary(fmt.Sprintf("in=%d", role), func(c *diffCert) { c.In = role })
			}
		}
		// EKU nesting: CA EKU x leaf EKU at every CA position.
		ekus := []uint8{0, ekuEmail, ekuServer, ekuAny, ekuDocSigning, ekuClient | ekuDocSigning}
		for i := 1; i < len(base.Certs); i++ {
			for _, ca := range ekus {
				for _, ee := range ekus {
					s := base.clone()
					s.Certs[i].EKU, s.Certs[0].EKU = ca, ee
					add(fmt.Sprintf("d%d/eku/%s=%v,leaf=%v", d, posName(s, i), maskNames(ca, ekuNames), maskNames(ee, ekuNames)), s)
				}
			}
		}
	}

	// Path length at every depth: each CA's pathlen in {none,0,1,2}.
	for _, d := range []int{1, 2, 3} {
		base := linear(d)
		n := len(base.Certs) - 1 // CAs at 1..n
		combos := 1
		for range n {
			combos *= 4
		}
		for k := range combos {
			s := base.clone()
			var desc []string
			for i, x := 1, k; i <= n; i, x = i+1, x/4 {
				s.Certs[i].PathLen = x%4 - 1
				desc = append(desc, fmt.Sprint(x%4-1))
			}
			if short && k%3 != 0 {
				continue
			}
			add(fmt.Sprintf("pathlen/d%d/%s", d, strings.Join(desc, ",")), s)
		}
	}

	// Name constraints: one constraint at the root or an intermediate (depth
	// 2) against each leaf SAN form.
	type ncVariant struct {
		name string
		nc   diffNC
	}
	var ncs []ncVariant
	for i, c := range diffEmailNC {
		ncs = append(ncs, ncVariant{"permitted email " + c, diffNC{PermEmail: 1 << i, Critical: true}},
			ncVariant{"excluded email " + c, diffNC{ExclEmail: 1 << i, Critical: true}})
	}
	for i, c := range diffDNSNC {
		ncs = append(ncs, ncVariant{"permitted dns " + c, diffNC{PermDNS: 1 << i, Critical: true}},
			ncVariant{"excluded dns " + c, diffNC{ExclDNS: 1 << i, Critical: true}})
	}
	for i, c := range diffURINC {
		ncs = append(ncs, ncVariant{"permitted uri " + c, diffNC{PermURI: 1 << i}},
			ncVariant{"excluded uri " + c, diffNC{ExclURI: 1 << i}})
	}
	for i, c := range diffIPNC {
		ncs = append(ncs, ncVariant{"permitted ip " + c, diffNC{PermIP: 1 << i, Critical: true}},
			ncVariant{"excluded ip " + c, diffNC{ExclIP: 1 << i, Critical: true}})
	}
	ncs = append(ncs,
		ncVariant{"permitted email example.org, dns example.com (non-critical)", diffNC{PermEmail: 1 << 3, PermDNS: 1}},
		ncVariant{"permitted .example.com, excluded sub.example.com", diffNC{PermEmail: 1 << 1, ExclEmail: 1 << 4, Critical: true}},
		ncVariant{"permitted example.com + example.org, excluded alice@example.com", diffNC{PermEmail: 1 | 1<<3, ExclEmail: 1 << 2, Critical: true}})
	type sanVariant struct {
		name                   string
		emails, dns, uris, ips uint8
	}
	var sans []sanVariant
	for i, e := range diffEmails {
		sans = append(sans, sanVariant{"email " + e, 1 << i, 0, 0, 0})
	}
	for i, d := range diffDNS {
		sans = append(sans, sanVariant{"dns " + d, 0, 1 << i, 0, 0})
	}
	for i, u := range diffURIs {
		sans = append(sans, sanVariant{"uri " + u, 0, 0, 1 << i, 0})
	}
	for i, ip := range diffIPs {
		sans = append(sans, sanVariant{"ip " + ip, 0, 0, 0, 1 << i})
	}
	sans = append(sans, sanVariant{"no SAN", 0, 0, 0, 0},
		sanVariant{"alice@example.com + carol@example.org", 1 | 1<<2, 0, 0, 0},
		sanVariant{"alice@example.com + dns example.org", 1, 1 << 2, 0, 0},
		sanVariant{"alice@example.com + ip 198.51.100.7", 1, 0, 0, 1 << 1})
	base := linear(2)
	for _, at := range []int{1, 2, 3} { // inter1, inter2, root
		for i, nc := range ncs {
			if (short || at == 2) && i%4 != 0 { // a middle CA is an intermediate like inter1
				continue
			}
			for _, san := range sans {
				s := base.clone()
				s.Certs[at].NC = &nc.nc
				s.Certs[0].Emails, s.Certs[0].DNS, s.Certs[0].URIs, s.Certs[0].IPs = san.emails, san.dns, san.uris, san.ips
				add(fmt.Sprintf("nc/%s: %s / leaf %s", posName(s, at), nc.name, san.name), s)
			}
		}
		// The constrained CA's own name, and a CA below it, with SANs.
		for _, nc := range ncs[:4] {
			s := base.clone()
			s.Certs[at].NC = &nc.nc
			s.Certs[1].Emails, s.Certs[1].DNS = 1<<2, 1<<2
			add(fmt.Sprintf("nc/%s: %s / inter1 with SANs", posName(s, at), nc.name), s)
		}
	}
	// Constraints on the leaf itself do not apply to it.
	for _, nc := range ncs[:4] {
		s := base.clone()
		s.Certs[0].NC = &nc.nc
		add("nc/leaf: "+nc.name, s)
	}
	// Two constraining CAs.
	for _, a := range ncs {
		for _, b := range ncs {
			if short || !(strings.Contains(a.name, "email") && strings.Contains(b.name, "email")) {
				continue
			}
			s := base.clone()
			s.Certs[1].NC, s.Certs[3].NC = &a.nc, &b.nc
			s.Certs[0].Emails = 1 | 1<<1
			add(fmt.Sprintf("nc/two: inter1 %s, root %s / leaf alice + bob@sub", a.name, b.name), s)
		}
	}

	cases = append(cases, policyMatrix(short)...)
	cases = append(cases, loopCases()...)
	return cases
}

// policyMatrix: policies of leaf and intermediates x the constraints of the
// upper intermediate (depth 2). The root's policy extensions are those of a
// trust anchor and must not count.
func policyMatrix(short bool) []diffCase {
	var cases []diffCase
	leafPols := []uint8{0, 1 << polP1, 1 << polP2, 1 << polAny}
	inter1Pols := []uint8{0, 1 << polP1, 1 << polAny, 1<<polP1 | 1<<polP2}
	inter2Pols := []uint8{0, 1 << polP1, 1 << polAny}
	opt := []int{-1, 0, 1}
	maps := []uint8{0, 1} // none, P1->P2
	if short {
		opt = []int{-1, 0}
	}
	for _, lp := range leafPols {
		for _, p1 := range inter1Pols {
			for _, p2 := range inter2Pols {
				for _, req := range opt {
					for _, inhAny := range opt {
						for _, m := range maps {
							for _, inhMap := range []int{-1, 0} {
								if m == 0 && inhMap >= 0 {
									continue
								}
								s := linear(2)
								s.Certs[0].Policies, s.Certs[1].Policies, s.Certs[2].Policies = lp, p1, p2
								c := &s.Certs[2]
								c.RequireExplicit, c.InhibitAny, c.Mappings, c.InhibitMapping = req, inhAny, m, inhMap
								cases = append(cases, diffCase{fmt.Sprintf("policy/leaf=%v,inter1=%v,inter2=%v,require=%d,inhibitAny=%d,map=%d,inhibitMap=%d",
									maskNames(lp, policyNames), maskNames(p1, policyNames), maskNames(p2, policyNames), req, inhAny, m, inhMap), s})
							}
						}
					}
				}
			}
		}
	}
	// Constraints at the root (trust anchor: no effect), at the lower
	// intermediate and at the leaf; mappings to and from anyPolicy.
	for _, at := range []int{0, 1, 3} {
		for _, req := range []int{0, 1} {
			s := linear(2)
			s.Certs[at].RequireExplicit = req
			cases = append(cases, diffCase{fmt.Sprintf("policy/%s requireExplicitPolicy=%d, no policies", posName(s, at), req), s})
			s = s.clone()
			for i := range s.Certs {
				s.Certs[i].Policies = 1 << polP1
			}
			cases = append(cases, diffCase{fmt.Sprintf("policy/%s requireExplicitPolicy=%d, P1 everywhere", posName(s, at), req), s})
		}
	}
	for j := range diffMappings {
		for _, lp := range []uint8{1 << polP1, 1 << polP2, 1 << polP3} {
			s := linear(2)
			s.Certs[0].Policies, s.Certs[1].Policies, s.Certs[2].Policies = lp, 1<<polP1|1<<polP2|1<<polP3, 1<<polP1|1<<polAny
			s.Certs[2].Mappings, s.Certs[2].RequireExplicit = 1<<j, 0
			cases = append(cases, diffCase{fmt.Sprintf("policy/mapping %v leaf=%v", diffMappings[j], maskNames(lp, policyNames)), s})
		}
	}
	// A mapping to or from anyPolicy where crypto/x509 does not look at it
	// (known difference 10): no policies on the path, or mapping inhibited.
	for _, j := range []int{4, 5} {
		s := linear(2)
		s.Certs[1].Mappings = 1 << j
		cases = append(cases, diffCase{fmt.Sprintf("policy/mapping %v, no policies", diffMappings[j]), s})
		s = s.clone()
		for i := range s.Certs {
			s.Certs[i].Policies = 1 << polP1
		}
		s.Certs[2].InhibitMapping = 0
		cases = append(cases, diffCase{fmt.Sprintf("policy/mapping %v, mapping inhibited above", diffMappings[j]), s})
	}
	return cases
}

// loopCases: cross-signed CAs, with and without distinct names and key
// identifiers, with and without a way out to a root.
func loopCases() []diffCase {
	var cases []diffCase
	add := func(name string, s diffSet) { cases = append(cases, diffCase{"loop/" + name, s}) }
	noIDs := func(s diffSet) diffSet {
		s = s.clone()
		for i := range s.Certs {
			s.Certs[i].SKID, s.Certs[i].AKID = false, false
		}
		return s
	}
	// A signs B, B signs A, the leaf under A.
	leaf := leafSpec()
	leaf.Issuer = 1
	for _, sameName := range []bool{false, true} {
		a, bb := interSpec(2, 1), interSpec(3, 2)
		if sameName {
			bb.Name = 2
		}
		a.Issuer, bb.Issuer = 2, 1
		loop := diffSet{Certs: []diffCert{leaf, a, bb}}
		tag := fmt.Sprintf("same-name=%v", sameName)
		add(tag+"/no way out", loop)
		add(tag+"/no way out, no key ids", noIDs(loop))
		// A way out: B also signed by a root.
		bByRoot := interSpec(bb.Name, 2)
		bByRoot.Issuer = 4
		out := diffSet{Certs: []diffCert{leaf, a, bb, bByRoot, rootSpec(0, 3)}}
		add(tag+"/B cross-signed by root", out)
		add(tag+"/B cross-signed by root, no key ids", noIDs(out))
		// The same, the cross-certificate expired: only the loop remains.
		exp := out.clone()
		exp.Certs[3].Validity = vExpired
		add(tag+"/cross-certificate expired", exp)
		add(tag+"/cross-certificate expired, no key ids", noIDs(exp))
		// B self-signed and trusted.
		trusted := loop.clone()
		selfB := rootSpec(bb.Name, 2)
		selfB.Issuer = 3
		trusted.Certs = append(trusted.Certs, selfB)
		add(tag+"/B trusted", trusted)
		add(tag+"/B trusted, no key ids", noIDs(trusted))
		// A trusted as a root while also an intermediate.
		both := loop.clone()
		both.Certs[1].In = inBoth
		add(tag+"/A in both pools", both)
	}
	// A three-CA ring, all one name and no key ids, with a root for one key.
	ring := diffSet{Certs: []diffCert{leaf, interSpec(2, 1), interSpec(2, 2), interSpec(2, 3), rootSpec(0, 4)}}
	ring.Certs[1].Issuer, ring.Certs[2].Issuer, ring.Certs[3].Issuer = 2, 3, 1
	add("ring of three, no way out", noIDs(ring))
	out := ring.clone()
	out.Certs = append(out.Certs, interSpec(2, 3))
	out.Certs[5].Issuer = 4
	add("ring of three, third cross-signed by root", noIDs(out))
	// Key rollover: the new root key certified by the old one (self-issued).
	roll := diffSet{Certs: []diffCert{leaf, interSpec(0, 1), rootSpec(0, 2)}}
	roll.Certs[1].Issuer = 2
	add("self-issued rollover certificate", roll)
	add("self-issued rollover certificate, no key ids", noIDs(roll))
	// The verified certificate issued under its own name by another key.
	selfIssuedLeaf := diffSet{Certs: []diffCert{leaf, rootSpec(leaf.Name, 1)}}
	add("self-issued leaf", selfIssuedLeaf)
	// The rollover certificate below a constrained root, the leaf inside
	// and outside the constraint (the rollover certificate's own SANs are
	// dropped, known difference 8).
	for _, emails := range []uint8{1 << 2, 1} {
		nc := roll.clone()
		nc.Certs[2].NC = &diffNC{PermEmail: 1 << 3, Critical: true}
		nc.Certs[1].Emails = 1
		nc.Certs[0].Emails = emails
		add(fmt.Sprintf("self-issued rollover certificate, root permits example.org, leaf %v", maskNames(emails, diffEmails)), nc)
	}
	// A self-signed certificate verified whose name and key are trusted
	// through another certificate (a reissued root, or an end entity's
	// self-signed certificate next to the trusted one).
	reissued := diffSet{Certs: []diffCert{rootSpec(0, 1), rootSpec(0, 1)}}
	reissued.Certs[0].In, reissued.Certs[0].Validity = inNone, vStartsNow
	reissued.Certs[1].Issuer = 1
	add("self-signed certificate, its name and key trusted in another", reissued) // crypto/x509: alreadyInChain
	selfLeaf := diffSet{Certs: []diffCert{leafSpec(), leafSpec()}}
	selfLeaf.Certs[1].In, selfLeaf.Certs[1].Issuer, selfLeaf.Certs[1].Emails = inRoots, 1, 1<<3
	selfLeaf.Certs[1].BC, selfLeaf.Certs[1].KU = bcCA, kuSignBoth
	add("self-signed leaf, its name and key trusted in another", selfLeaf)
	// The verified certificate has the name and key of the trusted root
	// above its issuer, but other SANs: no loop for crypto/x509.
	sameKey := linear(1)
	sameKey.Certs[0].Name, sameKey.Certs[0].Key, sameKey.Certs[0].Emails = 0, 2, 1<<4
	add("verified certificate with the root's name and key, other SANs", sameKey)
	sameKey = sameKey.clone()
	sameKey.Certs[2].Emails = 1 << 4
	add("verified certificate with the root's name, key and SANs", sameKey)
	// A trust anchor that is not self-signed.
	sub := linear(1)
	sub.Certs[1].In = inRoots
	sub.Certs[2].In = inNone
	add("intermediate as trust anchor", sub)
	return cases
}

var diffAll = flag.Bool("diff.all", false, "TestDifferential: describe every disagreement in full, not the first 3 of each class")

// TestDifferential (issue #11 item 6): Build's verdict equals crypto/x509's
// on a generated matrix of chains. Each disagreement is printed with its
// class (direction, both reasons, the set's features) and the set; the
// summary counts the classes.
func TestDifferential(t *testing.T) {
	cases := diffMatrix(testing.Short())
	cache := diffCache{}
	skipped := map[string]int{}
	classes := map[string][]string{}
	for _, tc := range cases {
		o := compareDiff(tc.set, cache)
		if o.skip != "" {
			if strings.HasPrefix(o.skip, "not a certificate") {
				t.Errorf("%s: the matrix must only hold valid specs: %s", tc.name, o.skip)
			}
			skipped[o.skip]++
			continue
		}
		if o.disagree == "" {
			continue
		}
		class := diffClass(tc.set, o)
		classes[class] = append(classes[class], tc.name)
		if *diffAll || len(classes[class]) <= 3 {
			t.Errorf("%s: %s\n  class: %s\n  Build: %v\n  crypto/x509: %v\n  set:\n%s", tc.name, o.disagree, class, errText(o.ours), errText(o.std), tc.set)
		} else {
			t.Errorf("%s: %s (class: %s)", tc.name, o.disagree, class)
		}
	}
	var summary []string
	total := 0
	for c, names := range classes {
		summary = append(summary, fmt.Sprintf("  %4d  %s  (e.g. %s)", len(names), c, names[0]))
		total += len(names)
	}
	sort.Strings(summary)
	t.Logf("%d cases, %d disagreements in %d classes, skipped %v\n%s", len(cases), total, len(classes), skipped, strings.Join(summary, "\n"))
}

// diffClass names the kind of a disagreement: direction, crypto/x509's
// reason, Build's reason and the features of the set that builders tend to
// get wrong.
func diffClass(s diffSet, o diffOutcome) string {
	std := "valid"
	var ie x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	switch {
	case o.std == nil:
	case errors.As(o.std, &ie):
		std = map[x509.InvalidReason]string{
			x509.NotAuthorizedToSign: "not a CA", x509.Expired: "validity", x509.CANotAuthorizedForThisName: "name constraints",
			x509.TooManyIntermediates: "path length", x509.IncompatibleUsage: "extended key usage",
			x509.NoValidChains: "no valid chains (" + ie.Detail + ")",
		}[ie.Reason]
		if std == "" {
			std = ie.Error()
		}
	case errors.As(o.std, &ua):
		std = "unknown authority"
	case strings.Contains(o.std.Error(), "known differences 4, 7, 10"):
		std = "valid, but a check only Build makes fails"
		for _, k := range []string{"is not a CA", "lacks keyCertSign", "read as RFC 5280 does", "local part compared without case", "to or from anyPolicy"} {
			if strings.Contains(o.std.Error(), k) {
				std += ": " + k
			}
		}
	default:
		std = o.std.Error()
	}
	ours := "valid"
	var ce *Error
	if errors.As(o.ours, &ce) {
		ours = ce.Reason.String()
	} else if o.ours != nil {
		ours = o.ours.Error()
	}
	var features []string
	for i, c := range s.Certs {
		if c.Issuer != i && c.Name == s.Certs[c.Issuer].Name {
			features = append(features, "self-issued certificate")
			break
		}
	}
	for _, c := range s.Certs {
		if c.NC != nil {
			features = append(features, "name constraints")
			break
		}
	}
	for _, c := range s.Certs {
		if c.Policies != 0 || c.RequireExplicit >= 0 || c.InhibitAny >= 0 || c.InhibitMapping >= 0 || c.Mappings != 0 {
			features = append(features, "policies")
			break
		}
	}
	for _, c := range s.Certs[1:] {
		if c.EKU&ekuDocSigning != 0 && c.EKU&(ekuEmail|ekuAny) == 0 {
			features = append(features, "CA EKU without emailProtection, with an unknown OID")
			break
		}
	}
	return fmt.Sprintf("%s; crypto/x509: %s; Build: %s; set has %v", o.disagree, std, ours, features)
}

func errText(err error) string {
	if err == nil {
		return "valid"
	}
	var ce *Error
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s (%s)", err, ce.Reason)
	}
	return err.Error()
}

// TestDiffEncoding: every matrix spec survives the fuzz encoding, so the
// seed corpus is the matrix and a fuzz input reproduces a matrix case.
func TestDiffEncoding(t *testing.T) {
	for _, tc := range diffMatrix(false) {
		got := decodeDiffSet(tc.set.encode())
		if got.String() != tc.set.String() || !bytes.Equal(got.encode(), tc.set.encode()) {
			t.Fatalf("%s: encoding does not round-trip:\n%s\n---\n%s", tc.name, tc.set, got)
		}
	}
}
