package revocation

import (
	"context"
	"crypto/x509"
	"math/big"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestCRLForgedHugeNotParsed: a CRL from the network or the cache is
// believed only once its signature verifies with the issuer's key, and
// nothing an unauthenticated sender controls should cost more than the
// download itself. x509.ParseRevocationList builds every entry before any
// signature is looked at: a hostile network (CRL distribution points are
// plain HTTP) or a planted cache file of 12 MB of tiny entries, under any
// signature, cost 600 MiB of allocations (about 220 MiB live) and a
// second of CPU per fetch. The CRL's signature is now checked on its raw
// bytes first; a forged one is refused before its entries are read.
func TestCRLForgedHugeNotParsed(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	n := 600_000
	entries := make([]x509.RevocationListEntry, n)
	for i := range entries {
		entries[i] = x509.RevocationListEntry{SerialNumber: big.NewInt(int64(i%100 + 1)), RevocationTime: at}
	}
	der := intermediateCRL(t, l, &x509.RevocationList{ThisUpdate: at.AddDate(0, 0, -1), NextUpdate: at.AddDate(0, 0, 7),
		RevokedCertificateEntries: entries})
	entries = nil
	der[len(der)-1] ^= 1 // the signature no longer verifies
	alice := f.user(t, "alice-sign")
	cacheDir := t.TempDir()

	for _, tc := range []struct {
		name string
		opts Options
		prep func()
	}{
		{"fetched", Options{}, func() {
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(der) })
			f.handler.Store(&h)
		}},
		{"cached", Options{CacheDir: cacheDir, Offline: true}, func() {
			if err := os.WriteFile(cachePath(cacheDir, alice.CRLDistributionPoints[0]), der, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.prep()
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := time.Now()
			o, err := New(tc.opts).Check(context.Background(), alice, l.Intermediate.Cert, at)
			took := time.Since(start)
			runtime.ReadMemStats(&m1)
			if err != nil || o.Status != Unknown {
				t.Fatalf("%v (%s), %v; want unknown", o.Status, o.Detail, err)
			}
			if tc.name == "fetched" && !strings.Contains(o.Detail, "signature does not verify") {
				t.Errorf("detail %q, want the forged CRL refused for its signature", o.Detail)
			}
			// The download itself is 12 MB, read into a growing buffer.
			alloc := (m1.TotalAlloc - m0.TotalAlloc) >> 20
			t.Logf("%d MiB allocated, %v", alloc, took)
			if alloc > 100 {
				t.Errorf("%d MiB allocated for a forged CRL of %d MiB, want under 100", alloc, len(der)>>20)
			}
		})
	}
}
