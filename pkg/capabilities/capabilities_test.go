package capabilities

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

var (
	aes256gcm = Capability{OID: cms.OIDAES256GCM}
	aes256cbc = Capability{OID: cms.OIDAES256CBC}
	aes128cbc = Capability{OID: cms.OIDAES128CBC}
	oaep      = Capability{OID: OIDRSAESOAEP}
	rc2128    = Capability{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}, Parameters: []byte{2, 1, 128}}
	des3      = Capability{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}}
)

func mustMarshal(t testing.TB, caps []Capability) []byte {
	t.Helper()
	b, err := Marshal(caps)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// manyCaps encodes n capabilities, each with params bytes of parameters (an
// OCTET STRING), as a hostile sender might.
func manyCaps(n, params int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := range n {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 3, i + 1})
				if params > 0 {
					b.AddASN1OctetString(make([]byte, params))
				}
			})
		}
	})
	return b.BytesOrPanic()
}

// TestParse reads SMIMECapabilities within its bounds (issue #18 item 1: a
// hostile sender's attribute of 100,000 entries or huge parameters costs a
// bounded record).
func TestParse(t *testing.T) {
	longOID := make(asn1.ObjectIdentifier, 40)
	longOID[0], longOID[1] = 1, 2
	for _, tc := range []struct {
		name      string
		der       []byte
		want      int // entries kept
		truncated bool
		err       string
		names     string
	}{
		{name: "openssl", der: mustMarshal(t, []Capability{aes256cbc, aes128cbc, des3, rc2128}), want: 4, names: "aes-256-cbc, aes-128-cbc, des-ede3-cbc, rc2-cbc"},
		{name: "smimectl", der: mustMarshal(t, []Capability{aes256gcm, aes256cbc, oaep}), want: 3, names: "aes-256-gcm, aes-256-cbc, rsaes-oaep"},
		{name: "empty", der: mustMarshal(t, nil), want: 0},
		{name: "100000 entries", der: manyCaps(100000, 0), want: MaxEntries, truncated: true},
		{name: "huge parameters", der: manyCaps(3, 1<<20), want: 0, truncated: true},
		{name: "parameters at the bound", der: manyCaps(2, MaxParameterBytes-4), want: 2},
		{name: "long oid", der: mustMarshal(t, []Capability{{OID: longOID}, aes256cbc}), want: 1, truncated: true, names: "aes-256-cbc"},
		{name: "trailing data", der: append(mustMarshal(t, nil), 0), err: "malformed SMIMECapabilities"},
		{name: "not a sequence", der: []byte{4, 0}, err: "malformed SMIMECapabilities"},
		{name: "entry not a sequence", der: []byte{0x30, 2, 4, 0}, err: "malformed SMIMECapability 1"},
		{name: "entry without oid", der: []byte{0x30, 4, 0x30, 2, 4, 0}, err: "malformed capabilityID"},
		{name: "two parameters", der: []byte{0x30, 0x0b, 0x30, 0x09, 6, 3, 0x2a, 3, 4, 5, 0, 5, 0}, err: "malformed parameters"},
		{name: "truncated encoding", der: mustMarshal(t, []Capability{aes256cbc})[:8], err: "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps, truncated, err := Parse(tc.der)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(caps) != tc.want || truncated != tc.truncated {
				t.Errorf("got %d entries (truncated %v), want %d (%v)", len(caps), truncated, tc.want, tc.truncated)
			}
			if tc.names != "" && Names(caps) != tc.names {
				t.Errorf("names %q, want %q", Names(caps), tc.names)
			}
			for _, c := range caps {
				if len(c.Parameters) > MaxParameterBytes {
					t.Errorf("kept %d bytes of parameters", len(c.Parameters))
				}
			}
		})
	}
}

func TestParseMarshalRoundTrip(t *testing.T) {
	in := []Capability{aes256gcm, rc2128, oaep}
	out, _, err := Parse(mustMarshal(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(in, out, func(a, b Capability) bool { return a.OID.Equal(b.OID) && bytes.Equal(a.Parameters, b.Parameters) }) {
		t.Errorf("got %v, want %v", out, in)
	}
}

func TestCiphers(t *testing.T) {
	for _, tc := range []struct {
		caps []Capability
		want []encrypt.Cipher
		oaep bool
	}{
		{[]Capability{aes256gcm, aes256cbc, oaep}, []encrypt.Cipher{encrypt.AES256GCM, encrypt.AES256CBC}, true},
		{[]Capability{des3, aes128cbc, aes128cbc, rc2128}, []encrypt.Cipher{encrypt.AES128CBC}, false},
		{[]Capability{des3, rc2128}, nil, false},
		{nil, nil, false},
	} {
		got, o := Ciphers(tc.caps)
		if !slices.Equal(got, tc.want) || o != tc.oaep {
			t.Errorf("%s: got %v %v, want %v %v", Names(tc.caps), got, o, tc.want, tc.oaep)
		}
	}
}

// certWithExtension issues a certificate for bob's key carrying the RFC
// 4262 smimeCapabilities extension value ext (none if nil).
func certWithExtension(t testing.TB, ext []byte, extra int) *x509.Certificate {
	t.Helper()
	l := labtest.Seeded(t, "capabilities")
	ca := l.Intermediate
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "Bob"}, EmailAddresses: []string{"bob@example.com"},
		NotBefore: l.Options.Epoch, NotAfter: l.Options.Epoch.AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	if ext != nil {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDSMIMECapabilities, Value: ext})
	}
	if extra > 0 {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: append([]byte{4, 0x83, byte(extra >> 16), byte(extra >> 8), byte(extra)}, make([]byte, extra)...)})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, l.User("bob").Key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFromCertificate reads the RFC 4262 extension (issue #18 item 1).
func TestFromCertificate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ext   []byte
		ok    bool
		names string
		err   string
	}{
		{"gcm", mustMarshal(t, []Capability{aes256gcm, aes256cbc}), true, "aes-256-gcm, aes-256-cbc", ""},
		{"none", nil, false, "", ""},
		{"malformed", []byte{0x30, 3, 0x30, 1}, false, "", "smimeCapabilities extension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps, ok, err := FromCertificate(certWithExtension(t, tc.ext, 0))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || ok != tc.ok || Names(caps) != tc.names {
				t.Errorf("got %q %v %v, want %q %v", Names(caps), ok, err, tc.names, tc.ok)
			}
		})
	}
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestOIDSMIMECapabilitiesIsCMS (issue #17 item 1): the exported OID is spelled
// out, so go doc shows no internal package, and stays the one internal/cms writes.
func TestOIDSMIMECapabilitiesIsCMS(t *testing.T) {
	if !OIDSMIMECapabilities.Equal(cms.OIDAttrSMIMECapabilities) {
		t.Errorf("OIDSMIMECapabilities = %v, want %v", OIDSMIMECapabilities, cms.OIDAttrSMIMECapabilities)
	}
}
