package certsel

import (
	"crypto/x509"
	"crypto/x509/pkix"

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

// Addresses returns the mail addresses cert carries, as selection matches
// them: the subject's emailAddress attributes first (the guide's order),
// then subjectAltName rfc822Name and SmtpUTF8Mailbox entries, without
// duplicates, as written.
func Addresses(cert *x509.Certificate) []string { return certinfo.Addresses(cert) }

// Name renders a distinguished name for people, as every report and JSON
// object of smimectl names subjects and issuers: most specific attribute
// first, as pkix.Name.String does, but with the emailAddress attribute
// S/MIME certificates carry shown as E=address rather than as hex.
func Name(n pkix.Name) string { return certinfo.Name(n) }
