package revocation

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// cached asks the on-disk cache for a CRL of each distribution point.
func (q *query) cached() (Outcome, bool) {
	if q.opts.CacheDir == "" {
		return Outcome{}, false
	}
	for _, u := range q.cert.CRLDistributionPoints {
		der, err := readCache(q.opts.CacheDir, u, q.opts.maxSize())
		if err != nil {
			continue // missing or unreadable: fetch it again
		}
		crl, err := parseCRLFor(der, q.cert, q.issuer)
		if err != nil {
			continue
		}
		scope, err := checkCRL(crl, q.cert, q.issuer)
		if err != nil {
			continue
		}
		o, err := q.answerFromCRL(crl, scope, SourceCache, u)
		if err != nil {
			continue // no longer current: fetch it again
		}
		return o, true
	}
	return Outcome{}, false
}

// distributionPoints fetches the CRL of each distribution point in turn
// until one answers. ctx carries the overall deadline.
func (q *query) distributionPoints(ctx context.Context) (Outcome, bool) {
	for _, u := range q.cert.CRLDistributionPoints {
		if ctx.Err() != nil {
			q.fail("%s was not tried: %v", u, q.opts.deadlineError(ctx))
			continue
		}
		q.urls = append(q.urls, u)
		var o Outcome
		var der []byte
		err, refused := q.fetchTimed(ctx, SourceURL, u, func(ctx context.Context) ([]byte, error) {
			return q.opts.fetchCRL(ctx, u)
		}, func(data []byte) (err error) {
			der = data
			o, err = q.useFetchedCRL(data, u)
			return err
		})
		if err != nil {
			q.fail("fetching %s: %v", u, err)
			continue
		}
		if refused != nil {
			q.fail("the CRL from %s was refused: %v", u, refused)
			continue
		}
		if q.opts.CacheDir != "" {
			// The cache only saves time: a failure to write it is not a
			// failure to check.
			_ = writeCache(q.opts.CacheDir, u, der)
		}
		return o, true
	}
	return Outcome{}, false
}

func (q *query) useFetchedCRL(der []byte, u string) (Outcome, error) {
	var nf *notForIssuerError
	crl, err := parseCRLFor(der, q.cert, q.issuer)
	if errors.As(err, &nf) {
		return Outcome{}, fmt.Errorf("the CRL is issued by %s, not by the certificate's issuer", nf.name)
	}
	if err != nil {
		return Outcome{}, err
	}
	scope, err := checkCRL(crl, q.cert, q.issuer)
	if err != nil {
		return Outcome{}, err
	}
	return q.answerFromCRL(crl, scope, SourceURL, u)
}

// fetchTimed runs one fetch under the per-URL timeout, hands what arrived to
// use, and records the fetch with its failure or use's, telling
// Options.FetchStarted and Options.FetchDone. err is the download's failure;
// refused is use's, when the answer arrived but was not one.
func (q *query) fetchTimed(ctx context.Context, src Source, u string, f func(context.Context) ([]byte, error), use func([]byte) error) (err, refused error) {
	uctx, cancel := context.WithTimeout(ctx, q.opts.urlTimeout())
	defer cancel()
	if q.opts.FetchStarted != nil {
		q.opts.FetchStarted(src, u)
	}
	start := q.opts.now()
	data, err := f(uctx)
	// A socket deadline set from uctx can fire a moment before uctx's own
	// timer: past the deadline (real time, as contexts keep it), any failure
	// is the timeout's.
	if dl, ok := uctx.Deadline(); err != nil && (uctx.Err() != nil || (ok && time.Until(dl) <= 0)) {
		err = q.opts.deadlineError(ctx)
	}
	rec := Fetch{URL: u, Source: src, Duration: q.opts.now().Sub(start), Err: err}
	if err == nil {
		refused = use(data)
		rec.Err = refused
	}
	q.fetches = append(q.fetches, rec)
	if q.opts.FetchDone != nil {
		q.opts.FetchDone(rec)
	}
	return err, refused
}

