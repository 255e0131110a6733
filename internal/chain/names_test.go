package chain

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// gn is one GeneralName: its context-specific tag and its content.
type gn struct {
	tag  cbasn1.Tag
	body []byte
}

func rfc822(s string) gn  { return gn{tagRFC822, []byte(s)} }
func dnsName(s string) gn { return gn{tagDNS, []byte(s)} }
func uriName(s string) gn { return gn{tagURI, []byte(s)} }

func ipRange(cidr string) gn {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		panic(err)
	}
	ip := n.IP
	if len(n.Mask) == net.IPv4len {
		ip = ip.To4()
	}
	return gn{tagIP, append(append([]byte{}, ip...), n.Mask...)}
}

// dirName is a directoryName; the [4] tag is explicit (Name is a CHOICE).
func dirName(n pkix.Name) gn {
	der, err := asn1.Marshal(n.ToRDNSequence())
	if err != nil {
		panic(err)
	}
	return gn{tagDirectory, der}
}

// otherName is an otherName of the given type with a UTF8String value.
func otherName(oid asn1.ObjectIdentifier, value string) gn {
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(oid)
	b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(value)) })
	})
	return gn{tagOtherName, b.BytesOrPanic()}
}

var registeredID = gn{cbasn1.Tag(8).ContextSpecific(), []byte{0x2a, 0x03, 0x04}}

// ncExt is a nameConstraints extension with the given subtrees.
func ncExt(critical bool, permitted, excluded []gn) pkix.Extension {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i, side := range [][]gn{permitted, excluded} {
			if len(side) == 0 {
				continue
			}
			b.AddASN1(cbasn1.Tag(i).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				for _, g := range side {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(g.tag, func(b *cryptobyte.Builder) { b.AddBytes(g.body) })
					})
				}
			})
		}
	})
	return pkix.Extension{Id: oidNameConstraints, Critical: critical, Value: b.BytesOrPanic()}
}

// sanExt is a subjectAltName extension with the given names.
func sanExt(names ...gn) pkix.Extension {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, g := range names {
			b.AddASN1(g.tag, func(b *cryptobyte.Builder) { b.AddBytes(g.body) })
		}
	})
	return pkix.Extension{Id: oidSubjectAltName, Value: b.BytesOrPanic()}
}

// constrained is a CA template with a name constraints extension.
func constrained(name string, ext pkix.Extension) *x509.Certificate {
	c := ca(name)
	c.ExtraExtensions = []pkix.Extension{ext}
	return c
}

// mailLeaf is a signing leaf with the given subjectAltName rfc822Names.
func mailLeaf(addrs ...string) *x509.Certificate {
	l := leaf("user")
	l.EmailAddresses = addrs
	return l
}

