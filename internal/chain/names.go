package chain

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/net/idna"

	"github.com/smimectl/smimectl/internal/certinfo"
)

// Name constraints: RFC 5280 section 4.2.1.10, applied as path validation
// does (6.1.3 (b) and (c), 6.1.4 (g)); see the package documentation for
// the forms and readings.

var (
	oidNameConstraints = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidSubjectAltName  = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSmtpUTF8Mailbox = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 9}
)

// GeneralName choices (RFC 5280 section 4.2.1.6), context-specific tags:
//
//	GeneralName ::= CHOICE {
//	     otherName                 [0]  OtherName,
//	     rfc822Name                [1]  IA5String,
//	     dNSName                   [2]  IA5String,
//	     x400Address               [3]  ORAddress,
//	     directoryName             [4]  Name,
//	     ediPartyName              [5]  EDIPartyName,
//	     uniformResourceIdentifier [6]  IA5String,
//	     iPAddress                 [7]  OCTET STRING,
//	     registeredID              [8]  OBJECT IDENTIFIER }
var (
	tagOtherName = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagRFC822    = cbasn1.Tag(1).ContextSpecific()
	tagDNS       = cbasn1.Tag(2).ContextSpecific()
	tagDirectory = cbasn1.Tag(4).ContextSpecific().Constructed()
	tagURI       = cbasn1.Tag(6).ContextSpecific()
	tagIP        = cbasn1.Tag(7).ContextSpecific()
)

// formNames names the GeneralName forms by tag number, for errors.
var formNames = []string{"otherName", "rfc822Name", "dNSName", "x400Address", "directoryName",
	"ediPartyName", "uniformResourceIdentifier", "iPAddress", "registeredID"}

// unhandledCritical returns the first critical extension of c that
// crypto/x509 left unhandled and this package does not handle either, or
// nil. crypto/x509 leaves nameConstraints unhandled when it holds a form it
// does not parse (directoryName...), and a subjectAltName when it holds
// none of the forms it exposes: the RFC 9598 certificate of an address
// with a UTF-8 local part, whose subject is empty and whose critical
// subjectAltName holds only an SmtpUTF8Mailbox. This package reads both
// itself, a subjectAltName when each of its names is of a form that name
// constraints here check.
func unhandledCritical(c *x509.Certificate) asn1.ObjectIdentifier {
	for _, oid := range c.UnhandledCriticalExtensions {
		switch {
		case oid.Equal(oidNameConstraints):
		case oid.Equal(oidSubjectAltName) && checkedSAN(sanValue(c)):
		default:
			return oid
		}
	}
	return nil
}

// checkedSAN reports whether every name in a subjectAltName is of a form
// the name constraint check reads: rfc822Name, dNSName, directoryName,
// URI, iPAddress, or an SmtpUTF8Mailbox otherName.
func checkedSAN(der []byte) bool {
	s := cryptobyte.String(der)
	var names cryptobyte.String
	if !s.ReadASN1(&names, cbasn1.SEQUENCE) || !s.Empty() || names.Empty() {
		return false
	}
	for !names.Empty() {
		var gn cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&gn, &tag) {
			return false
		}
		switch tag {
		case tagRFC822, tagDNS, tagDirectory, tagURI, tagIP:
		case tagOtherName:
			var oid asn1.ObjectIdentifier
			if !gn.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSmtpUTF8Mailbox) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// constraints is a CA certificate's nameConstraints extension.
type constraints struct {
	permitted, excluded subtrees
	critical            bool
	// unsupported names the first form present that is not checked here,
	// which fails the path if the extension is critical; forbidden a form
	// that fails it in any case.
	unsupported, forbidden string
	err                    error // the extension could not be read
}

// subtrees are the GeneralSubtrees of one side, by form. A form with no
// entry is not constrained by this side.
type subtrees struct {
	email []mailbox // rfc822Name: domain set, local set only for a mailbox
	dns   []string  // lower case
	uri   []string  // lower case
	dir   []dname
	ip    []*net.IPNet
	// dirSize is the number of attributes in dir, what comparing one
	// name with all of dir may cost.
	dirSize int
}

func (s *subtrees) empty() bool {
	return len(s.email)+len(s.dns)+len(s.uri)+len(s.dir)+len(s.ip) == 0
}

// constraintsOf returns the parsed name constraints of c, nil if it has none.
func (c *Cache) constraintsOf(cert *x509.Certificate) *constraints {
	if nc, ok := c.nc[cert]; ok {
		return nc
	}
	var nc *constraints
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidNameConstraints) {
			nc = parseConstraints(ext.Value)
			nc.critical = ext.Critical
			break
		}
	}
	if c.nc == nil {
		c.nc = map[*x509.Certificate]*constraints{}
	}
	c.nc[cert] = nc
	return nc
}

