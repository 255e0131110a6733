package verify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// Results of the "smime" method of Authentication-Results (RFC 7281
// section 3.1, with the result names of RFC 8601 section 2.7).
const (
	// AuthPass: the signer's signature verified and its certificate passed
	// every check (chain, time, key usage, revocation, sender).
	AuthPass = "pass"
	// AuthFail: a bad signature, or a certificate that is untrusted,
	// expired, not yet valid, not for signing, revoked, or not the
	// sender's.
	AuthFail = "fail"
	// AuthPolicy: signed, but refused by local policy: a digest algorithm
	// refused (MD5), or a layer the caller required (Options.Require)
	// missing.
	AuthPolicy = "policy"
	// AuthNeutral: an encrypted layer that could not be opened, so the
	// signatures inside it, if any, were not checked.
	AuthNeutral = "neutral"
	// AuthNone: the message is not signed.
	AuthNone = "none"
	// AuthTempError: no answer that a retry might give: revocation
	// information required (revocation hard mode) and unavailable.
	AuthTempError = "temperror"
	// AuthPermError: the message or a signature in it is malformed,
	// nested too deep, or carries certificates that form more candidate
	// chains than are examined (a hostile message, not a bad signer).
	AuthPermError = "permerror"
)

// AuthenticationResults returns the Authentication-Results header field
// (RFC 8601) that reports the outcome of [Open] or [Verify] — their Result
// and error, res possibly nil — for the authentication service authservID
// (a host name), with the "smime" method and the properties of RFC 7281
// section 3.2: one "smime=" result per signer of every signed layer,
// outermost first, each with
//
//   - body.smime-identifier: the signer's address: the first From (or
//     Sender) mailbox the certificate carries, else the certificate's
//     first address (a co-signer's own);
//   - body.smime-serial and body.smime-issuer, together (RFC 7281 section
//     3.2.3): the certificate's serial number in hexadecimal, and its
//     issuer as an RFC 4514 string in which every byte that is not
//     printable ASCII is escaped as \XX, so the field stays 7-bit and no
//     certificate can put a line end or a quote into it unescaped;
//   - body.smime-part: where the signature is, as an IMAP section
//     (RFC 3501 section 6.4.5): "TEXT" for the message body, "1" for the
//     first part inside it, and so on; left out for a layer inside
//     encrypted or opaque-signed content, which no IMAP section reaches;
//   - reason: why a signer did not pass, in a few fixed words, never
//     text from the message, or "not the sender" for a co-signer that
//     passes beside the signers that vouch for the sender; in a message
//     of several layers, prefixed with the layer ("layer 3: ...").
//
// The result for each signer is one of the Auth constants. A message
// that is not signed gives a single "smime=none"; an encrypted layer that
// could not be opened adds "smime=neutral"; a message without a signed
// layer "smime=none" even when every layer opened, so that "pass" is
// never written without a signature; a malformed message
// "smime=permerror"; another requirement of Options.Require not met
// "smime=policy". The field ends in CRLF and is folded before a result or
// a property that would take a line past 78 characters (RFC 5322 section
// 2.1.1).
func AuthenticationResults(authservID string, res *Result, err error) string {
	return mime.AuthResults{AuthServID: authservID, Results: authResults(res, err)}.Field()
}

// authResults maps a verification to resinfos, as AuthenticationResults
// describes.
func authResults(res *Result, err error) []mime.AuthResult {
	if res == nil {
		if err == nil || errors.Is(err, ErrNotSigned) {
			return []mime.AuthResult{{Method: "smime", Result: AuthNone}}
		}
		return []mime.AuthResult{errorResult(err, "")}
	}
	if len(res.Parts) > 0 {
		return partResults(res, err)
	}
	layers := res.Layers
	if len(layers) == 0 && len(res.Signers) > 0 {
		// Verify's result: one signed layer.
		layers = []*Layer{{Depth: 1, Kind: KindSigned, MediaType: res.Form, Signers: res.Signers}}
	}
	var out []mime.AuthResult
	parts := imapParts(layers)
	// A From rewritten after protection fails the innermost signed
	// layer's signers (see below).
	innermost := lastSigned(layers)
	var rewritten *HeaderError
	errors.As(err, &rewritten)
	for i, l := range layers {
		prefix := ""
		if len(layers) > 1 {
			prefix = fmt.Sprintf("layer %d", l.Depth)
		}
		switch {
		case l.Kind != KindSigned:
			if l.Valid {
				break
			}
			r := mime.AuthResult{Method: "smime", Result: AuthNeutral, Reason: join(prefix, "the encrypted content was not opened")}
			if le := layerErr(err, l.Depth, len(layers)); le != nil {
				if result, reason := classify(le); result == AuthPermError {
					r.Result, r.Reason = result, join(prefix, reason)
				}
			}
			out = append(out, r)
		case len(l.Signers) == 0:
			result, reason := AuthPermError, "malformed signature"
			var (
				amb   *AmbiguousError
				spool *mime.SpoolError
			)
			if le := layerErr(err, l.Depth, len(layers)); errors.As(le, &amb) || errors.As(le, &spool) {
				result, reason = classify(le)
			}
			out = append(out, mime.AuthResult{Method: "smime", Result: result,
				Reason: join(prefix, reason)})
		default:
			for _, s := range l.Signers {
				r := signerResult(s, res.senderMailboxes(), parts[i], prefix)
				if r.Result == AuthPass && i == innermost && rewritten != nil {
					// The signature holds, but the outer From was
					// rewritten: the identity it vouches for is not the
					// sender shown, so this signer does not pass.
					result, reason := classify(rewritten)
					r.Result, r.Reason = result, join(prefix, reason)
				}
				out = append(out, r)
			}
		}
	}
	// A failure no layer shows: a requirement not met, or the message
	// broken beyond the last layer read.
	if err != nil && !anyFailure(out) {
		out = append(out, errorResult(err, ""))
	}
	if len(out) == 0 {
		out = append(out, mime.AuthResult{Method: "smime", Result: AuthNone})
	}
	return out
}