var oidEmailAttr = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// TestBuildNameConstraints checks name constraints (issue #11 item 3):
// each case fails (or passed wrongly) on the code before it, which ignored
// them, except the cases that show a constraint allowing a name.
func TestBuildNameConstraints(t *testing.T) {
	root := issue(t, ca("root"), nil)
	at := t0.AddDate(1, 0, 0)

	type tc struct {
		name  string
		ca    pkix.Extension // constraints of the sub-CA under root
		leaf  *x509.Certificate
		valid bool
		// at names the certificate the error must be about: "leaf" or "ca".
		at string
	}
	perm := func(g ...gn) pkix.Extension { return ncExt(true, g, nil) }
	excl := func(g ...gn) pkix.Extension { return ncExt(true, nil, g) }
	subjectMail := func(addr string) *x509.Certificate {
		l := leaf("user")
		l.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidEmailAttr, Value: addr}}
		return l
	}
	utf8Leaf := func(addr string) *x509.Certificate {
		l := leaf("user")
		l.ExtraExtensions = []pkix.Extension{sanExt(otherName(oidSmtpUTF8Mailbox, addr))}
		return l
	}
	dnLeaf := func(org string) *x509.Certificate {
		l := leaf("user")
		l.Subject.Organization = []string{org}
		return l
	}
	dnsLeaf := func(name string) *x509.Certificate {
		l := leaf("user")
		l.DNSNames = []string{name}
		return l
	}
	uriLeaf := func(s string) *x509.Certificate {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		l := leaf("user")
		l.URIs = []*url.URL{u}
		return l
	}
	ipLeaf := func(s string) *x509.Certificate {
		l := leaf("user")
		l.IPAddresses = []net.IP{net.ParseIP(s)}
		return l
	}
	tests := []tc{
		// The issue's reproduction.
		{"permitted example.org, leaf example.com", perm(rfc822("example.org")), mailLeaf("alice@example.com"), false, "leaf"},
		{"excluded example.com", excl(rfc822("example.com")), mailLeaf("alice@example.com"), false, "leaf"},
		{"permitted example.org, leaf example.org", perm(rfc822("example.org")), mailLeaf("alice@example.org"), true, ""},
		{"permitted example.org, one of two addresses outside", perm(rfc822("example.org")), mailLeaf("alice@example.org", "alice@example.com"), false, "leaf"},
		{"domain form allows a subdomain", perm(rfc822(".example.com")), mailLeaf("alice@sub.example.com"), true, ""},
		{"domain form excludes the domain itself", perm(rfc822(".example.com")), mailLeaf("alice@example.com"), false, "leaf"},
		{"host form permits only that host", perm(rfc822("example.com")), mailLeaf("alice@sub.example.com"), false, "leaf"},
		{"host form permits the host, any case", perm(rfc822("example.com")), mailLeaf("alice@Example.COM"), true, ""},
		{"host form excludes subdomains too", excl(rfc822("example.com")), mailLeaf("alice@sub.example.com"), false, "leaf"},
		{"excluded host, other domain", excl(rfc822("example.com")), mailLeaf("alice@example.org"), true, ""},
		{"excluded host, trailing dot", excl(rfc822("example.com")), mailLeaf("alice@example.com."), false, "leaf"},
		{"mailbox form permits that mailbox", perm(rfc822("alice@example.com")), mailLeaf("alice@example.com"), true, ""},
		{"mailbox form permits no other", perm(rfc822("alice@example.com")), mailLeaf("bob@example.com"), false, "leaf"},
		{"mailbox form permits the local part as written", perm(rfc822("alice@example.com")), mailLeaf("Alice@example.com"), false, "leaf"},
		{"excluded mailbox whatever the case", excl(rfc822("ceo@example.com")), mailLeaf("CEO@example.com"), false, "leaf"},
		{"excluded mailbox, quoted local part", excl(rfc822("ceo@example.com")), mailLeaf(`"ceo"@example.com`), false, "leaf"},
		{"subject emailAddress constrained", perm(rfc822("example.org")), subjectMail("alice@example.com"), false, "leaf"},
		{"subject emailAddress permitted", perm(rfc822("example.org")), subjectMail("alice@example.org"), true, ""},
		{"SmtpUTF8Mailbox constrained", perm(rfc822("example.org")), utf8Leaf("用户@example.com"), false, "leaf"},
		{"SmtpUTF8Mailbox permitted", perm(rfc822("example.com")), utf8Leaf("用户@example.com"), true, ""},
		{"SmtpUTF8Mailbox domain in A-labels", perm(rfc822("xn--bcher-kva.example")), utf8Leaf("用户@bücher.example"), true, ""},
		{"SmtpUTF8Mailbox excluded domain in A-labels", excl(rfc822("xn--bcher-kva.example")), utf8Leaf("用户@bücher.example"), false, "leaf"},
		{"SmtpUTF8Mailbox never matches an ASCII mailbox", perm(rfc822("alice@example.com")), utf8Leaf("用户@example.com"), false, "leaf"},
		{"address without domain", perm(rfc822("example.com")), mailLeaf("alice"), false, "leaf"},
		{"other forms do not bind mail", perm(dnsName("example.org")), mailLeaf("alice@example.com"), true, ""},
		{"dNSName permitted", perm(dnsName("example.com")), dnsLeaf("host.example.com"), true, ""},
		{"dNSName not a label boundary", perm(dnsName("example.com")), dnsLeaf("badexample.com"), false, "leaf"},
		{"dNSName excluded", excl(dnsName("example.com")), dnsLeaf("host.example.com"), false, "leaf"},
		{"URI host within domain", perm(uriName(".example.com")), uriLeaf("https://www.example.com/x"), true, ""},
		{"URI host is the domain itself", perm(uriName(".example.com")), uriLeaf("https://example.com/x"), false, "leaf"},
		{"URI host excluded", excl(uriName("example.com")), uriLeaf("https://www.example.com:8443/x"), false, "leaf"},
		{"URI without host", perm(uriName("example.com")), uriLeaf("urn:example:x"), false, "leaf"},
		{"IP permitted", perm(ipRange("10.0.0.0/8")), ipLeaf("10.1.2.3"), true, ""},
		{"IP not permitted", perm(ipRange("10.0.0.0/8")), ipLeaf("192.168.0.1"), false, "leaf"},
		{"IP excluded", excl(ipRange("192.168.0.0/16")), ipLeaf("192.168.0.1"), false, "leaf"},
		{"directoryName permitted", perm(dirName(pkix.Name{Organization: []string{"Example"}})), dnLeaf("Example"), true, ""},
		{"directoryName compared without case and extra space", perm(dirName(pkix.Name{Organization: []string{"Example  Corp"}})), dnLeaf(" example corp"), true, ""},
		{"directoryName not permitted", perm(dirName(pkix.Name{Organization: []string{"Example"}})), dnLeaf("Other"), false, "leaf"},
		{"directoryName excluded", excl(dirName(pkix.Name{Organization: []string{"Evil"}})), dnLeaf("Evil"), false, "leaf"},
		{"directoryName in subjectAltName", excl(dirName(pkix.Name{Organization: []string{"Evil"}})),
			func() *x509.Certificate {
				l := dnLeaf("Good")
				l.ExtraExtensions = []pkix.Extension{sanExt(dirName(pkix.Name{Organization: []string{"Evil"}, CommonName: "x"}))}
				return l
			}(), false, "leaf"},
		{"critical unsupported form", perm(registeredID), mailLeaf("alice@example.com"), false, "ca"},
		{"critical unsupported otherName", perm(otherName(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}, "upn")), mailLeaf("alice@example.com"), false, "ca"},
		{"non-critical unsupported form is ignored", ncExt(false, []gn{registeredID}, nil), mailLeaf("alice@example.com"), true, ""},
		{"non-critical constraint still binds", ncExt(false, []gn{rfc822("example.org")}, nil), mailLeaf("alice@example.com"), false, "leaf"},
		{"SmtpUTF8Mailbox constraint refused", ncExt(false, []gn{otherName(oidSmtpUTF8Mailbox, "example.com")}, nil), mailLeaf("alice@example.com"), false, "ca"},
		{"critical subtree with a minimum distance", withMinimum(), mailLeaf("alice@example.com"), false, "ca"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub := issue(t, constrained("sub", tc.ca), root)
			user := issue(t, tc.leaf, sub)
			r, err := Build(user.cert, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{sub.cert}, Time: at})
			if tc.valid {
				if err != nil || len(r.Chain) != 3 {
					t.Fatalf("got %v, want a chain of 3", err)
				}
				return
			}
			t.Log(err)
			var ce *Error
			if !errors.As(err, &ce) || ce.Reason != NameConstraint {
				t.Fatalf("got %v, want reason name-constraint", err)
			}
			want := map[string]*x509.Certificate{"leaf": user.cert, "ca": sub.cert}[tc.at]
			if !ce.Cert.Equal(want) {
				t.Fatalf("error about %s, want %s: %v", ce.Cert.Subject, want.Subject, err)
			}
			if tc.at == "leaf" && !strings.Contains(err.Error(), `"sub"`) {
				t.Errorf("error %q does not name the constraining CA", err)
			}
		})
	}
}

