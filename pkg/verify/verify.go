// Package verify checks S/MIME signed messages, following the Exchange 2003
// Message Security Guide's Figure 1.17 and Chapter 6 "Validating a
// Digitally Signed E-Mail Message" and "Certificate Validation": check the
// signature over the exact signed bytes, then the signer's certificate —
// time validity (at signing time and now), chain to a trusted root, key
// usage, revocation — and that the signer is the sender.
//
// [Verify] reads a clear-signed (multipart/signed) or opaque-signed
// (application/pkcs7-mime) message, writes the signed content to w only if
// every signer passes every check, and returns a [Result] that lists each
// signer and check with its reason, for people (the CLI) and programs
// (--json). Content is spooled (memory up to a threshold, then a temporary
// file) while it is hashed, and released only after the checks pass.
//
// # Layered messages
//
// [Open] does the same for any nesting of signed and encrypted layers, such
// as the guide's triple wrap (Chapter 6 "Viewing a Digitally Signed and
// Encrypted E-Mail Message"; RFC 2634 section 1.1): it checks every signed
// layer, decrypts every enveloped layer with [Options.Decrypt], lists the
// layers in [Result.Layers], and releases the innermost entity only if every
// layer is valid. [Inspect] describes the layers without keys or checks.
// Both stop at [MaxDepth] layers.
//
// # What "valid" means
//
// A [Result] is Valid only if the message is signed: at least one signer,
// and every signer of every signed layer valid. [Open] fails a message
// without a signed layer (one that is only encrypted, which anyone with
// the recipient's certificate can write) with a [*RequirementError] for
// RequireSigned, unless [Options.AllowUnsigned] asks for less; then the
// content is released, but the Result is not Valid.
//
// # The sender
//
// RFC 8550 section 3 has the receiving agent compare the From or Sender
// address with the signer's certificate. Here every mailbox of the one From
// field, and the Sender field's mailbox when there is one, must be in the
// certificate of a valid signer of each signed layer (the protected From
// and Sender, RFC 9788, when the content has them). A second From field,
// or a From or Sender field that does not parse completely, fails: a
// mailbox a mail client shows must never escape the check. A valid signer
// whose certificate carries none of those mailboxes, beside signers whose
// certificates carry all of them, is a co-signer: its "sender" check is
// [StatusNote], not a failure. [Options.SenderCheck] turns failures into
// warnings or the check off.
package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// SenderCheck says what a sender the signers do not vouch for means: a From
// or Sender mailbox that no valid signer's certificate carries, or From and
// Sender fields that can't be read completely (the guide's note on event
// sinks rewriting From).
type SenderCheck int

const (
	// SenderStrict: a mismatch fails the message (the default).
	SenderStrict SenderCheck = iota
	// SenderWarn: a mismatch is a warning.
	SenderWarn
	// SenderOff: the sender is not compared.
	SenderOff
)

var senderNames = []string{"strict", "warn", "off"}

func (s SenderCheck) String() string { return enumName(senderNames, "SenderCheck", int(s)) }

// MarshalText gives "strict", "warn" or "off".
func (s SenderCheck) MarshalText() ([]byte, error) {
	return marshalEnum(senderNames, "sender check", int(s))
}

// UnmarshalText reads "strict", "warn" or "off" (the CLI's --sender-check).
func (s *SenderCheck) UnmarshalText(b []byte) error {
	i, err := unmarshalEnum(senderNames, b)
	if err == nil {
		*s = SenderCheck(i)
	}
	return err
}

// enumName is the name of value i of an enumeration, or type(i) for a
// value without one.
func enumName(names []string, typ string, i int) string {
	if i < 0 || i >= len(names) {
		return typ + "(" + strconv.Itoa(i) + ")"
	}
	return names[i]
}

// marshalEnum is the MarshalText of an enumeration: a value without a name
// is an error, so that no output carries one that can't be read back.
func marshalEnum(names []string, what string, i int) ([]byte, error) {
	if i < 0 || i >= len(names) {
		return nil, fmt.Errorf("verify: unknown %s %d", what, i)
	}
	return []byte(names[i]), nil
}

// unmarshalEnum is the UnmarshalText of an enumeration: the index of b
// among names. The error names the values, which is all a caller (the
// CLI's flag parser, a configuration decoder) has to add to the value it
// gave.
func unmarshalEnum(names []string, b []byte) (int, error) {
	if i := slices.Index(names, string(b)); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("verify: want one of %s", strings.Join(names, ", "))
}