// partResults are the resinfos of a message whose signed entities are
// below its top level (issue #15 item 5): for every signer of every signed
// part, its result with body.smime-part the part's IMAP section, so a mail
// client knows which part is covered, and the identifier of the From it was
// held to (an attached message's own); then, when parts are not signed and
// that was not accepted, smime=policy with "parts not signed".
func partResults(res *Result, err error) []mime.AuthResult {
	var out []mime.AuthResult
	for _, p := range res.Parts {
		if !p.Signed {
			continue
		}
		from := res.senderMailboxes()
		if p.Attached {
			from = nil
			if p.From != "" {
				from = strings.Split(p.From, ", ")
			}
		}
		prefix := "part " + p.Section
		if len(p.Signers) == 0 {
			r := errorResult(p.Err, prefix)
			r.Props = append(r.Props, mime.AuthProp{Type: "body", Name: "smime-part", Value: p.Section})
			out = append(out, r)
			continue
		}
		for _, s := range p.Signers {
			r := signerResult(s, from, p.Section, "")
			if !s.Valid && s.err == nil && p.Err != nil {
				r = signerResult(&Signer{err: p.Err, Certificate: s.Certificate, Emails: s.Emails}, from, p.Section, "")
			}
			out = append(out, r)
		}
	}
	var pe *PartialError
	if errors.As(err, &pe) {
		out = append(out, errorResult(err, ""))
	}
	return out
}

// lastSigned is the index of the innermost signed layer, -1 if none.
func lastSigned(layers []*Layer) int {
	for i := len(layers) - 1; i >= 0; i-- {
		if layers[i].Kind == KindSigned {
			return i
		}
	}
	return -1
}

func join(prefix, reason string) string {
	if prefix == "" {
		return reason
	}
	if reason == "" {
		return prefix
	}
	return prefix + ": " + reason
}

// layerErr is the part of err that belongs to the layer at depth, if it
// can be told: Open names the layer of a failure in a message of several
// layers, and a message of one layer has no other.
func layerErr(err error, depth, layers int) error {
	var le *LayerError
	switch {
	case errors.As(err, &le) && le.Depth == depth:
		return le.Err
	case layers == 1:
		return err
	}
	return nil
}

func anyFailure(rs []mime.AuthResult) bool {
	for _, r := range rs {
		if r.Result != AuthPass && r.Result != AuthNone {
			return true
		}
	}
	return false
}

// imapParts names each layer's entity as an IMAP section (RFC 3501 section
// 6.4.5) of the message as received: the outermost layer is the message
// body, "TEXT"; the content of a multipart/signed layer is its part 1. A
// layer inside encrypted or opaque-signed content has no section: "".
func imapParts(layers []*Layer) []string {
	parts := make([]string, len(layers))
	for i := range layers {
		switch {
		case i == 0:
			parts[i] = "TEXT"
		case parts[i-1] == "":
		case layers[i-1].Kind == KindSigned && layers[i-1].MediaType == "multipart/signed":
			parts[i] = "1"
			if parts[i-1] != "TEXT" {
				parts[i] = parts[i-1] + ".1"
			}
		}
	}
	return parts
}

// signerResult is the resinfo of one signer. A co-signer (a valid signer
// whose certificate is not the sender's, beside signers whose are) passes,
// with the reason "not the sender": its identifier is its own address.
func signerResult(s *Signer, from []string, part, prefix string) mime.AuthResult {
	r := errorResult(s.err, prefix)
	if s.Valid {
		r = mime.AuthResult{Method: "smime", Result: AuthPass, Reason: prefix}
		if s.coSigner() {
			r.Reason = join(prefix, "not the sender")
		}
	}
	if id := signerIdentifier(s, from); id != "" {
		r.Props = append(r.Props, mime.AuthProp{Type: "body", Name: "smime-identifier", Value: id})
	}
	if c := s.Certificate; c != nil {
		r.Props = append(r.Props,
			mime.AuthProp{Type: "body", Name: "smime-serial", Value: strings.ToUpper(c.SerialNumber.Text(16))},
			mime.AuthProp{Type: "body", Name: "smime-issuer", Value: issuerString(c)})
	}
	if part != "" {
		r.Props = append(r.Props, mime.AuthProp{Type: "body", Name: "smime-part", Value: part})
	}
	return r
}

