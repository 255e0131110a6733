package revocation

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
)

func serveBytes(path string, data []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	})
}

func TestDistributionPoints(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	other, err := lab.New(lab.Options{Seed: "2", CRLBaseURL: f.srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	idp := func(v idpSpec) pkix.Extension { return v.ext(t, l.Intermediate.Cert.Subject) }
	thisUpdate := l.Options.Epoch.AddDate(0, 6, 0)
	expired := intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: thisUpdate, NextUpdate: thisUpdate.AddDate(0, 0, 7)})
	delta := intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: thisUpdate, NextUpdate: at.AddDate(1, 0, 0),
		ExtraExtensions: []pkix.Extension{{Id: oidDeltaCRL, Critical: true, Value: []byte{2, 1, 1}}}})
	onlyCA := intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: thisUpdate, NextUpdate: at.AddDate(1, 0, 0),
		ExtraExtensions: []pkix.Extension{idp(idpSpec{onlyCA: true})}})
	indirect := intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: thisUpdate, NextUpdate: at.AddDate(1, 0, 0),
		ExtraExtensions: []pkix.Extension{idp(idpSpec{indirect: true})}})
	someReasons := intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: thisUpdate, NextUpdate: at.AddDate(1, 0, 0),
		ExtraExtensions: []pkix.Extension{idp(idpSpec{reasons: []byte{6, 0x40}})}})

	tests := []struct {
		name    string
		handler http.Handler
		mode    Mode
		cert    string
		at      time.Time
		status  Status
		wantErr any
		detail  string
	}{
		{"good", labCRLs(l), Soft, "alice-sign", at, Good, nil, "not listed in the CRL"},
		{"revoked", labCRLs(l), Soft, "eve-revoked", at, Revoked, new(*RevokedError), "listed in the CRL"},
		{"revoked hard", labCRLs(l), Hard, "eve-revoked", at, Revoked, new(*RevokedError), "listed in the CRL"},
		{"not found soft", http.NotFoundHandler(), Soft, "alice-sign", at, Unknown, nil, "HTTP status 404"},
		{"not found hard", http.NotFoundHandler(), Hard, "alice-sign", at, Unknown, new(*UnavailableError), "HTTP status 404"},
		{"wrong key", labCRLs(other), Soft, "eve-revoked", at, Unknown, nil, "signature does not verify with the key of"},
		{"wrong key hard", labCRLs(other), Hard, "alice-sign", at, Unknown, new(*UnavailableError), "signature does not verify"},
		{"expired before at", serveBytes("/intermediate.crl", expired), Hard, "alice-sign", at, Unknown, new(*UnavailableError), "expired at 2025-07-08T00:00:00Z, before 2026-01-01"},
		{"not a CRL", serveBytes("/intermediate.crl", []byte("<html>login</html>")), Soft, "alice-sign", at, Unknown, nil, "no CRL found"},
		{"delta", serveBytes("/intermediate.crl", delta), Soft, "alice-sign", at, Unknown, nil, "delta CRL, which lists only the changes since its base CRL"},
		{"out of scope", serveBytes("/intermediate.crl", onlyCA), Soft, "alice-sign", at, Unknown, nil, "covers only CA certificates"},
		{"indirect", serveBytes("/intermediate.crl", indirect), Soft, "alice-sign", at, Unknown, nil, "indirect CRL"},
		{"some reasons", serveBytes("/intermediate.crl", someReasons), Soft, "alice-sign", at, Unknown, nil, "only some revocation reasons"},
		{"before revocation", labCRLs(l), Soft, "eve-revoked", l.Options.Epoch.AddDate(0, 1, 0), Good, nil, "not listed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.handler.Store(&tc.handler)
			cert := f.user(t, tc.cert)
			o, err := New(Options{Mode: tc.mode, URLTimeout: 5 * time.Second}).Check(context.Background(), cert, l.Intermediate.Cert, tc.at)
			if o.Status != tc.status {
				t.Errorf("status %v, want %v (%s)", o.Status, tc.status, o.Detail)
			}
			if !strings.Contains(o.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", o.Detail, tc.detail)
			}
			checkErr(t, err, tc.wantErr)
			if len(o.Fetches) != 1 || o.Fetches[0].URL != cert.CRLDistributionPoints[0] {
				t.Errorf("fetches %+v, want one of %s", o.Fetches, cert.CRLDistributionPoints[0])
			}
			if tc.status == Good || tc.status == Revoked {
				if o.Source != SourceURL || o.URL != cert.CRLDistributionPoints[0] || o.Produced.IsZero() {
					t.Errorf("source %q url %q produced %v, want url, the distribution point and a time", o.Source, o.URL, o.Produced)
				}
			}
			if tc.status == Revoked && (o.RevokedAt.IsZero() || o.Reason != 1) {
				t.Errorf("revoked at %v reason %d, want a date and keyCompromise", o.RevokedAt, o.Reason)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want any) {
	t.Helper()
	switch want := want.(type) {
	case nil:
		if err != nil {
			t.Errorf("error %v, want none", err)
		}
	case **RevokedError:
		if !errors.As(err, want) || (*want).At.IsZero() {
			t.Errorf("error %v, want a RevokedError with a date", err)
		}
	case **UnavailableError:
		if !errors.As(err, want) {
			t.Errorf("error %v, want an UnavailableError", err)
		}
	}
}

func TestCache(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	// CRLs valid for one week, numbered by request.
	var n atomic.Int64
	fresh := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		this := at.AddDate(0, 0, 7*int(k-1)-1)
		w.Write(intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: this, NextUpdate: this.AddDate(0, 0, 7),
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: f.user(t, "eve-revoked").SerialNumber, RevocationTime: at.AddDate(-1, 0, 0), ReasonCode: 4}}}))
	})
	f.handler.Store(new(http.Handler(fresh)))
	dir := t.TempDir()
	alice := f.user(t, "alice-sign")
	check := func(when time.Time, cert *x509.Certificate) Outcome {
		t.Helper()
		o, _ := New(Options{CacheDir: dir}).Check(context.Background(), cert, l.Intermediate.Cert, when)
		return o
	}
	steps := []struct {
		name     string
		cert     *x509.Certificate
		at       time.Time
		status   Status
		source   Source
		hits     int64
		fetches  int
		reason   int
		produced time.Time
	}{
		{"first: fetched", alice, at, Good, SourceURL, 1, 1, 0, at.AddDate(0, 0, -1)},
		{"second: from the cache", alice, at, Good, SourceCache, 1, 0, 0, at.AddDate(0, 0, -1)},
		{"revoked: from the cache", f.user(t, "eve-revoked"), at.AddDate(0, 0, 3), Revoked, SourceCache, 1, 0, 4, at.AddDate(0, 0, -1)},
		{"past nextUpdate: fetched again", alice, at.AddDate(0, 0, 8), Good, SourceURL, 2, 1, 0, at.AddDate(0, 0, 6)},
		{"then cached again", alice, at.AddDate(0, 0, 8), Good, SourceCache, 2, 0, 0, at.AddDate(0, 0, 6)},
	}
	for _, s := range steps {
		o := check(s.at, s.cert)
		if o.Status != s.status || o.Source != s.source || f.hits.Load() != s.hits || len(o.Fetches) != s.fetches ||
			o.Reason != s.reason || !o.Produced.Equal(s.produced) {
			t.Errorf("%s: got %v from %q, %d hits, %d fetches, reason %d, produced %v; want %v from %q, %d hits, %d fetches, reason %d, produced %v (%s)",
				s.name, o.Status, o.Source, f.hits.Load(), len(o.Fetches), o.Reason, o.Produced, s.status, s.source, s.hits, s.fetches, s.reason, s.produced, o.Detail)
		}
	}
	// A damaged cache file costs a fetch, not an answer.
	if err := writeCache(dir, alice.CRLDistributionPoints[0], []byte("junk")); err != nil {
		t.Fatal(err)
	}
	if o := check(at.AddDate(0, 0, 8), alice); o.Status != Good || o.Source != SourceURL || f.hits.Load() != 3 {
		t.Errorf("damaged cache: %v from %q after %d hits, want good from url after 3", o.Status, o.Source, f.hits.Load())
	}
}

