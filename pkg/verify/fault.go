package verify

import (
	"crypto/x509"
	"errors"
	"strings"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// Fault says which certificate of the chain a trust failure is about and
// what is wrong with it, for a caller that words the failure itself (issue
// #17 item 1): cert is the certificate at fault (the signer's, or an
// authority's above it; for [Untrusted], the last certificate whose issuer
// was not found or not trusted), detail what is wrong with it, without its
// name ("expired on 2025-06-30T00:00:00Z"), and when what e.Err says
// before it, such as "at signing time 2026-01-01T12:00:00Z: ", or "". cert
// is nil, and the others "", when the failure names no certificate (a key
// usage the certificate does not allow): e.Err says it all.
func (e *TrustError) Fault() (cert *x509.Certificate, detail, when string) {
	var ce *chain.Error
	if !errors.As(e.Err, &ce) || ce.Cert == nil {
		return nil, "", ""
	}
	when, _ = strings.CutSuffix(e.Err.Error(), ce.Error())
	return ce.Cert, ce.Detail, when
}

// CMS reports whether the bound e reports is one of reading CMS: 64
// signers; 1,000 certificates, CRLs or recipients; the bytes they may
// take (the bounds a caller can list, such as the README's "Limits"),
// rather than one of the MIME structure ([MaxParts], [MaxPartDepth],
// [MaxSignedParts]).
func (e *LimitError) CMS() bool {
	var cl *cms.LimitError
	return errors.As(e.err, &cl)
}

// SpoolError is the error of a temporary file that could not be created,
// written or read (Options.SpoolDir): a fault of this machine, not of the
// message, which was not judged; [ReasonCode] gives [ReasonLocalFault].
// It is pkg/encrypt's interface, which [encrypt.Decrypt] returns too.
type SpoolError = encrypt.SpoolError