// signerIdentifier is the first From (or Sender) mailbox the signer's
// certificate carries, else the certificate's first address, else "".
func signerIdentifier(s *Signer, from []string) string {
	for _, m := range from {
		if s.Certificate != nil && certinfo.HasAddress(s.Certificate, m) {
			return m
		}
	}
	if len(s.Emails) > 0 {
		return s.Emails[0]
	}
	return ""
}

// errorResult classifies a failure: its result and a reason in fixed
// words. The words never come from the message or its certificates.
func errorResult(err error, prefix string) mime.AuthResult {
	result, reason := classify(err)
	return mime.AuthResult{Method: "smime", Result: result, Reason: join(prefix, reason)}
}

func classify(err error) (result, reason string) {
	var (
		sig     *SignatureError
		trust   *TrustError
		rev     *revocation.RevokedError
		unav    *revocation.UnavailableError
		snd     *SenderError
		hdr     *HeaderError
		pol     *PolicyError
		req     *RequirementError
		mal     *MalformedError
		amb     *AmbiguousError
		depth   *DepthError
		emal    *encrypt.MalformedError
		spool   *mime.SpoolError
		partial *PartialError
		date    *DateError
	)
	switch {
	case err == nil:
		return AuthTempError, "not checked"
	case errors.As(err, &sig):
		switch {
		case errors.Is(sig.Err, cms.ErrContentModified):
			return AuthFail, "the message was changed after it was signed"
		case errors.Is(sig.Err, cms.ErrBadSignature):
			return AuthFail, "bad signature"
		}
		return AuthFail, "the signer's certificate is missing"
	case errors.As(err, &trust):
		switch trust.Reason {
		case Untrusted:
			return AuthFail, "untrusted issuer"
		case Expired:
			return AuthFail, "certificate expired"
		case NotYetValid:
			return AuthFail, "certificate not yet valid"
		case IncompatibleUsage:
			return AuthFail, "certificate not for signing"
		case PolicyViolation:
			return AuthFail, "certificate policy not satisfied"
		case NameConstraintViolation:
			return AuthFail, "certificate outside its issuer's name constraints"
		case TooComplex:
			return AuthPermError, "too many candidate certificate chains"
		}
		return AuthFail, "certificate not valid"
	case errors.As(err, &rev):
		return AuthFail, "certificate revoked"
	case errors.As(err, &unav):
		return AuthTempError, "no revocation information"
	case errors.As(err, &snd):
		switch {
		case errors.Is(snd.Err, mime.ErrNoFrom):
			return AuthFail, "no From address to compare"
		case snd.Err != nil:
			return AuthFail, "the From or Sender field can't be read completely"
		case snd.From == "":
			return AuthFail, "no From address to compare"
		}
		return AuthFail, "the sender is not in the signer's certificate"
	case errors.As(err, &hdr):
		if hdr.Field == "Sender" {
			return AuthFail, "the Sender field was changed after signing"
		}
		return AuthFail, "the From field was changed after signing"
	case errors.As(err, &pol):
		return AuthPolicy, "algorithm refused"
	case errors.As(err, &partial):
		return AuthPolicy, "parts not signed"
	case errors.As(err, &date):
		return AuthPolicy, "the Date field is not the signing time"
	case errors.As(err, &req):
		if req.Require == RequireSigned {
			// RFC 7281 section 3.1: "none: the message was not signed".
			return AuthNone, "not signed"
		}
		return AuthPolicy, req.Reason
	case errors.As(err, &spool):
		// A fault of this machine, not of the message (issue #11 item 15).
		return AuthTempError, "local fault: a temporary file could not be written or read"
	case errors.As(err, &amb):
		return AuthPermError, "ambiguous MIME structure"
	case errors.As(err, &mal), errors.As(err, &emal):
		return AuthPermError, "malformed message"
	case errors.As(err, &depth):
		return AuthPermError, "nested too deep"
	case errors.Is(err, ErrNoKey):
		return AuthNeutral, "the encrypted content was not opened"
	}
	return AuthTempError, "verification incomplete"
}

// issuerString is cert's issuer as an RFC 4514 string, read from the raw
// DER so the order and multi-valued RDNs are as issued, with every byte
// outside printable ASCII escaped as \XX (RFC 4514 section 2.4 allows a
// hex pair for any character).
func issuerString(cert *x509.Certificate) string {
	var rdns pkix.RDNSequence
	s := ""
	if rest, err := asn1.Unmarshal(cert.RawIssuer, &rdns); err == nil && len(rest) == 0 {
		s = rdns.String()
	} else {
		s = cert.Issuer.String()
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			fmt.Fprintf(&b, "\\%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
