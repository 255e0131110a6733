package verify

import (
	"crypto/x509"
	"errors"
	"strings"

	"github.com/smimectl/smimectl/internal/chain"
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

// LimitError reports a message past a processing bound: [MaxParts],
// [MaxPartDepth] or [MaxSignedParts] of this package, or a bound of
// reading CMS (64 signers; 1,000 certificates, CRLs or recipients; the
// bytes they may take). No genuine message comes near them: it is a sign
// of a hostile message, and [ReasonCode] gives [ReasonTooComplex]. It
// comes inside a [*MalformedError]. It is pkg/encrypt's type, which
// encrypt.Decrypt returns too; its CMS method tells a bound of reading CMS
// from one of the MIME walk.
type LimitError = encrypt.LimitError

// SpoolError is the error of a temporary file that could not be created,
// written or read (Options.SpoolDir): a fault of this machine, not of the
// message, which was not judged; [ReasonCode] gives [ReasonLocalFault].
// It is pkg/encrypt's interface, which [encrypt.Decrypt] returns too.
type SpoolError = encrypt.SpoolError

// NotMailError reports input that is neither a mail message nor a bare
// CMS file (see [Form]). Start says in words what the input starts with;
// no input bytes are quoted. It comes inside a [*MalformedError]. It is
// pkg/encrypt's type, which encrypt.Decrypt returns too.
type NotMailError = encrypt.NotMailError
