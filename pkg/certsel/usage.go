package certsel

import (
	"crypto/x509"

	"github.com/smimectl/smimectl/internal/certinfo"
)

// Usage is a certificate's key usage with the names reports give it:
// String is the RFC 5280 names of its bits ("digitalSignature,
// keyEncipherment" without the space), or "any" when the certificate has no
// key usage extension (zero), which allows every purpose.
type Usage x509.KeyUsage

func (u Usage) String() string { return certinfo.UsageString(x509.KeyUsage(u)) }

// MarshalText gives [Usage.String].
func (u Usage) MarshalText() ([]byte, error) { return []byte(u.String()), nil }