// Options controls [Verify]. The zero value checks signatures but trusts
// no root, so every signer fails the trust check.
type Options struct {
	// Roots are the trust anchors. If empty, no certificate is trusted.
	Roots []*x509.Certificate
	// Intermediates help build chains, besides those in the message.
	Intermediates []*x509.Certificate
	// Now, if nil, is time.Now: the evaluation time (the CLI's --at).
	Now func() time.Time
	// Revocation, if nil, disables revocation checking; the result
	// records the check as skipped.
	Revocation revocation.Checker
	// FetchIssuers, if not nil, is asked for the issuer of a certificate
	// when no chain can be built because that issuer is missing from the
	// message, Intermediates and Roots; what it returns is used as more
	// intermediates, checked like the others. revocation.FetchIssuers
	// downloads them from the certificate's caIssuers URLs (the CLI's
	// --fetch-intermediates). Nil, the default, fetches nothing.
	FetchIssuers func(ctx context.Context, cert *x509.Certificate) ([]*x509.Certificate, error)
	// NetworkTimeout, if positive, bounds the time all revocation checks
	// and FetchIssuers calls of one Verify call may take together: one
	// deadline, set when the first of them starts and shared by every
	// certificate of every signer (the CLI's --crl-total-timeout). Zero
	// or negative means no bound beyond the context's and the checker's
	// own.
	NetworkTimeout time.Duration
	// SenderCheck is SenderStrict if zero.
	SenderCheck SenderCheck
	// AllowMD5 accepts MD5 digests, which are otherwise refused.
	AllowMD5 bool
	// MinDigest is the weakest digest algorithm accepted, for the
	// message's signatures and for the certificate signatures of every
	// chain (the CLI's --min-digest; issue #15 item 8). Zero, the default,
	// accepts SHA-1 in both with a warning (MD5 as AllowMD5 says);
	// crypto.SHA256 refuses SHA-1 in either with a *PolicyError, as
	// current mail clients do.
	MinDigest crypto.Hash
	// MaxClockSkew is how far the Date header field may be from a
	// signer's signingTime (issue #15 item 9): a replayed or re-dated
	// message shows another date than the one signed. Zero means one
	// hour; a negative value turns the comparison off.
	MaxClockSkew time.Duration
	// StrictDate makes a Date field further than MaxClockSkew from the
	// signingTime a failure (a *DateError); by default it is a warning.
	StrictDate bool
	// SpoolDir is where content larger than SpoolThreshold is kept while
	// it is checked; "" is the system temporary directory.
	SpoolDir string
	// SpoolThreshold is 8 MiB if zero.
	SpoolThreshold int64
	// Batch, if not nil, is shared by the Verify and Open calls of a batch
	// of messages, which may run at once (see [BatchCache]); nil shares
	// nothing between calls.
	Batch *BatchCache
	// Decrypt, if not nil, is the identity [Open] decrypts enveloped layers
	// with; nil makes an enveloped layer a failure ([ErrNoKey]). Verify
	// ignores it.
	Decrypt *Identity
	// Require is the set of layers [Open] insists on besides the signed
	// layer it always requires (see AllowUnsigned). Verify ignores it.
	Require Requirement
	// AllowUnsigned lets [Open] release a message that has no signed layer
	// at all, such as one that is only encrypted (what a decrypting
	// caller may want); the Result then has no signers and is never
	// Valid. False, the default, makes "signed" the minimum: such a
	// message fails with a *RequirementError for RequireSigned, and
	// nothing is released. RequireSigned in Require overrides it.
	// Verify ignores it: it reads signed messages only.
	AllowUnsigned bool
	// AllowUnsignedParts accepts a message whose signed entities are
	// below its top level beside parts no signature covers (a mailing
	// list's footer, a forwarder's text; issue #15 item 5): Open then
	// releases it as received, valid when every signed part is, and
	// lists the parts in Result.Parts. False, the default, fails it with
	// a *PartialError naming the unsigned parts.
	AllowUnsignedParts bool
	// Form is how the input presents the message: FormAuto, the zero
	// value, detects a mail message or a bare CMS file (DER, PEM or bare
	// base64) by its first bytes; see [Form].
	Form Form
	// Signer, if not "", is a mail address a valid signer's certificate
	// must carry (the CLI's --signer). Input without a From field (a bare
	// CMS file, a detached signature over a file) is checked against it
	// alone; without it such input's sender check is skipped, with a
	// warning. For mail it is checked besides From and Sender.
	Signer string
	// OptionName, if not nil, names an [Option] in the caller's words
	// where an error or a warning says which option decides (smimectl
	// gives its flags: "--allow-md5"); nil, or "", keeps its Go name
	// ("Options.AllowMD5").
	OptionName func(Option) string
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now() // default
	}
	return o.Now()
}

// ErrNotSigned means the message is not an S/MIME signed message.
var ErrNotSigned error = errorString("the message is not signed (no multipart/signed or application/pkcs7-mime signed-data)")

