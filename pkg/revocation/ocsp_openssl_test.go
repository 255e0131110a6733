package revocation

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// TestOCSPOpenSSL asks a real "openssl ocsp" responder, which signs with the
// intermediate's key and embeds the intermediate's certificate.
func TestOCSPOpenSSL(t *testing.T) {
	testpeer.Require(t, "openssl")
	f := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("CRL fetched although OCSP answered: %s", r.URL)
	}))
	port := testpeer.FreePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	l, err := lab.New(lab.Options{CRLBaseURL: f.srv.URL + "/", OCSPURL: url})
	if err != nil {
		t.Fatal(err)
	}
	eve := l.User("eve-revoked")
	revokedAt := l.Options.Epoch.AddDate(0, 3, 0)
	testpeer.StartOCSP(t, port, l.Intermediate.Cert, l.Intermediate.Key, []testpeer.IndexEntry{
		{Cert: l.User("alice-sign").Cert},
		{Cert: eve.Cert, RevokedAt: revokedAt, Reason: "keyCompromise"},
	})
	tests := []struct {
		name   string
		user   string
		status Status
		reason int
	}{
		{"good", "alice-sign", Good, 0},
		{"revoked", "eve-revoked", Revoked, 1},
		{"not in the index", "bob", Unknown, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status == Unknown {
				// Bob is unknown to the responder; the CRL fallback then hits
				// the failing handler, so only check the OCSP refusal.
				f.handler.Store(new(http.Handler(http.NotFoundHandler())))
				o, err := New(Options{OCSP: true}).Check(context.Background(), l.User(tc.user).Cert, l.Intermediate.Cert, at)
				if o.Status != Unknown || !strings.Contains(o.Detail, "does not know the certificate") || err != nil {
					t.Errorf("%v (%s), %v; want unknown from the responder", o.Status, o.Detail, err)
				}
				return
			}
			o, err := New(Options{OCSP: true, MaxResponseSize: 1 << 20}).Check(context.Background(), l.User(tc.user).Cert, l.Intermediate.Cert, at)
			if o.Status != tc.status || o.Source != SourceOCSP || o.URL != url || o.Reason != tc.reason || o.Produced.IsZero() {
				t.Errorf("%v from %q at %q reason %d produced %v (%s); want %v from ocsp at %q reason %d", o.Status, o.Source, o.URL, o.Reason, o.Produced, o.Detail, tc.status, url, tc.reason)
			}
			if tc.status == Revoked {
				checkErr(t, err, new(*RevokedError))
				if !o.RevokedAt.Equal(revokedAt) {
					t.Errorf("revoked at %v, want %v", o.RevokedAt, revokedAt)
				}
			}
		})
	}
}