func TestOffline(t *testing.T) {
	f := setup(t, nil)
	fail := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("offline check made a request: %s %s", r.Method, r.URL)
	}))
	f.handler.Store(&fail)
	alice := f.user(t, "alice-sign")
	dir := t.TempDir()
	// Nothing given or cached: no answer, and no request.
	o, err := New(Options{Offline: true, OCSP: true, CacheDir: dir, Mode: Hard}).Check(context.Background(), alice, f.lab.Intermediate.Cert, at)
	var ue *UnavailableError
	if o.Status != Unknown || !errors.As(err, &ue) || !strings.Contains(o.Detail, "offline") {
		t.Errorf("offline, empty cache: %v, %v (%s); want unknown, UnavailableError, offline", o.Status, err, o.Detail)
	}
	// A cached CRL answers.
	if err := writeCache(dir, alice.CRLDistributionPoints[0], f.lab.Intermediate.CRL); err != nil {
		t.Fatal(err)
	}
	o, err = New(Options{Offline: true, OCSP: true, CacheDir: dir}).Check(context.Background(), alice, f.lab.Intermediate.Cert, at)
	if o.Status != Good || o.Source != SourceCache || err != nil {
		t.Errorf("offline, cached: %v from %q, %v; want good from cache", o.Status, o.Source, err)
	}
	if f.hits.Load() != 0 {
		t.Errorf("%d requests, want none", f.hits.Load())
	}
}

