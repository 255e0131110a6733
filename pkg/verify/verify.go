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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// SenderCheck says what a From address missing from the signer's
// certificate means (the guide's note on event sinks rewriting From).
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

func (s SenderCheck) String() string { return senderNames[s] }

// ParseSenderCheck reads "strict", "warn" or "off".
func ParseSenderCheck(s string) (SenderCheck, error) {
	if i := slices.Index(senderNames, s); i >= 0 {
		return SenderCheck(i), nil
	}
	return SenderStrict, fmt.Errorf("verify: unknown sender check %q (want strict, warn or off)", s)
}

// Options controls [Verify]. The zero value checks signatures but trusts
// no root, so every signer fails the trust check.
type Options struct {
	// Roots are the trusted root certificates.
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
	// SpoolDir is where content larger than SpoolThreshold is kept while
	// it is checked; "" is the system temporary directory.
	SpoolDir string
	// SpoolThreshold is 8 MiB if zero.
	SpoolThreshold int64
	// Decrypt, if not nil, is the identity [Open] decrypts enveloped layers
	// with; nil makes an enveloped layer a failure ([ErrNoKey]). Verify
	// ignores it.
	Decrypt *Identity
	// Require is the set of layers [Open] insists on; zero requires none.
	// Verify ignores it.
	Require Requirement
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now() // default
	}
	return o.Now()
}

// ErrNotSigned means the message is not an S/MIME signed message.
var ErrNotSigned = errors.New("verify: the message is not signed (no multipart/signed or application/pkcs7-mime signed-data)")

