// Package revocation decides whether a certificate has been revoked, as the
// Exchange 2003 Message Security Guide's Chapter 6 "Certificate Revocation
// Check" describes: find a CRL for the certificate's issuer, check the
// CRL's signature and freshness, look the serial number up.
//
// A [Checker] answers for one certificate and its issuer at a given time.
// [New] builds one that asks, in order: the CRLs given by hand (the guide's
// "manually import a CRL"); with [Options.OCSP], the certificate's OCSP
// responder (RFC 6960); CRLs in the on-disk cache ([Options.CacheDir]),
// used until their nextUpdate; and the certificate's CRL distribution
// points over HTTP(S) and LDAP, each fetch bounded by [Options.URLTimeout]
// under the overall [Options.TotalTimeout] (the guide's Appendix B
// RevocationURLRetrievalTimeout and CertURLRetrievalTimeout). What an
// unanswered question means is the [Mode]: soft passes with a warning (the
// guide's default, CheckCRL=0), hard fails (CheckCRL=1), off does not check
// (DisableCRLCheck=1). [FetchIssuers] downloads missing intermediates from
// the Authority Information Access caIssuers URLs (the guide's Chapter 8
// firewall case).
//
// # Building a checker
//
// A program builds one Checker with [New] and hands it to
// verify.Options.Revocation, sign.Options.Revocation or
// certsel.Options.Revocation, or calls [Checker.Check] itself with the
// certificate and its issuer. The zero [Options] is the guide's default: soft
// mode, CRLs fetched from the distribution points over http.DefaultTransport
// (proxies from the environment), no cache, the guide's timeouts. The command
// sets more, and a program picks what it needs:
//
//	crls, err := revocation.ParseCRLs(pemOrDER) // CRLs given by hand, if any
//	if err != nil {
//		return err
//	}
//	checker := revocation.New(revocation.Options{
//		Mode:       revocation.Hard,                // no answer is a failure
//		CRLs:       crls,                           // asked first
//		CacheDir:   filepath.Join(cacheDir, "crl"), // keep fetched CRLs
//		OCSP:       true,                           // ask the responder first
//		URLTimeout: 10 * time.Second,               // per URL
//		HTTPClient: client,                         // a proxy, a test transport
//	})
//	outcome, err := checker.Check(ctx, cert, issuer, at) // at: the time to judge
//
// outcome.Status says good, revoked, unknown or skipped and outcome.Fetches
// what was asked; err is a *[RevokedError] for a revoked certificate, and in
// hard mode an *[UnavailableError] when nothing answered. The context bounds
// the network requests of one Check: cancel it to stop them. The Checker
// keeps no state between calls but the cache directory, so one serves every
// goroutine.
//
// # Freshness
//
// A CRL or OCSP response answers until its nextUpdate; one that names none
// answers for [Options.MaxAge] after its thisUpdate (7 days by default),
// in the on-disk cache too. One whose thisUpdate is more than five minutes
// ahead of [Options.Clock] is refused. A CRL that is no longer current
// still proves a revocation (not a hold), never that a certificate is good.
//
// # Limits
//
// A CRL scoped to user or CA certificates is used only for certificates in
// its scope, and a partition (a CRL whose issuing distribution point names
// a distribution point, RFC 5280 section 5.2.5) only for certificates
// that name that point, compared name by name as DER; distribution points
// that carry reasons or a cRLIssuer never match one. Delta CRLs are not
// combined with their base, nor CRLs for some reasons with each other:
// such a CRL proves a revocation it lists, never that a certificate is
// good. Indirect CRLs are refused. A CRL that gives no answer for a
// certificate leaves the question to the next source. OCSP requests carry
// no nonce (RFC 5019 responders ignore it). Responses are read up to
// [Options.MaxResponseSize], OCSP responses up to 256 KiB.
package revocation

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/textenum"
)

// Mode says what an unavailable revocation answer means.
type Mode int

const (
	// Soft: no answer is a warning and the certificate passes.
	Soft Mode = iota
	// Hard: no answer is a failure (a temporary one: retry later).
	Hard
	// Off: revocation is not checked; results say so.
	Off
)

var modeNames = []string{"soft", "hard", "off"}

// String gives the mode's name: "soft", "hard" or "off".
func (m Mode) String() string { return textenum.Name(modeNames, m) }

// MarshalText gives the mode's name.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads "soft", "hard" or "off", so that a flag or a setting
// can name a Mode.
func (m *Mode) UnmarshalText(text []byte) error {
	return textenum.Unmarshal(m, "revocation: unknown mode", modeNames, text)
}