var errMalformed = errors.New("malformed nameConstraints extension")

// parseConstraints reads
//
//	NameConstraints ::= SEQUENCE {
//	     permittedSubtrees       [0]     GeneralSubtrees OPTIONAL,
//	     excludedSubtrees        [1]     GeneralSubtrees OPTIONAL }
//	GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree
//	GeneralSubtree ::= SEQUENCE {
//	     base                    GeneralName,
//	     minimum         [0]     BaseDistance DEFAULT 0,
//	     maximum         [1]     BaseDistance OPTIONAL }
//
// (implicit tags). RFC 5280 says minimum MUST be 0 and maximum absent; a
// subtree with other values is taken as an unsupported form.
func parseConstraints(der []byte) *constraints {
	nc := &constraints{}
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		nc.err = errMalformed
		return nc
	}
	for i, side := range []*subtrees{&nc.permitted, &nc.excluded} {
		var trees cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&trees, &present, cbasn1.Tag(i).ContextSpecific().Constructed()) {
			nc.err = errMalformed
			return nc
		}
		for !trees.Empty() {
			var tree, base cryptobyte.String
			var tag cbasn1.Tag
			if !trees.ReadASN1(&tree, cbasn1.SEQUENCE) || !tree.ReadAnyASN1(&base, &tag) {
				nc.err = errMalformed
				return nc
			}
			var minDist, maxDist cryptobyte.String
			var hasMin, hasMax bool
			if !tree.ReadOptionalASN1(&minDist, &hasMin, cbasn1.Tag(0).ContextSpecific()) ||
				!tree.ReadOptionalASN1(&maxDist, &hasMax, cbasn1.Tag(1).ContextSpecific()) || !tree.Empty() {
				nc.err = errMalformed
				return nc
			}
			if hasMin && string(minDist) != "\x00" || hasMax {
				nc.unsupport(formName(tag) + " names with a minimum or maximum distance")
				continue
			}
			if err := nc.add(side, tag, base); err != nil {
				nc.err = err
				return nc
			}
		}
	}
	if !seq.Empty() {
		nc.err = errMalformed
	}
	return nc
}

func formName(tag cbasn1.Tag) string {
	if n := int(tag &^ (0x80 | 0x20)); n < len(formNames) {
		return formNames[n]
	}
	return fmt.Sprintf("[%d]", int(tag&0x1f))
}

func (nc *constraints) unsupport(form string) {
	if nc.unsupported == "" {
		nc.unsupported = form
	}
}

