package certsel

import (
	"fmt"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/textenum"
)

// Purpose is what a certificate is selected for.
type Purpose int

const (
	// PurposeSign needs a key usage of digitalSignature or nonRepudiation.
	PurposeSign Purpose = iota
	// PurposeEncrypt needs keyEncipherment (RSA, ML-KEM) or keyAgreement (EC).
	PurposeEncrypt
)

// String names the purpose in messages: "signing" or "encryption".
func (p Purpose) String() string {
	switch p {
	case PurposeSign:
		return "signing"
	case PurposeEncrypt:
		return "encryption"
	}
	return fmt.Sprintf("Purpose(%d)", int(p))
}

// MarshalText gives the purpose's stable name, as the CLI's --purpose
// takes it: "sign" or "encrypt".
func (p Purpose) MarshalText() ([]byte, error) {
	switch p {
	case PurposeSign:
		return []byte("sign"), nil
	case PurposeEncrypt:
		return []byte("encrypt"), nil
	}
	return nil, fmt.Errorf("certsel: no name for %v", p)
}

// UnmarshalText reads "sign" or "encrypt".
func (p *Purpose) UnmarshalText(text []byte) error {
	switch string(text) {
	case "sign":
		*p = PurposeSign
	case "encrypt":
		*p = PurposeEncrypt
	default:
		return fmt.Errorf("certsel: unknown purpose %s (want sign or encrypt)", textenum.Quote(text))
	}
	return nil
}

// usage is the purpose as the certificate rules know it.
func (p Purpose) usage() certinfo.Purpose {
	if p == PurposeEncrypt {
		return certinfo.Encryption
	}
	return certinfo.Signing
}
