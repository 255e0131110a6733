// Package sign signs mail messages with S/MIME, following the Exchange 2003
// Message Security Guide's Figure 1.16 and Chapter 6 "Sending a Digitally
// Signed E-Mail Message": check the sender's own certificate, digest the
// canonical MIME entity, sign the digest with the sender's private key, and
// wrap entity and signature for transport.
//
// [Sign] reads an RFC 5322 message and writes it signed, keeping the outer
// header fields (From, To, Subject, Date, ...) on the output and signing
// the MIME entity (the Content-* fields and the body). [Clear] mode writes
// multipart/signed with a detached signature that any mail reader shows
// (RFC 8551 section 3.5.3, the guide's "clear signed" and its default);
// [Opaque] mode writes application/pkcs7-mime; smime-type=signed-data
// (section 3.5.2). Both stream: memory use does not grow with the message.
//
// The key is any crypto.Signer, so a PKCS#11 token key signs like a file
// key. WARNING: on an error after output has begun (a token that fails the
// final signature), w holds a partial message; callers that need all or
// nothing write to a temporary file and rename it on success.
package sign

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/internal/textenum"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// Mode selects the S/MIME signed form.
type Mode int

const (
	// Clear writes multipart/signed with a detached signature.
	Clear Mode = iota
	// Opaque writes application/pkcs7-mime with the content inside the signature.
	Opaque
)

var modeNames = []string{"clear", "opaque"}

// String gives the mode's name: "clear" or "opaque".
func (m Mode) String() string { return textenum.Name(modeNames, m) }

// MarshalText gives the mode's name.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads "clear" or "opaque", so that a flag or a setting can
// name a Mode.
func (m *Mode) UnmarshalText(text []byte) error {
	return textenum.Unmarshal(m, "sign: unknown mode", modeNames, text)
}

// Include says which certificates travel with the signature (the guide's
// Appendix B SecurityFlags 0x001, 0x002 and 0x008).
type Include int

const (
	// IncludeChain: the signer's certificate and the intermediates given
	// with it, without self-signed roots (the default).
	IncludeChain Include = iota
	// IncludeNone: no certificates; the recipient must already have them.
	IncludeNone
	// IncludeSigner: the signer's certificate only.
	IncludeSigner
	// IncludeChainWithRoot: the signer's certificate and the whole chain given.
	IncludeChainWithRoot
)

var includeNames = []string{"chain", "none", "signer", "chain+root"}

// String gives the set's name: "chain", "none", "signer" or "chain+root".
func (i Include) String() string { return textenum.Name(includeNames, i) }

// MarshalText gives the set's name.
func (i Include) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// UnmarshalText reads "none", "signer", "chain" or "chain+root".
func (i *Include) UnmarshalText(text []byte) error {
	return textenum.Unmarshal(i, "sign: unknown certificate set", includeNames, text)
}

// Options controls [Sign]. The zero value of each field is the documented
// default; Key and Certificate are required.
type Options struct {
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Chain holds the intermediates (and perhaps the root) that came with
	// the certificate.
	Chain []*x509.Certificate
	// Mode is Clear if zero.
	Mode Mode
	// Hash is SHA-256 if zero; SHA-384 and SHA-512 are allowed.
	Hash crypto.Hash
	// PSS signs with RSASSA-PSS instead of RSA PKCS#1 v1.5 (RSA keys only).
	PSS bool
	// SubjectKeyID names the signer by subject key identifier instead of
	// issuer and serial number.
	SubjectKeyID bool
	// Include is IncludeChain if zero.
	Include Include
	// From is the sender address the certificate must carry; if empty, the
	// address in the message's From field is used, and if the message has
	// none, no address is checked.
	From string
	// Force skips the checks of the signer's own certificate (validity,
	// key usage, address). The key must still match the certificate.
	Force bool
	// NoCapabilities leaves out the S/MIME capabilities attribute.
	NoCapabilities bool
	// EncryptionCertificate, if set, is announced as the sender's preferred
	// encryption certificate (RFC 8551 section 2.5.3).
	EncryptionCertificate *x509.Certificate
	// Now, if nil, is time.Now; it dates the signature and checks validity.
	Now func() time.Time
	// Rand, if nil, is crypto/rand.Reader.
	Rand io.Reader
	// ProtectHeaders copies the message's header fields (From, To, Cc,
	// Subject, Date, Message-ID, ... but not Bcc) into the signed entity,
	// marked hp="clear" on its Content-Type: RFC 9788 header protection,
	// the guide's SecurityFlags 0x200. The outer fields stay as they are.
	ProtectHeaders bool
	// Confidential, with ProtectHeaders, prepares the protection for a
	// message that is encrypted after it is signed (the triple wrap):
	// hp="cipher", the outer Subject replaced by "[...]" unless
	// KeepSubject (RFC 9788's hcp_baseline, which also drops Keywords and
	// Comments outside), and every outer field recorded in an HP-Outer
	// field inside.
	Confidential bool
	// KeepSubject leaves the outer Subject readable under Confidential.
	KeepSubject bool
	// Revocation, if not nil, checks the signer's certificate against its
	// issuer (found in Chain) before signing, under the context given to
	// [Sign], unless Force: a revoked certificate is refused with a
	// *CertificateError, and an unanswered check in hard mode fails with
	// the checker's *revocation.UnavailableError. Nil does not check.
	Revocation revocation.Checker
	// Binary signs an 8-bit or binary body as is, for a transport known to
	// be 8-bit clean. False, the default, encodes it first (issue #15 item
	// 11): quoted-printable for text, base64 otherwise, with a Note.
	Binary bool
	// Notes, if not nil, receives Notes as signing goes: warnings about
	// what recipients would otherwise discover (an issuer missing from the
	// chain sent, a certificate used outside its validity with Force, no
	// sender address) and what was done to the content. Nil drops them.
	Notes func(Note)
	// OptionName, if not nil, names an [Option] in the caller's words
	// where a note says which option decides (smimectl gives its flags:
	// "--force"); nil, or "", keeps its Go name ("Options.Force").
	OptionName func(Option) string
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now() // default
	}
	return o.Now()
}

