package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/smimectl/smimectl/internal/keys"
)

// SourceIssuer marks a [Fetch] of an issuer's certificate by
// [FetchIssuers].
const SourceIssuer Source = "issuer"

// ErrOffline is returned by [FetchIssuers] with [Options.Offline]: the
// certificates were not asked for.
var ErrOffline = errors.New("revocation: offline, so the issuer's certificate was not downloaded")

// Limits of a caIssuers answer: the certificate of the issuer, or a small
// certs-only bundle of the certificates issued to it (RFC 5280 section
// 4.2.2.1). The URL is the certificate's, which a sender makes, and the
// certificates come before any is checked: 32 MiB of small certificates
// in PEM cost 250 MiB and a second to parse, and as many candidate issuers
// for the chain builder.
const (
	maxIssuersResponseSize = 1 << 20
	maxIssuerCertificates  = 64
	// maxIssuerURLs is how many caIssuers URLs of one certificate are
	// tried: a certificate names one or two, and a sender's certificate
	// could name a thousand, each a request made for the sender.
	maxIssuerURLs = 4
)

// FetchIssuers downloads the certificates that the Authority Information
// Access caIssuers URLs of cert point at (RFC 5280 section 4.2.2.1), for
// when the issuer of cert is missing from the message and the trust
// material: the guide's Chapter 8 case of a client behind a firewall that
// cannot build the chain. Each URL is fetched over HTTP(S) with
// opts.HTTPClient under opts.URLTimeout, all of them under
// opts.TotalTimeout, and read up to opts.MaxResponseSize or 1 MiB, whichever is
// less; a response may be one DER certificate, PEM, or a PKCS#7 certs-only
// bundle, of at most 64 certificates. The first 4 URLs are
// tried in order and the certificates of the first that gives any are
// returned, unchecked: the caller builds and checks the chain with them as
// untrusted intermediates. With opts.Offline it returns ErrOffline without
// touching the network. The error, if no URL answered, names every URL and
// why it failed; a certificate with no caIssuers URL is an error too.
func FetchIssuers(ctx context.Context, cert *x509.Certificate, opts Options) ([]*x509.Certificate, error) {
	if len(cert.IssuingCertificateURL) == 0 {
		return nil, errors.New("revocation: the certificate names no caIssuers URL")
	}
	if opts.Offline {
		return nil, ErrOffline
	}
	ctx, cancel := opts.totalContext(ctx)
	defer cancel()
	q := &query{opts: &opts, cert: cert}
	urls := cert.IssuingCertificateURL
	if len(urls) > maxIssuerURLs {
		q.fail("%d more caIssuers URLs were not tried: at most %d are", len(urls)-maxIssuerURLs, maxIssuerURLs)
		urls = urls[:maxIssuerURLs]
	}
	for _, u := range urls {
		if ctx.Err() != nil {
			q.fail("%s was not tried: %v", u, opts.deadlineError(ctx))
			continue
		}
		if pu, err := url.Parse(u); err != nil || (!strings.EqualFold(pu.Scheme, "http") && !strings.EqualFold(pu.Scheme, "https")) {
			q.fail("%s: only http and https caIssuers URLs are fetched", u)
			continue
		}
		var certs []*x509.Certificate
		err, refused := q.fetchTimed(ctx, SourceIssuer, u, func(ctx context.Context) ([]byte, error) {
			return opts.httpDo(ctx, "GET", u, "", nil, min(opts.maxSize(), maxIssuersResponseSize))
		}, func(data []byte) (err error) {
			certs, err = keys.ParseCertificates(data)
			if err != nil {
				return fmt.Errorf("the answer from %s is not a certificate: %w", u, err)
			}
			if len(certs) > maxIssuerCertificates {
				return fmt.Errorf("the answer from %s holds %d certificates, more than the %d an issuer's certificates come in", u, len(certs), maxIssuerCertificates)
			}
			return nil
		})
		if err != nil {
			q.fail("fetching %s: %v", u, err)
			continue
		}
		if refused != nil {
			q.fail("%v", refused)
			continue
		}
		return certs, nil
	}
	return nil, fmt.Errorf("revocation: no issuer certificate downloaded: %s", strings.Join(q.reasons, "; "))
}