// Verify reads a signed message from r, checks every signer, and only if
// all pass writes the message to w: the outer header fields followed by the
// signed MIME entity, without the signature. On failure nothing is written
// to w, and the error is the first failing check; the Result, when not nil,
// describes every signer and check either way.
func Verify(ctx context.Context, w io.Writer, r io.Reader, opts Options) (*Result, error) {
	m, err := readSigned(r, &opts)
	if err != nil {
		return nil, err
	}
	defer m.content.Close()
	res := &Result{Form: m.form, At: opts.now().UTC()}
	if from := m.outer.Get("From"); from != "" {
		if addr, err := mime.FromAddress(m.outer); err == nil {
			res.From = addr
		}
	}
	v := &verifier{ctx: ctx, opts: &opts, msg: m, res: res, digests: map[crypto.Hash][]byte{}}
	defer func() {
		if v.cancelNet != nil {
			v.cancelNet()
		}
	}()
	prot := v.readProtection(m.outer, m.content)
	var firstErr error
	for i, si := range m.sd.SignerInfos {
		s, err := v.checkSigner(i, si)
		res.Signers = append(res.Signers, s)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if len(m.sd.SignerInfos) == 0 {
		firstErr = &MalformedError{Err: errors.New("the signature has no signers")}
	}
	if firstErr == nil && prot != nil {
		firstErr = v.checkProtected(prot, m.outer)
	}
	if firstErr != nil {
		res.Error = firstErr.Error()
		return res, firstErr
	}
	res.Valid = true
	if err := release(w, m.outer, m.content, prot); err != nil {
		return res, err
	}
	return res, nil
}

// message is a parsed signed message with its content spooled.
type message struct {
	form    string
	outer   mime.Header
	content *mime.Spool
	sd      *cms.SignedData
}

// release writes the outer header fields and the content; with header
// protection, the protected fields stand for the outer ones.
func release(w io.Writer, outer mime.Header, content *mime.Spool, prot *ProtectedHeaders) error {
	cr, err := content.Open()
	if err != nil {
		return err
	}
	if prot != nil {
		return mime.WriteEffective(w, outer, cr)
	}
	if _, err := outer.WriteTo(w); err != nil {
		return err
	}
	_, err = io.Copy(w, cr)
	return err
}

// readProtection returns the RFC 9788 header protection of content, the
// signed or decrypted entity, if it is a protected payload root, and notes
// its From address for the sender check of the signers over it.
func (v *verifier) readProtection(outer mime.Header, content *mime.Spool) *ProtectedHeaders {
	v.protectedFrom = ""
	r, err := content.Open()
	if err != nil {
		return nil
	}
	p := mime.PeekProtection(outer, r)
	if p != nil {
		v.protectedFrom = p.ProtectedAddress()
	}
	return p
}

// checkProtected records the protected header fields in the result and
// compares them with the outer ones. A From field outside that names
// another address than the protected one fails under SenderStrict and is a
// warning under SenderWarn; every other change in transit is a warning.
func (v *verifier) checkProtected(p *ProtectedHeaders, outer mime.Header) error {
	v.res.ProtectedHeaders = p
	var err error
	if pf := p.ProtectedAddress(); pf != "" {
		v.res.From = pf
		of, _ := mime.FromAddress(outer)
		if !certinfo.SameAddress(of, pf) && v.opts.SenderCheck != SenderOff {
			he := &HeaderError{Field: "From", Protected: pf, Outer: of}
			if v.opts.SenderCheck == SenderStrict {
				err = he
			} else {
				v.res.warn("%s", strings.TrimPrefix(he.Error(), "verify: "))
			}
		}
	}
	for _, d := range p.Differences {
		if !d.Fault() || strings.EqualFold(d.Field, "From") {
			continue
		}
		switch d.Kind {
		case mime.DiffChanged:
			was := fmt.Sprintf("protected %q", d.Protected)
			if p.HP == mime.HPCipher {
				was = fmt.Sprintf("sent as %q", d.Sent)
			}
			v.res.warn("the %s field was changed in transit: %s, received %q", d.Field, was, d.Outer)
		case mime.DiffAdded:
			v.res.warn("the %s field was added in transit: %q is not protected", d.Field, d.Outer)
		case mime.DiffMissing:
			v.res.warn("the %s field was removed in transit", d.Field)
		}
	}
	return err
}

func readSigned(r io.Reader, opts *Options) (*message, error) {
	e, err := mime.ReadEntity(r)
	if err != nil {
		return nil, &MalformedError{Err: err}
	}
	if err := mime.CheckEntityHeader(e.Header); err != nil {
		return nil, &AmbiguousError{Err: err}
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		return nil, &MalformedError{Err: err}
	}
	outer, _ := e.Header.Split()
	spool := mime.Spool{Dir: opts.SpoolDir, Threshold: opts.SpoolThreshold}
	switch mt {
	case "multipart/signed":
		parts, err := mime.ReadSigned(e, spool)
		if err != nil {
			return nil, malformed(err)
		}
		sd, err := cms.ReadSignedData(bytes.NewReader(parts.Signature), nil)
		if err != nil {
			parts.Close()
			return nil, &MalformedError{Err: fmt.Errorf("reading the signature part: %w", err)}
		}
		if !sd.Detached {
			parts.Close()
			return nil, &MalformedError{Err: errors.New("the signature part of a multipart/signed message carries content of its own")}
		}
		return &message{form: "multipart/signed", outer: outer, content: parts.Content, sd: sd}, nil
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		st := strings.ToLower(params["smime-type"])
		if st != "" && st != "signed-data" {
			return nil, fmt.Errorf("%w: it is %s (smime-type=%s)", ErrNotSigned, mt, st)
		}
		body, err := mime.DecodeBody(e)
		if err != nil {
			return nil, &MalformedError{Err: err}
		}
		content := &spool
		sd, err := cms.ReadSignedData(body, content)
		if err != nil {
			content.Close()
			return nil, &MalformedError{Err: err}
		}
		if sd.Detached {
			content.Close()
			return nil, &MalformedError{Err: errors.New("an application/pkcs7-mime signed message without content")}
		}
		return &message{form: "application/pkcs7-mime", outer: outer, content: content, sd: sd}, nil
	}
	return nil, fmt.Errorf("%w: its type is %s", ErrNotSigned, mt)
}

// digest returns the content's digest under h, hashing the spool once per
// algorithm (opaque content was digested while it was read).
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
	// protectedFrom is the From address protected inside the signed
	// content being checked (RFC 9788), which the sender check uses
	// instead of the outer one.
	protectedFrom string
	// chains carries signature results and the signature budget across
	// every chain built for this message (issue #11 item 11).
	chains chain.Cache
}