// CertificateError reports a signer certificate that cannot sign for the
// sender: the guide's "no certificate with a private key can sign for ...".
type CertificateError struct {
	Cert    *x509.Certificate
	Address string
	Err     error
}

func (e *CertificateError) Error() string {
	who := e.Address
	if who == "" {
		who = "this message"
	}
	return fmt.Sprintf("sign: no certificate with a private key can sign for %s: %v", who, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// Sign reads an RFC 5322 message from r and writes it signed to w. Before
// writing anything it checks that the key belongs to the certificate and,
// unless opts.Force, that the certificate is valid now, allows signing
// (digitalSignature or nonRepudiation; emailProtection if it has an
// extended key usage), carries the sender's address and, with
// opts.Revocation, is not revoked. ctx bounds that revocation check (its
// network requests): once ctx is done, Sign returns its error, wrapped,
// without writing anything.
func Sign(ctx context.Context, w io.Writer, r io.Reader, opts Options) error {
	if opts.Key == nil || opts.Certificate == nil {
		return errors.New("sign: a key and its certificate are required")
	}
	e, err := mime.ReadEntity(r)
	if err != nil {
		return fmt.Errorf("sign: reading the message: %w", err)
	}
	outer, entity := e.Header.Split()
	addr := opts.From
	if addr == "" && e.Header.Get("From") != "" {
		if addr, err = mime.FromAddress(e.Header); err != nil {
			return fmt.Errorf("sign: reading the From field: %w", err)
		}
	}
	if err := checkSigner(ctx, &opts, addr); err != nil {
		return err
	}
	warnRecipients(&opts, addr)
	entity, body, release, err := encodeBody(&opts, entity, e.Body)
	if err != nil {
		return err
	}
	defer release()
	if opts.ProtectHeaders {
		po := mime.ProtectOptions{Encrypted: opts.Confidential, KeepSubject: opts.KeepSubject}
		if outer, entity, err = mime.Protect(outer, entity, po); err != nil {
			return fmt.Errorf("sign: protecting the header fields: %w", err)
		}
	}
	copts := cmsOptions(&opts)
	if err := copts.Check(); err != nil {
		// Before the first byte is written: a digest the key can't
		// sign with (Ed25519 with SHA-256) must not leave half a message.
		return fmt.Errorf("sign: %w", err)
	}
	if opts.Mode == Opaque {
		return signOpaque(w, outer, entity, body, copts)
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	return signClear(w, outer, entity, body, copts, rnd)
}

func signClear(w io.Writer, outer, entity mime.Header, body io.Reader, copts cms.SignOptions, rand io.Reader) error {
	h := copts.Signer.DigestHash()
	digest := h.New()
	sw, err := mime.NewSignedWriter(w, outer, cms.MicAlg(h), digest, rand)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if err := writeEntity(sw, entity, body); err != nil {
		return err
	}
	if err := sw.EndContent(); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	sig, err := cms.SignDetachedDigest(digest.Sum(nil), copts)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if err := sw.Finish(sig); err != nil {
		return fmt.Errorf("sign: writing the signature part: %w", err)
	}
	return nil
}

func signOpaque(w io.Writer, outer, entity mime.Header, body io.Reader, copts cms.SignOptions) error {
	pw, err := mime.NewPKCS7MimeWriter(w, outer, "signed-data")
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	sw, err := cms.NewSignedDataWriter(pw, copts)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	cw := mime.NewCanonicalWriter(sw)
	if err := writeEntity(cw, entity, body); err != nil {
		return err
	}
	for _, c := range []io.Closer{cw, sw, pw} {
		if err := c.Close(); err != nil {
			return fmt.Errorf("sign: %w", err)
		}
	}
	return nil
}

// writeEntity writes the MIME entity: its header fields, the blank line
// and the body.
func writeEntity(w io.Writer, entity mime.Header, body io.Reader) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := entity.WriteTo(bw); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if _, err := bw.WriteString("\r\n"); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if _, err := io.Copy(bw, body); err != nil {
		return fmt.Errorf("sign: reading the message body: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	return nil
}

// checkSigner applies the guide's step "the client checks the sender's
// own certificate" before anything is signed.
func checkSigner(ctx context.Context, opts *Options, addr string) error {
	c := opts.Certificate
	if !cms.KeyMatchesCertificate(opts.Key.Public(), c) {
		return &CertificateError{Cert: c, Address: addr, Err: errors.New("the certificate does not belong to the private key")}
	}
	if _, ok := opts.Key.(*kem.PrivateKey); ok {
		// Not even --force: an ML-KEM key cannot make a signature, and
		// nothing may be written before that is known.
		return &CertificateError{Cert: c, Address: addr, Err: kem.ErrCannotSign}
	}
	if opts.Force {
		return nil
	}
	now := opts.now()
	if now.Before(c.NotBefore) {
		return &CertificateError{Cert: c, Address: addr, Err: fmt.Errorf("the certificate is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))}
	}
	if now.After(c.NotAfter) {
		return &CertificateError{Cert: c, Address: addr, Err: fmt.Errorf("the certificate expired on %s", c.NotAfter.UTC().Format(time.RFC3339))}
	}
	if err := certinfo.CheckUsage(c, certinfo.Signing); err != nil {
		return &CertificateError{Cert: c, Address: addr, Err: err}
	}
	if addr != "" && !certinfo.HasAddress(c, addr) {
		return &CertificateError{Cert: c, Address: addr, Err: fmt.Errorf("the certificate is for %v", certinfo.Addresses(c))}
	}
	return checkRevocation(ctx, opts, addr, now)
}

// checkRevocation asks opts.Revocation about the signer's certificate, if
// a checker is set and the issuer is in the chain given. A ctx that is done
// stops the check and the signature, whatever the checker's mode made of it.
func checkRevocation(ctx context.Context, opts *Options, addr string, now time.Time) error {
	c := opts.Certificate
	if opts.Revocation == nil {
		return nil
	}
	i := slices.IndexFunc(opts.Chain, func(x *x509.Certificate) bool {
		// Unlike CheckSignatureFrom, this accepts SHA-1 issuers (and ML-DSA).
		return bytes.Equal(x.RawSubject, c.RawIssuer) && chain.CheckCertificateSignature(c, x) == nil
	})
	if i < 0 {
		return nil // nothing to check against; the verifier will check the chain
	}
	_, err := opts.Revocation.Check(ctx, c, opts.Chain[i], now)
	if ctx.Err() != nil {
		return fmt.Errorf("sign: checking the signer's certificate for revocation: %w", context.Cause(ctx))
	}
	var re *revocation.RevokedError
	if errors.As(err, &re) {
		return &CertificateError{Cert: c, Address: addr, Err: err}
	}
	return err
}

// certificates returns the certificates to include, signer first.
// cmsOptions are the internal/cms options of one signature by opts: the
// signer, its signing time and capabilities, the certificates sent.
func cmsOptions(opts *Options) cms.SignOptions {
	copts := cms.SignOptions{
		Signer: cms.Signer{
			Key: opts.Key, Certificate: opts.Certificate, Hash: opts.Hash, PSS: opts.PSS,
			SubjectKeyID: opts.SubjectKeyID, SigningTime: opts.now(),
			EncryptionKeyPreference: opts.EncryptionCertificate,
		},
		Certificates: certificates(opts),
		Rand:         opts.Rand,
	}
	if !opts.NoCapabilities {
		copts.Signer.Capabilities = cms.DefaultCapabilities()
	}
	return copts
}

func certificates(opts *Options) []*x509.Certificate {
	c := opts.Certificate
	switch opts.Include {
	case IncludeNone:
		return nil
	case IncludeSigner:
		return []*x509.Certificate{c}
	}
	out := []*x509.Certificate{c}
	for _, x := range opts.Chain {
		if x.Equal(c) {
			continue
		}
		if opts.Include == IncludeChain && isSelfSigned(x) {
			continue
		}
		out = append(out, x)
	}
	return out
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && chain.CheckCertificateSignature(c, c) == nil
}
