package capabilities

import (
	"errors"
	"fmt"
	"time"

	"github.com/smimectl/smimectl/pkg/verify"
)

// LearnFrom records the capabilities of the signers of a verified message
// (verify.Verify or verify.Open): only if res is Valid — every signature,
// certificate chain to a trusted root, revocation answer and sender check
// passed — and only of signers that are Valid. A forged signature, a
// certificate that does not chain to a trusted root, or any other failure
// teaches nothing, so a sender can't make encrypt pick a cipher for someone
// else's certificate. A signer that sent no smimeCapabilities attribute
// teaches nothing either (its client may simply not say), and one whose
// attribute does not parse is an error for that signer only. written counts
// the records written; err joins every signer's error.
func (s *Store) LearnFrom(res *verify.Result) (written int, err error) {
	if res == nil || !res.Valid {
		return 0, nil
	}
	var errs []error
	for _, sg := range res.Signers {
		if !sg.Valid || sg.Certificate == nil || sg.Capabilities == nil {
			continue
		}
		caps, truncated, err := Parse(sg.Capabilities)
		if err != nil {
			errs = append(errs, fmt.Errorf("signer %d: %w", sg.Index+1, err))
			continue
		}
		var at time.Time
		if sg.SigningTime != nil {
			at = *sg.SigningTime
		}
		o, err := s.Learn(sg.Certificate, caps, truncated, at)
		if err != nil {
			errs = append(errs, fmt.Errorf("signer %d: %w", sg.Index+1, err))
			continue
		}
		if o == Written {
			written++
		}
	}
	return written, errors.Join(errs...)
}