// add files one GeneralSubtree base.
func (nc *constraints) add(side *subtrees, tag cbasn1.Tag, base cryptobyte.String) error {
	switch tag {
	case tagRFC822:
		s := string(base)
		if !isASCII(s) {
			return fmt.Errorf("rfc822Name constraint %q is not an IA5String", s)
		}
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			side.email = append(side.email, mailbox{raw: s, local: unquote(s[:i]), domain: strings.ToLower(s[i+1:]), hasLocal: true})
		} else {
			side.email = append(side.email, mailbox{raw: s, domain: strings.ToLower(s)})
		}
	case tagDNS:
		if !isASCII(string(base)) {
			return fmt.Errorf("dNSName constraint %q is not an IA5String", string(base))
		}
		side.dns = append(side.dns, strings.ToLower(string(base)))
	case tagURI:
		if !isASCII(string(base)) {
			return fmt.Errorf("URI constraint %q is not an IA5String", string(base))
		}
		side.uri = append(side.uri, strings.ToLower(string(base)))
	case tagDirectory:
		var name cryptobyte.String
		if !base.ReadASN1Element(&name, cbasn1.SEQUENCE) || !base.Empty() {
			return errMalformed
		}
		d, err := parseDName(name)
		if err != nil {
			return err
		}
		side.dir = append(side.dir, d)
		for _, r := range d {
			side.dirSize += len(r)
		}
	case tagIP:
		n := len(base) / 2
		if len(base) != 2*net.IPv4len && len(base) != 2*net.IPv6len {
			return fmt.Errorf("iPAddress constraint of %d bytes", len(base))
		}
		mask := net.IPMask(base[n:])
		if ones, bits := mask.Size(); ones == 0 && bits == 0 {
			return fmt.Errorf("iPAddress constraint with a non-contiguous mask %x", []byte(mask))
		}
		side.ip = append(side.ip, &net.IPNet{IP: net.IP(base[:n]).Mask(mask), Mask: mask})
	case tagOtherName:
		var oid asn1.ObjectIdentifier
		if !base.ReadASN1ObjectIdentifier(&oid) {
			return errMalformed
		}
		if oid.Equal(oidSmtpUTF8Mailbox) {
			if nc.forbidden == "" {
				nc.forbidden = "an SmtpUTF8Mailbox name constraint, which RFC 9598 forbids (CAs must constrain mail addresses with rfc822Name)"
			}
			return nil
		}
		nc.unsupport("otherName " + oid.String() + " names")
	default:
		nc.unsupport(formName(tag) + " names")
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// certNames are the names of a certificate that name constraints bind.
type certNames struct {
	dirs   []dname   // the subject (unless empty) and subjectAltName directoryNames
	emails []mailbox // certinfo.Addresses: emailAddress, rfc822Name, SmtpUTF8Mailbox
	dns    []string
	uris   []*url.URL
	ips    []net.IP
	err    error // the subject or subjectAltName could not be read
}

func (c *Cache) namesOf(cert *x509.Certificate) *certNames {
	if n, ok := c.names[cert]; ok {
		return n
	}
	n := &certNames{dns: cert.DNSNames, uris: cert.URIs, ips: cert.IPAddresses}
	for _, a := range certinfo.Addresses(cert) {
		n.emails = append(n.emails, parseMailbox(a))
	}
	subject := cryptobyte.String(cert.RawSubject)
	var rdns cryptobyte.String
	if !subject.ReadASN1(&rdns, cbasn1.SEQUENCE) {
		n.err = errors.New("its subject cannot be read")
	} else if !rdns.Empty() {
		if d, err := parseDName(cryptobyte.String(cert.RawSubject)); err == nil {
			n.dirs = append(n.dirs, d)
		} else {
			n.err = fmt.Errorf("its subject cannot be read: %w", err)
		}
	}
	if err := sanDirectoryNames(cert, n); err != nil && n.err == nil {
		n.err = err
	}
	if c.names == nil {
		c.names = map[*x509.Certificate]*certNames{}
	}
	c.names[cert] = n
	return n
}

// sanValue returns the value of c's subjectAltName extension, nil if none.
func sanValue(c *x509.Certificate) []byte {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			return ext.Value
		}
	}
	return nil
}