// Status is the answer for one certificate.
type Status int

const (
	// Good: a current CRL or OCSP response from the issuer does not list the
	// certificate as revoked.
	Good Status = iota
	// Revoked: the certificate was revoked at or before the time asked.
	Revoked
	// Unknown: no usable answer was found.
	Unknown
	// Skipped: revocation checking is off.
	Skipped
)

func (s Status) String() string {
	return [...]string{"good", "revoked", "unknown", "skipped"}[s]
}

// MarshalText gives the status's name, so JSON carries "good", "revoked"...
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Source names what gave an answer.
type Source string

// The sources of an answer, in the order a [Checker] from [New] asks them.
const (
	SourceFile  Source = "file"  // a CRL given by hand
	SourceOCSP  Source = "ocsp"  // the certificate's OCSP responder
	SourceCache Source = "cache" // a CRL in the on-disk cache
	SourceURL   Source = "url"   // a CRL fetched from a distribution point
)

// Fetch records one network request made for an answer.
type Fetch struct {
	// URL is what was asked.
	URL string `json:"url"`
	// Source is SourceURL for a CRL, SourceOCSP for an OCSP request, and
	// "issuer" for a caIssuers download.
	Source Source `json:"source"`
	// Duration is how long the request took, until its answer or failure.
	Duration time.Duration `json:"-"`
	// Err is why the request gave no usable answer; nil if it did.
	Err error `json:"-"`
}

// MarshalJSON writes the duration as text ("120ms") and the error as its
// message.
func (f Fetch) MarshalJSON() ([]byte, error) {
	type plain Fetch
	v := struct {
		plain
		Duration string `json:"duration"`
		Error    string `json:"error,omitempty"`
	}{plain: plain(f), Duration: f.Duration.Round(time.Microsecond).String()}
	if f.Err != nil {
		v.Error = f.Err.Error()
	}
	return json.Marshal(v)
}

