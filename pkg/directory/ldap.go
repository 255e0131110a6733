package directory

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/smimectl/smimectl/internal/ldaptls"
)

// DefaultTimeout bounds connecting and each operation when [Config.Timeout]
// is zero.
const DefaultTimeout = 30 * time.Second

// DefaultMaxEntries bounds the entries one search reads when
// [Config.MaxEntries] is zero: a server that pages on forever is stopped.
const DefaultMaxEntries = 1_000_000

// DefaultMaxResponseBytes bounds what the server may send for one operation
// (one page of a search) when [Config.MaxResponseBytes] is zero.
const DefaultMaxResponseBytes = 64 << 20

// ErrResponseTooLarge is a server that sent more than MaxResponseBytes for
// one operation: the connection is closed there, so a hostile or broken
// server can't make the client hold more.
var ErrResponseTooLarge = errors.New("directory: the server's answer to one request is larger than the limit")

// maxReferrals is how many continuation references a search keeps.
const maxReferrals = 100

// Config says how [Dial] reaches and binds to a directory.
type Config struct {
	// URL is ldap://host:port or ldaps://host:port; a path (a base DN) is
	// ignored here (see [BaseFromURL]).
	URL string
	// StartTLS upgrades an ldap:// connection to TLS before binding.
	StartTLS bool
	// RootCAs verify the server's TLS certificate; nil means the system's.
	RootCAs *x509.CertPool
	// BindDN, if set, is bound with Password (simple bind); else the
	// connection stays anonymous.
	BindDN string
	// Password returns the bind password; nil means empty.
	Password func() ([]byte, error)
	// Timeout bounds connecting and each operation (each page of a search
	// counts as one). Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxEntries bounds the entries of one search; zero means
	// DefaultMaxEntries.
	MaxEntries int
	// MaxResponseBytes bounds the bytes read for one operation (each page
	// of a search counts as one); zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// budgetConn is a connection that reads at most max bytes between resets.
type budgetConn struct {
	net.Conn
	max  int64
	used atomic.Int64
	over atomic.Bool
}

func (b *budgetConn) Read(p []byte) (int, error) {
	left := b.max - b.used.Load()
	if left <= 0 {
		b.over.Store(true)
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.Conn.Read(p)
	b.used.Add(int64(n))
	return n, err
}

// reset starts the budget of a new operation.
func (b *budgetConn) reset() { b.used.Store(0) }

// BaseFromURL returns the base DN in the path of an ldap:// URL, or "".
func BaseFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// LDAPConn is a [Conn] over LDAP, from [Dial]. Close it when done.
type LDAPConn struct {
	c          *ldap.Conn
	timeout    time.Duration
	maxEntries int
	budget     *budgetConn
}

// fault is err, or ErrResponseTooLarge if the budget ran out.
func (l *LDAPConn) fault(op, dn string, err error) error {
	if l.budget.over.Load() {
		return fmt.Errorf("%w (%d bytes) while %s", ErrResponseTooLarge, l.budget.max, opDN(op, dn))
	}
	return classify(op, dn, err)
}

// Dial connects to the directory cfg names and binds.
func Dial(ctx context.Context, cfg Config) (*LDAPConn, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, fmt.Errorf("directory: invalid URL %q (want ldap:// or ldaps://host:port)", cfg.URL)
	}
	if cfg.StartTLS && u.Scheme == "ldaps" {
		return nil, fmt.Errorf("directory: URL %q: StartTLS is for ldap://; ldaps:// is TLS already", cfg.URL)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	tlsConf, verifyErr := ldaptls.VerifyingConfig(u.Hostname(), cfg.RootCAs)
	maxBytes := cfg.MaxResponseBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme])
	}
	raw, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, classify("connecting", "", err)
	}
	budget := &budgetConn{Conn: raw, max: maxBytes}
	var nc net.Conn = budget
	if u.Scheme == "ldaps" {
		tc := tls.Client(budget, tlsConf)
		hctx, cancel := context.WithTimeout(ctx, timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			if *verifyErr != nil {
				return nil, fmt.Errorf("directory: connecting: %w", *verifyErr)
			}
			return nil, classify("connecting", "", err)
		}
		nc = tc
	}
	c := ldap.NewConn(nc, u.Scheme == "ldaps")
	c.Start()
	c.SetTimeout(timeout)
	if cfg.StartTLS {
		budget.reset()
		if err := c.StartTLS(tlsConf); err != nil {
			c.Close()
			if *verifyErr != nil {
				return nil, fmt.Errorf("directory: StartTLS: %w", *verifyErr)
			}
			return nil, classify("StartTLS", "", err)
		}
	}
	if cfg.BindDN != "" {
		var pw []byte
		if cfg.Password != nil {
			if pw, err = cfg.Password(); err != nil {
				c.Close()
				return nil, err
			}
		}
		budget.reset()
		if err := c.Bind(cfg.BindDN, string(pw)); err != nil {
			c.Close()
			return nil, classify("binding as", cfg.BindDN, err)
		}
	}
	maxEntries := cfg.MaxEntries
	if maxEntries == 0 {
		maxEntries = DefaultMaxEntries
	}
	return &LDAPConn{c: c, timeout: timeout, maxEntries: maxEntries, budget: budget}, nil
}

