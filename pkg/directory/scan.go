package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// UsersFilter selects the users Scan reads: person entries (inetOrgPerson
// and Active Directory's user derive from person).
const UsersFilter = "(objectClass=person)"

// ScanOptions say what [Scan] reads.
type ScanOptions struct {
	// Base is the DN searched below. If empty, [DefaultBase] finds it.
	Base string
	// Filter, if set, narrows the users (an LDAP filter, RFC 4515, ANDed
	// with UsersFilter).
	Filter string
	// Attr is the attribute read: AttrSMIME (if empty) or AttrCert.
	Attr string
	// PageSize is the search's page size; zero means DefaultPageSize.
	PageSize int
	// Judge judges each value; its zero Now is time.Now.
	Judge Judge
}

// User is a user entry with values in the attribute scanned.
type User struct {
	DN string
	// Name is the displayName, else the cn.
	Name   string
	Mail   []string
	Attr   string
	Values []Value
}

// Summary counts what [Scan] read, in the words of ListSMIMECerts
// ("Processed N users. Found M userSMIMECertificate attributes with values.").
type Summary struct {
	Base string
	Attr string
	// Users is the number of user entries read.
	Users int
	// WithValues is the number of users whose attribute has values.
	WithValues int
	// Values is the number of values, Unreadable of those that could not be
	// read as certificates.
	Values, Unreadable int
	// Referrals are the continuation references the search met, not
	// followed (at most 100).
	Referrals []string
	// Outside counts the entries the server returned that are not below
	// the base (or whose DN does not parse): ignored, never changed.
	Outside int
}

// under returns a function that reports whether a DN is base or below it.
func under(base string) (func(string) bool, error) {
	b, err := ldap.ParseDN(base)
	if err != nil {
		return nil, fmt.Errorf("directory: base %q: %w", base, err)
	}
	return func(dn string) bool {
		d, err := ldap.ParseDN(dn)
		return err == nil && (b.EqualFold(d) || b.AncestorOfFold(d))
	}, nil
}

// DefaultBase returns the base DN to search when none is given, as
// ListSMIMECerts takes the default naming context: the root DSE's
// defaultNamingContext (Active Directory), else its one namingContexts value.
func DefaultBase(ctx context.Context, c Conn) (string, error) {
	dse, err := c.RootDSE(ctx)
	if err != nil {
		return "", err
	}
	if d := dse.First("defaultNamingContext"); d != "" {
		return d, nil
	}
	var ncs []string
	for _, v := range dse.Get("namingContexts") {
		ncs = append(ncs, string(v))
	}
	switch len(ncs) {
	case 0:
		return "", ErrNoNamingContext
	case 1:
		return ncs[0], nil
	}
	return "", fmt.Errorf("%w, and several naming contexts (%s)", ErrNoNamingContext, strings.Join(ncs, "; "))
}

// CheckFilter returns f as a parenthesised filter, or an error if it does not
// parse as an LDAP filter.
func CheckFilter(f string) (string, error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return "", nil
	}
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	if _, err := ldap.CompileFilter(f); err != nil {
		return "", fmt.Errorf("directory: filter %q: %w", f, err)
	}
	return f, nil
}

// Scan reads every user below the base, page by page, and calls fn with
// each one whose attribute has values, in the directory's order. Only one
// page of entries is held at a time.
func Scan(ctx context.Context, c Conn, opts ScanOptions, fn func(*User) error) (*Summary, error) {
	attr := opts.Attr
	if attr == "" {
		attr = AttrSMIME
	}
	if opts.Judge.Now.IsZero() {
		clock := time.Now // the documented default
		opts.Judge.Now = clock()
	}
	base := opts.Base
	if base == "" {
		var err error
		if base, err = DefaultBase(ctx, c); err != nil {
			return nil, err
		}
	}
	filter := UsersFilter
	if opts.Filter != "" {
		f, err := CheckFilter(opts.Filter)
		if err != nil {
			return nil, err
		}
		filter = "(&" + UsersFilter + f + ")"
	}
	inBase, err := under(base)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Base: base, Attr: attr}
	refs, err := c.Search(ctx, SearchRequest{Base: base, Filter: filter, PageSize: opts.PageSize,
		Attrs: []string{"displayName", "cn", "mail", attr}}, func(e *Entry) error {
		if !inBase(e.DN) {
			sum.Outside++
			return nil
		}
		sum.Users++
		raw := e.Get(attr)
		if len(raw) == 0 {
			return nil
		}
		u := &User{DN: e.DN, Name: e.First("displayName"), Attr: attr}
		if u.Name == "" {
			u.Name = e.First("cn")
		}
		for _, m := range e.Get("mail") {
			u.Mail = append(u.Mail, string(m))
		}
		for _, r := range raw {
			v := opts.Judge.ReadValue(r)
			if v.Err != nil {
				sum.Unreadable++
			}
			u.Values = append(u.Values, v)
		}
		sum.WithValues++
		sum.Values += len(raw)
		return fn(u)
	})
	sum.Referrals = refs
	if err != nil {
		var ue *UnavailableError
		if errors.As(err, &ue) || sum.Users == 0 {
			return sum, err
		}
		return sum, fmt.Errorf("after %d users: %w", sum.Users, err)
	}
	return sum, nil
}