// TestBuildNameConstraintsPath checks constraints across a path (issue #11
// item 3): a constraint binds every certificate below its CA, an
// intermediate's subject included, and a trusted root's constraints bind
// too; a self-issued intermediate is exempt (RFC 5280 6.1.3 (b)).
func TestBuildNameConstraintsPath(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	onlyOrg := perm1(rfc822("example.org"))
	root := issue(t, ca("root"), nil)
	upper := issue(t, constrained("upper", onlyOrg), root)
	lower := issue(t, ca("lower"), upper)
	below := func(n *node, addr string) *node { return issue(t, mailLeaf(addr), n) }

	exampleOnly := perm1(dirName(pkix.Name{Organization: []string{"Example"}}))
	dnRoot := issue(t, constrained("dn root", exampleOnly), nil)
	otherOrg := ca("other inter")
	otherOrg.Subject.Organization = []string{"Other"}
	otherInter := issue(t, otherOrg, dnRoot)
	goodOrg := ca("good inter")
	goodOrg.Subject.Organization = []string{"Example"}
	goodInter := issue(t, goodOrg, dnRoot)

	// A self-issued certificate of dnRoot's name and a new key, under
	// dnRoot: outside dnRoot's constraints but exempt.
	rollover := ca("dn root")
	rollover.ExtraExtensions = []pkix.Extension{ncExt(true, []gn{dirName(pkix.Name{Organization: []string{"Example"}})}, nil)}
	newKey := issue(t, rollover, dnRoot)
	example := func(n *node, cn string) *node {
		l := leaf(cn)
		l.Subject.Organization = []string{"Example"}
		return issue(t, l, n)
	}

	tests := []struct {
		name   string
		leaf   *node
		roots  []*node
		inter  []*node
		valid  bool
		errFor *node
	}{
		{"intermediate above an intermediate binds the leaf", below(lower, "alice@example.com"), []*node{root}, []*node{upper, lower}, false, nil},
		{"intermediate above an intermediate permits", below(lower, "alice@example.org"), []*node{root}, []*node{upper, lower}, true, nil},
		{"root's constraints bind an intermediate's subject", example(otherInter, "alice"), []*node{dnRoot}, []*node{otherInter}, false, otherInter},
		{"root's constraints permit", example(goodInter, "alice"), []*node{dnRoot}, []*node{goodInter}, true, nil},
		{"self-issued intermediate exempt", example(newKey, "alice"), []*node{dnRoot}, []*node{newKey}, true, nil},
	}
	certs := func(ns []*node) (out []*x509.Certificate) {
		for _, n := range ns {
			out = append(out, n.cert)
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.leaf.cert, Options{Roots: certs(tc.roots), Intermediates: certs(tc.inter), Time: at})
			if tc.valid {
				if err != nil {
					t.Fatalf("got %v, want a chain", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Reason != NameConstraint {
				t.Fatalf("got %v, want reason name-constraint", err)
			}
			if tc.errFor != nil && !ce.Cert.Equal(tc.errFor.cert) {
				t.Fatalf("error about %s, want %s", ce.Cert.Subject, tc.errFor.cert.Subject)
			}
		})
	}
}

// withMinimum is a critical nameConstraints extension whose one subtree
// (dNSName example.com) has minimum 1, which RFC 5280 does not allow and
// crypto/x509 ignores.
func withMinimum() pkix.Extension {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(tagDNS, func(b *cryptobyte.Builder) { b.AddBytes([]byte("example.com")) })
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(1) })
			})
		})
	})
	return pkix.Extension{Id: oidNameConstraints, Critical: true, Value: b.BytesOrPanic()}
}

