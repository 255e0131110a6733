package cms

import (
	"encoding/asn1"
	"errors"
	"fmt"
)

// errNotContentInfo is PeekContentType's error for bytes that do not start
// a ContentInfo.
var errNotContentInfo = errors.New("the body is not a CMS ContentInfo")

// PeekContentType reads the contentType OID at the start of a BER
// ContentInfo (RFC 5652 section 3: SEQUENCE { contentType OID, ... }) from
// its first bytes, without reading the rest: what a reader of a layered
// message needs to tell a signed layer from an enveloped one before it
// reads either. Indefinite is set when the ContentInfo starts with an
// indefinite length (BER, as streaming encoders write it). head may be cut
// anywhere after the OID.
func PeekContentType(head []byte) (oid asn1.ObjectIdentifier, indefinite bool, err error) {
	if len(head) < 2 || head[0] != 0x30 {
		return nil, false, errNotContentInfo
	}
	i := 2
	switch n := head[1]; {
	case n == 0x80, n < 0x80:
	case n <= 0x84:
		i += int(n & 0x7f)
	default:
		return nil, false, errNotContentInfo
	}
	if i+2 > len(head) || head[i] != 0x06 || int(head[i+1]) > len(head)-i-2 {
		return nil, false, errNotContentInfo
	}
	if _, err := asn1.Unmarshal(head[i:i+2+int(head[i+1])], &oid); err != nil {
		return nil, false, fmt.Errorf("the ContentInfo type: %w", err)
	}
	return oid, head[1] == 0x80, nil
}

// Indefinite reports whether the DER or BER element that b starts with has
// an indefinite length.
func Indefinite(b []byte) bool { return len(b) > 1 && b[1] == 0x80 }

// contentTypeNames are the names of the content types of S/MIME.
var contentTypeNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{OIDData, "data"}, {OIDSignedData, "signedData"},
	{OIDEnvelopedData, "envelopedData"}, {OIDAuthEnvelopedData, "authEnvelopedData"},
}

// ContentTypeName names a content type: "data", "signedData",
// "envelopedData", "authEnvelopedData", or the dotted OID.
func ContentTypeName(oid asn1.ObjectIdentifier) string {
	for _, n := range contentTypeNames {
		if n.oid.Equal(oid) {
			return n.name
		}
	}
	return oid.String()
}
