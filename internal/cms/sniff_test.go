package cms

import (
	"encoding/asn1"
	"testing"
)

// TestPeekContentType reads the type of a ContentInfo from its first bytes
// (issue #17 item 2: the sniffing pkg/verify did moves here), and refuses
// what does not start one, whatever its length bytes claim.
func TestPeekContentType(t *testing.T) {
	oid := func(o asn1.ObjectIdentifier) []byte {
		b, err := asn1.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	signed, enveloped := oid(OIDSignedData), oid(OIDEnvelopedData)
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		head       []byte
		want       asn1.ObjectIdentifier
		indefinite bool
		ok         bool
	}{
		{"der short length", cat([]byte{0x30, 0x20}, signed), OIDSignedData, false, true},
		{"der long length", cat([]byte{0x30, 0x82, 0x12, 0x34}, enveloped), OIDEnvelopedData, false, true},
		{"ber indefinite", cat([]byte{0x30, 0x80}, signed, []byte{0xa0, 0x80}), OIDSignedData, true, true},
		{"cut in the OID", cat([]byte{0x30, 0x80}, signed[:5]), nil, false, false},
		{"not a SEQUENCE", cat([]byte{0x31, 0x20}, signed), nil, false, false},
		{"length of 5 bytes", cat([]byte{0x30, 0x85, 1, 2, 3, 4, 5}, signed), nil, false, false},
		{"no OID first", []byte{0x30, 0x03, 0x02, 0x01, 0x00}, nil, false, false},
		{"OID length past the bytes", []byte{0x30, 0x80, 0x06, 0x7f, 0x2a}, nil, false, false},
		{"empty", nil, nil, false, false},
		{"one byte", []byte{0x30}, nil, false, false},
	} {
		got, indefinite, err := PeekContentType(tc.head)
		if (err == nil) != tc.ok || tc.ok && (!got.Equal(tc.want) || indefinite != tc.indefinite) {
			t.Errorf("%s: %v, %v, %v; want %v, %v, ok %v", tc.name, got, indefinite, err, tc.want, tc.indefinite, tc.ok)
		}
	}
	for o, name := range map[string]asn1.ObjectIdentifier{"signedData": OIDSignedData, "authEnvelopedData": OIDAuthEnvelopedData, "1.2.3": {1, 2, 3}} {
		if got := ContentTypeName(name); got != o {
			t.Errorf("ContentTypeName(%v) = %q, want %q", name, got, o)
		}
	}
}

// FuzzPeekContentType: any first bytes give a type or an error, never a
// panic, and a type only when the bytes hold it (issue #17 item 2).
func FuzzPeekContentType(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, head []byte) {
		oid, _, err := PeekContentType(head)
		if err != nil {
			return
		}
		enc, merr := asn1.Marshal(oid)
		if merr != nil || len(enc) > len(head) {
			t.Fatalf("type %v read from %d bytes", oid, len(head))
		}
	})
}
