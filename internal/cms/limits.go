package cms

import (
	"errors"
	"fmt"
)

// Limits on what one message may hold, so that a filter reading whatever
// arrives cannot be stalled or made to grow without bound (issue #11 item
// 12). Real mail stays far below them: a message has a handful of signers,
// a chain or two of certificates, and the recipients of one mail. Readers
// count while they parse and stop at the first element past a limit, with a
// [*LimitError], before reading the rest.
const (
	// MaxSigners is the most SignerInfos a SignedData may carry.
	MaxSigners = 64
	// MaxCertificates is the most members of a SignedData's certificates
	// field (certificates, attribute certificates and others alike).
	MaxCertificates = 1000
	// MaxCRLs is the most members of a SignedData's crls field.
	MaxCRLs = 1000
	// MaxRecipients is the most recipients of an EnvelopedData or
	// AuthEnvelopedData, counting each RecipientEncryptedKey of a
	// KeyAgreeRecipientInfo.
	MaxRecipients = 1000

	// MaxCertificateBytes, MaxCRLBytes, MaxSignerInfoBytes and
	// MaxRecipientBytes bound the encoded size of those fields, every
	// element's header counted at no less than elementCost bytes, so that
	// memory stays bounded whatever the element count.
	MaxCertificateBytes = 8 << 20
	MaxCRLBytes         = 16 << 20
	MaxSignerInfoBytes  = 4 << 20
	MaxRecipientBytes   = 4 << 20
)

// elementCost is what each BER element read into memory is charged against
// a budget besides its content octets: the header and the bookkeeping of
// re-encoding it, so that a field of millions of two-byte elements cannot
// cost far more memory than its byte budget says.
const elementCost = 16

// LimitError reports a message past one of this package's limits: more
// than Limit members of a field (Bytes false) or more than Limit bytes
// (Bytes true). What names the field: "signers", "certificates", "CRLs",
// "recipients", or "originator information".
type LimitError struct {
	What  string
	Limit int64
	Bytes bool
}

func (e *LimitError) Error() string {
	if e.Bytes {
		return fmt.Sprintf("cms: message refused: its %s take more than %d bytes", e.What, e.Limit)
	}
	return fmt.Sprintf("cms: message refused: more than %d %s", e.Limit, e.What)
}

// IsLimitError reports whether err is or wraps a *LimitError.
func IsLimitError(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// errTooLarge is readDER's error when an element exceeds its budget.
var errTooLarge = &FormatError{"element too large"}

// fieldReader reads the members of a SET OF (or a SEQUENCE OF) one at a
// time with a count and a byte budget shared by every occurrence of the
// field, failing at the first member past either.
type fieldReader struct {
	what     string
	max      int
	maxBytes int64
	n        int
	budget   int64
}

func newFieldReader(what string, max int, maxBytes int64) *fieldReader {
	return &fieldReader{what: what, max: max, maxBytes: maxBytes, budget: maxBytes}
}

// read calls fn with the DER of each member of the constructed element
// whose header is h, then consumes its end.
func (fr *fieldReader) read(b *berReader, h berHeader, fn func(der []byte) error) error {
	if !h.constructed {
		return &FormatError{"bad " + fr.what + " field"}
	}
	f := b.frameOf(h)
	for {
		more, err := b.more(f)
		if err != nil {
			return err
		}
		if !more {
			return b.close(f)
		}
		if fr.n == fr.max {
			return &LimitError{What: fr.what, Limit: int64(fr.max)}
		}
		fr.n++
		el, err := b.readElement(&fr.budget)
		if err == errTooLarge {
			return &LimitError{What: fr.what, Limit: fr.maxBytes, Bytes: true}
		}
		if err != nil {
			return err
		}
		if err := fn(el); err != nil {
			return err
		}
	}
}
