package cms

import (
	"bytes"
	"crypto/x509"
	"testing"

	"github.com/smimectl/smimectl/internal/lab"
)

// TestCertsOnlyRoundTrip: what CertsOnly writes is DER, and Certificates
// reads back the same certificates in the same order (issue #14 item 4).
func TestCertsOnlyRoundTrip(t *testing.T) {
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	certs := []*x509.Certificate{l.User("alice-sign").Cert, l.User("alice-encrypt").Cert, l.Intermediate.Cert}
	der, err := CertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ToDER(der)
	if err != nil || !bytes.Equal(again, der) {
		t.Fatalf("not DER: %v", err)
	}
	got, err := Certificates(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(certs) {
		t.Fatalf("got %d certificates, want %d", len(got), len(certs))
	}
	for i := range got {
		if !got[i].Equal(certs[i]) {
			t.Errorf("certificate %d: got %s, want %s", i, got[i].Subject, certs[i].Subject)
		}
	}
	if _, err := CertsOnly(nil); err == nil {
		t.Error("CertsOnly(nil): got no error")
	}
}
