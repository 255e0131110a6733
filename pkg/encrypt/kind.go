package encrypt

import "fmt"

// RecipientKind is the kind of a recipient entry of an encrypted message
// (the RecipientInfo CHOICE of RFC 5652 section 6.2, and RFC 9629's
// KEMRecipientInfo). String and MarshalText give the stable names JSON
// output carries.
type RecipientKind int

// Kinds of recipient entries, with their names.
const (
	RecipientOther        RecipientKind = iota // "other": kekri, pwri, an ori of another type, which this package does not use
	RecipientKeyTransport                      // "key-transport": ktri, RSA key transport
	RecipientKeyAgreement                      // "key-agreement": kari, ECDH key agreement
	RecipientKEM                               // "kem": a KEMRecipientInfo (RFC 9629), ML-KEM
)

var recipientKinds = [...]string{"other", "key-transport", "key-agreement", "kem"}

func (k RecipientKind) String() string { return enumName(recipientKinds[:], k, "RecipientKind") }

// enumName is names[v], or "typ(v)" for a value without a name.
func enumName[T ~int](names []string, v T, typ string) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, int(v))
}

// MarshalText gives [RecipientKind.String].
func (k RecipientKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