// message is the signed data being checked, with its content spooled.
type message struct {
	content *mime.Spool
	sd      *cms.SignedData
}

// checkSigners checks every signer of sd, then the sender against the
// valid ones: the signers, and the first failure. SignedData without
// signers is a *MalformedError.
func (v *verifier) checkSigners(sd *cms.SignedData) ([]*Signer, error) {
	var signers []*Signer
	var first error
	for i, si := range sd.SignerInfos {
		s, err := v.checkSigner(i, si)
		signers = append(signers, s)
		if err != nil && first == nil {
			first = err
		}
	}
	if len(sd.SignerInfos) == 0 {
		return signers, &MalformedError{Err: errors.New("the signature has no signers")}
	}
	if err := v.checkSenders(signers); err != nil && first == nil {
		first = err
	}
	return signers, first
}

// micalgHashes are the digest algorithms a clear-signed message's content
// is digested with while it is spooled: those its micalg parameter names
// (RFC 8551 section 3.5.3.2, a comma-separated list when signers used
// several), or SHA-256, the usual one, when it names none this package
// knows. micalg is a hint and no more: a signer's digest is always taken
// under the digestAlgorithm of its SignerInfo (see digest), and one that
// micalg left out costs a second pass over the spooled content, not a
// verdict. At most four are taken, so that a long list costs no more.
func micalgHashes(h mime.Header) []crypto.Hash {
	_, params, _ := h.MediaType()
	var hs []crypto.Hash
	for name := range strings.SplitSeq(params["micalg"], ",") {
		if c := cms.HashForMicAlg(strings.ToLower(strings.TrimSpace(name))); c != 0 && !slices.Contains(hs, c) {
			hs = append(hs, c)
		}
		if len(hs) == 4 {
			break
		}
	}
	if len(hs) == 0 {
		hs = append(hs, crypto.SHA256)
	}
	return hs
}

// digest returns the content's digest under h: one taken while the content
// was spooled (opaque content while it was read, clear-signed content under
// the micalg algorithms), or else by hashing the spool, once per algorithm.
// h is always the SignerInfo's digestAlgorithm, never micalg's: the
// digests map is keyed by the algorithm that computed it.
func (v *verifier) digest(h crypto.Hash) ([]byte, error) {
	if d, ok := v.digests[h]; ok {
		return d, nil
	}
	if d, ok := v.msg.sd.ContentDigests[h]; ok {
		return d, nil
	}
	r, err := v.msg.content.Open()
	if err != nil {
		return nil, err
	}
	hh := h.New()
	if _, err := io.Copy(hh, r); err != nil {
		return nil, err
	}
	v.digests[h] = hh.Sum(nil)
	return v.digests[h], nil
}

type verifier struct {
	ctx     context.Context
	opts    *Options
	msg     *message
	res     *Result
	digests map[crypto.Hash][]byte
	// netCtx carries the NetworkTimeout deadline once the first network
	// step started; cancelNet releases it.
	netCtx    context.Context
	cancelNet context.CancelFunc
	// net, if not nil, holds the deadline across the readings of one
	// call (open reads a message twice when content that goes nowhere
	// was dropped and then wanted): the second reading does not start a
	// NetworkTimeout of its own.
	net *netDeadline
	// outer holds the From and Sender fields of the outermost header;
	// prot, if not nil, those protected inside the signed content being
	// checked (RFC 9788), which the sender check uses instead.
	outer originator
	prot  *originator
	// date is the outer Date field, when dateSet and dateErr is nil.
	date    time.Time
	dateSet bool
	dateErr error
	// purpose is what checkCertificate checks the key usage for:
	// PurposeSign, the zero value, for signers; see Certificate.
	purpose Purpose
	// chains carries signature results and the signature budget across
	// every chain built for this message (issue #11 item 11).
	chains chain.Cache
	// bare is set for input without a header of its own: a bare CMS file
	// or a detached signature over a file.
	bare bool
	// certificate is set when a certificate is checked on its own
	// (Certificate): its warnings are about it, not about a signer.
	certificate bool
}

// signerWarn adds a warning about signer s: "signer 1: ...", or the
// warning alone for a certificate checked on its own.
func (v *verifier) signerWarn(s *Signer, msg string) {
	if v.certificate {
		v.res.warn("%s", msg)
		return
	}
	v.res.warn("signer %d: %s", s.Index+1, msg)
}

// originator is a message's From and Sender, or why they can't be read.
type originator struct {
	mime.Originator
	err error
}

