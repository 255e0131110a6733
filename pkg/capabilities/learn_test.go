package capabilities

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestLearnFrom: only a valid message teaches anything (issue #18 item 1,
// hostile): a forged signature, a signer that does not chain to the trusted
// root, or mail without the attribute write nothing.
func TestLearnFrom(t *testing.T) {
	l := labtest.Seeded(t, "capabilities")
	other := labtest.Seeded(t, "capabilities-other")
	bob := l.User("bob")
	at := func() time.Time { return epoch }
	signMsg := func(noCaps bool) []byte {
		var b bytes.Buffer
		msg := "From: bob@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nHi Alice.\r\n"
		if err := sign.Sign(context.Background(), &b, strings.NewReader(msg), sign.Options{Key: bob.Key, Certificate: bob.Cert, Chain: l.Chain(), Now: at, NoCapabilities: noCaps}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	good := signMsg(false)
	forged := bytes.Replace(good, []byte("Hi Alice."), []byte("Hi Mallo."), 1)
	for _, tc := range []struct {
		name  string
		msg   []byte
		root  *x509.Certificate
		valid bool
		want  int
	}{
		{"valid", good, l.Root.Cert, true, 1},
		{"forged", forged, l.Root.Cert, false, 0},
		{"untrusted", good, other.Root.Cert, false, 0},
		{"no attribute", signMsg(true), l.Root.Cert, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(tc.msg), verify.Options{Roots: []*x509.Certificate{tc.root}, Now: at})
			if (err == nil) != tc.valid || res == nil {
				t.Fatalf("verify: %v, %v", res, err)
			}
			if len(res.Signers) == 0 || res.Signers[0].Capabilities == nil && tc.name != "no attribute" {
				t.Fatalf("the signer's capabilities were not read: %+v", res.Signers)
			}
			s, _ := openStore(t, epoch)
			n, err := s.LearnFrom(res)
			if err != nil || n != tc.want {
				t.Fatalf("learned %d, %v; want %d", n, err, tc.want)
			}
			r, err := s.Lookup(bob.Cert)
			if err != nil || (r != nil) != (tc.want > 0) {
				t.Fatalf("lookup: %v, %v", r, err)
			}
			if r != nil && (Names(r.Capabilities) != "aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc, rsaes-oaep" || !r.SigningTime.Equal(epoch)) {
				t.Errorf("record %q at %v", Names(r.Capabilities), r.SigningTime)
			}
		})
	}
	var s *Store
	if n, err := s.LearnFrom(nil); n != 0 || err != nil {
		t.Errorf("nil result: %d, %v", n, err)
	}
}

// TestLearnFromEncryptionPreference: a signer that receives with another
// certificate (RFC 8551 2.5.3, as Outlook sends) gets the capabilities
// recorded for that one too, but only if it is the same person's: a signer
// naming someone else's certificate records nothing for it.
func TestLearnFromEncryptionPreference(t *testing.T) {
	l := labtest.Seeded(t, "capabilities")
	at := func() time.Time { return epoch }
	for _, tc := range []struct {
		name        string
		signer, enc string
		from        string
		want        []string // users with a record
		wantNone    []string
	}{
		{"dual certificates", "alice-sign", "alice-encrypt", "alice@example.com", []string{"alice-sign", "alice-encrypt"}, nil},
		{"someone else's certificate", "bob", "carol", "bob@example.com", []string{"bob"}, []string{"carol"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, enc := l.User(tc.signer), l.User(tc.enc)
			var b bytes.Buffer
			msg := "From: " + tc.from + "\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nHi.\r\n"
			if err := sign.Sign(context.Background(), &b, strings.NewReader(msg), sign.Options{Key: u.Key, Certificate: u.Cert,
				Chain: append(l.Chain(), enc.Cert), EncryptionCertificate: enc.Cert, Now: at}); err != nil {
				t.Fatal(err)
			}
			res, err := verify.Verify(context.Background(), io.Discard, &b, verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: at})
			if err != nil {
				t.Fatal(err)
			}
			if res.Signers[0].EncryptionCertificate == nil || !res.Signers[0].EncryptionCertificate.Equal(enc.Cert) {
				t.Fatalf("the encryption key preference was not read")
			}
			s, _ := openStore(t, epoch)
			if _, err := s.LearnFrom(res); err != nil {
				t.Fatal(err)
			}
			for _, who := range tc.want {
				if r, err := s.Lookup(l.User(who).Cert); r == nil || err != nil {
					t.Errorf("%s: no record (%v)", who, err)
				}
			}
			for _, who := range tc.wantNone {
				if r, err := s.Lookup(l.User(who).Cert); r != nil || err != nil {
					t.Errorf("%s: a record was written (%v)", who, err)
				}
			}
		})
	}
}

// TestLearnFromHostileList: a valid signer advertising 100,000 capabilities
// gets a record of the first MaxEntries, within MaxRecordBytes (issue #18
// item 1: a sender can't fill the disk).
func TestLearnFromHostileList(t *testing.T) {
	l := labtest.Seeded(t, "capabilities")
	bob := l.User("bob")
	caps := []asn1.ObjectIdentifier{aes256gcm.OID}
	for i := range 100000 {
		caps = append(caps, asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, i})
	}
	msg := []byte("From: bob@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nHi.\r\n")
	signed, err := labtest.CoSign(msg, epoch, []*x509.Certificate{l.Intermediate.Cert}, labtest.CoSigner{Key: bob.Key, Certificate: bob.Cert, Capabilities: caps})
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(signed), verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return epoch }})
	if err != nil {
		t.Fatal(err)
	}
	s, dir := openStore(t, epoch)
	if n, err := s.LearnFrom(res); n != 1 || err != nil {
		t.Fatalf("learned %d, %v", n, err)
	}
	fi, err := os.Stat(filepath.Join(dir, Fingerprint(bob.Cert)+".json"))
	if err != nil || fi.Size() > MaxRecordBytes {
		t.Fatalf("record: %v, %v", fi, err)
	}
	r, err := s.Lookup(bob.Cert)
	if err != nil || len(r.Capabilities) != MaxEntries || !r.Truncated || r.Capabilities[0].Name() != "aes-256-gcm" {
		t.Fatalf("record of %d entries (truncated %v), %v", len(r.Capabilities), r.Truncated, err)
	}
	t.Logf("signed message %d bytes, record %d bytes", len(signed), fi.Size())
}
