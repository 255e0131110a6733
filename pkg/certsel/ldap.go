package certsel

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"golang.org/x/net/idna"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/ldaptls"
)

// DefaultLookupTimeout bounds an LDAP lookup when [LDAP.Timeout] is zero.
const DefaultLookupTimeout = 30 * time.Second

// Directory attributes holding certificates (RFC 4523, RFC 2798).
const (
	attrUserCert  = "userCertificate;binary"
	attrSMIMECert = "userSMIMECertificate"
)

// LDAP is a [Source] over a directory, as the guide's Chapter 6 "Digital
// Certificates and Active Directory Attributes" describes. It searches
// below the URL's base DN for entries whose mail, otherMailbox or
// proxyAddresses ("smtp:" prefixed) is the address, with the address
// escaped (RFC 4515) so it cannot add filter syntax, and reads the
// entry's userCertificate;binary (DER) and userSMIMECertificate (a PKCS#7
// bundle with the chain). The attribute read first ranks first: Outlook Web
// Access reads userCertificate first (the default), Outlook
// userSMIMECertificate ([LDAP.SMIMEFirst]); when the two disagree, so do the
// clients (the guide's Chapter 8 "Different certificates used").
//
// Entries of object class contact (Active Directory's mail contacts, copies of
// external people's certificates) are marked [Found.Contact], so that a user's
// own entry (person, inetOrgPerson, user) wins when both carry the address.
//
// The connection is plain ldap://, ldaps:// (TLS from the start), or
// ldap:// upgraded with StartTLS ([LDAP.StartTLS], RFC 4513 section 3);
// TLS checks the server's certificate against [LDAP.RootCAs] and the URL's
// host. Binding is anonymous or simple ([LDAP.BindDN]).
type LDAP struct {
	// URL is ldap://host:port/BASE-DN or ldaps://host:port/BASE-DN.
	URL string
	// StartTLS upgrades an ldap:// connection to TLS before binding or
	// searching; the lookup fails if the server refuses.
	StartTLS bool
	// RootCAs verify the server's certificate over TLS. If nil, the
	// system's roots do.
	RootCAs *x509.CertPool
	// BindDN, if set, is bound with Password before searching; else the
	// search is anonymous.
	BindDN string
	// Password returns the bind password; nil means empty.
	Password func() ([]byte, error)
	// SMIMEFirst ranks userSMIMECertificate before userCertificate.
	SMIMEFirst bool
	// Timeout bounds connecting and each operation. If zero, it is
	// DefaultLookupTimeout.
	Timeout time.Duration
}

func (l LDAP) String() string { return l.URL }

// Filter returns the search filter for address: its mail, otherMailbox or
// proxyAddresses is the address, in each of the forms addressForms gives.
func (l LDAP) Filter(address string) string {
	var b strings.Builder
	b.WriteString("(|")
	for _, f := range addressForms(address) {
		a := ldap.EscapeFilter(f)
		fmt.Fprintf(&b, "(mail=%s)(otherMailbox=%s)(proxyAddresses=smtp:%s)", a, a, a)
	}
	b.WriteString(")")
	return b.String()
}

