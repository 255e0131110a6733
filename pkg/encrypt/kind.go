package encrypt

import "fmt"

// RecipientKind is the kind of a recipient entry of an encrypted message
// (the RecipientInfo CHOICE of RFC 5652 section 6.2, and RFC 9629's
// KEMRecipientInfo). String and MarshalText give the stable names JSON
// output carries.
type RecipientKind int

// Kinds of recipient entries.
const (
	// RecipientOther: a kind this package does not write or read (kekri,
	// pwri, an ori of another type): "other".
	RecipientOther RecipientKind = iota
	// RecipientKeyTransport: ktri, RSA key transport: "key-transport".
	RecipientKeyTransport
	// RecipientKeyAgreement: kari, ECDH key agreement: "key-agreement".
	RecipientKeyAgreement
	// RecipientKEM: a KEMRecipientInfo (RFC 9629), ML-KEM: "kem".
	RecipientKEM
)

var recipientKinds = [...]string{"other", "key-transport", "key-agreement", "kem"}

func (k RecipientKind) String() string {
	if k < 0 || int(k) >= len(recipientKinds) {
		return fmt.Sprintf("RecipientKind(%d)", int(k))
	}
	return recipientKinds[k]
}

// MarshalText gives [RecipientKind.String].
func (k RecipientKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