func perm1(g gn) pkix.Extension { return ncExt(true, []gn{g}, nil) }

// TestBuildNameConstraintComparisons: a hostile CA with many constraints
// over a leaf with many names ends in TooComplex, not in a stall (issue #11
// item 11, the name-constraint side of the cost bounds).
func TestBuildNameConstraintComparisons(t *testing.T) {
	root := issue(t, ca("root"), nil)
	var many []gn
	for i := range 600 {
		many = append(many, dnsName(strings.Repeat("x", i%40)+".example.org"))
	}
	sub := issue(t, constrained("sub", ncExt(true, many, nil)), root)
	l := leaf("user")
	for i := range 600 {
		l.DNSNames = append(l.DNSNames, strings.Repeat("y", i%40+1)+".example.org")
	}
	user := issue(t, l, sub)
	_, err := Build(user.cert, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{sub.cert}, Time: t0.AddDate(1, 0, 0)})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != TooComplex {
		t.Fatalf("got %v, want too-complex", err)
	}
}

// TestBuildDirectoryNameCost: directory names of huge multi-valued RDNs,
// equal but for their last attribute, are compared in linear time and
// within the comparison budget (issue #11 item 11): before, comparing two
// RDNs was quadratic in their attributes.
func TestBuildDirectoryNameCost(t *testing.T) {
	bigRDN := func(last string) pkix.RDNSequence {
		var r []pkix.AttributeTypeAndValue
		for i := range 5000 {
			r = append(r, pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{1, 2, 3, 4, i}, Value: "v"})
		}
		r = append(r, pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: last})
		return pkix.RDNSequence{r}
	}
	der := func(n pkix.RDNSequence) []byte {
		b, err := asn1.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	root := issue(t, ca("root"), nil)
	sub := issue(t, constrained("sub", ncExt(true, []gn{{tagDirectory, der(bigRDN("Example"))}}, nil)), root)
	l := leaf("user")
	l.RawSubject = der(bigRDN("Example"))
	var sans []gn
	for range 40 {
		sans = append(sans, gn{tagDirectory, der(bigRDN("Example"))})
	}
	sans = append(sans, gn{tagDirectory, der(bigRDN("Other"))})
	l.ExtraExtensions = []pkix.Extension{sanExt(sans...)}
	user := issue(t, l, sub)
	var n int
	atvComparisons = &n
	defer func() { atvComparisons = nil }()
	_, err := Build(user.cert, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{sub.cert}, Time: t0.AddDate(1, 0, 0)})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != NameConstraint {
		t.Fatalf("got %v, want name-constraint", err)
	}
	// Linear: each of the 42 names against the one constraint, attribute by
	// attribute, 5,001 each; quadratic comparison would take 5,001 times more.
	t.Logf("%d attribute comparisons", n)
	if limit := 4 * 42 * 5001; n > limit {
		t.Errorf("%d attribute comparisons, want at most %d (linear in the names' sizes)", n, limit)
	}
}