// network returns the context for revocation checks and issuer downloads:
// the one deadline of NetworkTimeout, started by the first call.
func (v *verifier) network() context.Context {
	if v.netCtx == nil && v.net != nil && v.net.ctx != nil {
		v.netCtx, v.cancelNet = v.net.ctx, func() {}
	}
	if v.netCtx == nil {
		v.netCtx, v.cancelNet = v.ctx, func() {}
		if v.opts.NetworkTimeout > 0 {
			v.netCtx, v.cancelNet = context.WithTimeout(v.ctx, v.opts.NetworkTimeout)
		}
		if v.net != nil {
			// The call that owns net releases it, after its last reading.
			v.net.ctx, v.net.cancel, v.cancelNet = v.netCtx, v.cancelNet, func() {}
		}
	}
	return v.netCtx
}

// netDeadline is the NetworkTimeout deadline of one call that reads its
// message more than once, started by the first network step of any
// reading.
type netDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (n *netDeadline) release() {
	if n.cancel != nil {
		n.cancel()
	}
}

// missingCertificateError: the signer's certificate was not found
// (ReasonMissingCertificate); with names OptionIntermediates.
type missingCertificateError struct{ with string }

func (e *missingCertificateError) Error() string {
	return "the signer's certificate is not in the message nor given with " + e.with
}

// capabilitiesAttribute returns the value of si's smimeCapabilities signed
// attribute, or nil unless there is exactly one attribute with one value
// (RFC 8551 2.5.2: "SignedAttributes MUST NOT include multiple instances").
func capabilitiesAttribute(si *cms.SignerInfo) []byte {
	n := 0
	for _, a := range si.SignedAttrs {
		if a.Type.Equal(cms.OIDAttrSMIMECapabilities) {
			n++
		}
	}
	if v := si.Attribute(cms.OIDAttrSMIMECapabilities); n == 1 && len(v) == 1 {
		return v[0]
	}
	return nil
}

// encryptionPreference returns the certificate among certs that si's
// SMIMEEncryptionKeyPreference attribute names, or nil:
//
//	SMIMEEncryptionKeyPreference ::= CHOICE {
//	  issuerAndSerialNumber   [0] IssuerAndSerialNumber,
//	  receipentKeyId          [1] RecipientKeyIdentifier,
//	  subjectAltKeyIdentifier [2] SubjectKeyIdentifier }
//
// Only the first form, the one Outlook and pkg/sign write, is read.
func encryptionPreference(si *cms.SignerInfo, certs []*x509.Certificate) *x509.Certificate {
	v := si.Attribute(cms.OIDAttrEncryptionKeyPreference)
	if len(v) != 1 {
		return nil
	}
	in := cryptobyte.String(v[0])
	var ias, name cryptobyte.String
	serial := new(big.Int)
	if !in.ReadASN1(&ias, cbasn1.Tag(0).ContextSpecific().Constructed()) || !in.Empty() ||
		!ias.ReadASN1Element(&name, cbasn1.SEQUENCE) || !ias.ReadASN1Integer(serial) || !ias.Empty() {
		return nil
	}
	for _, c := range certs {
		if bytes.Equal(c.RawIssuer, name) && c.SerialNumber.Cmp(serial) == 0 {
			return c
		}
	}
	return nil
}

// checkSigner runs every check for one signer; the error is the first
// failure, also kept in the Signer.
func (v *verifier) checkSigner(i int, si *cms.SignerInfo) (s *Signer, err error) {
	s = &Signer{Index: i, DigestAlgorithm: digestAlgorithm(si.Hash()), SignatureAlgorithm: si.SignatureAlgorithmName()}
	defer func() { s.err = err }()
	if si.IssuerAndSerial != nil {
		s.Serial = strings.ToUpper(si.IssuerAndSerial.Serial.Text(16))
	} else {
		s.SubjectKeyID = hex.EncodeToString(si.SubjectKeyID)
	}
	if t, ok, err := si.SigningTime(); err == nil && ok {
		s.SigningTime = &t
	}
	s.Capabilities = capabilitiesAttribute(si)
	s.EncryptionCertificate = encryptionPreference(si, v.msg.sd.Certificates)
	fail := func(name CheckName, err error) (*Signer, error) {
		s.addFailure(name, err)
		return s, err
	}
	certs := append(slices.Clip(v.msg.sd.Certificates), v.opts.Intermediates...)
	cert := si.FindCertificate(certs)
	if cert == nil {
		cert = si.FindCertificate(v.opts.Roots)
	}
	if cert == nil {
		return fail(CheckCertificate, &SignatureError{Signer: i, Err: &missingCertificateError{with: v.opts.name(OptionIntermediates)}})
	}
	s.setCertificate(cert)
	if err := v.checkDigestPolicy(s, si.Hash()); err != nil {
		return fail(CheckDigestAlgorithm, err)
	}
	if err := v.checkSignature(i, si, cert); err != nil {
		return fail(CheckSignature, err)
	}
	s.add(CheckSignature, StatusPass, fmt.Sprintf("%s with %s over the signed content", s.SignatureAlgorithm, s.DigestAlgorithm))
	if err := v.checkCertificate(s, cert); err != nil {
		return s, err
	}
	if err := v.checkDate(s); err != nil {
		s.addFailure(CheckDate, err)
		return s, err
	}
	// The sender is compared once every signer is known: checkSenders.
	s.Valid = true
	return s, nil
}