// network returns the context for revocation checks and issuer downloads:
// the one deadline of NetworkTimeout, started by the first call.
func (v *verifier) network() context.Context {
	if v.netCtx == nil {
		v.netCtx, v.cancelNet = v.ctx, func() {}
		if v.opts.NetworkTimeout > 0 {
			v.netCtx, v.cancelNet = context.WithTimeout(v.ctx, v.opts.NetworkTimeout)
		}
	}
	return v.netCtx
}

// checkSigner runs every check for one signer; the error is the first
// failure, also kept in the Signer.
func (v *verifier) checkSigner(i int, si *cms.SignerInfo) (s *Signer, err error) {
	s = &Signer{Index: i, DigestAlgorithm: cms.MicAlg(si.Hash()), SignatureAlgorithm: si.SignatureAlgorithmName()}
	defer func() { s.err = err }()
	if si.IssuerAndSerial != nil {
		s.Serial = strings.ToUpper(si.IssuerAndSerial.Serial.Text(16))
	} else {
		s.SubjectKeyID = hex.EncodeToString(si.SubjectKeyID)
	}
	if t, ok, err := si.SigningTime(); err == nil && ok {
		s.SigningTime = &t
	}
	fail := func(name string, err error) (*Signer, error) {
		s.add(name, StatusFail, err.Error())
		return s, err
	}
	certs := append(slices.Clip(v.msg.sd.Certificates), v.opts.Intermediates...)
	cert := si.FindCertificate(certs)
	if cert == nil {
		cert = si.FindCertificate(v.opts.Roots)
	}
	if cert == nil {
		return fail("certificate", &SignatureError{Signer: i, Err: errors.New("the signer's certificate is not in the message nor given with --intermediates")})
	}
	s.setCertificate(cert)
	if err := v.checkDigestPolicy(s, si.Hash()); err != nil {
		return fail("digest-algorithm", err)
	}
	if err := v.checkSignature(i, si, cert); err != nil {
		return fail("signature", err)
	}
	s.add("signature", StatusPass, fmt.Sprintf("%s with %s over the signed content", s.SignatureAlgorithm, s.DigestAlgorithm))
	if err := v.checkCertificate(s, cert); err != nil {
		return s, err
	}
	if err := v.checkSender(s, cert); err != nil {
		return s, err
	}
	s.Valid = true
	return s, nil
}

func (v *verifier) checkDigestPolicy(s *Signer, h crypto.Hash) error {
	switch h {
	case crypto.MD5:
		if !v.opts.AllowMD5 {
			return &PolicyError{Err: errors.New("the message is signed with MD5, which is refused (--allow-md5 accepts it)")}
		}
		s.add("digest-algorithm", StatusWarning, "MD5 is broken; accepted because it was asked for")
		v.res.warn("signer %d uses MD5", s.Index+1)
	case crypto.SHA1:
		s.add("digest-algorithm", StatusWarning, "SHA-1 is weak; accepted for old mail")
		v.res.warn("signer %d uses SHA-1, which is weak", s.Index+1)
	case 0:
		return &PolicyError{Err: fmt.Errorf("unsupported digest algorithm")}
	default:
		s.add("digest-algorithm", StatusPass, s.DigestAlgorithm)
	}
	return nil
}

