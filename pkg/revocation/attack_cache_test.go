//go:build unix

package revocation

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestCacheHostileEntries: the CRL cache directory may be shared (a mail
// filter's --crl-cache), and a damaged entry must only cost a fetch. An
// entry that is a FIFO made Check block for ever on opening it, and one
// that is (or links to) a huge file was read whole into memory (a link
// to /dev/zero: without end). An entry is now read only if it is a
// regular file, without blocking, and up to Options.MaxResponseSize.
func TestCacheHostileEntries(t *testing.T) {
	f := setup(t, nil)
	alice := f.user(t, "alice-sign")
	for _, tc := range []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"fifo", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("mkfifo: %v (CI=true forbids skipping)", err)
				}
				t.Skipf("no FIFOs here: %v", err)
			}
		}},
		{"huge file behind a link", func(t *testing.T, path string) {
			big := filepath.Join(t.TempDir(), "big")
			fh, err := os.Create(big)
			if err != nil {
				t.Fatal(err)
			}
			if err := fh.Truncate(DefaultMaxResponseSize + 1<<20); err != nil { // sparse
				t.Fatal(err)
			}
			fh.Close()
			if err := os.Symlink(big, path); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.make(t, cachePath(dir, alice.CRLDistributionPoints[0]))
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			done := make(chan Outcome, 1)
			go func() {
				o, _ := New(Options{CacheDir: dir, Offline: true}).Check(context.Background(), alice, f.lab.Intermediate.Cert, at)
				done <- o
			}()
			select {
			case o := <-done:
				runtime.ReadMemStats(&m1)
				if o.Status != Unknown {
					t.Errorf("%v (%s), want unknown", o.Status, o.Detail)
				}
				if alloc := (m1.TotalAlloc - m0.TotalAlloc) >> 20; alloc > 8 {
					t.Errorf("%d MiB allocated for a cache entry, want under 8", alloc)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Check stalled on a cache entry")
			}
		})
	}
}