// Close closes the connection.
func (l *LDAPConn) Close() error { return l.c.Close() }

// RootDSE reads the root DSE.
func (l *LDAPConn) RootDSE(ctx context.Context) (*Entry, error) {
	e, err := l.base(ctx, "", []string{"namingContexts", "defaultNamingContext"})
	if err != nil {
		return nil, l.fault("reading the root DSE", "", err)
	}
	if e == nil {
		return &Entry{Attrs: map[string][][]byte{}}, nil
	}
	return e, nil
}

// Read reads one entry, nil if it does not exist.
func (l *LDAPConn) Read(ctx context.Context, dn string, attrs []string) (*Entry, error) {
	e, err := l.base(ctx, dn, attrs)
	if err != nil {
		return nil, l.fault("reading", dn, err)
	}
	return e, nil
}

func (l *LDAPConn) base(ctx context.Context, dn string, attrs []string) (*Entry, error) {
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, l.timeLimit(), false, "(objectClass=*)", attrs, nil)
	var found *Entry
	_, err := l.stream(ctx, req, func(e *Entry) error {
		if found == nil {
			found = e
		}
		return nil
	}, nil)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	return found, err
}

func (l *LDAPConn) timeLimit() int { return int(l.timeout/time.Second) + 1 }

// Search runs a paged search (RFC 2696), streaming entries to fn.
func (l *LDAPConn) Search(ctx context.Context, req SearchRequest, fn func(*Entry) error) ([]string, error) {
	size := req.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	paging := ldap.NewControlPaging(uint32(size))
	var refs []string
	seen := 0
	for {
		sr := ldap.NewSearchRequest(req.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, l.timeLimit(), false,
			req.Filter, req.Attrs, []ldap.Control{paging})
		n := 0
		controls, err := l.stream(ctx, sr, func(e *Entry) error {
			n++
			if seen++; seen > l.maxEntries {
				return fmt.Errorf("directory: searching: more than %d entries; narrow the search", l.maxEntries)
			}
			return fn(e)
		}, func(ref string) {
			if len(refs) < maxReferrals {
				refs = append(refs, ref)
			}
		})
		if err != nil {
			var cb *callbackError
			if errors.As(err, &cb) {
				return refs, cb.err
			}
			return refs, l.fault("searching", req.Base, err)
		}
		ctrl, _ := ldap.FindControl(controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if ctrl == nil || len(ctrl.Cookie) == 0 {
			return refs, nil
		}
		if n == 0 && bytes.Equal(ctrl.Cookie, paging.Cookie) {
			return refs, &UnavailableError{Op: "searching", Err: errors.New("the server returned an empty page and the same paging cookie again")}
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// stream runs one search request, calling fn for each entry and ref for each
// continuation reference, and returns the controls of its result.
func (l *LDAPConn) stream(ctx context.Context, req *ldap.SearchRequest, fn func(*Entry) error, ref func(string)) ([]ldap.Control, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.budget.reset()
	r := l.c.SearchAsync(ctx, req, 16)
	var controls []ldap.Control
	for r.Next() {
		if e := r.Entry(); e != nil {
			if err := fn(toEntry(e)); err != nil {
				return nil, &callbackError{err}
			}
		}
		if s := r.Referral(); s != "" && ref != nil {
			ref(s)
		}
		if c := r.Controls(); len(c) > 0 {
			controls = c
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ldap.NewError(ldap.ErrorNetwork, err)
	}
	return controls, nil
}

// callbackError is the error of a caller's function, passed through as is.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

func toEntry(e *ldap.Entry) *Entry {
	out := &Entry{DN: e.DN, Attrs: make(map[string][][]byte, len(e.Attributes))}
	for _, a := range e.Attributes {
		out.Attrs[a.Name] = append(out.Attrs[a.Name], a.ByteValues...)
	}
	return out
}

// Modify sends one modify operation.
func (l *LDAPConn) Modify(ctx context.Context, dn string, mods []Mod) error {
	req := ldap.NewModifyRequest(dn, nil)
	for _, m := range mods {
		vals := make([]string, len(m.Values))
		for i, v := range m.Values {
			vals[i] = string(v)
		}
		switch m.Op {
		case Add:
			req.Add(m.Attr, vals)
		case Delete:
			req.Delete(m.Attr, vals)
		case Replace:
			req.Replace(m.Attr, vals)
		}
	}
	if err := ctx.Err(); err != nil {
		return &UnavailableError{Op: "modifying", Err: err}
	}
	l.budget.reset()
	if err := l.c.Modify(req); err != nil {
		return l.fault("modifying", dn, err)
	}
	return nil
}

// classify turns an LDAP error into this package's types.
func classify(op, dn string, err error) error {
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.ErrorNetwork, ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultTimeLimitExceeded,
			ldap.LDAPResultServerDown, ldap.LDAPResultTimeout:
			if tlsFault(err) {
				break
			}
			return &UnavailableError{Op: opDN(op, dn), Err: err}
		case ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInappropriateAuthentication,
			ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultStrongAuthRequired:
			return &PermissionError{Op: verbs[op], DN: dn, Err: err}
		case ldap.LDAPResultNoSuchObject:
			if op == "searching" {
				return &NoSuchBaseError{Base: dn, Err: err}
			}
		case ldap.LDAPResultInappropriateMatching:
			return fmt.Errorf("%s %q: %w (%v)", op, dn, ErrNoEquality, err)
		case ldap.LDAPResultReferral:
			return &ReferralError{Op: opDN(op, dn), URLs: []string{le.Error()}}
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && !tlsFault(err) {
		return &UnavailableError{Op: opDN(op, dn), Err: err}
	}
	if dn != "" {
		return fmt.Errorf("directory: %s %q: %w", op, dn, err)
	}
	return fmt.Errorf("directory: %s: %w", op, err)
}

// verbs name an operation for a PermissionError ("permission to modify").
var verbs = map[string]Operation{"binding as": OpBind, "modifying": OpModify, "reading": OpRead, "searching": OpSearch,
	"reading the root DSE": OpReadRootDSE, "StartTLS": OpStartTLS, "connecting": OpConnect}

func opDN(op, dn string) string {
	if dn == "" {
		return op
	}
	return fmt.Sprintf("%s %q", op, dn)
}

// tlsFault reports a TLS certificate the client refused: a setup problem,
// not worth retrying.
func tlsFault(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &cv)
}
