package certinfo

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"testing"
	"time"
)

func TestAddresses(t *testing.T) {
	c := &x509.Certificate{
		Subject:        pkix.Name{Names: []pkix.AttributeTypeAndValue{{Type: oidEmailAddress, Value: "alice@Example.COM"}}},
		EmailAddresses: []string{"alice@example.com", "al@example.org"},
	}
	got := Addresses(c)
	if len(got) != 2 || got[0] != "alice@Example.COM" || got[1] != "al@example.org" {
		t.Fatalf("got %q", got)
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"alice@example.com", true},
		{"ALICE@example.com", false}, // local parts are case-sensitive
		{"al@EXAMPLE.org", true},
		{"bob@example.com", false},
		{"not-an-address", false},
	}
	for _, tc := range tests {
		if got := HasAddress(c, tc.addr); got != tc.want {
			t.Errorf("HasAddress(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	tests := []struct {
		name string
		ku   x509.KeyUsage
		eku  []x509.ExtKeyUsage
		p    Purpose
		want error
	}{
		{"no extensions sign", 0, nil, Signing, nil},
		{"digitalSignature sign", x509.KeyUsageDigitalSignature, nil, Signing, nil},
		{"nonRepudiation sign", x509.KeyUsageContentCommitment, nil, Signing, nil},
		{"keyEncipherment sign", x509.KeyUsageKeyEncipherment, nil, Signing, ErrKeyUsage},
		{"keyEncipherment encrypt", x509.KeyUsageKeyEncipherment, nil, Encryption, nil},
		{"keyAgreement encrypt", x509.KeyUsageKeyAgreement, nil, Encryption, nil},
		{"digitalSignature encrypt", x509.KeyUsageDigitalSignature, nil, Encryption, ErrKeyUsage},
		{"eku email", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, Signing, nil},
		{"eku any", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, Signing, nil},
		{"eku server only", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, Signing, ErrExtKeyUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckUsage(&x509.Certificate{KeyUsage: tc.ku, ExtKeyUsage: tc.eku}, tc.p)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	n := pkix.Name{Names: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "smimectl lab"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "Alice, Jr"},
		{Type: oidEmailAddress, Value: "alice@example.com"},
	}}
	if got, want := Name(n), `E=alice@example.com,CN="Alice, Jr",O=smimectl lab`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestMatchAddress(t *testing.T) {
	c := &x509.Certificate{
		Subject:        pkix.Name{Names: []pkix.AttributeTypeAndValue{{Type: oidEmailAddress, Value: "alice@example.com"}}},
		EmailAddresses: []string{"alice@example.com", "al@example.org", "jörg@bücher.example"},
	}
	tests := []struct {
		addr string
		want AddressMatch
	}{
		{"alice@EXAMPLE.com", SubjectMatch},
		{"al@example.ORG", SANMatch},
		{"jörg@BÜCHER.example", SANMatch},
		{"JÖRG@bücher.example", NoAddressMatch}, // RFC 8398: local part exact
		{"Alice@example.com", NoAddressMatch},
		{"bob@example.com", NoAddressMatch},
	}
	for _, tc := range tests {
		if got := MatchAddress(c, tc.addr); got != tc.want {
			t.Errorf("MatchAddress(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestSingleUsage(t *testing.T) {
	tests := []struct {
		ku   x509.KeyUsage
		p    Purpose
		want bool
	}{
		{x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, Signing, true},
		{x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, Encryption, false},
		{x509.KeyUsageKeyEncipherment, Encryption, true},
		{x509.KeyUsageKeyEncipherment, Signing, false},
		{x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, Signing, false},
		{x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement, Encryption, false},
		{0, Signing, false},
	}
	for _, tc := range tests {
		if got := SingleUsage(&x509.Certificate{KeyUsage: tc.ku}, tc.p); got != tc.want {
			t.Errorf("SingleUsage(%s, %s) = %v, want %v", UsageString(tc.ku), tc.p, got, tc.want)
		}
	}
}

// An RFC 8398 SmtpUTF8Mailbox in the subjectAltName is an address of the
// certificate, and U-label and A-label spellings of a domain are the same.
func TestSmtpUTF8Mailbox(t *testing.T) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddBytes([]byte("info@xn--bcher-kva.example"))
		})
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidSmtpUTF8Mailbox)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("jörg@bücher.example")) })
			})
		})
	})
	c := &x509.Certificate{EmailAddresses: []string{"info@xn--bcher-kva.example"},
		Extensions: []pkix.Extension{{Id: oidSubjectAltName, Value: b.BytesOrPanic()}}}
	got := Addresses(c)
	if len(got) != 2 || got[1] != "jörg@bücher.example" {
		t.Fatalf("Addresses = %q", got)
	}
	for _, tc := range []struct {
		addr string
		want AddressMatch
	}{
		{"jörg@bücher.example", SANMatch},
		{"jörg@xn--bcher-kva.example", SANMatch},
		{"JÖRG@bücher.example", NoAddressMatch},
		{"info@BÜCHER.example", SANMatch},
	} {
		if got := MatchAddress(c, tc.addr); got != tc.want {
			t.Errorf("MatchAddress(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// TestAddressesMany: a certificate with 40,000 subjectAltName addresses
// (a hostile sender's, about 800 KB) is read in linear time; duplicates
// still collapse, in any spelling SameAddress equates. Before, every new
// address was compared with all before it: 4,000 took 0.5 s, 40,000 about
// a minute, a stall for a mail filter.
func TestAddressesMany(t *testing.T) {
	c := &x509.Certificate{}
	for i := range 40000 {
		c.EmailAddresses = append(c.EmailAddresses, fmt.Sprintf("u%d@d%d.example", i, i%97))
	}
	c.EmailAddresses = append(c.EmailAddresses, "u1@D1.EXAMPLE", "u1@d1.example.", "no-at", "no-at", "用户@bücher.example", "用户@xn--bcher-kva.example")
	start := time.Now()
	got := Addresses(c)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	// u1@D1.EXAMPLE and the A-label spelling collapse; the trailing dot,
	// and each string without "@", do not.
	if len(got) != 40000+4 {
		t.Fatalf("got %d addresses, want %d", len(got), 40000+4)
	}
}
