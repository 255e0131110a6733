package verify

import (
	"errors"
	"io/fs"
	"os"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// Reason codes: the stable, machine-readable names of why a message, a
// certificate or one check failed (issue #13 item 6). They are the
// "reason" of the --json output and the REASON of a --expect manifest;
// [ReasonCode] maps an error to one. A code, once published, keeps its
// meaning; new codes may be added. [Reasons] lists them all with their
// meaning, in the library's words (Options fields); docs/json.md gives
// them in the CLI's, naming its flags.
const (
	ReasonBadSignature            Reason = "bad-signature"
	ReasonContentModified         Reason = "content-modified"
	ReasonMissingCertificate      Reason = "missing-certificate"
	ReasonUntrusted               Reason = "untrusted"
	ReasonExpired                 Reason = "expired"
	ReasonNotYetValid             Reason = "not-yet-valid"
	ReasonKeyUsage                Reason = "key-usage"
	ReasonNotAuthorized           Reason = "not-authorized"
	ReasonBadCertificateSignature Reason = "bad-certificate-signature"
	ReasonCriticalExtension       Reason = "critical-extension"
	ReasonNameConstraint          Reason = "name-constraint"
	ReasonCertificatePolicy       Reason = "certificate-policy"
	ReasonTooComplex              Reason = "too-complex"
	ReasonRevoked                 Reason = "revoked"
	ReasonRevocationUnavailable   Reason = "revocation-unavailable"
	ReasonIssuerUnavailable       Reason = "issuer-unavailable"
	ReasonFutureSigningTime       Reason = "future-signing-time"
	ReasonSenderMismatch          Reason = "sender-mismatch"
	ReasonHeaderChanged           Reason = "header-changed"
	ReasonNotSigned               Reason = "not-signed"
	ReasonDateMismatch            Reason = "date-mismatch"
	ReasonUnsignedParts           Reason = "unsigned-parts"
	ReasonWeakAlgorithm           Reason = "weak-algorithm"
	ReasonPolicy                  Reason = "policy"
	ReasonMalformed               Reason = "malformed"
	ReasonAmbiguousMIME           Reason = "ambiguous-mime"
	ReasonAmbiguousCertificate    Reason = "ambiguous-certificate"
	ReasonNoKey                   Reason = "no-key"
	ReasonDecryptFailed           Reason = "decrypt-failed"
	ReasonNotEncrypted            Reason = "not-encrypted"
	ReasonNoCertificate           Reason = "no-certificate"
	ReasonLookupFailed            Reason = "lookup-failed"
	ReasonLocalFault              Reason = "local-fault"
	ReasonOther                   Reason = "other"
)

// Reason is a reason code (issue #17 item 4: a named type, whose JSON is
// the code itself).
type Reason string

func (r Reason) String() string { return string(r) }

// MarshalText gives the code.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r), nil }

// ReasonInfo is one reason code and what it means.
type ReasonInfo struct {
	Code    Reason
	Meaning string
}

// reasons is the one list of reason codes, in the order docs/json.md
// gives them.
var reasons = []ReasonInfo{
	{ReasonBadSignature, "the signature value does not verify with the signer's certificate: not the signer's signature"},
	{ReasonContentModified, "the content does not match the signed digest: the message was changed after it was signed"},
	{ReasonMissingCertificate, "the signer's certificate is neither in the message nor in Options.Intermediates"},
	{ReasonUntrusted, "no chain from the certificate to a root of Options.Roots"},
	{ReasonExpired, "a certificate of the chain had expired at the evaluation time, or at the signing time"},
	{ReasonNotYetValid, "a certificate of the chain was not yet valid at the evaluation time, or at the signing time"},
	{ReasonKeyUsage, "the certificate's key usage or extended key usage does not allow the purpose (signing mail, encrypting)"},
	{ReasonNotAuthorized, "an issuer of the chain is not a certification authority, may not sign certificates, or its path length constraint is exceeded"},
	{ReasonBadCertificateSignature, "a certificate of the chain has a signature that does not verify or uses MD5"},
	{ReasonCriticalExtension, "a certificate of the chain has a critical extension smimectl does not know"},
	{ReasonNameConstraint, "a certificate is outside the name constraints of an authority above it"},
	{ReasonCertificatePolicy, "the chain breaks the certificate policies its authorities set (RFC 5280 section 6.1)"},
	{ReasonTooComplex, "past a processing bound, a sign of a hostile message: more candidate chains than are examined, more S/MIME layers, signers, certificates, CRLs or recipients than are read"},
	{ReasonRevoked, "a certificate of the chain is revoked"},
	{ReasonRevocationUnavailable, "no revocation answer (CRL or OCSP) could be had for a certificate of the chain: a failure in hard mode (exit status 75), a warning in soft mode"},
	{ReasonIssuerUnavailable, "a missing issuer could not be downloaded with Options.FetchIssuers (a check warning)"},
	{ReasonFutureSigningTime, "the signing time is later than the evaluation time (a check warning)"},
	{ReasonSenderMismatch, "a mailbox of the From field, or the Sender, is in no valid signer's certificate, or the From and Sender fields can't be read completely (no From, two From fields)"},
	{ReasonHeaderChanged, "the outer From or Sender field names another sender than the one protected inside the signature or encryption (RFC 9788)"},
	{ReasonNotSigned, "the message has no signature (no multipart/signed nor signed-data), or Options.Require asked for a signed layer and found none"},
	{ReasonUnsignedParts, "the signature covers only some parts of the message (a signed part in a mailing list's multipart/mixed beside its footer, a forwarded message/rfc822 beside the forwarder's text): refused unless Options.AllowUnsignedParts"},
	{ReasonDateMismatch, "the Date field is further from the signing time than Options.MaxClockSkew (a replayed or re-dated message), or can't be read: a warning, a failure with Options.StrictDate"},
	{ReasonWeakAlgorithm, "an algorithm refused or only accepted with a warning: MD5 (refused unless Options.AllowMD5), SHA-1 (a warning; refused with Options.MinDigest SHA-256, in the signature or the chain), or a digest algorithm smimectl does not implement"},
	{ReasonPolicy, "a layer Options.Require asked for is missing (encrypted, signed-then-encrypted, ...)"},
	{ReasonMalformed, "the message (or the certificate file) is not well-formed S/MIME (or PEM or DER certificates)"},
	{ReasonAmbiguousMIME, "the MIME structure can be read otherwise by other parsers (two Content-Type fields, a line that is almost a boundary, ...): refused"},
	{ReasonAmbiguousCertificate, "the certificate file holds no single certificate to check (cert-verify)"},
	{ReasonNoKey, "the message is encrypted and no key was given, or none of its recipients is the key's certificate"},
	{ReasonDecryptFailed, "the message is for the key's certificate but does not decrypt: a wrong key, or modified in transit"},
	{ReasonNotEncrypted, "decrypt was given a message that is not encrypted"},
	{ReasonNoCertificate, "no usable certificate for the operation: nothing to sign with, a recipient without an encryption certificate (exit status 3)"},
	{ReasonLookupFailed, "a certificate directory (LDAP, a certsel source) could not be searched"},
	{ReasonLocalFault, "a fault of this machine, not of the message: a file that can't be opened, read or written, a full disk or a temporary file that failed (exit status 2 or 75); the message was not judged"},
	{ReasonOther, "a failure none of the other codes names"},
}

// Reasons returns every reason code with its meaning.
func Reasons() []ReasonInfo { return append([]ReasonInfo(nil), reasons...) }

// chainReasons maps the reasons of a chain failure to reason codes.
var chainReasons = map[chain.Reason]Reason{
	chain.Untrusted:         ReasonUntrusted,
	chain.Expired:           ReasonExpired,
	chain.NotYetValid:       ReasonNotYetValid,
	chain.NotAuthorized:     ReasonNotAuthorized,
	chain.BadSignature:      ReasonBadCertificateSignature,
	chain.Usage:             ReasonKeyUsage,
	chain.CriticalExtension: ReasonCriticalExtension,
	chain.NameConstraint:    ReasonNameConstraint,
	chain.TooComplex:        ReasonTooComplex,
	chain.Policy:            ReasonCertificatePolicy,
}

// ReasonCode returns the reason code of an error of this package (or of
// pkg/encrypt, pkg/revocation, or a local file): "" for nil, [ReasonOther]
// for an error it does not know. The most telling cause wins: a fault of
// this machine even inside what was taken for a malformed message (it was
// not judged), a processing bound before malformed, the chain's reason
// inside a certificate error.
func ReasonCode(err error) Reason {
	if err == nil {
		return ""
	}
	var (
		spool *mime.SpoolError
		path  *fs.PathError
		link  *os.LinkError
		sig   *SignatureError
		trust *TrustError
		chErr *chain.Error
		rev   *revocation.RevokedError
		unav  *revocation.UnavailableError
		snd   *SenderError
		hdr   *HeaderError
		pol   *PolicyError
		date  *DateError
		part  *PartialError
		mlim  *LimitError
		req   *RequirementError
		depth *DepthError
		limit *cms.LimitError
		amb   *AmbiguousError
		ambc  *AmbiguousCertificateError
		mal   *MalformedError
		malc  *MalformedCertificateError
		emal  *encrypt.MalformedError
		nfu   *encrypt.NotForUsError
		dec   *encrypt.DecryptError
	)
	switch {
	case errors.As(err, &spool), errors.As(err, &path), errors.As(err, &link):
		return ReasonLocalFault
	case errors.As(err, &sig):
		switch {
		case errors.Is(sig.Err, cms.ErrContentModified):
			return ReasonContentModified
		case errors.As(sig.Err, new(*missingCertificateError)):
			return ReasonMissingCertificate
		}
		return ReasonBadSignature
	case errors.As(err, &trust):
		if c, ok := chainReasons[chain.Reason(trust.Reason)]; ok {
			return c
		}
		return ReasonUntrusted
	case errors.As(err, &chErr):
		if c, ok := chainReasons[chErr.Reason]; ok {
			return c
		}
		return ReasonUntrusted
	case errors.As(err, &rev):
		return ReasonRevoked
	case errors.As(err, &unav):
		return ReasonRevocationUnavailable
	case errors.As(err, &snd):
		return ReasonSenderMismatch
	case errors.As(err, &hdr):
		return ReasonHeaderChanged
	case errors.As(err, &part):
		return ReasonUnsignedParts
	case errors.As(err, &mlim):
		return ReasonTooComplex
	case errors.As(err, &date):
		return ReasonDateMismatch
	case errors.As(err, &pol):
		return ReasonWeakAlgorithm
	case errors.As(err, &req):
		if req.Require == RequireSigned {
			return ReasonNotSigned
		}
		return ReasonPolicy
	case errors.Is(err, ErrNotSigned):
		return ReasonNotSigned
	case errors.As(err, &depth), errors.As(err, &limit):
		return ReasonTooComplex
	case errors.As(err, &amb):
		return ReasonAmbiguousMIME
	case errors.As(err, &ambc):
		return ReasonAmbiguousCertificate
	case errors.As(err, &dec), errors.Is(err, cms.ErrDecrypt):
		return ReasonDecryptFailed
	case errors.As(err, &mal), errors.As(err, &malc), errors.As(err, &emal):
		return ReasonMalformed
	case errors.Is(err, ErrNoKey), errors.As(err, &nfu):
		return ReasonNoKey
	case errors.Is(err, encrypt.ErrNotEncrypted):
		return ReasonNotEncrypted
	}
	return ReasonOther
}