func (v *verifier) checkDigestPolicy(s *Signer, h crypto.Hash) error {
	switch h {
	case crypto.MD5:
		if !v.opts.AllowMD5 {
			return &PolicyError{Option: OptionAllowMD5, Err: fmt.Errorf("the message is signed with MD5, which is refused (%s accepts it)", v.opts.name(OptionAllowMD5))}
		}
		if digestRank(v.opts.MinDigest) > digestRank(crypto.MD5) {
			return v.minDigestError("the message is signed with MD5")
		}
		s.addWarning(CheckDigestAlgorithm, ReasonWeakAlgorithm, "MD5 is broken; accepted because it was asked for")
		v.res.warn("signer %d uses MD5", s.Index+1)
	case crypto.SHA1:
		if digestRank(v.opts.MinDigest) > digestRank(crypto.SHA1) {
			return v.minDigestError(fmt.Sprintf("signer %d signs with SHA-1", s.Index+1))
		}
		s.addWarning(CheckDigestAlgorithm, ReasonWeakAlgorithm, "SHA-1 is weak; accepted for old mail")
		v.res.warn("signer %d uses SHA-1, which is weak", s.Index+1)
	case 0:
		return &PolicyError{Err: fmt.Errorf("unsupported digest algorithm")}
	default:
		s.add(CheckDigestAlgorithm, StatusPass, s.DigestAlgorithm.String())
	}
	return nil
}

// digestRank orders digest algorithms by strength for MinDigest: MD5,
// SHA-1, SHA-224, then the SHA-2 and SHA-3 functions of 256 bits and more.
func digestRank(h crypto.Hash) int {
	switch h {
	case 0:
		return 0
	case crypto.MD5:
		return 1
	case crypto.SHA1:
		return 2
	case crypto.SHA224:
		return 3
	}
	return 4
}

// minDigestError refuses what by Options.MinDigest, named with its value
// as a caller spells it ("(Options.MinDigest sha256)").
func (v *verifier) minDigestError(what string) *PolicyError {
	value := strings.ToLower(strings.ReplaceAll(v.opts.MinDigest.String(), "-", ""))
	return &PolicyError{Option: OptionMinDigest, Err: fmt.Errorf("%s, which is refused (%s %s)", what, v.opts.name(OptionMinDigest), value)}
}

func (v *verifier) checkSignature(i int, si *cms.SignerInfo, cert *x509.Certificate) error {
	d, err := v.digest(si.Hash())
	if err != nil {
		return fmt.Errorf("verify: reading the spooled content: %w", err)
	}
	if err := si.CheckSignature(cert, v.msg.sd.ContentType, d); err != nil {
		if cms.IsFormatError(err) {
			return malformed(err)
		}
		return &SignatureError{Signer: i, Err: err}
	}
	return nil
}

