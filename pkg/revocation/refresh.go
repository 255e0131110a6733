package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"time"
)

// ErrNoCache is returned by [Refresh] without [Options.CacheDir].
var ErrNoCache = errors.New("revocation: no cache directory to refresh")

// Refresh fetches a CRL for cert from its distribution points into the
// on-disk cache, for a job (cron) that keeps the cache warm so that checks
// can run with [Options.Offline]. Each distribution point is tried in turn
// under opts.URLTimeout, all of them under opts.TotalTimeout, as a [Checker]
// does, and the first CRL that issuer signed, that covers cert and that is
// current at at is written to opts.CacheDir. When none gives one, a current
// CRL already in the cache is the answer (its Source is SourceCache);
// without either the error is an *UnavailableError naming every URL and why
// it failed. The Outcome says what the CRL answers for cert (a revoked
// certificate is no error here) and its NextUpdate. opts.Mode, CRLs and OCSP
// are not used; with opts.Offline nothing is fetched and only the cache can
// answer. A certificate that names no distribution point is an error.
func Refresh(ctx context.Context, cert, issuer *x509.Certificate, at time.Time, opts Options) (Outcome, error) {
	if opts.CacheDir == "" {
		return Outcome{}, ErrNoCache
	}
	if len(cert.CRLDistributionPoints) == 0 {
		return Outcome{}, errors.New("revocation: the certificate names no CRL distribution point")
	}
	q := &query{opts: &opts, cert: cert, issuer: issuer, at: at}
	ctx, cancel := opts.totalContext(ctx)
	defer cancel()
	if !opts.Offline {
		if o, ok := q.distributionPoints(ctx); ok {
			o.Fetches = q.fetches
			return o, nil
		}
	}
	if o, ok := q.cached(); ok {
		o.Fetches = q.fetches
		return o, nil
	}
	err := errors.New("offline, and no current CRL of the issuer is cached")
	if len(q.reasons) > 0 {
		err = errors.New(strings.Join(q.reasons, "; "))
	}
	return Outcome{Status: Unknown, Detail: err.Error(), Fetches: q.fetches}, &UnavailableError{Cert: cert, URLs: q.urls, Err: err}
}
