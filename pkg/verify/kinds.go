package verify

import (
	"crypto"

	"github.com/smimectl/smimectl/internal/cms"
)

// The named types of a Result (issue #17 item 4). Each is a string type, so
// that its JSON is the word itself, and the words are stable: they are the
// --json output.

// LayerKind is the kind of an S/MIME layer.
type LayerKind string

// Layer kinds.
const (
	KindSigned        LayerKind = "signed"
	KindEnveloped     LayerKind = "enveloped"
	KindAuthEnveloped LayerKind = "authEnveloped"
)

func (k LayerKind) String() string { return string(k) }

// MarshalText gives the kind's word.
func (k LayerKind) MarshalText() ([]byte, error) { return []byte(k), nil }

// CheckName names one check of a signer or of a certificate.
type CheckName string

// The checks, in the order a signer's are made.
const (
	// CheckCertificate: the signer's certificate was found.
	CheckCertificate CheckName = "certificate"
	// CheckSignature: the signature over the signed content.
	CheckSignature CheckName = "signature"
	// CheckDigestAlgorithm: the digest algorithm against the policy
	// (Options.AllowMD5, Options.MinDigest).
	CheckDigestAlgorithm CheckName = "digest-algorithm"
	// CheckSigningTime: the signing time against the certificate's
	// validity and the Date field.
	CheckSigningTime CheckName = "signing-time"
	// CheckFetchIntermediates: an issuer downloaded by
	// Options.FetchIssuers.
	CheckFetchIntermediates CheckName = "fetch-intermediates"
	// CheckChain: a chain to one of Options.Roots.
	CheckChain CheckName = "chain"
	// CheckChainSignatures: the certificate signatures of the chain
	// against the digest policy (Options.MinDigest).
	CheckChainSignatures CheckName = "chain-signatures"
	// CheckKeyUsage: the key usage allows the purpose.
	CheckKeyUsage CheckName = "key-usage"
	// CheckRevocation: the revocation status of a certificate of the
	// chain but the root, one check each.
	CheckRevocation CheckName = "revocation"
	// CheckDate: the Date field is within Options.MaxClockSkew of the
	// signing time.
	CheckDate CheckName = "date-matches-signing-time"
	// CheckSender: the sender's mailboxes are in the certificate.
	CheckSender CheckName = "sender"
)

func (n CheckName) String() string { return string(n) }

// MarshalText gives the check's name.
func (n CheckName) MarshalText() ([]byte, error) { return []byte(n), nil }

// DigestAlgorithm names a digest algorithm as S/MIME's micalg parameter
// does (RFC 8551 section 3.5.3.2: "sha-256"), or as a dotted OID when this
// package does not know it.
type DigestAlgorithm string

// digestAlgorithm is the name of h.
func digestAlgorithm(h crypto.Hash) DigestAlgorithm { return DigestAlgorithm(cms.MicAlg(h)) }

// Hash is the algorithm, 0 for one this package does not know.
func (d DigestAlgorithm) Hash() crypto.Hash { return cms.HashForMicAlg(string(d)) }

func (d DigestAlgorithm) String() string { return string(d) }

// MarshalText gives the algorithm's name.
func (d DigestAlgorithm) MarshalText() ([]byte, error) { return []byte(d), nil }