// addressForms returns address and, when its domain is internationalised,
// the address with the domain's other spelling: the A-label form
// (xn--bcher-kva.example) of a U-label domain (bücher.example) and the
// reverse. A directory holds whichever its administrator typed (a mail
// attribute of IA5 syntax only the A-label), and the user may type either
// (issue #16 item 13); certificates compare them as one (certinfo.SameAddress).
// A domain that is not a valid IDNA name is searched as given only.
func addressForms(address string) []string {
	forms := []string{address}
	i := strings.LastIndexByte(address, '@')
	if i < 0 {
		return forms
	}
	local, domain := address[:i], address[i+1:]
	for _, conv := range []func(string) (string, error){idna.Lookup.ToASCII, idna.Lookup.ToUnicode} {
		d, err := conv(domain)
		if err != nil || strings.EqualFold(d, domain) {
			continue
		}
		if f := local + "@" + d; !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	return forms
}

// temporaryError marks a directory failure worth retrying.
type temporaryError struct{ err error }

func (e *temporaryError) Error() string   { return e.err.Error() }
func (e *temporaryError) Unwrap() error   { return e.err }
func (e *temporaryError) Temporary() bool { return true }

// Find searches the directory for address.
func (l LDAP) Find(ctx context.Context, address string) ([]Found, error) {
	u, err := url.Parse(l.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, fmt.Errorf("invalid directory URL %q (want ldap:// or ldaps://host:port/base-dn)", l.URL)
	}
	if l.StartTLS && u.Scheme == "ldaps" {
		return nil, fmt.Errorf("directory URL %q: StartTLS is for ldap://; ldaps:// is TLS already", l.URL)
	}
	tlsConf, verifyErr := ldaptls.VerifyingConfig(u.Hostname(), l.RootCAs)
	base := strings.TrimPrefix(u.Path, "/")
	timeout := l.Timeout
	if timeout == 0 {
		timeout = DefaultLookupTimeout
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	conn, err := ldap.DialURL(u.Scheme+"://"+u.Host, ldap.DialWithDialer(&net.Dialer{Timeout: timeout}), ldap.DialWithTLSConfig(tlsConf))
	if err != nil {
		if *verifyErr != nil {
			return nil, fmt.Errorf("connecting: %w", *verifyErr)
		}
		return nil, &temporaryError{fmt.Errorf("connecting: %w", err)}
	}
	defer conn.Close()
	conn.SetTimeout(timeout)
	if l.StartTLS {
		if err := conn.StartTLS(tlsConf); err != nil {
			if *verifyErr != nil {
				return nil, fmt.Errorf("StartTLS: %w", *verifyErr)
			}
			return nil, classifyLDAP("StartTLS", err)
		}
	}
	if l.BindDN != "" {
		var pw []byte
		if l.Password != nil {
			if pw, err = l.Password(); err != nil {
				return nil, err
			}
		}
		if err := conn.Bind(l.BindDN, string(pw)); err != nil {
			return nil, classifyLDAP("binding", err)
		}
	}
	attrs := []string{attrUserCert, attrSMIMECert}
	if l.SMIMEFirst {
		attrs[0], attrs[1] = attrs[1], attrs[0]
	}
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, int(timeout/time.Second)+1, false,
		l.Filter(address), append([]string{"objectClass", "mail", "otherMailbox", "proxyAddresses"}, attrs...), nil)
	res, err := conn.Search(req)
	if err != nil {
		return nil, classifyLDAP("searching", err)
	}
	var out []Found
	for _, e := range res.Entries {
		aliases := append(e.GetAttributeValues("mail"), e.GetAttributeValues("otherMailbox")...)
		for _, p := range e.GetAttributeValues("proxyAddresses") {
			if a, ok := cutPrefixFold(p, "smtp:"); ok {
				aliases = append(aliases, a)
			}
		}
		contact := slices.ContainsFunc(e.GetAttributeValues("objectClass"), func(c string) bool { return strings.EqualFold(c, "contact") })
		for rank, attr := range attrs {
			for _, v := range e.GetRawAttributeValues(attr) {
				certs, err := keys.ParseCertificates(v)
				if err != nil {
					return nil, fmt.Errorf("entry %q, %s: %w", e.DN, attr, err)
				}
				for _, f := range split(certs, e.DN+" "+attr) {
					f.Rank, f.Aliases, f.Contact = rank, aliases, contact
					out = append(out, f)
				}
			}
		}
	}
	return out, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// classifyLDAP marks network failures and timeouts as temporary.
func classifyLDAP(step string, err error) error {
	err = fmt.Errorf("%s: %w", step, err)
	var le *ldap.Error
	if errors.As(err, &le) && (le.ResultCode == ldap.ErrorNetwork || le.ResultCode == ldap.LDAPResultTimeLimitExceeded ||
		le.ResultCode == ldap.LDAPResultBusy || le.ResultCode == ldap.LDAPResultUnavailable || le.ResultCode == ldap.LDAPResultServerDown || le.ResultCode == ldap.LDAPResultTimeout) {
		return &temporaryError{err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &temporaryError{err}
	}
	return err
}
