package verify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"testing"

	"github.com/smimectl/smimectl/internal/chain"
)

// TestCheckDetail: a check's detail has no package prefix, and names
// certificates in the one form of the rest of the output (certinfo.Name, the
// e-mail attribute as E=), not in pkix.Name.String's hex (issue #13 item 6).
func TestCheckDetail(t *testing.T) {
	email := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	ca := pkix.Name{CommonName: "Mail CA", Organization: []string{"Example"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: email, Value: "ca@example.com"}}}
	// Names as a parsed certificate has them: Names, in order.
	ca.Names = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Example"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "Mail CA"}, {Type: email, Value: "ca@example.com"}}
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "Alice",
		Names: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "Alice"}}}, Issuer: ca}
	ce := &chain.Error{Reason: chain.Untrusted, Cert: leaf, Detail: fmt.Sprintf("issued by an untrusted source (%s)", leaf.Issuer)}
	tests := []struct {
		err  error
		want string
	}{
		{ce, "CN=Alice: issued by an untrusted source (E=ca@example.com,CN=Mail CA,O=Example)"},
		{fmt.Errorf("at signing time 2026-01-01T00:00:00Z: %w", ce), "at signing time 2026-01-01T00:00:00Z: CN=Alice: issued by an untrusted source (E=ca@example.com,CN=Mail CA,O=Example)"},
		{&TrustError{Reason: Expired, Cert: leaf, Err: fmt.Errorf("at signing time 2026-01-01T00:00:00Z: %w", ce)},
			"the certificate has expired: at signing time 2026-01-01T00:00:00Z: CN=Alice: issued by an untrusted source (E=ca@example.com,CN=Mail CA,O=Example)"},
		{&SenderError{From: "ceo@example.com", Addresses: []string{"alice@example.com"}}, "the sender ceo@example.com is not in the signer's certificate (it is for alice@example.com)"},
		{fmt.Errorf("verify: chain: x"), "x"},
	}
	for _, tt := range tests {
		if got := checkDetail(tt.err); got != tt.want {
			t.Errorf("checkDetail(%v)\n got %q\nwant %q", tt.err, got, tt.want)
		}
	}
}
