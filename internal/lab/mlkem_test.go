package lab

import (
	"bytes"
	"crypto/x509"
	"testing"

	"github.com/smimectl/smimectl/internal/kem"
)

// TestMLKEMUser: the lab's ML-KEM encryption certificate (issue #18 item 3)
// is issued by the intermediate, chains to the root, allows
// keyEncipherment only, carries the address, and is the same for the
// same seed (key and certificate), different for another.
func TestMLKEMUser(t *testing.T) {
	l, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []kem.ParameterSet{kem.MLKEM768, kem.MLKEM1024} {
		u, err := l.MLKEMUser("dan-mlkem", "dan", "Dan", set)
		if err != nil {
			t.Fatal(err)
		}
		pub, ok := u.Cert.PublicKey.(*kem.PublicKey)
		if !ok || pub.ParameterSet() != set || !pub.Equal(u.Key.Public()) {
			t.Fatalf("certificate key %T is not the user's %v key", u.Cert.PublicKey, set)
		}
		if u.Cert.KeyUsage != x509.KeyUsageKeyEncipherment || u.Email != "dan@example.com" ||
			len(u.Cert.EmailAddresses) != 1 || u.Cert.EmailAddresses[0] != u.Email {
			t.Errorf("key usage %v, addresses %v", u.Cert.KeyUsage, u.Cert.EmailAddresses)
		}
		pool := x509.NewCertPool()
		pool.AddCert(l.Root.Cert)
		inter := x509.NewCertPool()
		inter.AddCert(l.Intermediate.Cert)
		if _, err := u.Cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
			CurrentTime: l.Options.Epoch.AddDate(1, 0, 0), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
			t.Errorf("chain: %v", err)
		}
		again, err := l.MLKEMUser("dan-mlkem", "dan", "Dan", set)
		if err != nil || !bytes.Equal(again.Cert.Raw, u.Cert.Raw) || !bytes.Equal(again.KeyPEM(), u.KeyPEM()) {
			t.Error("the same seed gave another certificate or key")
		}
		l2, _ := New(Options{Seed: "2"})
		other, err := l2.MLKEMUser("dan-mlkem", "dan", "Dan", set)
		if err != nil || other.Key.PublicKey().Equal(pub) {
			t.Error("another seed gave the same key")
		}
	}
}
