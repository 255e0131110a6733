package revocation

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
)

// TestRefresh: the cache warming of smimectl crl fetch (issue #16 item 5).
func TestRefresh(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	other, err := lab.New(lab.Options{Seed: "2", CRLBaseURL: f.srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	alice := f.user(t, "alice-sign")
	url := f.srv.URL + "/intermediate.crl"
	tests := []struct {
		name    string
		handler http.Handler
		warm    bool // the cache holds the CRL before
		source  Source
		err     string // "" for success
	}{
		{"fetched", labCRLs(l), false, SourceURL, ""},
		{"fetched over a cached one", labCRLs(l), true, SourceURL, ""},
		{"server down, cache current", http.NotFoundHandler(), true, SourceCache, ""},
		{"server down, cache empty", http.NotFoundHandler(), false, "", "HTTP status 404"},
		{"wrong issuer's CRL is not cached", labCRLs(other), false, "", "signature does not verify"},
		{"no answer", hang(t), false, "", "per-URL timeout (200ms)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.handler.Store(&tc.handler)
			dir := t.TempDir()
			if tc.warm {
				if err := writeCache(dir, url, l.Intermediate.CRL); err != nil {
					t.Fatal(err)
				}
			}
			o, err := Refresh(context.Background(), alice, l.Intermediate.Cert, at, Options{CacheDir: dir, URLTimeout: 200 * time.Millisecond})
			if tc.err != "" {
				var ue *UnavailableError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want *UnavailableError with %q", err, tc.err)
				}
				if _, err := os.Stat(cachePath(dir, url)); !tc.warm && err == nil {
					t.Error("a refused or missing CRL was cached")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Source != tc.source || o.Status != Good || o.URL != url || o.NextUpdate.IsZero() {
				t.Errorf("outcome %+v, want %s, good, from %s, with a nextUpdate", o, tc.source, url)
			}
			// What was fetched is in the cache: an offline check answers from it.
			o, err = New(Options{CacheDir: dir, Offline: true, Mode: Hard}).Check(context.Background(), alice, l.Intermediate.Cert, at)
			if err != nil || o.Source != SourceCache {
				t.Errorf("offline check after the refresh: %v, %+v", err, o)
			}
		})
	}
	t.Run("no cache directory", func(t *testing.T) {
		if _, err := Refresh(context.Background(), alice, l.Intermediate.Cert, at, Options{}); !errors.Is(err, ErrNoCache) {
			t.Errorf("error %v, want ErrNoCache", err)
		}
	})
	t.Run("revoked is an answer", func(t *testing.T) {
		f.handler.Store(new(labCRLs(l)))
		o, err := Refresh(context.Background(), f.user(t, "eve-revoked"), l.Intermediate.Cert, at, Options{CacheDir: t.TempDir()})
		if err != nil || o.Status != Revoked {
			t.Errorf("%v, %+v; want no error and revoked", err, o)
		}
	})
}
