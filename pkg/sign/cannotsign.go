package sign

import (
	"errors"

	"github.com/smimectl/smimectl/internal/kem"
)

// ErrKeyCannotSign is found by errors.Is in the [*CertificateError] of a
// key that can only decrypt, an ML-KEM key (FIPS 203): [Options.Force]
// does not sign with it either, so a caller asks for another key rather
// than offering to force.
var ErrKeyCannotSign = errors.New("sign: the key can only decrypt, not sign")

// Is reports whether target is [ErrKeyCannotSign] and the key of e is
// one that cannot sign.
func (e *CertificateError) Is(target error) bool {
	return target == ErrKeyCannotSign && errors.Is(e.Err, kem.ErrCannotSign)
}