// sanDirectoryNames adds the subjectAltName directoryNames, which
// crypto/x509 does not expose.
func sanDirectoryNames(cert *x509.Certificate, n *certNames) error {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		s := cryptobyte.String(ext.Value)
		var names cryptobyte.String
		if !s.ReadASN1(&names, cbasn1.SEQUENCE) {
			return errors.New("its subjectAltName cannot be read")
		}
		for !names.Empty() {
			var gn cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&gn, &tag) {
				return errors.New("its subjectAltName cannot be read")
			}
			if tag != tagDirectory {
				continue
			}
			var name cryptobyte.String
			if !gn.ReadASN1Element(&name, cbasn1.SEQUENCE) {
				return errors.New("a subjectAltName directoryName cannot be read")
			}
			d, err := parseDName(name)
			if err != nil {
				return fmt.Errorf("a subjectAltName directoryName cannot be read: %w", err)
			}
			n.dirs = append(n.dirs, d)
		}
	}
	return nil
}

// mailbox is a mail address split for constraint matching: the local part
// unquoted, the domain in lower-case A-labels (RFC 9598 section 6: the
// domain of an SmtpUTF8Mailbox is compared in A-labels). ok is false if
// the address has no domain or the domain cannot be converted.
type mailbox struct {
	raw, local, domain string
	hasLocal           bool // a constraint naming one mailbox
	ok                 bool
}

func parseMailbox(a string) mailbox {
	m := mailbox{raw: a}
	i := strings.LastIndexByte(a, '@')
	if i <= 0 || i == len(a)-1 {
		return m
	}
	m.local, m.domain = unquote(a[:i]), a[i+1:]
	if !isASCII(m.domain) {
		d, err := idna.Lookup.ToASCII(m.domain)
		if err != nil {
			return m
		}
		m.domain = d
	}
	m.domain = strings.ToLower(m.domain)
	m.ok = true
	return m
}

// unquote returns the content of a quoted-string local part ("a b"), the
// local part itself otherwise (RFC 5321 section 4.1.2).
func unquote(local string) string {
	if len(local) < 2 || local[0] != '"' || local[len(local)-1] != '"' {
		return local
	}
	var b strings.Builder
	for i := 1; i < len(local)-1; i++ {
		if local[i] == '\\' && i+1 < len(local)-1 {
			i++
		}
		b.WriteByte(local[i])
	}
	return b.String()
}

// checkNames applies the name constraints of the last certificate of
// path, a CA just found to have issued the one below it, to every
// certificate below it but self-issued intermediates (RFC 5280 6.1.3 (b)).
func (b *builder) checkNames(path []*x509.Certificate) *Error {
	ca := path[len(path)-1]
	nc := b.cache.constraintsOf(ca)
	if nc == nil {
		return nil
	}
	fail := func(detail string) *Error { return &Error{Reason: NameConstraint, Cert: ca, Detail: detail} }
	switch {
	case nc.err != nil:
		return fail(fmt.Sprintf("has name constraints that cannot be read: %v", nc.err))
	case nc.forbidden != "":
		return fail("has " + nc.forbidden)
	case nc.critical && nc.unsupported != "":
		return fail(fmt.Sprintf("has a critical name constraint on %s, which cannot be checked", nc.unsupported))
	case nc.permitted.empty() && nc.excluded.empty():
		return nil
	}
	for i, c := range path[:len(path)-1] {
		if i > 0 && bytes.Equal(c.RawSubject, c.RawIssuer) {
			continue // self-issued intermediate
		}
		if err := b.checkCertNames(c, ca, nc); err != nil {
			return err
		}
	}
	return nil
}

