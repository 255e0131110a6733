package keys

import (
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// TestCheckIterationsOpaqueOctets: an OCTET STRING of ciphertext that only
// starts like DER (a salt, then an INTEGER too big to be a count) is opaque
// bytes, not a structure to refuse; a real pair with a huge count still is.
// The first case refused the lab's own .p12 files now and then, when their
// random ciphertext happened to start that way.
func TestCheckIterationsOpaqueOctets(t *testing.T) {
	pair := func(count []byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString([]byte("salt"))
			b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(count) })
		})
		return b.BytesOrPanic()
	}
	wrap := func(content []byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(content) })
		return b.BytesOrPanic()
	}
	huge := []byte{0x7f, 0xff, 0xff, 0xff, 0xff}
	// Ciphertext that starts with a salt and an over-long INTEGER, then
	// bytes that are no DER at all (0x1f: a long-form tag cryptobyte refuses).
	garbage := append([]byte{0x04, 0x01, 0xAA, 0x02, 0x05, 0x7f, 0xff, 0xff, 0xff, 0xff}, 0x1f, 0x80, 0x80)
	tests := []struct {
		name    string
		der     []byte
		wantErr bool
	}{
		{"ciphertext that starts like DER", wrap(garbage), false},
		{"a nested pair with a huge count", wrap(pair(huge)), true},
		{"a pair with a huge count", pair(huge), true},
		{"a pair with a fair count", wrap(pair([]byte{0x08, 0x00})), false},
		// A decoder that ignores trailing bytes would still read this pair.
		{"a pair before trailing junk", wrap(append(pair(huge), 0x1f, 0x80)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkIterations(cryptobyte.String(tt.der), 0, false)
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkIterations = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
