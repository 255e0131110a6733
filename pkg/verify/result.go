package verify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// Result describes a verification: the message, every signer, and every
// check with its outcome. Field names are stable: they are the --json
// output.
type Result struct {
	// Form is "multipart/signed" (clear) or "application/pkcs7-mime" (opaque).
	Form string `json:"form"`
	// From holds the mailboxes of the message's From field, joined with
	// ", " ("alice@example.com" for most mail), if it could be read: the
	// protected From when the signed content has one (RFC 9788), else the
	// outer one.
	From string `json:"from,omitempty"`
	// Sender is the Sender field's mailbox, if any, taken as From is.
	Sender string `json:"sender,omitempty"`
	// At is the evaluation time.
	At time.Time `json:"at"`
	// Valid is true only if the message is signed (at least one signer),
	// every signer passed every check, and nothing else failed. A message
	// that [Open] releases without a signature (Options.AllowUnsigned) is
	// never valid.
	Valid    bool      `json:"valid"`
	Signers  []*Signer `json:"signers"`
	Warnings []string  `json:"warnings,omitempty"`
	// Layers lists every layer [Open] opened, outermost first; Signers
	// are then those of the innermost signed layer. Verify leaves it empty.
	Layers []*Layer `json:"layers,omitempty"`
	// ProtectedHeaders, if not nil, are the header fields protected inside
	// the innermost layer (RFC 9788): the fields, the sender's HP-Outer
	// records, and how the outer header differs. They stand for the outer
	// fields in the content Open releases.
	ProtectedHeaders *ProtectedHeaders `json:"protected_headers,omitempty"`
	// Parts, for a message whose signatures are below its top level (a
	// signed message in a mailing list's multipart/mixed, a forwarded
	// message/rfc822), lists every signed entity and every part no
	// signature covers, in order, by IMAP section; Signers are then those
	// of the first signed part. Empty for a message signed at the top.
	Parts []*Part `json:"parts,omitempty"`
	// Error is the first failure, if any.
	Error string `json:"error,omitempty"`

	// mailboxes are the From and Sender mailboxes the signers were
	// compared with.
	mailboxes []string
}

// ProtectedHeaders is the RFC 9788 header protection of a message.
type ProtectedHeaders = encrypt.ProtectedHeaders

// senderMailboxes are the mailboxes the signers were compared with, or
// those of the From field as the JSON result has them.
func (r *Result) senderMailboxes() []string {
	if r.mailboxes != nil || r.From == "" {
		return r.mailboxes
	}
	return strings.Split(r.From, ", ")
}

// setOriginator notes the From and Sender mailboxes of o.
func (r *Result) setOriginator(o mime.Originator) {
	r.From, r.Sender, r.mailboxes = strings.Join(o.From, ", "), o.Sender, o.Mailboxes()
}

func (r *Result) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// Signer is one signer's identity and checks.
type Signer struct {
	Index        int        `json:"index"`
	Subject      string     `json:"subject,omitempty"`
	Emails       []string   `json:"emails,omitempty"`
	Issuer       string     `json:"issuer,omitempty"`
	Serial       string     `json:"serial,omitempty"`
	SubjectKeyID string     `json:"subject_key_id,omitempty"`
	NotBefore    *time.Time `json:"not_before,omitempty"`
	NotAfter     *time.Time `json:"not_after,omitempty"`
	KeyUsage     string     `json:"key_usage,omitempty"`
	// FingerprintSHA256 is the SHA-256 fingerprint of the signer's
	// certificate (see [Fingerprint]), when it was found.
	FingerprintSHA256  string          `json:"fingerprint_sha256,omitempty"`
	DigestAlgorithm    DigestAlgorithm `json:"digest_algorithm"`
	SignatureAlgorithm string          `json:"signature_algorithm"`
	SigningTime        *time.Time      `json:"signing_time,omitempty"`
	// SignedAttributes names the signed attributes, in order (inspect).
	SignedAttributes []string `json:"signed_attributes,omitempty"`
	Valid            bool     `json:"valid"`
	Checks           []Check  `json:"checks"`
	// ChainInfo describes Chain for the JSON output: the trusted chain,
	// leaf first, root last; empty when none was found.
	ChainInfo []CertificateInfo `json:"chain,omitempty"`
	// Certificate is the signer's certificate, Chain the trusted chain
	// (leaf first) when one was found.
	Certificate *x509.Certificate   `json:"-"`
	Chain       []*x509.Certificate `json:"-"`
	// Capabilities is the value of the signer's smimeCapabilities signed
	// attribute (DER SMIMECapabilities, RFC 8551 section 2.5.2; read it
	// with pkg/capabilities), nil if the signer sent none or the attribute
	// does not hold exactly one value. It is what the signer says; trust it
	// only when Valid.
	Capabilities []byte `json:"-"`
	// EncryptionCertificate is the certificate the signer's
	// SMIMEEncryptionKeyPreference attribute (RFC 8551 section 2.5.3)
	// names by issuer and serial number, if the message carries it; nil
	// otherwise. Nothing about it is checked.
	EncryptionCertificate *x509.Certificate `json:"-"`

	// err is the signer's first failure, nil when Valid.
	err error
}