func (v *verifier) checkSignature(i int, si *cms.SignerInfo, cert *x509.Certificate) error {
	d, err := v.digest(si.Hash())
	if err != nil {
		return fmt.Errorf("verify: reading the spooled content: %w", err)
	}
	if err := si.CheckSignature(cert, v.msg.sd.ContentType, d); err != nil {
		if cms.IsFormatError(err) {
			return &MalformedError{Err: err}
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
			s.add("signing-time", StatusWarning, "the signing time is later than the evaluation time")
			v.res.warn("signer %d claims a signing time in the future", s.Index+1)
		} else if res != nil && res.ValidAt(*s.SigningTime) {
			s.add("signing-time", StatusPass, "the certificate chain was valid when the message was signed")
		} else if _, err := v.buildChain(cert, inter, *s.SigningTime); err != nil {
			var ce *chain.Error
			if errors.As(err, &ce) && (ce.Reason == chain.Expired || ce.Reason == chain.NotYetValid) {
				err = &TrustError{Cert: ce.Cert, Reason: ce.Reason, Err: fmt.Errorf("at signing time %s: %w", s.SigningTime.UTC().Format(time.RFC3339), err)}
				s.add("signing-time", StatusFail, err.Error())
				return err
			}
		} else {
			s.add("signing-time", StatusPass, "the certificate chain was valid when the message was signed")
		}
	}
	if err != nil {
		var ce *chain.Error
		te := &TrustError{Cert: cert, Reason: chain.Untrusted, Err: err}
		if errors.As(err, &ce) {
			te.Cert, te.Reason = ce.Cert, ce.Reason
		}
		s.add("chain", StatusFail, err.Error())
		return te
	}
	s.Chain = res.Chain
	names := make([]string, len(res.Chain))
	for i, c := range res.Chain {
		names[i] = c.Subject.CommonName
	}
	s.add("chain", StatusPass, "trusted: "+strings.Join(names, " <- "))
	if res.SHA1 {
		s.add("chain-signatures", StatusWarning, "a certificate in the chain is signed with SHA-1")
		v.res.warn("signer %d: a certificate in the chain is signed with SHA-1", s.Index+1)
	}
	if err := certinfo.CheckUsage(cert, certinfo.Signing); err != nil {
		err = &TrustError{Cert: cert, Reason: chain.Usage, Err: err}
		s.add("key-usage", StatusFail, err.Error())
		return err
	}
	s.add("key-usage", StatusPass, certinfo.UsageString(cert.KeyUsage))
	return v.checkRevocation(s, res.Chain, now)
}

// maxFetchedIssuers bounds how many missing issuers one chain may download:
// a chain is at most that long anyway.
const maxFetchedIssuers = 4

// buildChain builds the chain of cert at t through v.chains.
func (v *verifier) buildChain(cert *x509.Certificate, inter []*x509.Certificate, t time.Time) (*chain.Result, error) {
	return chain.Build(cert, chain.Options{Roots: v.opts.Roots, Intermediates: inter, Time: t, Cache: &v.chains})
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
			s.Checks = append(s.Checks, Check{Name: "fetch-intermediates", Status: StatusWarning, Detail: ferr.Error(), Certificate: who})
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
		s.Checks = append(s.Checks, Check{Name: "fetch-intermediates", Status: StatusPass, Certificate: who,
			Detail: "downloaded " + strings.Join(names, ", ") + " from the caIssuers URL"})
		res, err = v.buildChain(cert, inter, now)
	}
	return inter, res, err
}

func (v *verifier) checkRevocation(s *Signer, path []*x509.Certificate, now time.Time) error {
	if v.opts.Revocation == nil {
		s.add("revocation", StatusSkipped, "revocation was not checked")
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
			s.Checks = append(s.Checks, Check{Name: "revocation", Status: StatusFail, Detail: err.Error(), Certificate: who, Revocation: &o})
			return err
		case o.Status == revocation.Unknown:
			s.addRevocation(StatusWarning, who, o)
			if unknown[o.Detail] == nil {
				reasons = append(reasons, o.Detail)
			}
			unknown[o.Detail] = append(unknown[o.Detail], strconv.Quote(who))
		case o.Status == revocation.Skipped:
			s.add("revocation", StatusSkipped, o.Detail)
			return nil
		default:
			s.addRevocation(StatusPass, who, o)
		}
	}
	return nil
}

func (v *verifier) checkSender(s *Signer, cert *x509.Certificate) error {
	mode := v.opts.SenderCheck
	from := v.res.From
	if v.protectedFrom != "" {
		from = v.protectedFrom
	}
	switch {
	case mode == SenderOff:
		s.add("sender", StatusSkipped, "the sender was not compared")
	case from == "":
		if mode == SenderStrict {
			err := &SenderError{From: "", Addresses: s.Emails}
			s.add("sender", StatusFail, err.Error())
			return err
		}
		s.add("sender", StatusWarning, "the message has no From address")
	case certinfo.HasAddress(cert, from):
		s.add("sender", StatusPass, from+" is in the signer's certificate")
	default:
		err := &SenderError{From: from, Addresses: s.Emails}
		if mode == SenderStrict {
			s.add("sender", StatusFail, err.Error())
			return err
		}
		s.add("sender", StatusWarning, err.Error())
		v.res.warn("%s", strings.TrimPrefix(err.Error(), "verify: "))
	}
	return nil
}
