package encrypt

import (
	"fmt"
	"strings"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/internal/textenum"
)

// InputForm is how an input presents an S/MIME message: as a mail message
// (or MIME entity), or as a bare CMS file — what a mail client saves as an
// smime.p7m or smime.p7s attachment and what `openssl cms -outform DER|PEM`
// and `gpgsm --armor` write. pkg/verify calls it Form.
type InputForm int

// Input forms.
const (
	// FormAuto detects the form by the first bytes: DER (a ContentInfo
	// SEQUENCE), PEM (a BEGIN CMS, BEGIN PKCS7 or BEGIN PKCS #7 SIGNED
	// DATA block, or bare base64 of a ContentInfo), else a mail message.
	FormAuto InputForm = iota
	// FormMIME is a mail message or MIME entity.
	FormMIME
	// FormDER is a bare CMS ContentInfo, DER or BER.
	FormDER
	// FormPEM is the base64 of a CMS ContentInfo, armored or bare.
	FormPEM
)

var formNames = [...]string{"auto", "smime", "der", "pem"}

// String gives the form's name: "auto", "smime", "der" or "pem".
func (f InputForm) String() string { return enumName(formNames[:], f, "Form") }

// MarshalText gives [InputForm.String].
func (f InputForm) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads "smime", "der", "pem" or "auto" (any case; empty is
// "auto"), as the CLI's --inform takes them.
func (f *InputForm) UnmarshalText(text []byte) error {
	s := string(text)
	if s == "" {
		*f = FormAuto
		return nil
	}
	for i, n := range formNames {
		if strings.EqualFold(n, s) {
			*f = InputForm(i)
			return nil
		}
	}
	return fmt.Errorf("unknown input form %s (want smime, der or pem)", textenum.Quote(text))
}

// HeaderField is one header field, unfolded.
type HeaderField = struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// The kinds of a [HeaderDifference]: changed, added and missing mean the
// outer header was changed in transit (faults, see [IsFault]); obscured
// (hp "cipher", HP-Outer records another value outside, such as Subject
// "[...]") and removed (hp "cipher", the field left out outside) are the
// sender's policy.
const (
	DiffChanged, DiffAdded, DiffMissing = "changed", "added", "missing"
	DiffObscured, DiffRemoved           = "obscured", "removed"
)

// HeaderDifference is one disagreement between the protected header fields
// and the outer ones, for the field named Field. Kind is one of the Diff
// constants; Protected is the protected value, Outer the outer one as
// received, Sent (hp "cipher") what the sender recorded in HP-Outer, each
// "" when there is none.
type HeaderDifference = struct {
	Field     string `json:"field"`
	Kind      string `json:"kind"`
	Protected string `json:"protected,omitempty"`
	Outer     string `json:"outer,omitempty"`
	Sent      string `json:"sent,omitempty"`
}

// IsFault reports whether the difference means the outer header was
// changed after the message was protected.
func IsFault(d HeaderDifference) bool { return mime.IsFault(d) }

// ProtectedHeaders is the RFC 9788 header protection found in a message's
// innermost entity: the protected fields, the HP-Outer records, and how the
// outer header differs from them.
type ProtectedHeaders struct {
	// HP is "clear" or "cipher", the hp parameter.
	HP string `json:"hp"`
	// Fields are the protected header fields, in order.
	Fields []HeaderField `json:"fields"`
	// Outer are the HP-Outer records (hp "cipher"): the outer fields as
	// the sender wrote them.
	Outer []HeaderField `json:"hp_outer,omitempty"`
	// Differences compare the outer header with Fields and Outer.
	Differences []HeaderDifference `json:"differences,omitempty"`
}

// Get returns the first protected value of name (any case), or "".
func (p *ProtectedHeaders) Get(name string) string { return (*mime.Protection)(p).Get(name) }

// protectedHeaders is the public form of p (nil for nil): the same struct.
func protectedHeaders(p *mime.Protection) *ProtectedHeaders { return (*ProtectedHeaders)(p) }
