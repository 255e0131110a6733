package capabilities

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

func openStore(t *testing.T, now time.Time) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "a", "capabilities")
	s, err := Open(dir, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

type learn struct {
	at   time.Time // signing time; zero for none
	caps []Capability
	want Outcome
}

// TestLearnOrder: a record is replaced only by one from later mail, and a
// signing time in the future can't pin one (issue #18 item 1).
func TestLearnOrder(t *testing.T) {
	now := epoch
	gcm := []Capability{aes256gcm, aes256cbc}
	cbc := []Capability{aes256cbc}
	for _, tc := range []struct {
		name     string
		learns   []learn
		want     string // Names of the final record
		wantTime time.Time
	}{
		{"first", []learn{{now.Add(-time.Hour), gcm, Written}}, "aes-256-gcm, aes-256-cbc", now.Add(-time.Hour)},
		{"newer wins", []learn{{now.Add(-2 * time.Hour), cbc, Written}, {now.Add(-time.Hour), gcm, Written}}, "aes-256-gcm, aes-256-cbc", now.Add(-time.Hour)},
		{"older never overwrites", []learn{{now.Add(-time.Hour), gcm, Written}, {now.Add(-2 * time.Hour), cbc, KeptNewer}}, "aes-256-gcm, aes-256-cbc", now.Add(-time.Hour)},
		{"same time kept", []learn{{now.Add(-time.Hour), gcm, Written}, {now.Add(-time.Hour), cbc, KeptNewer}}, "aes-256-gcm, aes-256-cbc", now.Add(-time.Hour)},
		{"no signing time is now", []learn{{now.Add(-time.Hour), gcm, Written}, {time.Time{}, cbc, Written}}, "aes-256-cbc", now},
		{"within skew believed", []learn{{now.Add(4 * time.Minute), cbc, Written}}, "aes-256-cbc", now.Add(4 * time.Minute)},
		{"future clamped to now", []learn{{now.AddDate(10, 0, 0), gcm, Written}}, "aes-256-gcm, aes-256-cbc", now},
		// A forged date ten years ahead, then honest mail of a minute ago:
		// the forged record sorts at the time it was learned, so honest
		// mail signed after that replaces it.
		{"future does not pin", []learn{{now.AddDate(10, 0, 0), gcm, Written}, {now.Add(time.Minute), cbc, Written}}, "aes-256-cbc", now.Add(time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openStore(t, now)
			cert := labtest.Seeded(t, "capabilities").User("bob").Cert
			for i, l := range tc.learns {
				got, err := s.Learn(cert, l.caps, false, l.at)
				if err != nil || got != l.want {
					t.Fatalf("learn %d: got %v, %v, want %v", i, got, err, l.want)
				}
			}
			r, err := s.Lookup(cert)
			if err != nil || r == nil {
				t.Fatalf("lookup: %v, %v", r, err)
			}
			if Names(r.Capabilities) != tc.want || !r.Time.Equal(tc.wantTime) || !r.Certificate.Equal(cert) {
				t.Errorf("got %q at %v, want %q at %v", Names(r.Capabilities), r.Time, tc.want, tc.wantTime)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	t.Run("created 0700", func(t *testing.T) {
		_, dir := openStore(t, epoch)
		for _, d := range []string{dir, filepath.Dir(dir)} {
			fi, err := os.Stat(d)
			if err != nil || fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: %v %v", d, fi.Mode(), err)
			}
		}
	})
	for _, tc := range []struct {
		name  string
		setup func(dir string) error
		err   string
	}{
		{"symlink", func(dir string) error {
			if err := os.Mkdir(dir+".real", 0o700); err != nil {
				return err
			}
			return os.Symlink(dir+".real", dir)
		}, "symbolic link"},
		{"file", func(dir string) error { return os.WriteFile(dir, nil, 0o600) }, "not a directory"},
		{"group writable", func(dir string) error {
			if err := os.Mkdir(dir, 0o700); err != nil {
				return err
			}
			return os.Chmod(dir, 0o770)
		}, "writable by others"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "caps")
			if err := tc.setup(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want %q", err, tc.err)
			}
		})
	}
}

// TestStoreNeverFollowsLinks: a symbolic link planted where a record or
// the lock file goes is never written through (issue #18 item 1).
func TestStoreNeverFollowsLinks(t *testing.T) {
	cert := labtest.Seeded(t, "capabilities").User("bob").Cert
	t.Run("record", func(t *testing.T) {
		s, dir := openStore(t, epoch)
		victim := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, Fingerprint(cert)+".json")
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Lookup(cert); err == nil {
			t.Error("lookup read through a symbolic link")
		}
		if got, err := s.Learn(cert, []Capability{aes256gcm}, false, epoch); err != nil || got != Written {
			t.Fatalf("learn: %v %v", got, err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "keep" {
			t.Errorf("the link's target was written: %q", b)
		}
		if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("the link was not replaced by a record: %v %v", fi.Mode(), err)
		}
	})
	t.Run("lock", func(t *testing.T) {
		s, dir := openStore(t, epoch)
		victim := filepath.Join(t.TempDir(), "created-by-link")
		if err := os.Symlink(victim, filepath.Join(dir, lockName)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Learn(cert, []Capability{aes256gcm}, false, epoch); err == nil {
			t.Error("learned through a symbolic link as lock file")
		}
		if _, err := os.Lstat(victim); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the lock link's target was created: %v", err)
		}
	})
}

// TestLookupDamaged: records that are not what their name says are errors,
// never another certificate's capabilities; Learn replaces them.
func TestLookupDamaged(t *testing.T) {
	l := labtest.Seeded(t, "capabilities")
	bob, carol := l.User("bob").Cert, l.User("carol").Cert
	for _, tc := range []struct {
		name  string
		write func(s *Store, dir string) error
		err   string
	}{
		{"garbage", func(s *Store, dir string) error {
			return os.WriteFile(filepath.Join(dir, Fingerprint(bob)+".json"), []byte("{\"version\":1,"), 0o600)
		}, "malformed record"},
		{"another certificate's record", func(s *Store, dir string) error {
			if _, err := s.Learn(carol, []Capability{aes256gcm}, false, epoch); err != nil {
				return err
			}
			return os.Rename(filepath.Join(dir, Fingerprint(carol)+".json"), filepath.Join(dir, Fingerprint(bob)+".json"))
		}, "another certificate"},
		{"too large", func(s *Store, dir string) error {
			return os.WriteFile(filepath.Join(dir, Fingerprint(bob)+".json"), make([]byte, MaxRecordBytes+1), 0o600)
		}, "larger than"},
		{"a directory", func(s *Store, dir string) error {
			return os.Mkdir(filepath.Join(dir, Fingerprint(bob)+".json"), 0o700)
		}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := openStore(t, epoch)
			if err := tc.write(s, dir); err != nil {
				t.Fatal(err)
			}
			r, err := s.Lookup(bob)
			if err == nil || !strings.Contains(err.Error(), tc.err) || r != nil {
				t.Fatalf("got %v, %v, want %q", r, err, tc.err)
			}
			// The error names the file, so that the user can remove it.
			if !strings.Contains(err.Error(), Fingerprint(bob)+".json") || !strings.Contains(err.Error(), dir) {
				t.Errorf("got %v, want it to name %s.json in %s", err, Fingerprint(bob), dir)
			}
			if tc.name == "a directory" {
				return
			}
			if _, err := s.Learn(bob, []Capability{aes256cbc}, false, epoch.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if r, err := s.Lookup(bob); err != nil || Names(r.Capabilities) != "aes-256-cbc" {
				t.Errorf("after learning: %v %v", r, err)
			}
		})
	}
}

// TestLearnBounded: a record stays within MaxRecordBytes whatever the
// sender advertised, and one that can't is not written.
func TestLearnBounded(t *testing.T) {
	s, dir := openStore(t, epoch)
	cert := labtest.Seeded(t, "capabilities").User("bob").Cert
	caps, _, err := Parse(manyCaps(100000, MaxParameterBytes-4))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Learn(cert, caps, true, epoch); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, Fingerprint(cert)+".json"))
	if err != nil || fi.Size() > MaxRecordBytes {
		t.Fatalf("record of %d bytes, %v", fi.Size(), err)
	}
	big := certWithExtension(t, nil, MaxRecordBytes)
	var tl *TooLargeError
	if _, err := s.Learn(big, []Capability{aes256gcm}, false, epoch); !errors.As(err, &tl) {
		t.Fatalf("got %v, want a *TooLargeError", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, Fingerprint(big)+".json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a record too large was written: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestLearnConcurrent: many writers at once leave the record of the latest
// mail, whole (the process-level test is cmd/smimectl's
// TestCapabilitiesConcurrentVerify).
func TestLearnConcurrent(t *testing.T) {
	s, dir := openStore(t, epoch)
	cert := labtest.Seeded(t, "capabilities").User("bob").Cert
	var wg sync.WaitGroup
	const n = 50
	for i := range n {
		wg.Go(func() {
			caps := []Capability{aes256cbc}
			if i == n/2 {
				caps = []Capability{aes256gcm} // the latest mail
			}
			at := epoch.Add(-time.Hour).Add(time.Duration(i) * time.Second)
			if i > n/2 {
				at = epoch.Add(-2 * time.Hour).Add(time.Duration(i) * time.Second)
			}
			if _, err := s.Learn(cert, caps, false, at); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r, err := s.Lookup(cert)
	if err != nil || Names(r.Capabilities) != "aes-256-gcm" {
		t.Fatalf("got %v, %v", r, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // the record and .lock
		t.Errorf("%d files in the store, want the record and the lock", len(entries))
	}
}

// TestKnown: the store's record first, then the certificate extension,
// else unknown; a damaged record is passed over with its error.
func TestKnown(t *testing.T) {
	withExt := certWithExtension(t, mustMarshal(t, []Capability{aes256gcm, oaep}), 0)
	plain := certWithExtension(t, nil, 0)
	for _, tc := range []struct {
		name   string
		cert   *x509.Certificate
		learn  []Capability
		damage bool
		nilS   bool
		source encrypt.Source
		want   []encrypt.Cipher
		err    bool
	}{
		{name: "record", cert: withExt, learn: []Capability{aes256cbc}, source: encrypt.SourceSignedMail, want: []encrypt.Cipher{encrypt.AES256CBC}},
		{name: "extension", cert: withExt, source: encrypt.SourceCertificate, want: []encrypt.Cipher{encrypt.AES256GCM}},
		{name: "no store", cert: withExt, nilS: true, source: encrypt.SourceCertificate, want: []encrypt.Cipher{encrypt.AES256GCM}},
		{name: "unknown", cert: plain, source: encrypt.SourceUnknown},
		{name: "damaged record", cert: withExt, damage: true, source: encrypt.SourceCertificate, want: []encrypt.Cipher{encrypt.AES256GCM}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := openStore(t, epoch)
			if tc.learn != nil {
				if _, err := s.Learn(tc.cert, tc.learn, false, epoch); err != nil {
					t.Fatal(err)
				}
			}
			if tc.damage {
				if err := os.WriteFile(filepath.Join(dir, Fingerprint(tc.cert)+".json"), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.nilS {
				s = nil
			}
			k, err := Known(s, tc.cert)
			if (err != nil) != tc.err || k.Source != tc.source || len(k.Ciphers) != len(tc.want) || (len(tc.want) > 0 && k.Ciphers[0] != tc.want[0]) {
				t.Errorf("got %+v, %v", k, err)
			}
		})
	}
}
