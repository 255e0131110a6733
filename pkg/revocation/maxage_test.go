package revocation

import (
	"context"
	"crypto/x509"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestOCSPMaxAge is issue #11 item 17 (a): an OCSP response without
// nextUpdate answers only until Options.MaxAge (DefaultMaxAge, 7 days)
// after its thisUpdate, and one whose thisUpdate is in the future is
// refused. A refused response is no answer: with no CRL to fall back on,
// soft mode passes with Unknown and hard mode fails with an
// UnavailableError.
func TestOCSPMaxAge(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	ic, ik := l.Intermediate.Cert, l.Intermediate.Key
	day := 24 * time.Hour
	issued := at
	respond := func(thisUpdate, nextUpdate time.Time) func(*big.Int) ocsp.Response {
		return func(*big.Int) ocsp.Response {
			return ocsp.Response{Status: ocsp.Good, ThisUpdate: thisUpdate, NextUpdate: nextUpdate, ProducedAt: thisUpdate}
		}
	}
	// ocspOnly answers OCSP requests and nothing else: no CRL to fall
	// back on.
	ocspOnly := func(tmpl func(*big.Int) ocsp.Response) http.Handler {
		h := responder(t, l, ic, ik, ic, tmpl)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				http.NotFound(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	noNext := ocspOnly(respond(issued, time.Time{}))

	tests := []struct {
		name    string
		handler http.Handler
		mode    Mode
		maxAge  time.Duration
		when    time.Time // the time asked, and the clock
		status  Status
		source  Source
		refusal string // why the OCSP answer was refused
	}{
		{"no nextUpdate, a day later", noNext, Hard, 0, issued.Add(day), Good, SourceOCSP, ""},
		{"no nextUpdate, 7 days later", noNext, Hard, 0, issued.Add(7 * day), Good, SourceOCSP, ""},
		{"no nextUpdate, 8 days later, hard", noNext, Hard, 0, issued.Add(8 * day), Unknown, "",
			"the response names no next update and was issued at 2026-01-01T00:00:00Z, more than the maximum age of 7 days before 2026-01-09T00:00:00Z"},
		{"no nextUpdate, 8 days later, soft", noNext, Soft, 0, issued.Add(8 * day), Unknown, "", "more than the maximum age of 7 days"},
		{"no nextUpdate, 8 days later, CRL fallback", responder(t, l, ic, ik, ic, respond(issued, time.Time{})), Hard, 0, issued.Add(8 * day), Good, SourceURL, "more than the maximum age"},
		{"max age 10 days, 8 days later", noNext, Hard, 10 * day, issued.Add(8 * day), Good, SourceOCSP, ""},
		{"max age 12 hours, a day later", noNext, Hard, 12 * time.Hour, issued.Add(day), Unknown, "", "more than the maximum age of 12h0m0s"},
		{"nextUpdate beyond the max age is kept", ocspOnly(respond(issued, issued.Add(30*day))), Hard, 0, issued.Add(20 * day), Good, SourceOCSP, ""},
		{"nextUpdate passed", ocspOnly(respond(issued, issued.Add(3*day))), Hard, 0, issued.Add(4 * day), Unknown, "", "the response expired at"},
		{"thisUpdate within the clock skew", ocspOnly(respond(issued.Add(4*time.Minute), time.Time{})), Hard, 0, issued, Good, SourceOCSP, ""},
		{"thisUpdate in the future", ocspOnly(respond(issued.Add(time.Hour), time.Time{})), Hard, 0, issued, Unknown, "",
			"the response was issued at 2026-01-01T01:00:00Z, in the future (the clock says 2026-01-01T00:00:00Z)"},
		{"thisUpdate in the future, with nextUpdate", ocspOnly(respond(issued.Add(time.Hour), issued.Add(7*day))), Soft, 0, issued, Unknown, "", "in the future"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.handler.Store(&tc.handler)
			alice := f.user(t, "alice-sign")
			opts := Options{OCSP: true, Mode: tc.mode, MaxAge: tc.maxAge, Clock: func() time.Time { return tc.when }}
			o, err := New(opts).Check(context.Background(), alice, ic, tc.when)
			if o.Status != tc.status || o.Source != tc.source {
				t.Fatalf("%v from %q (%s), want %v from %q", o.Status, o.Source, o.Detail, tc.status, tc.source)
			}
			switch {
			case tc.status == Unknown && tc.mode == Hard:
				checkErr(t, err, new(*UnavailableError))
			default:
				checkErr(t, err, nil)
			}
			if len(o.Fetches) == 0 || o.Fetches[0].Source != SourceOCSP {
				t.Fatalf("fetches %+v, want the OCSP request first", o.Fetches)
			}
			if tc.refusal == "" {
				if o.Fetches[0].Err != nil {
					t.Errorf("OCSP answer refused: %v", o.Fetches[0].Err)
				}
				return
			}
			if o.Fetches[0].Err == nil || !strings.Contains(o.Fetches[0].Err.Error(), tc.refusal) {
				t.Errorf("OCSP refusal %v, want %q", o.Fetches[0].Err, tc.refusal)
			}
			if tc.status == Unknown && !strings.Contains(o.Detail, tc.refusal) {
				t.Errorf("detail %q, want %q", o.Detail, tc.refusal)
			}
		})
	}
}

// TestCRLMaxAge is issue #11 item 17 (a) for CRLs: one that names no
// nextUpdate (RFC 5280 requires it, not every CA writes it) answers "good"
// only until MaxAge after its thisUpdate, as an OCSP response does; past
// that, or issued in the future, it still proves a revocation, as an
// expired CRL does.
func TestCRLMaxAge(t *testing.T) {
	ca, caKey := mkCA(t, "ca")
	good := mkLeaf(t, ca, caKey, 10)
	bad := mkLeaf(t, ca, caKey, 11)
	issued := t0.AddDate(0, 4, 0)
	day := 24 * time.Hour
	mk := func(this time.Time) *x509.RevocationList {
		der := crlWithoutNextUpdate(t, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: this,
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(11), RevocationTime: t0, ReasonCode: 1}}}, ca, caKey)
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		return crl
	}
	noNext := mk(issued)
	tests := []struct {
		name   string
		cert   *x509.Certificate
		maxAge time.Duration
		when   time.Time
		clock  time.Time
		status Status
		detail string
	}{
		{"a day later", good, 0, issued.Add(day), issued.Add(day), Good, "not listed"},
		{"8 days later", good, 0, issued.Add(8 * day), issued.Add(8 * day), Unknown,
			"names no next update and was issued at 2025-05-01T00:00:00Z, more than the maximum age of 7 days before 2025-05-09T00:00:00Z"},
		{"8 days later, revoked", bad, 0, issued.Add(8 * day), issued.Add(8 * day), Revoked, "listed in the CRL"},
		{"max age 10 days, 8 days later", good, 10 * day, issued.Add(8 * day), issued.Add(8 * day), Good, "not listed"},
		{"asked about the past, today", good, 0, issued.Add(-30 * day), issued.Add(30 * day), Good, "not listed"},
		{"issued in the future", good, 0, issued.Add(day), issued.Add(-time.Hour), Unknown, "in the future (the clock says 2025-04-30T23:00:00Z)"},
		{"issued in the future, revoked", bad, 0, issued.Add(day), issued.Add(-time.Hour), Revoked, "listed in the CRL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Mode: Hard, CRLs: []*x509.RevocationList{noNext}, Offline: true, MaxAge: tc.maxAge,
				Clock: func() time.Time { return tc.clock }}
			o, err := New(opts).Check(context.Background(), tc.cert, ca, tc.when)
			if o.Status != tc.status || !strings.Contains(o.Detail, tc.detail) {
				t.Fatalf("%v (%s), want %v (%s)", o.Status, o.Detail, tc.status, tc.detail)
			}
			switch tc.status {
			case Unknown:
				checkErr(t, err, new(*UnavailableError))
			case Revoked:
				checkErr(t, err, new(*RevokedError))
			default:
				checkErr(t, err, nil)
			}
		})
	}
}