// checkCertificate checks the chain at signing time and at the evaluation
// time, key usage, and revocation. The chain is built once, at the
// evaluation time; it is built again at the signing time only when the
// path found was not valid then (another path may have been, such as one
// through the intermediate a renewed one replaced), and again after each
// download of a missing issuer. Builds share v.chains, so a link examined
// once costs no second signature check.
func (v *verifier) checkCertificate(s *Signer, cert *x509.Certificate) error {
	now := v.opts.now()
	inter := append(slices.Clip(v.msg.sd.Certificates), v.opts.Intermediates...)
	res, err := v.buildChain(cert, inter, now)
	inter, res, err = v.fetchMissing(s, cert, inter, now, res, err)
	if s.SigningTime != nil {
		if s.SigningTime.After(now.Add(5 * time.Minute)) {
			s.addWarning(CheckSigningTime, ReasonFutureSigningTime, "the signing time is later than the evaluation time")
			v.res.warn("signer %d claims a signing time in the future", s.Index+1)
		} else if res != nil && res.ValidAt(*s.SigningTime) {
			s.add(CheckSigningTime, StatusPass, "the certificate chain was valid when the message was signed")
		} else if _, err := v.buildChain(cert, inter, *s.SigningTime); err != nil {
			var ce *chain.Error
			if errors.As(err, &ce) && (ce.Reason == chain.Expired || ce.Reason == chain.NotYetValid) {
				err = &TrustError{Cert: ce.Cert, Reason: trustReason(ce.Reason), Err: fmt.Errorf("at signing time %s: %w", s.SigningTime.UTC().Format(time.RFC3339), err)}
				s.addFailure(CheckSigningTime, err)
				return err
			}
		} else {
			s.add(CheckSigningTime, StatusPass, "the certificate chain was valid when the message was signed")
		}
	}
	if err != nil {
		var ce *chain.Error
		te := &TrustError{Cert: cert, Reason: Untrusted, Err: err}
		if errors.As(err, &ce) {
			te.Cert, te.Reason = ce.Cert, trustReason(ce.Reason)
		}
		s.Checks = append(s.Checks, Check{Name: CheckChain, Status: StatusFail, Detail: checkDetail(err), Reason: ReasonCode(te)})
		return te
	}
	s.Chain = res.Chain
	for _, c := range res.Chain {
		s.ChainInfo = append(s.ChainInfo, certificateInfo(c))
	}
	names := make([]string, len(res.Chain))
	for i, c := range res.Chain {
		names[i] = c.Subject.CommonName
	}
	s.add(CheckChain, StatusPass, "trusted: "+strings.Join(names, " <- "))
	if res.SHA1 && digestRank(v.opts.MinDigest) > digestRank(crypto.SHA1) {
		// Issue #15 item 8: clients that refuse SHA-1 refuse it in the chain too.
		err := v.minDigestError(fmt.Sprintf("a certificate in the chain of signer %d is signed with SHA-1", s.Index+1))
		s.addFailure(CheckChainSignatures, err)
		return err
	}
	if res.SHA1 {
		s.addWarning(CheckChainSignatures, ReasonWeakAlgorithm, "a certificate in the chain is signed with SHA-1")
		v.signerWarn(s, "a certificate in the chain is signed with SHA-1")
	}
	if err := v.checkKeyUsage(s, cert); err != nil {
		return err
	}
	return v.checkRevocation(s, res.Chain, now)
}

// checkDate compares the message's Date field with the signer's signingTime
// (issue #15 item 9): a message replayed or re-dated after it was signed
// shows the reader a date the signer did not sign. A difference over
// MaxClockSkew is a warning, or with StrictDate a *DateError. A message
// without a Date field, or a signer without a signing time, has nothing to
// compare and gets no check.
func (v *verifier) checkDate(s *Signer) error {
	skew := v.opts.MaxClockSkew
	switch {
	case skew < 0:
		return nil
	case skew == 0:
		skew = time.Hour
	}
	if s.SigningTime == nil || !v.dateSet {
		return nil // nothing to compare: no check in the result
	}
	var err error
	if v.dateErr != nil {
		err = &DateError{SigningTime: *s.SigningTime, Skew: skew, Err: v.dateErr}
	} else if d := v.date.Sub(*s.SigningTime); d > skew || d < -skew {
		err = &DateError{Date: v.date, SigningTime: *s.SigningTime, Skew: skew}
	}
	if err == nil {
		s.add(CheckDate, StatusPass, "the Date field is within "+skew.String()+" of the signing time")
		return nil
	}
	if v.opts.StrictDate {
		return err
	}
	s.addWarning(CheckDate, ReasonDateMismatch, checkDetail(err))
	v.signerWarn(s, checkDetail(err))
	return nil
}

// maxFetchedIssuers bounds how many missing issuers one chain may download:
// a chain is at most that long anyway.
const maxFetchedIssuers = 4

// buildChain builds the chain of cert at t through v.chains.
func (v *verifier) buildChain(cert *x509.Certificate, inter []*x509.Certificate, t time.Time) (*chain.Result, error) {
	return chain.Build(cert, chain.Options{Roots: v.opts.Roots, Intermediates: inter, Time: t, Cache: &v.chains,
		Memo: v.opts.Batch.signatures()})
}

// A BatchCache holds what the verifications of a batch share (the CLI's
// verify PATH...), so that what every message repeats is done once per
// run instead of once per message:
//
//   - the certificates the messages carry, parsed once: a certificate
//     whose DER was seen before is the *x509.Certificate parsed then (at
//     most 4,096 certificates and 8 MiB of DER are kept; others are
//     parsed each time);
//   - the certificate signatures found valid, known by content (the
//     SHA-256 of the certificate's DER and of its issuer's public key;
//     at most 16,384 are kept), so that the links of a chain (the signer's
//     certificate under its CA, the CA under the root) are checked once.
//
// Only valid signatures are remembered; everything else about a message,
// its own signature first, is checked afresh, so a result with a
// BatchCache is the result without one. Use one for messages checked with
// the same Options.
//
// The zero value is ready to use. A BatchCache is safe for concurrent use.
type BatchCache struct {
	sigs chain.SignatureMemo

	mu        sync.Mutex
	certs     map[string]*x509.Certificate // by DER
	certBytes int                          // DER bytes held in certs
}