func (s *Signer) setCertificate(c *x509.Certificate) {
	s.Certificate = c
	s.Subject = certinfo.Name(c.Subject)
	s.Emails = certinfo.Addresses(c)
	s.Issuer = certinfo.Name(c.Issuer)
	s.Serial = strings.ToUpper(c.SerialNumber.Text(16))
	nb, na := c.NotBefore.UTC(), c.NotAfter.UTC()
	s.NotBefore, s.NotAfter = &nb, &na
	s.KeyUsage = certinfo.UsageString(c.KeyUsage)
	s.FingerprintSHA256 = Fingerprint(c)
}

// coSigner reports whether the signer's sender check is a note: a valid
// signer that is not the sender, beside signers that are.
func (s *Signer) coSigner() bool {
	return slices.ContainsFunc(s.Checks, func(c Check) bool { return c.Name == CheckSender && c.Status == StatusNote })
}

func (s *Signer) add(name CheckName, st Status, detail string) {
	s.Checks = append(s.Checks, Check{Name: name, Status: st, Detail: detail})
}

// addWarning records a check that warns, with its reason code.
func (s *Signer) addWarning(name CheckName, reason Reason, detail string) {
	s.Checks = append(s.Checks, Check{Name: name, Status: StatusWarning, Detail: detail, Reason: reason})
}

// addFailure records a check that failed with err: its reason code, and
// err's text without the package prefixes of the library's layers.
func (s *Signer) addFailure(name CheckName, err error) {
	s.Checks = append(s.Checks, Check{Name: name, Status: StatusFail, Detail: checkDetail(err), Reason: ReasonCode(err)})
}

// addRevocation records the revocation answer o for the certificate who.
func (s *Signer) addRevocation(st Status, who string, o revocation.Outcome) {
	c := Check{Name: CheckRevocation, Status: st, Detail: who + ": " + o.Detail, Certificate: who, Revocation: &o}
	if st == StatusWarning {
		c.Reason = ReasonRevocationUnavailable
	}
	s.Checks = append(s.Checks, c)
}

// checkDetail is err's text for a check's detail: without the "verify: ",
// "chain: " or "revocation: " prefix, and with a chain failure's
// certificate named as every other name of the output (certinfo.Name),
// not in the form of pkix.Name.String.
func checkDetail(err error) string {
	var ce *chain.Error
	if errors.As(err, &ce) && ce.Cert != nil {
		// The chain's error, wherever a wrapper put it ("at signing time
		// ...: chain: ..."), names the certificate, and an untrusted one's
		// issuer, as pkix.Name.String does: name them as everywhere else.
		detail := strings.ReplaceAll(ce.Detail, "("+ce.Cert.Issuer.String()+")", "("+certinfo.Name(ce.Cert.Issuer)+")")
		s := strings.Replace(err.Error(), ce.Error(), certinfo.Name(ce.Cert.Subject)+": "+detail, 1)
		return trimPrefixes(s)
	}
	return trimPrefixes(err.Error())
}

// trimPrefixes removes the leading package prefixes of the library's
// errors from s.
func trimPrefixes(s string) string {
	for {
		t := s
		for _, p := range []string{"verify: ", "chain: ", "revocation: ", "cms: ", "mime: "} {
			t = strings.TrimPrefix(t, p)
		}
		if t == s {
			return s
		}
		s = t
	}
}

// Status is a check's outcome.
type Status string

// The outcomes of a check.
const (
	StatusPass    Status = "pass"
	StatusFail    Status = "fail"
	StatusWarning Status = "warning"
	StatusSkipped Status = "skipped"
	// StatusNote: not a failure, but worth knowing; the sender check of a
	// co-signer whose certificate carries none of the sender's mailboxes
	// while the other signers' certificates carry all of them.
	StatusNote Status = "note"
)

// Check is one check on one signer: "certificate", "digest-algorithm",
// "signature", "fetch-intermediates", "signing-time", "chain",
// "chain-signatures", "key-usage", "revocation",
// "date-matches-signing-time" (only when the message has a Date field and
// the signature a signing time) or "sender".
type Check struct {
	Name   CheckName `json:"name"`
	Status Status    `json:"status"`
	Detail string    `json:"detail,omitempty"`
	// Reason is the reason code (see [ReasonCode]) of a check whose
	// status is fail or warning; "" otherwise.
	Reason Reason `json:"reason,omitempty"`
	// Certificate names the certificate a revocation check is about, or
	// whose issuer a fetch-intermediates check downloaded.
	Certificate string `json:"certificate,omitempty"`
	// Revocation is the revocation answer for Certificate: its source (file,
	// ocsp, cache, url), when it was produced, and every fetch it took.
	Revocation *revocation.Outcome `json:"revocation,omitempty"`
}
