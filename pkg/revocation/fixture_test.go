package revocation

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
)

// The tests share one lab whose distribution points, OCSP responder and
// caIssuers URLs all point at one local HTTP server; each test installs the
// handler it needs.

// at is the evaluation time of the tests: after Eve's revocation
// (2025-04-01) and the lab CRLs' thisUpdate (2025-04-02).
var at = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type fixture struct {
	lab     *lab.Lab
	srv     *httptest.Server
	handler atomic.Pointer[http.Handler]
	hits    atomic.Int64
}

var sharedFixture = sync.OnceValues(func() (*fixture, error) {
	f := &fixture{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if h := f.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	base := f.srv.URL + "/"
	l, err := lab.New(lab.Options{CRLBaseURL: base, OCSPURL: base + "ocsp", CAIssuersBaseURL: base + "ca/"})
	f.lab = l
	return f, err
})

// setup returns the shared fixture serving h, with the hit counter at zero.
func setup(t *testing.T, h http.Handler) *fixture {
	t.Helper()
	f, err := sharedFixture()
	if err != nil {
		t.Fatal(err)
	}
	f.handler.Store(&h)
	f.hits.Store(0)
	t.Cleanup(func() { f.handler.Store(nil) })
	return f
}

func (f *fixture) user(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	u := f.lab.User(name)
	if u == nil {
		t.Fatalf("no lab user %q", name)
	}
	return u.Cert
}

// labCRLs serves the lab's CRLs at their distribution points.
func labCRLs(l *lab.Lab) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /root.crl", func(w http.ResponseWriter, r *http.Request) { w.Write(l.Root.CRL) })
	mux.HandleFunc("GET /intermediate.crl", func(w http.ResponseWriter, r *http.Request) { w.Write(l.Intermediate.CRL) })
	return mux
}

// hang is a server that never answers: it holds each request until the
// client gives up or the test ends.
func hang(t *testing.T) http.Handler {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
}

// intermediateCRL issues a CRL of the lab's intermediate from tmpl.
func intermediateCRL(t *testing.T, l *lab.Lab, tmpl *x509.RevocationList) []byte {
	t.Helper()
	if tmpl.Number == nil {
		tmpl.Number = big.NewInt(2)
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, l.Intermediate.Cert, l.Intermediate.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// leafWith issues an end-entity certificate from the lab's intermediate
// with the given distribution points.
func leafWith(t *testing.T, l *lab.Lab, serial int64, dps []string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: l.Options.Epoch, NotAfter: l.Options.Epoch.AddDate(5, 0, 0), CRLDistributionPoints: dps}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.Intermediate.Cert, l.Users[0].Key.Public(), l.Intermediate.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