// Bounds of a BatchCache's certificates.
const (
	maxBatchCerts     = 4096
	maxBatchCertBytes = 8 << 20
)

// parser returns the certificate parser of c: x509.ParseCertificate for a
// nil c.
func (c *BatchCache) parser() func([]byte) (*x509.Certificate, error) {
	if c == nil {
		return nil
	}
	return c.parseCertificate
}

// parseCertificate returns the certificate parsed from der before, or
// parses it and keeps it while there is room.
func (c *BatchCache) parseCertificate(der []byte) (*x509.Certificate, error) {
	c.mu.Lock()
	cert, ok := c.certs[string(der)]
	c.mu.Unlock()
	if ok {
		return cert, nil
	}
	cert, err := kem.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.certs) < maxBatchCerts && c.certBytes+len(der) <= maxBatchCertBytes {
		if c.certs == nil {
			c.certs = map[string]*x509.Certificate{}
		}
		if _, ok := c.certs[string(der)]; !ok {
			c.certs[string(der)] = cert
			c.certBytes += len(der)
		}
	}
	return cert, nil
}

// signatures returns the memo of c, nil for a nil c.
func (c *BatchCache) signatures() *chain.SignatureMemo {
	if c == nil {
		return nil
	}
	return &c.sigs
}

// fetchMissing asks opts.FetchIssuers for each issuer missing from the
// chain of cert, whose build at now gave res and err, one level at a time,
// and returns inter with what it got and the chain built again with it.
// A failed download is recorded as a warning check; the chain check then
// fails as it would have.
func (v *verifier) fetchMissing(s *Signer, cert *x509.Certificate, inter []*x509.Certificate, now time.Time,

	res *chain.Result, err error) ([]*x509.Certificate, *chain.Result, error) {
	if v.opts.FetchIssuers == nil {
		return inter, res, err
	}
	for range maxFetchedIssuers {
		var ce *chain.Error
		if err == nil || !errors.As(err, &ce) || ce.Reason != chain.Untrusted || len(ce.Cert.IssuingCertificateURL) == 0 {
			return inter, res, err
		}
		got, ferr := v.opts.FetchIssuers(v.network(), ce.Cert)
		who := ce.Cert.Subject.CommonName
		if ferr != nil {
			s.Checks = append(s.Checks, Check{Name: CheckFetchIntermediates, Status: StatusWarning, Detail: trimPrefixes(ferr.Error()), Reason: ReasonIssuerUnavailable, Certificate: who})
			v.res.warn("the issuer of %q could not be downloaded: %v", who, ferr)
			return inter, res, err
		}
		added := 0
		for _, c := range got {
			if !slices.ContainsFunc(inter, c.Equal) {
				inter = append(inter, c)
				added++
			}
		}
		if added == 0 {
			return inter, res, err
		}
		names := make([]string, len(got))
		for i, c := range got {
			names[i] = strconv.Quote(c.Subject.CommonName)
		}
		s.Checks = append(s.Checks, Check{Name: CheckFetchIntermediates, Status: StatusPass, Certificate: who,
			Detail: "downloaded " + strings.Join(names, ", ") + " from the caIssuers URL"})
		res, err = v.buildChain(cert, inter, now)
	}
	return inter, res, err
}

func (v *verifier) checkRevocation(s *Signer, path []*x509.Certificate, now time.Time) error {
	if v.opts.Revocation == nil {
		s.add(CheckRevocation, StatusSkipped, "revocation was not checked")
		return nil
	}
	// One warning per reason, naming the certificates it applies to.
	var reasons []string
	unknown := map[string][]string{}
	defer func() {
		for _, r := range reasons {
			v.res.warn("revocation of %s not checked: %s", strings.Join(unknown[r], ", "), r)
		}
	}()
	for i := 0; i+1 < len(path); i++ {
		o, err := v.opts.Revocation.Check(v.network(), path[i], path[i+1], now)
		who := path[i].Subject.CommonName
		switch {
		case err != nil:
			s.Checks = append(s.Checks, Check{Name: CheckRevocation, Status: StatusFail, Detail: checkDetail(err), Reason: ReasonCode(err), Certificate: who, Revocation: &o})
			return err
		case o.Status == revocation.Unknown:
			s.addRevocation(StatusWarning, who, o)
			if unknown[o.Detail] == nil {
				reasons = append(reasons, o.Detail)
			}
			unknown[o.Detail] = append(unknown[o.Detail], strconv.Quote(who))
		case o.Status == revocation.Skipped:
			s.add(CheckRevocation, StatusSkipped, o.Detail)
			return nil
		default:
			s.addRevocation(StatusPass, who, o)
		}
	}
	return nil
}