func TestTimeouts(t *testing.T) {
	f := setup(t, nil)
	f.handler.Store(new(hang(t)))
	alice := f.user(t, "alice-sign")
	base := f.srv.URL + "/"
	three := leafWith(t, f.lab, 99, []string{base + "slow1.crl", base + "slow2.crl", base + "slow3.crl"})
	tests := []struct {
		name          string
		cert          *x509.Certificate
		mode          Mode
		url, total    time.Duration
		min, max      time.Duration
		fetches, hits int64
		detail        string
	}{
		{"per-URL timeout, soft", alice, Soft, 300 * time.Millisecond, 0, 300 * time.Millisecond, 5 * time.Second, 1, 1, "per-URL timeout (300ms)"},
		{"per-URL timeout, hard", alice, Hard, 300 * time.Millisecond, 0, 300 * time.Millisecond, 5 * time.Second, 1, 1, "per-URL timeout"},
		// Three slow distribution points: 3 x 1s uncapped, the overall 1.5s caps them.
		{"overall deadline", three, Soft, time.Second, 1500 * time.Millisecond, 1500 * time.Millisecond, 2900 * time.Millisecond, 2, 2, "overall revocation timeout (1.5s) ran out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.hits.Store(0)
			start := time.Now()
			o, err := New(Options{Mode: tc.mode, URLTimeout: tc.url, TotalTimeout: tc.total}).Check(context.Background(), tc.cert, f.lab.Intermediate.Cert, at)
			took := time.Since(start)
			if took < tc.min || took > tc.max {
				t.Errorf("took %v, want between %v and %v", took, tc.min, tc.max)
			}
			if o.Status != Unknown || !strings.Contains(o.Detail, tc.detail) {
				t.Errorf("%v (%s), want unknown with %q", o.Status, o.Detail, tc.detail)
			}
			if int64(len(o.Fetches)) != tc.fetches || f.hits.Load() != tc.hits {
				t.Errorf("%d fetches, %d hits; want %d, %d", len(o.Fetches), f.hits.Load(), tc.fetches, tc.hits)
			}
			if tc.mode == Hard {
				checkErr(t, err, new(*UnavailableError))
			} else {
				checkErr(t, err, nil)
			}
		})
	}
}

// TestHugeResponse serves a 100 MB "CRL" and checks that it is refused
// after the size cap, without being read in full.
func TestHugeResponse(t *testing.T) {
	f := setup(t, nil)
	const total = 100 << 20
	for _, declared := range []bool{false, true} {
		var sent atomic.Int64
		h := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if declared {
				w.Header().Set("Content-Length", "104857600")
			}
			zeros := make([]byte, 64<<10)
			for sent.Load() < total {
				n, err := w.Write(zeros)
				sent.Add(int64(n))
				if err != nil {
					return
				}
			}
		}))
		f.handler.Store(&h)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		o, _ := New(Options{MaxResponseSize: 1 << 20}).Check(context.Background(), f.user(t, "alice-sign"), f.lab.Intermediate.Cert, at)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if o.Status != Unknown || !strings.Contains(o.Detail, "response too large") || !strings.Contains(o.Detail, "limit of 1048576") {
			t.Errorf("declared %v: %v (%s), want unknown, too large", declared, o.Status, o.Detail)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Errorf("declared %v: allocated %d bytes, want under 16 MiB for a 1 MiB cap", declared, alloc)
		}
		if took > 10*time.Second {
			t.Errorf("declared %v: took %v", declared, took)
		}
		// Give the handler a moment to see the closed connection.
		time.Sleep(100 * time.Millisecond)
		if s := sent.Load(); s >= total {
			t.Errorf("declared %v: the server sent all %d bytes; the client should have stopped reading", declared, s)
		}
	}
}

func TestCacheAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	if err := writeCache(dir, "http://x/a.crl", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := writeCache(dir, "http://x/a.crl", []byte("two")); err != nil {
		t.Fatal(err)
	}
	got, err := readCache(dir, "http://x/a.crl", DefaultMaxResponseSize)
	if err != nil || string(got) != "two" {
		t.Errorf("got %q, %v; want two", got, err)
	}
	if _, err := readCache(dir, "http://x/b.crl", DefaultMaxResponseSize); err == nil {
		t.Error("another URL: got an entry")
	}
}