// checkCertNames checks every name of c against nc, the constraints of ca.
func (b *builder) checkCertNames(c, ca *x509.Certificate, nc *constraints) *Error {
	names := b.cache.namesOf(c)
	who := certLabel(ca)
	if names.err != nil {
		return &Error{Reason: NameConstraint, Cert: c, Detail: fmt.Sprintf("cannot be checked against the name constraints of %s: %v", who, names.err)}
	}
	// judge runs one form: match reports whether name is within one
	// constraint (excluded: read the broad way); it returns the verdict.
	var err *Error
	judge := func(kind, name string, permitted, excluded []string, match func(i int, excluded bool) bool) bool {
		if b.comparisons += len(permitted) + len(excluded); b.comparisons > maxNameComparisons {
			b.exhaust(fmt.Sprintf("has too many names to check against name constraints (gave up after %d comparisons)", maxNameComparisons))
			err = b.exhausted
			return false
		}
		for i := range excluded {
			if match(i, true) {
				err = &Error{Reason: NameConstraint, Cert: c, Detail: fmt.Sprintf("has the %s %s, which the name constraints of %s exclude (excluded: %s)", kind, name, who, excluded[i])}
				return false
			}
		}
		if len(permitted) == 0 {
			return true
		}
		for i := range permitted {
			if match(i, false) {
				return true
			}
		}
		err = &Error{Reason: NameConstraint, Cert: c, Detail: fmt.Sprintf("has the %s %s, which the name constraints of %s do not permit (permitted: %s)", kind, name, who, list(permitted))}
		return false
	}
	p, x := &nc.permitted, &nc.excluded
	if len(p.email)+len(x.email) > 0 {
		for _, m := range names.emails {
			if !m.ok {
				return &Error{Reason: NameConstraint, Cert: c, Detail: fmt.Sprintf("has the mail address %q, which cannot be checked against the name constraints of %s", m.raw, who)}
			}
			if !judge("mail address", m.raw, texts(p.email, mailboxText), texts(x.email, mailboxText), func(i int, ex bool) bool {
				if ex {
					return matchMailbox(m, x.email[i], true)
				}
				return matchMailbox(m, p.email[i], false)
			}) {
				return err
			}
		}
	}
	if len(p.dns)+len(x.dns) > 0 {
		for _, d := range names.dns {
			if !judge("DNS name", d, p.dns, x.dns, func(i int, ex bool) bool {
				if ex {
					return matchDNS(d, x.dns[i], true)
				}
				return matchDNS(d, p.dns[i], false)
			}) {
				return err
			}
		}
	}
	if len(p.uri)+len(x.uri) > 0 {
		for _, u := range names.uris {
			host := strings.ToLower(u.Hostname())
			if host == "" || net.ParseIP(host) != nil {
				return &Error{Reason: NameConstraint, Cert: c, Detail: fmt.Sprintf("has the URI %s, whose host cannot be checked against the name constraints of %s", u, who)}
			}
			if !judge("URI", u.String(), p.uri, x.uri, func(i int, ex bool) bool {
				if ex {
					return matchHost(host, x.uri[i], true)
				}
				return matchHost(host, p.uri[i], false)
			}) {
				return err
			}
		}
	}
	if len(p.ip)+len(x.ip) > 0 {
		for _, ip := range names.ips {
			if !judge("IP address", ip.String(), texts(p.ip, (*net.IPNet).String), texts(x.ip, (*net.IPNet).String), func(i int, ex bool) bool {
				if ex {
					return matchIP(ip, x.ip[i], true)
				}
				return matchIP(ip, p.ip[i], false)
			}) {
				return err
			}
		}
	}
	if len(p.dir)+len(x.dir) > 0 {
		for _, d := range names.dirs {
			b.comparisons += p.dirSize + x.dirSize
			if !judge("directory name", d.String(), texts(p.dir, dname.String), texts(x.dir, dname.String), func(i int, ex bool) bool {
				if ex {
					return d.hasPrefix(x.dir[i])
				}
				return d.hasPrefix(p.dir[i])
			}) {
				return err
			}
		}
	}
	return nil
}

func texts[T any](ts []T, f func(T) string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = f(t)
	}
	return out
}

func mailboxText(m mailbox) string { return m.raw }

// list joins up to three constraints for an error.
func list(cs []string) string {
	var out []string
	for _, c := range cs[:min(len(cs), 3)] {
		if c == "" {
			c = `""`
		}
		out = append(out, c)
	}
	if len(cs) > 3 {
		return strings.Join(out, ", ") + fmt.Sprintf(" and %d more", len(cs)-3)
	}
	return strings.Join(out, ", ")
}