// TestCacheMaxAge is issue #11 item 17 (a) for the on-disk cache, which
// keeps a CRL until its nextUpdate: one without nextUpdate expires from
// the cache MaxAge after its thisUpdate, and is fetched again.
func TestCacheMaxAge(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	alice := f.user(t, "alice-sign")
	day := 24 * time.Hour
	issued := at
	// What the distribution point serves: a CRL with a nextUpdate, issued
	// later than the cached one.
	fresh := intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: issued.Add(8 * day), NextUpdate: issued.Add(15 * day)})
	f.handler.Store(new(serveBytes("/intermediate.crl", fresh)))
	dir := t.TempDir()
	cached := crlWithoutNextUpdate(t, &x509.RevocationList{Number: big.NewInt(3), ThisUpdate: issued}, l.Intermediate.Cert, l.Intermediate.Key)
	if err := writeCache(dir, alice.CRLDistributionPoints[0], cached); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		opts     Options
		when     time.Time
		status   Status
		source   Source
		hits     int64
		produced time.Time
	}{
		{"a day later: from the cache", Options{}, issued.Add(day), Good, SourceCache, 0, issued},
		{"7 days later: from the cache", Options{}, issued.Add(7 * day), Good, SourceCache, 0, issued},
		{"8 days later, offline: the cached CRL is too old", Options{Offline: true}, issued.Add(8 * day), Unknown, "", 0, time.Time{}},
		{"8 days later, max age 10 days: from the cache", Options{MaxAge: 10 * day}, issued.Add(8 * day), Good, SourceCache, 0, issued},
		{"8 days later: fetched again", Options{}, issued.Add(8 * day), Good, SourceURL, 1, issued.Add(8 * day)},
		{"then the new one from the cache", Options{}, issued.Add(9 * day), Good, SourceCache, 1, issued.Add(8 * day)},
	}
	for _, s := range steps {
		s.opts.CacheDir = dir
		s.opts.Clock = func() time.Time { return s.when }
		o, _ := New(s.opts).Check(context.Background(), alice, l.Intermediate.Cert, s.when)
		if o.Status != s.status || o.Source != s.source || f.hits.Load() != s.hits || !o.Produced.Equal(s.produced) {
			t.Errorf("%s: %v from %q after %d hits, produced %v (%s); want %v from %q after %d hits, produced %v",
				s.name, o.Status, o.Source, f.hits.Load(), o.Produced, o.Detail, s.status, s.source, s.hits, s.produced)
		}
	}
}
