package encrypt

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// TestChoose is the cipher and key-transport choice of issue #18 item 2: the
// first cipher of the list that every recipient is known to read, AES-GCM
// only where every recipient advertised it, RSA-OAEP where advertised.
func TestChoose(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob, carol := l.User("bob").Cert, l.User("carol").Cert
	mail := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gcm := Capabilities{Source: SourceSignedMail, At: mail, Ciphers: []Cipher{AES256GCM, AES256CBC, AES128CBC}}
	gcmOAEP := Capabilities{Source: SourceSignedMail, At: mail, Ciphers: []Cipher{AES256GCM, AES256CBC}, OAEP: true}
	cbc := Capabilities{Source: SourceSignedMail, At: mail, Ciphers: []Cipher{AES256CBC, AES128CBC}}
	only128 := Capabilities{Source: SourceSignedMail, At: mail, Ciphers: []Cipher{AES128CBC}}
	nothing := Capabilities{Source: SourceSignedMail, At: mail} // 3DES and RC2 only
	ext := Capabilities{Source: SourceCertificate, Ciphers: []Cipher{AES128GCM, AES256CBC}}
	for _, tc := range []struct {
		name     string
		list     []Cipher
		oaep     bool
		certs    []*x509.Certificate
		caps     []Capabilities
		want     Cipher
		assumed  bool
		oaepFor  []bool
		why      string
		whyFirst string // in Recipients[0].Why
	}{
		{name: "bob-gcm-alone", certs: []*x509.Certificate{bob}, caps: []Capabilities{gcm}, want: AES256GCM, oaepFor: []bool{false},
			why: "the first cipher of the list", whyFirst: "signed mail of 2026-03-01 advertised aes-256-gcm, aes-256-cbc, aes-128-cbc"},
		{name: "bob-gcm-carol-unknown", certs: []*x509.Certificate{bob, carol}, caps: []Capabilities{gcm}, want: AES256CBC, oaepFor: []bool{false, false},
			why: "not every recipient is known to read aes-256-gcm"},
		{name: "bob-gcm-carol-cbc", certs: []*x509.Certificate{bob, carol}, caps: []Capabilities{gcm, cbc}, want: AES256CBC, oaepFor: []bool{false, false}},
		{name: "both-gcm", certs: []*x509.Certificate{bob, carol}, caps: []Capabilities{gcm, gcm}, want: AES256GCM, oaepFor: []bool{false, false}},
		{name: "unknown", certs: []*x509.Certificate{bob}, want: AES256CBC, oaepFor: []bool{false},
			whyFirst: "no capabilities known"},
		{name: "oaep-advertised", certs: []*x509.Certificate{bob, carol}, caps: []Capabilities{gcmOAEP, gcmOAEP}, want: AES256GCM, oaepFor: []bool{true, false}},
		{name: "oaep-forced", oaep: true, certs: []*x509.Certificate{bob}, want: AES256CBC, oaepFor: []bool{true}},
		{name: "only-aes128", certs: []*x509.Certificate{bob}, caps: []Capabilities{only128}, want: AES128CBC, oaepFor: []bool{false}},
		{name: "advertised-nothing-writable", certs: []*x509.Certificate{bob}, caps: []Capabilities{nothing}, want: AES256CBC, assumed: true, oaepFor: []bool{false},
			why: "AES-CBC is assumed", whyFirst: "advertised nothing this program writes"},
		{name: "cbc-list-overrides-gcm", list: []Cipher{AES256CBC}, certs: []*x509.Certificate{bob}, caps: []Capabilities{gcm}, want: AES256CBC, oaepFor: []bool{false}},
		{name: "gcm-alone-forced", list: []Cipher{AES256GCM}, certs: []*x509.Certificate{bob, carol}, caps: []Capabilities{gcm}, want: AES256GCM, assumed: true, oaepFor: []bool{false, false},
			why: "asked for, although not every recipient"},
		{name: "certificate-extension", list: []Cipher{AES256GCM, AES128GCM, AES256CBC}, certs: []*x509.Certificate{bob}, caps: []Capabilities{ext}, want: AES128GCM, oaepFor: []bool{false},
			whyFirst: "its certificate's smimeCapabilities extension advertised aes-128-gcm, aes-256-cbc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Choose(tc.list, tc.oaep, tc.certs, tc.caps)
			if err != nil {
				t.Fatal(err)
			}
			if p.Cipher != tc.want || p.Assumed != tc.assumed {
				t.Errorf("got %v (assumed %v, %s), want %v (assumed %v)", p.Cipher, p.Assumed, p.Why, tc.want, tc.assumed)
			}
			if !strings.Contains(p.Why, tc.why) {
				t.Errorf("why %q lacks %q", p.Why, tc.why)
			}
			if len(p.Recipients) != len(tc.certs) {
				t.Fatalf("%d recipients planned, want %d", len(p.Recipients), len(tc.certs))
			}
			for i, rp := range p.Recipients {
				if rp.OAEP != tc.oaepFor[i] {
					t.Errorf("recipient %d: OAEP %v, want %v", i, rp.OAEP, tc.oaepFor[i])
				}
				if rp.Reads != rp.Capabilities.reads(p.Cipher) || rp.Certificate != tc.certs[i] {
					t.Errorf("recipient %d: %+v", i, rp)
				}
			}
			if !strings.Contains(p.Recipients[0].Why, tc.whyFirst) {
				t.Errorf("recipient 0: why %q lacks %q", p.Recipients[0].Why, tc.whyFirst)
			}
		})
	}
}

func TestChooseRefuses(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob := []*x509.Certificate{l.User("bob").Cert}
	for _, tc := range []struct {
		name  string
		list  []Cipher
		certs []*x509.Certificate
		want  string
	}{
		{"3des", []Cipher{AES256GCM, DES3CBC}, bob, "refusing to encrypt with des-ede3-cbc"},
		{"rc2", []Cipher{RC2CBC128}, bob, "refusing"},
		{"unknown", []Cipher{Cipher(99)}, bob, "refusing"},
		{"no recipients", nil, nil, "no recipients"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Choose(tc.list, false, tc.certs, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