// certLabel names a CA in an error: its common name, else its whole name.
func certLabel(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("%q", certinfo.Name(c.Subject))
}

// matchMailbox reports whether m is within the rfc822Name constraint c
// (RFC 5280 4.2.1.10): a mailbox ("alice@example.com"), a host
// ("example.com": every mailbox on that host) or a domain (".example.com":
// every mailbox on a host within it). broad reads the constraint as an
// exclusion should: a mailbox's local part without regard to case, a host
// with its subdomains (as crypto/x509 reads it), a trailing dot ignored.
func matchMailbox(m, c mailbox, broad bool) bool {
	if c.raw == "" {
		return true // the empty constraint matches everything (crypto/x509, NSS)
	}
	if c.hasLocal {
		if broad {
			return strings.EqualFold(m.local, c.local) && trimDot(m.domain) == trimDot(c.domain)
		}
		return m.local == c.local && m.domain == c.domain
	}
	return matchHost(m.domain, c.domain, broad)
}

// matchHost reports whether host is within a host-or-domain constraint
// (rfc822Name without local part, URI): ".example.com" is every host
// within example.com but not example.com itself; "example.com" is that
// host (RFC 5280) and, when broad, its subdomains too (crypto/x509).
func matchHost(host, c string, broad bool) bool {
	if broad {
		host, c = trimDot(host), trimDot(c)
	}
	if c == "" {
		return true
	}
	if strings.HasPrefix(c, ".") {
		return len(host) > len(c) && strings.HasSuffix(host, c)
	}
	return host == c || broad && strings.HasSuffix(host, "."+c)
}

// matchDNS reports whether name is within a dNSName constraint: the name
// itself and any name with labels added on the left ("example.com" matches
// "host.example.com", not "badexample.com"); a leading dot requires one
// label more, as crypto/x509 reads it.
func matchDNS(name, c string, broad bool) bool {
	name = strings.ToLower(name)
	if broad {
		name, c = trimDot(name), trimDot(c)
	}
	if c == "" {
		return true
	}
	if strings.HasPrefix(c, ".") {
		return len(name) > len(c) && strings.HasSuffix(name, c)
	}
	return name == c || strings.HasSuffix(name, "."+c)
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// matchIP reports whether ip is in the range c. An IPv4 address written as
// an IPv4-mapped IPv6 address is also looked for as IPv4 when broad.
func matchIP(ip net.IP, c *net.IPNet, broad bool) bool {
	if len(ip) == len(c.IP) && c.Contains(ip) {
		return true
	}
	if v4 := ip.To4(); broad && v4 != nil && len(c.IP) == net.IPv4len {
		return c.Contains(v4)
	}
	return false
}

// dname is a distinguished name as RDNs in order, each a set of
// attribute type and value pairs prepared for comparison (RFC 5280 7.1).
type dname []rdn

type rdn []atv

type atv struct {
	oid   string // the encoded OBJECT IDENTIFIER
	str   bool   // value is a directory string, prepared
	value string // prepared string, or the whole encoded value
	text  string // for errors
}

// attrNames are the short names of the usual name attributes.
var attrNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
	"2.5.4.10": "O", "2.5.4.11": "OU", "1.2.840.113549.1.9.1": "E", "0.9.2342.19200300.100.1.25": "DC",
}

func (d dname) String() string {
	parts := make([]string, 0, len(d))
	for i := len(d) - 1; i >= 0; i-- {
		var ps []string
		for _, a := range d[i] {
			ps = append(ps, a.text)
		}
		parts = append(parts, strings.Join(ps, "+"))
	}
	return strings.Join(parts, ",")
}