// Outcome describes the answer, where it came from and what it took.
type Outcome struct {
	Status Status `json:"status"`
	// Source names what answered; empty if nothing did.
	Source Source `json:"source,omitempty"`
	// URL is the distribution point or responder that answered, if any.
	URL string `json:"url,omitempty"`
	// Produced is when the answer was made: the CRL's thisUpdate or the
	// OCSP response's producedAt. NextUpdate is when a newer one is due
	// (zero if not said).
	Produced   time.Time `json:"produced,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	// Detail is one line for reports.
	Detail string `json:"detail,omitempty"`
	// RevokedAt and Reason are set when Status is Revoked; Reason is the
	// RFC 5280 CRLReason code.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    int       `json:"reason,omitempty"`
	// Fetches lists every network request made for this answer, in order,
	// including those that failed.
	Fetches []Fetch `json:"fetches,omitempty"`
}

// Checker answers whether cert, issued by issuer, was revoked at time at.
// It returns a *RevokedError for a revoked certificate and, in hard mode,
// an *UnavailableError when it has no answer; in soft mode it returns an
// Unknown outcome and a nil error instead. ctx bounds the network requests
// the answer takes.
//
// [New] builds the Checker this package provides (see "Building a checker"
// in the package documentation). A program with its own source of answers (a
// local revocation database, a test) implements the one method instead; an
// implementation must be safe for concurrent use, since a batch verifies
// messages from several goroutines with one Checker.
type Checker interface {
	Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Outcome, error)
}

// RevokedError reports a revoked certificate.
type RevokedError struct {
	Cert   *x509.Certificate
	At     time.Time
	Reason int
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("revocation: certificate %s (serial %X) was revoked on %s, reason: %s",
		certinfo.Name(e.Cert.Subject), e.Cert.SerialNumber, e.At.UTC().Format(time.RFC3339), ReasonString(e.Reason))
}

// UnavailableError reports that no revocation answer could be had in hard mode.
type UnavailableError struct {
	Cert *x509.Certificate
	// URLs are the distribution points and responders that were tried.
	URLs []string
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("revocation: no revocation information for %s: %v", certinfo.Name(e.Cert.Subject), e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ReasonString names an RFC 5280 CRLReason code.
func ReasonString(code int) string {
	names := []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
		"superseded", "cessationOfOperation", "certificateHold", "7", "removeFromCRL",
		"privilegeWithdrawn", "aACompromise"}
	if code >= 0 && code < len(names) {
		return names[code]
	}
	return fmt.Sprint(code)
}

// Defaults of the [Options] fields.
const (
	// DefaultURLTimeout bounds one fetch: the guide's
	// RevocationURLRetrievalTimeout default.
	DefaultURLTimeout = 60 * time.Second
	// DefaultTotalTimeout bounds all fetches for one certificate: the
	// guide's CertURLRetrievalTimeout default.
	DefaultTotalTimeout = 60 * time.Second
	// DefaultMaxResponseSize caps a CRL, OCSP or certificate download.
	DefaultMaxResponseSize = 32 << 20
	// DefaultMaxAge is how long an OCSP response or CRL that names no
	// nextUpdate is used after its thisUpdate: a week, within the ten days
	// the CA/Browser Forum Baseline Requirements (section 4.9.10) let an
	// OCSP response be valid.
	DefaultMaxAge = 7 * 24 * time.Hour
)

// clockSkew is how far in the future an answer's thisUpdate may be before
// it is refused: OpenSSL's default for OCSP responses (MAX_VALIDITY_PERIOD).
const clockSkew = 5 * time.Minute

// Options configure the checker [New] returns, [FetchIssuers] and
// [Refresh]. The zero value is usable: soft mode, CRLs from the certificate's
// distribution points over http.DefaultTransport, no cache, no OCSP, the
// guide's timeouts. Options are read, never modified, by this package; do
// not modify them while a Checker built from them is in use.
type Options struct {
	// Mode is soft if zero.
	Mode Mode
	// CRLs are given by hand and asked first; only those whose signature
	// checks with the certificate's issuer are used.
	CRLs []*x509.RevocationList
	// CacheDir holds CRLs fetched from distribution points, one file per
	// URL, used until their nextUpdate. "" means no cache.
	CacheDir string
	// HTTPClient fetches over HTTP(S). If nil, it is a client over
	// http.DefaultTransport, which takes its proxy from HTTPS_PROXY,
	// HTTP_PROXY and NO_PROXY. Its own Timeout, if any, applies too.
	HTTPClient *http.Client
	// URLTimeout bounds each fetch; DefaultURLTimeout (60 s) if zero.
	URLTimeout time.Duration
	// TotalTimeout bounds all fetches for one certificate (one Check
	// call); DefaultTotalTimeout (60 s) if zero, no bound beyond the
	// context's and URLTimeout if negative. To bound several
	// certificates together, give them one context deadline, as
	// verify.Options.NetworkTimeout does; a deadline of the context that
	// runs out is reported as this overall timeout.
	TotalTimeout time.Duration
	// MaxResponseSize caps each download; DefaultMaxResponseSize (32 MiB)
	// if zero. A larger response is refused without being read in full.
	// An OCSP response is capped at 256 KiB whatever it is.
	MaxResponseSize int64
	// OCSP asks the certificate's OCSP responder (from its Authority
	// Information Access) before any CRL; CRLs remain the fallback.
	OCSP bool
	// Offline makes no network request: only the given CRLs and the cache
	// are asked.
	Offline bool
	// MaxAge bounds the use of an OCSP response or CRL that names no
	// nextUpdate: it answers for times up to MaxAge after its thisUpdate,
	// and is then no answer (nor kept in use by the cache). DefaultMaxAge
	// (7 days) if zero or negative. One with a nextUpdate is used until
	// then, whatever MaxAge.
	MaxAge time.Duration
	// Clock, if nil, is time.Now. It is the present: it times fetches
	// (Fetch.Duration), and an OCSP response or CRL whose thisUpdate is
	// more than five minutes after it is refused (it cannot have been
	// issued yet; one of the clocks is wrong). The time a Check asks about
	// is its own argument, not Clock.
	Clock func() time.Time
	// FetchStarted and FetchDone, if set, hear of each network request
	// (CRL, OCSP, caIssuers) as it starts and when it ended, with its
	// record: for progress and -v lines, since this package never prints.
	// They are called on the goroutine that fetches, which waits for them,
	// and from several at once when the Checker is shared.
	FetchStarted func(src Source, url string)
	FetchDone    func(Fetch)
	// OptionName, if set, gives the caller's words for an option this
	// package's texts name (a command names its flag); nil or "" keeps
	// the Go name, such as "Options.CRLs".
	OptionName func(Option) string
}

// Option is an input of the package that one of its texts names as what
// would decide: its value is its Go name. Options.OptionName words it.
type Option string

// OptionCRLs is Options.CRLs, named when no source of a CRL was found.
const OptionCRLs Option = "Options.CRLs"

func (o Option) String() string { return string(o) }

// name is opt in the caller's words (Options.OptionName).
func (o *Options) name(opt Option) string { return textenum.Word(o.OptionName, opt) }

func (o *Options) now() time.Time {
	if o.Clock == nil {
		return time.Now() // default
	}
	return o.Clock()
}

func (o *Options) maxAge() time.Duration {
	if o.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return o.MaxAge
}

func (o *Options) urlTimeout() time.Duration {
	if o.URLTimeout <= 0 {
		return DefaultURLTimeout
	}
	return o.URLTimeout
}

func (o *Options) maxSize() int64 {
	if o.MaxResponseSize <= 0 {
		return DefaultMaxResponseSize
	}
	return o.MaxResponseSize
}

func (o *Options) client() *http.Client {
	if o.HTTPClient == nil {
		return &http.Client{Transport: http.DefaultTransport}
	}
	return o.HTTPClient
}

// totalContext applies TotalTimeout to ctx.
func (o *Options) totalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	switch {
	case o.TotalTimeout < 0:
		return context.WithCancel(ctx)
	case o.TotalTimeout == 0:
		return context.WithTimeout(ctx, DefaultTotalTimeout)
	}
	return context.WithTimeout(ctx, o.TotalTimeout)
}

// New returns a Checker that asks the sources opts names, in the order the
// package documentation gives. The Checker is safe for concurrent use; it
// keeps no state between calls but the cache directory.
func New(opts Options) Checker { return &checker{opts: opts} }

type checker struct{ opts Options }

// ErrNoSource is the cause of an [UnavailableError] when nothing could be
// asked: no CRL of the issuer was given ([Options.CRLs]) and the certificate
// names no distribution point.
var ErrNoSource = errors.New("no CRL from the issuer was given and the certificate names no distribution point")

// noSourceError is ErrNoSource naming how to give a CRL (use names
// Options.CRLs in the caller's words).
type noSourceError struct{ use string }

func (e *noSourceError) Error() string {
	return "no CRL from the issuer was given (use " + e.use + ") and the certificate names no distribution point"
}

func (e *noSourceError) Is(target error) bool { return target == ErrNoSource }

// Check implements [Checker].
func (c *checker) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Outcome, error) {
	if c.opts.Mode == Off {
		return Outcome{Status: Skipped, Detail: "revocation checking is off"}, nil
	}
	q := &query{opts: &c.opts, cert: cert, issuer: issuer, at: at}
	if o, ok := q.givenCRLs(); ok {
		return q.finish(o)
	}
	ctx, cancel := c.opts.totalContext(ctx)
	defer cancel()
	if c.opts.OCSP && !c.opts.Offline {
		if o, ok := q.ocsp(ctx); ok {
			return q.finish(o)
		}
	}
	if o, ok := q.cached(); ok {
		return q.finish(o)
	}
	if !c.opts.Offline {
		if o, ok := q.distributionPoints(ctx); ok {
			return q.finish(o)
		}
	}
	return q.unknown()
}

// query is one Check call: what was tried and why it gave no answer.
type query struct {
	opts         *Options
	cert, issuer *x509.Certificate
	at           time.Time
	fetches      []Fetch
	reasons      []string
	urls         []string
}

func (q *query) fail(format string, args ...any) {
	q.reasons = append(q.reasons, fmt.Sprintf(format, args...))
}

// finish completes an answer: the fetches made for it, and the error a
// revoked certificate gets.
func (q *query) finish(o Outcome) (Outcome, error) {
	o.Fetches = q.fetches
	if o.Status == Revoked {
		return o, &RevokedError{Cert: q.cert, At: o.RevokedAt, Reason: o.Reason}
	}
	return o, nil
}

// unknown is the outcome when no source answered, with every reason.
func (q *query) unknown() (Outcome, error) {
	var err error = &noSourceError{use: q.opts.name(OptionCRLs)}
	switch {
	case len(q.reasons) > 0:
		err = errors.New(strings.Join(q.reasons, "; "))
	case q.opts.Offline && len(q.cert.CRLDistributionPoints) > 0:
		err = errors.New("offline, and no CRL of the issuer is given or cached")
	}
	o := Outcome{Status: Unknown, Detail: err.Error(), Fetches: q.fetches}
	if q.opts.Mode == Hard {
		return o, &UnavailableError{Cert: q.cert, URLs: q.urls, Err: err}
	}
	return o, nil
}

// ParseCRLs reads CRLs from PEM ("X509 CRL" blocks) or a single DER CRL.
func ParseCRLs(data []byte) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		crl, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("revocation: parsing CRL: %w", err)
		}
		out = append(out, crl)
	}
	if len(out) > 0 {
		return out, nil
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("revocation: no CRL found (PEM \"X509 CRL\" or DER): %w", err)
	}
	return []*x509.RevocationList{crl}, nil
}
