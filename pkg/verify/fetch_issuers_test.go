package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestVerifyFetchIssuers verifies a message that carries only the signer's
// certificate, whose issuer is named by its caIssuers URL: found with
// FetchIssuers, untrusted without it or when the download fails.
func TestVerifyFetchIssuers(t *testing.T) {
	var serve atomic.Bool
	var hits atomic.Int64
	var l *lab.Lab
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !serve.Load() || r.URL.Path != "/ca/intermediate.crt" {
			http.NotFound(w, r)
			return
		}
		w.Write(l.Intermediate.Cert.Raw)
	}))
	defer srv.Close()
	l, err := lab.New(lab.Options{CAIssuersBaseURL: srv.URL + "/ca/"})
	if err != nil {
		t.Fatal(err)
	}
	u := l.User("alice-sign")
	var msg bytes.Buffer
	if err := sign.Sign(context.Background(), &msg, strings.NewReader(message("alice@example.com")), sign.Options{
		Key: u.Key, Certificate: u.Cert, Now: func() time.Time { return at.Add(-time.Hour) },
	}); err != nil {
		t.Fatal(err)
	}
	var crls []*x509.RevocationList
	for _, der := range [][]byte{l.Intermediate.CRL, l.Root.CRL} {
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		crls = append(crls, crl)
	}
	fetch := func(ctx context.Context, c *x509.Certificate) ([]*x509.Certificate, error) {
		return revocation.FetchIssuers(ctx, c, revocation.Options{URLTimeout: 5 * time.Second})
	}
	run := func(f func(context.Context, *x509.Certificate) ([]*x509.Certificate, error)) (*verify.Result, error) {
		var out bytes.Buffer
		return verify.Verify(context.Background(), &out, bytes.NewReader(msg.Bytes()), verify.Options{
			Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, FetchIssuers: f,
			Revocation: revocation.New(revocation.Options{CRLs: crls, Offline: true}),
		})
	}
	untrusted := func(err error) bool {
		var te *verify.TrustError
		return errors.As(err, &te) && te.Reason == verify.Untrusted
	}

	serve.Store(true)
	if _, err := run(nil); !untrusted(err) || hits.Load() != 0 {
		t.Fatalf("without FetchIssuers: %v after %d requests; want untrusted, none", err, hits.Load())
	}
	res, err := run(fetch)
	if err != nil || !res.Valid || hits.Load() != 1 || len(res.Warnings) != 0 {
		t.Fatalf("with FetchIssuers: %v after %d requests, warnings %q; want valid after one", err, hits.Load(), res.Warnings)
	}
	if c := findCheck(res.Signers[0], "fetch-intermediates"); c == nil || c.Status != verify.StatusPass ||
		c.Certificate != "Alice" || !strings.Contains(c.Detail, "downloaded \"smimectl lab intermediate CA\"") {
		t.Errorf("fetch-intermediates check %+v", c)
	}
	if len(res.Signers[0].Chain) != 3 {
		t.Errorf("chain of %d certificates, want 3", len(res.Signers[0].Chain))
	}

	serve.Store(false)
	res, err = run(fetch)
	if !untrusted(err) || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "HTTP status 404") {
		t.Fatalf("download fails: %v, warnings %q; want untrusted and a warning", err, res.Warnings)
	}
	if c := findCheck(res.Signers[0], "fetch-intermediates"); c == nil || c.Status != verify.StatusWarning {
		t.Errorf("fetch-intermediates check %+v, want a warning", c)
	}
}

func findCheck(s *verify.Signer, name verify.CheckName) *verify.Check {
	for i := range s.Checks {
		if s.Checks[i].Name == name {
			return &s.Checks[i]
		}
	}
	return nil
}

// TestVerifyNetworkTimeout checks that NetworkTimeout is one deadline for the
// whole verification: two distribution points that never answer (the
// signer's and the intermediate's) take about one timeout, not two, and
// both certificates report it.
func TestVerifyNetworkTimeout(t *testing.T) {
	l := hangingCRLLab(t)
	u := l.User("alice-sign")
	var msg bytes.Buffer
	if err := sign.Sign(context.Background(), &msg, strings.NewReader(message("alice@example.com")), sign.Options{
		Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Now: func() time.Time { return at.Add(-time.Hour) },
	}); err != nil {
		t.Fatal(err)
	}
	const limit = 600 * time.Millisecond
	for _, tc := range []struct {
		name     string
		network  time.Duration
		min, max time.Duration
	}{
		{"per verification", limit, limit - 50*time.Millisecond, limit + 250*time.Millisecond},
		{"per certificate only", 0, 2*limit - 50*time.Millisecond, 4 * limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res, err := verify.Verify(context.Background(), new(bytes.Buffer), bytes.NewReader(msg.Bytes()), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, NetworkTimeout: tc.network,
				Revocation: revocation.New(revocation.Options{URLTimeout: 5 * time.Second, TotalTimeout: limit}),
			})
			d := time.Since(start)
			if err != nil || !res.Valid || len(res.Warnings) != 2 {
				t.Fatalf("%v, warnings %q; want valid with two warnings", err, res.Warnings)
			}
			for _, w := range res.Warnings {
				if !strings.Contains(w, "the overall revocation timeout (600ms) ran out") {
					t.Errorf("warning %q does not name the overall timeout", w)
				}
			}
			if d < tc.min || d > tc.max {
				t.Errorf("took %v, want between %v and %v", d, tc.min, tc.max)
			}
		})
	}
}
