package certsel

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// TestSelectMLKEM: an ML-KEM certificate (keyEncipherment) is selected for
// encryption, with its key when the key file is beside it, and rejected
// for signing by the key-usage rule (issue #18 item 3).
func TestSelectMLKEM(t *testing.T) {
	l := labtest.Default(t)
	u, err := l.MLKEMUser("dan-mlkem", "dan", "Dan", kem.MLKEM768)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := l.WriteDir(dir, "pw"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dan-mlkem.crt"), u.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dan-mlkem.key"), u.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Now:     func() time.Time { return at },
		Roots:   []*x509.Certificate{l.Root.Cert},
		Sources: []Source{Files{Path: dir}},
	}
	ctx := context.Background()
	sel, err := Select(ctx, "dan@example.com", PurposeEncrypt, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Certificate.Equal(u.Cert) {
		t.Fatalf("selected %s", sel.Certificate.Subject)
	}
	if _, ok := sel.Certificate.PublicKey.(*kem.PublicKey); !ok {
		t.Fatalf("selected certificate's key is %T", sel.Certificate.PublicKey)
	}
	if k, ok := sel.Key.(*kem.PrivateKey); !ok || !k.PublicKey().Equal(u.Key.Public()) {
		t.Fatalf("key %T is not the user's ML-KEM key", sel.Key)
	}
	_, err = Select(ctx, "dan@example.com", PurposeSign, opts)
	var nm *NoMatchError
	if !errors.As(err, &nm) {
		t.Fatalf("signing: got %v, want a *NoMatchError", err)
	}
	for _, c := range nm.Candidates {
		if c.Cert.Equal(u.Cert) && c.Rule != KeyUsage {
			t.Errorf("signing: the ML-KEM certificate was rejected by %v (%s), want key-usage", c.Rule, c.Detail)
		}
	}
}