// hasPrefix reports whether c is a prefix of d: its RDNs are d's first
// ones, each equal (RFC 5280 4.2.1.10: "any name within the subtree").
func (d dname) hasPrefix(c dname) bool {
	if len(c) > len(d) {
		return false
	}
	for i := range c {
		if !d[i].equal(c[i]) {
			return false
		}
	}
	return true
}

// equal reports whether two RDNs hold the same set of attributes; both
// are sorted (parseDName), so this is linear however many they hold.
func (r rdn) equal(o rdn) bool {
	return slices.EqualFunc(r, o, func(a, b atv) bool {
		if atvComparisons != nil {
			*atvComparisons++
		}
		return a.oid == b.oid && a.str == b.str && a.value == b.value
	})
}

// atvComparisons, when not nil, counts the attribute comparisons of
// rdn.equal: TestBuildDirectoryNameCost holds name constraints to linear
// cost by counting them, not by timing them.
var atvComparisons *int

// parseDName reads Name ::= SEQUENCE OF RelativeDistinguishedName,
// RDN ::= SET OF AttributeTypeAndValue,
// AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }.
func parseDName(der cryptobyte.String) (dname, error) {
	var rdns cryptobyte.String
	if !der.ReadASN1(&rdns, cbasn1.SEQUENCE) || !der.Empty() {
		return nil, errors.New("malformed name")
	}
	var d dname
	for !rdns.Empty() {
		var set cryptobyte.String
		if !rdns.ReadASN1(&set, cbasn1.SET) {
			return nil, errors.New("malformed relative distinguished name")
		}
		var r rdn
		for !set.Empty() {
			var seq, oidBytes, value cryptobyte.String
			var tag cbasn1.Tag
			var oid asn1.ObjectIdentifier
			if !set.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&oidBytes, cbasn1.OBJECT_IDENTIFIER) ||
				!seq.ReadAnyASN1Element(&value, &tag) || !seq.Empty() {
				return nil, errors.New("malformed attribute")
			}
			o := oidBytes
			if !o.ReadASN1ObjectIdentifier(&oid) {
				return nil, errors.New("malformed attribute type")
			}
			a := atv{oid: string(oidBytes)}
			var content cryptobyte.String
			var t cbasn1.Tag
			v := value
			v.ReadAnyASN1(&content, &t)
			if s, ok := directoryString(t, content); ok {
				a.str, a.value = true, prepare(s)
				a.text = attrName(oid) + "=" + s
			} else {
				a.value = string(value)
				a.text = fmt.Sprintf("%s=#%x", attrName(oid), []byte(value))
			}
			r = append(r, a)
		}
		slices.SortFunc(r, func(a, b atv) int {
			return cmp.Or(strings.Compare(a.oid, b.oid), cmp.Compare(btoi(a.str), btoi(b.str)), strings.Compare(a.value, b.value))
		})
		d = append(d, r)
	}
	return d, nil
}

func attrName(oid asn1.ObjectIdentifier) string {
	if n, ok := attrNames[oid.String()]; ok {
		return n
	}
	return oid.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// directoryString decodes the string types a name's attributes use.
func directoryString(tag cbasn1.Tag, b []byte) (string, bool) {
	switch tag {
	case cbasn1.PrintableString, cbasn1.UTF8String, cbasn1.IA5String:
		if !utf8.Valid(b) {
			return "", false
		}
		return string(b), true
	case cbasn1.T61String: // read as Latin-1, as most do
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	case cbasn1.Tag(30): // BMPString, UTF-16 big-endian
		if len(b)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(u)), true
	case cbasn1.Tag(28): // UniversalString, UTF-32 big-endian
		if len(b)%4 != 0 {
			return "", false
		}
		r := make([]rune, len(b)/4)
		for i := range r {
			r[i] = rune(binary.BigEndian.Uint32(b[4*i:]))
		}
		return string(r), true
	}
	return "", false
}

// prepare folds a directory string for caseIgnoreMatch, roughly as LDAP
// string preparation does (RFC 4518): case folded, leading and trailing
// white space removed, inner runs of white space made one space.
func prepare(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