// TestBuildCriticalSmtpUTF8SAN: the RFC 9598 certificate of an address with
// a UTF-8 local part has an empty subject and a critical subjectAltName
// holding only the SmtpUTF8Mailbox, which crypto/x509 leaves unhandled.
// It chains, and name constraints bind it (issue #11 item 3: before, it
// failed as an unknown critical extension whatever the constraints); a
// critical subjectAltName with a form not checked here still fails.
func TestBuildCriticalSmtpUTF8SAN(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	root := issue(t, ca("root"), nil)
	free := issue(t, ca("free"), root)
	onlyOrg := issue(t, constrained("only example.org", perm1(rfc822("example.org"))), root)
	utf8Only := func(san gn, parent *node) *node {
		l := leaf("")
		l.Subject = pkix.Name{}
		ext := sanExt(san)
		ext.Critical = true
		l.ExtraExtensions = []pkix.Extension{ext}
		return issue(t, l, parent)
	}
	upn := otherName(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}, "alice@example.com")
	tests := []struct {
		name   string
		leaf   *node
		inter  *node
		reason Reason
		valid  bool
	}{
		{"unconstrained", utf8Only(otherName(oidSmtpUTF8Mailbox, "用户@example.com"), free), free, 0, true},
		{"constrained, inside", utf8Only(otherName(oidSmtpUTF8Mailbox, "用户@example.org"), onlyOrg), onlyOrg, 0, true},
		{"constrained, outside", utf8Only(otherName(oidSmtpUTF8Mailbox, "用户@example.com"), onlyOrg), onlyOrg, NameConstraint, false},
		{"other otherName", utf8Only(upn, free), free, CriticalExtension, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.leaf.cert.UnhandledCriticalExtensions) == 0 {
				t.Fatal("crypto/x509 handled the subjectAltName; the test needs it unhandled")
			}
			_, err := Build(tc.leaf.cert, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{tc.inter.cert}, Time: at})
			if tc.valid {
				if err != nil {
					t.Fatalf("got %v, want a chain", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Reason != tc.reason {
				t.Fatalf("got %v, want %v", err, tc.reason)
			}
		})
	}
}
