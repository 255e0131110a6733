package revocation

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mozilla.org/pkcs7"
)

func TestFetchIssuers(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	inter := l.Intermediate.Cert
	p7, err := pkcs7.DegenerateCertificate(append(append([]byte{}, inter.Raw...), l.Root.Cert.Raw...))
	if err != nil {
		t.Fatal(err)
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: inter.Raw})
	tests := []struct {
		name    string
		handler http.Handler
		opts    Options
		n       int    // certificates expected; 0 means an error
		errText string // in the error
	}{
		{"DER", serveBytes("/ca/intermediate.crt", inter.Raw), Options{}, 1, ""},
		{"PEM", serveBytes("/ca/intermediate.crt", pemCert), Options{}, 1, ""},
		{"PKCS#7 certs-only", serveBytes("/ca/intermediate.crt", p7), Options{}, 2, ""},
		{"not found", http.NotFoundHandler(), Options{}, 0, "HTTP status 404"},
		{"not a certificate", serveBytes("/ca/intermediate.crt", []byte("<html>proxy login</html>")), Options{}, 0, "is not a certificate"},
		{"too large", serveBytes("/ca/intermediate.crt", p7), Options{MaxResponseSize: 100}, 0, "response too large"},
		{"hangs", hang(t), Options{URLTimeout: 200 * time.Millisecond}, 0, "no answer within the per-URL timeout (200ms)"},
		{"overall deadline", hang(t), Options{URLTimeout: 5 * time.Second, TotalTimeout: 200 * time.Millisecond}, 0, "overall revocation timeout (200ms) ran out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.handler.Store(&tc.handler)
			f.hits.Store(0)
			start := time.Now()
			certs, err := FetchIssuers(context.Background(), f.user(t, "alice-sign"), tc.opts)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			if tc.n == 0 {
				if err == nil || !strings.Contains(err.Error(), tc.errText) || !strings.Contains(err.Error(), f.srv.URL+"/ca/intermediate.crt") {
					t.Fatalf("got %d certificates, %v; want an error naming the URL and %q", len(certs), err, tc.errText)
				}
				return
			}
			if err != nil || len(certs) != tc.n || !certs[0].Equal(inter) || f.hits.Load() != 1 {
				t.Fatalf("got %d certificates, %v after %d requests; want %d, the intermediate first, one request", len(certs), err, f.hits.Load(), tc.n)
			}
		})
	}

	// Offline, and a certificate without caIssuers: no request.
	f.handler.Store(new(http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request while offline: %s", r.URL)
	}))))
	if _, err := FetchIssuers(context.Background(), f.user(t, "alice-sign"), Options{Offline: true}); !errors.Is(err, ErrOffline) {
		t.Errorf("offline: %v, want ErrOffline", err)
	}
	if _, err := FetchIssuers(context.Background(), leafWith(t, l, 9100, nil), Options{}); err == nil || !strings.Contains(err.Error(), "names no caIssuers URL") {
		t.Errorf("no caIssuers: %v", err)
	}
}