// checkSenders compares the sender with the certificates of the signers
// that passed every other check (RFC 8550 section 3; the guide's "the
// signer is the sender"): every mailbox of the From field, and the Sender
// field's mailbox when there is one, must be carried by at least one of
// them. The protected From and Sender (RFC 9788), when the signed content
// has them, stand for the outer ones. A valid signer whose certificate
// carries none of those mailboxes, beside others that carry all of them,
// is a co-signer: its sender check is a note, not a failure.
//
// A mailbox no valid signer carries, or From and Sender fields that can't
// be read completely (no From, two From fields, a list that does not
// parse), fail every valid signer under SenderStrict and are a warning
// under SenderWarn. It returns the failure, if any.
func (v *verifier) checkSenders(signers []*Signer) error {
	var valid []*Signer
	for _, s := range signers {
		if s.Valid {
			valid = append(valid, s)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	mode := v.opts.SenderCheck
	if mode == SenderOff {
		for _, s := range valid {
			s.add(CheckSender, StatusSkipped, "the sender was not compared")
		}
		return nil
	}
	o := v.outer
	if v.prot != nil {
		o = v.signerOriginator(*v.prot)
	}
	if v.bare && v.opts.Signer == "" && v.prot == nil {
		for _, s := range valid {
			s.add(CheckSender, StatusSkipped, noSenderDetail)
		}
		v.res.warn("%s; name the expected signer with %s", noSenderDetail, v.opts.name(OptionSigner))
		return nil
	}
	var addresses []string
	for _, s := range valid {
		for _, a := range s.Emails {
			if !slices.ContainsFunc(addresses, func(b string) bool { return certinfo.SameAddress(a, b) }) {
				addresses = append(addresses, a)
			}
		}
	}
	se := &SenderError{Err: o.err, Addresses: addresses, Signers: len(valid)}
	covers := make([][]string, len(valid)) // the sender mailboxes each signer carries
	if o.err == nil {
		v.noteLookalikes(o.Originator)
		for _, m := range o.Mailboxes() {
			found := false
			for i, s := range valid {
				if certinfo.HasAddress(s.Certificate, m) {
					covers[i] = append(covers[i], m)
					found = true
				}
			}
			if !found {
				se.Missing = append(se.Missing, m)
				if m == o.Sender && !slices.Contains(o.From, m) {
					se.Sender = m
				}
			}
		}
		if len(se.Missing) == 0 {
			for i, s := range valid {
				if len(covers[i]) == 0 {
					s.add(CheckSender, StatusNote, coSignerNote(s, o.Mailboxes()))
					continue
				}
				are := " is"
				if len(covers[i]) > 1 {
					are = " are"
				}
				s.add(CheckSender, StatusPass, strings.Join(covers[i], ", ")+are+" in the signer's certificate")
			}
			return nil
		}
		se.From = se.Missing[0]
	}
	if mode == SenderStrict {
		for _, s := range valid {
			s.addFailure(CheckSender, se)
			s.Valid, s.err = false, se
		}
		return se
	}
	for _, s := range valid {
		s.addWarning(CheckSender, ReasonSenderMismatch, checkDetail(se))
	}
	v.res.warn("%s", se.detail())
	return nil
}

// coSignerNote says why a valid signer is not the sender.
func coSignerNote(s *Signer, sender []string) string {
	carries := "carries no mail address"
	if len(s.Emails) > 0 {
		carries = "is for " + strings.Join(s.Emails, ", ")
	}
	return fmt.Sprintf("not the sender: a co-signer; its certificate %s, and the other signers' certificates carry %s", carries, strings.Join(sender, ", "))
}

// noteLookalikes warns about display names that read as another address
// than the mailbox checked: what a mail client may show instead of it (the
// first few; the message chose them).
func (v *verifier) noteLookalikes(o mime.Originator) {
	for i, l := range o.Lookalikes {
		msg := fmt.Sprintf("the display name %q reads as a mail address, but the mailbox checked is %s", l.Name, l.Mailbox)
		if i == maxListed {
			msg = fmt.Sprintf("%d more display names read as mail addresses", len(o.Lookalikes)-maxListed)
		}
		if !slices.Contains(v.res.Warnings, msg) {
			v.res.warn("%s", msg)
		}
		if i == maxListed {
			return
		}
	}
}

// checkVouched is the last check before a message is called valid: at
// least one signer, and every signer valid. Verify and Open reach it only
// when no other check failed; it keeps Result.Valid from ever meaning
// "nothing failed" when nothing was signed.
func checkVouched(signers []*Signer) error {
	if len(signers) == 0 {
		return &RequirementError{Require: RequireSigned, Reason: "the message is not signed"}
	}
	for _, s := range signers {
		if !s.Valid {
			return &SignatureError{Signer: s.Index, Err: errors.New("the signer did not pass every check")}
		}
	}
	return nil
}