// deadlineError says which timeout ran out, given the overall context.
func (o *Options) deadlineError(total context.Context) error {
	if err := total.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && o.TotalTimeout >= 0 {
			return fmt.Errorf("the overall revocation timeout (%s) ran out", o.totalTimeout())
		}
		return err
	}
	return fmt.Errorf("no answer within the per-URL timeout (%s)", o.urlTimeout())
}

func (o *Options) totalTimeout() time.Duration {
	if o.TotalTimeout == 0 {
		return DefaultTotalTimeout
	}
	return o.TotalTimeout
}

// fetchCRL downloads the CRL at u (http, https, ldap or ldaps).
func (o *Options) fetchCRL(ctx context.Context, u string) ([]byte, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	switch strings.ToLower(pu.Scheme) {
	case "http", "https":
		return o.httpDo(ctx, http.MethodGet, u, "", nil, o.maxSize())
	case "ldap", "ldaps":
		return o.ldapCRL(ctx, pu)
	}
	return nil, fmt.Errorf("unsupported URL scheme %q", pu.Scheme)
}

// errTooLarge is wrapped by fetch errors for responses over the size cap.
var errTooLarge = errors.New("response too large")

// httpDo makes one HTTP request and reads the response body up to limit
// bytes.
func (o *Options) httpDo(ctx context.Context, method, u, contentType string, body []byte, limit int64) ([]byte, error) {
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rb)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := o.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than the limit of %d", errTooLarge, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than the limit of %d bytes", errTooLarge, limit)
	}
	return data, nil
}

// ldapCRL reads a CRL from an LDAP URL (RFC 4516):
// ldap://host[:port]/dn?attribute, where the attribute is usually
// certificateRevocationList;binary. The search is a base-object search of
// dn, anonymous, over a connection whose reads stop at the size cap.
func (o *Options) ldapCRL(ctx context.Context, u *url.URL) ([]byte, error) {
	host := u.Host
	if host == "" {
		return nil, errors.New("the LDAP URL names no host")
	}
	tlsConn := strings.EqualFold(u.Scheme, "ldaps")
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[bool]string{false: "389", true: "636"}[tlsConn])
	}
	dn := strings.TrimPrefix(u.Path, "/")
	attr := "certificateRevocationList;binary"
	if a, _, _ := strings.Cut(u.RawQuery, "?"); a != "" {
		if a, err := url.QueryUnescape(a); err == nil {
			attr, _, _ = strings.Cut(a, ",")
		}
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	lim := &limitConn{Conn: nc}
	lim.left.Store(o.maxSize() + 64<<10) // the CRL plus the LDAP envelope
	var c net.Conn = lim
	if tlsConn {
		c = tls.Client(lim, &tls.Config{ServerName: u.Hostname()})
	}
	lc := ldap.NewConn(c, tlsConn)
	lc.Start()
	defer lc.Close()
	stop := context.AfterFunc(ctx, func() { lc.Close() })
	defer stop()
	res, err := lc.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{attr}, nil))
	if lim.left.Load() < 0 {
		return nil, fmt.Errorf("%w: more than the limit of %d bytes", errTooLarge, o.maxSize())
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("LDAP search of %q: %w", dn, err)
	}
	want, _, _ := strings.Cut(attr, ";")
	for _, e := range res.Entries {
		for _, a := range e.Attributes {
			name, _, _ := strings.Cut(a.Name, ";")
			if strings.EqualFold(name, want) && len(a.ByteValues) > 0 {
				return a.ByteValues[0], nil
			}
		}
	}
	return nil, fmt.Errorf("the LDAP entry %q has no %s value", dn, attr)
}

// limitConn fails reads once more than left bytes have arrived.
type limitConn struct {
	net.Conn
	left atomic.Int64
}

func (c *limitConn) Read(p []byte) (int, error) {
	if c.left.Load() < 0 {
		return 0, errTooLarge
	}
	n, err := c.Conn.Read(p)
	if c.left.Add(-int64(n)) < 0 {
		return 0, errTooLarge
	}
	return n, err
}
