// Package encrypt encrypts and decrypts mail messages with S/MIME, following
// the Exchange 2003 Message Security Guide's Figure 1.18 and Chapter 6
// "Sending an Encrypted E-Mail Message" (generate a one-time session key,
// encrypt the message with it, encrypt the session key with each
// recipient's public key, send both) and Figure 1.19 and "Viewing an
// Encrypted E-Mail Message" (find our recipient entry, decrypt the session
// key with our private key, decrypt the message).
//
// [Encrypt] reads an RFC 5322 message and writes it encrypted: the outer
// header fields (From, To, Subject, ...) stay readable, and the MIME
// entity (the Content-* fields and the body) becomes an
// application/pkcs7-mime part, smime-type=enveloped-data for AES-CBC or
// authEnveloped-data for AES-GCM (RFC 8551 section 3.3, RFC 5083). The
// Bcc field is removed from the output. [Decrypt] reverses it and returns
// a [Result] naming the recipients, which of them was us, the cipher and
// the key management. Both stream: memory use does not grow with the
// message (Decrypt spools large plaintext to a temporary file until it is
// authenticated; the file has no name on disk, so nothing of the plaintext
// outlives the process).
//
// Errors name the operation that failed: "encrypt: ..." from [Encrypt] and
// its helpers, "decrypt: ..." from [Decrypt] and its error types, so that a
// failure to decrypt never reads as one to encrypt. A temporary file that
// can't be created or written (a full or missing temporary directory) is
// not reported as a bad message: the error wraps the *fs.PathError of the
// cause, and errors.Is finds its errno (syscall.ENOSPC...).
//
// Keys are interfaces: an RSA private key is a crypto.Decrypter, an EC key
// a [KeyAgreer] (or an *ecdsa.PrivateKey), so a token key decrypts like a
// file key; an ML-KEM key is a crypto.Decapsulator.
//
// # Post-quantum recipients
//
// A recipient certificate with an ML-KEM-512, -768 or -1024 key (RFC 9935)
// gets a KEMRecipientInfo (RFC 9629) as RFC 9936 profiles it: ML-KEM
// encapsulation, HKDF-SHA256 over CMSORIforKEMOtherInfo, and AES key wrap
// (AES-128 for ML-KEM-512, AES-256 for the others), in EnvelopedData or
// AuthEnvelopedData, beside RSA and ECDH recipients. ML-KEM never rejects
// a ciphertext: a KEM entry made for another key, or changed in transit,
// shows as the key-unwrap check failing (a [DecryptError] for which
// errors.Is(err, [ErrKEMUnwrap]) holds); an entry whose algorithms do not fit together is a
// [MalformedError] that says why.
//
// # Cipher policy
//
// Options.Ciphers is the guide's Appendix B EncryptionAlgorithms: an
// ordered list, of which the first cipher every recipient is known to read
// is used ([Choose]). What a recipient reads comes from Options.Capabilities
// (pkg/capabilities remembers what each correspondent's signed mail
// advertised): AES-GCM is used only when every recipient advertised it, and
// a recipient of unknown capabilities is assumed to read AES-CBC only, for
// the widest reach of today's clients (gpgsm 2.2 and NSS cmsutil do not read
// AES-GCM). The default list is AES-256-GCM, AES-256-CBC, AES-128-CBC; a
// list of AES-GCM alone is used even for recipients not known to read it.
// RSA recipients that advertised RSAES-OAEP get OAEP key transport.
package encrypt

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/internal/textenum"
)

// Cipher is a content-encryption algorithm.
type Cipher int

// Content-encryption algorithms. The first four are written; 3DES, DES
// and RC2 are only read, from old mail.
const (
	AES256CBC Cipher = iota + 1
	AES128CBC
	AES256GCM
	AES128GCM
	DES3CBC
	DESCBC
	RC2CBC40
	RC2CBC64
	RC2CBC128
)

// Each encrypt.Cipher is the cms.Cipher of the same value.
func (c Cipher) cms() cms.Cipher { return cms.Cipher(c) }

// String returns the OpenSSL-style name: "aes-256-cbc", "des-ede3-cbc".
func (c Cipher) String() string { return c.cms().String() }

// Authenticated reports whether c is AES-GCM (AuthEnvelopedData).
func (c Cipher) Authenticated() bool { return c.cms().AEAD() }

// Weak reports whether c is one only read from old mail (3DES, DES, RC2).
func (c Cipher) Weak() bool { return !c.cms().Writable() }

// MarshalText gives [Cipher.String].
func (c Cipher) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a name as [Cipher.String] writes it ("aes-256-gcm"),
// in any case; "3des" and "des3" name des-ede3-cbc. Reading a weak cipher's
// name is no permission to write it: [CheckCiphers] refuses it.
func (c *Cipher) UnmarshalText(text []byte) error {
	x, err := cms.ParseCipher(strings.ToLower(string(text)))
	if err != nil {
		return fmt.Errorf("encrypt: unknown cipher %s (want aes-256-gcm, aes-128-gcm, aes-256-cbc or aes-128-cbc)", textenum.Quote(text))
	}
	*c = Cipher(x)
	return nil
}

// DefaultCiphers is the cipher policy used when Options.Ciphers is empty:
// AES-256-GCM where every recipient is known to read it, else AES-256-CBC.
func DefaultCiphers() []Cipher { return []Cipher{AES256GCM, AES256CBC, AES128CBC} }

// Addresses are the recipients a message's header names.
type Addresses struct {
	To, Cc, Bcc []string
}

// All returns To, Cc and Bcc in order, without duplicates.
func (a Addresses) All() []string {
	var out []string
	seen := map[string]bool{} // certinfo.AddressKey: linear in the addresses a header may name
	for _, x := range slices.Concat(a.To, a.Cc, a.Bcc) {
		if k, ok := certinfo.AddressKey(x); ok {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, x)
	}
	return out
}

// Options controls [Encrypt]. The zero value of each field is the
// documented default; at least one recipient must come from Recipients or
// Resolve.
type Options struct {
	// Recipients are the recipients' certificates. Each must allow
	// encryption (keyEncipherment for RSA, keyAgreement for EC, and
	// emailProtection if it lists extended key usages) and be valid at Now.
	Recipients []*x509.Certificate
	// Resolve, if not nil, is called once the message header has been
	// read, with the addresses of its To, Cc and Bcc fields; the
	// certificates it returns are added to Recipients. An error from it
	// stops Encrypt before anything is written and is returned as it is.
	Resolve func(Addresses) ([]*x509.Certificate, error)
	// Ciphers is the ordered cipher policy; empty means DefaultCiphers.
	// See the package documentation and [Choose] for how the cipher is
	// chosen.
	Ciphers []Cipher
	// Capabilities, if not nil, returns what the recipient with the given
	// certificate is known to read; nil means every recipient's
	// capabilities are unknown. An error stops Encrypt before anything is
	// written.
	Capabilities func(*x509.Certificate) (Capabilities, error)
	// OnPlan, if not nil, is called with the plan (cipher, key transport
	// and why) once the recipients are known, before anything is written.
	OnPlan func(Plan)
	// OAEP uses RSAES-OAEP with SHA-256 for every RSA recipient instead of
	// RSA PKCS#1 v1.5; without it, only those that advertised RSAES-OAEP
	// get it.
	OAEP bool
	// SubjectKeyID names recipients by subject key identifier instead of
	// issuer and serial number (the guide's UseKeyIdentifier).
	SubjectKeyID bool
	// Now, if nil, is time.Now: recipient certificates must be valid then.
	Now func() time.Time
	// Rand, if nil, is crypto/rand.Reader: the session key, IV and
	// ephemeral keys.
	Rand io.Reader
	// ProtectHeaders copies the message's header fields (From, To, Cc,
	// Subject, Date, Message-ID, ... but not Bcc) into the encrypted
	// entity, marked hp="cipher" (RFC 9788 header protection, the guide's
	// SecurityFlags 0x200), replaces the outer Subject by "[...]" unless
	// KeepSubject, drops Keywords and Comments outside (hcp_baseline), and
	// records the outer fields as sent in HP-Outer fields inside. A message
	// that is signed already is refused: its protected fields belong inside
	// the signature (sign with ProtectHeaders, or triple-wrap).
	ProtectHeaders bool
	// KeepSubject leaves the outer Subject readable under ProtectHeaders.
	KeepSubject bool
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now() // default
	}
	return o.Now()
}

// RecipientError reports a recipient certificate that can't be used:
// not for encryption, expired or not yet valid, or an unsupported key.
type RecipientError struct {
	Cert *x509.Certificate
	Err  error
}

func (e *RecipientError) Error() string {
	return fmt.Sprintf("encrypt: recipient certificate %q can't be used: %v", certName(e.Cert), e.Err)
}

func (e *RecipientError) Unwrap() error { return e.Err }

func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

// CheckRecipient reports whether cert can receive encrypted mail at now:
// valid then, key usage for encryption, an RSA, EC (P-256, P-384, P-521)
// or ML-KEM (512, 768, 1024; RFC 9936) key.
func CheckRecipient(cert *x509.Certificate, now time.Time) error {
	err := func() error {
		if now.Before(cert.NotBefore) {
			return fmt.Errorf("the certificate is not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
		}
		if now.After(cert.NotAfter) {
			return fmt.Errorf("the certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
		}
		switch k := cert.PublicKey.(type) {
		case *rsa.PublicKey:
		case *ecdsa.PublicKey:
			if _, err := k.ECDH(); err != nil {
				return fmt.Errorf("unsupported EC key: %w", err)
			}
		case *kem.PublicKey:
		case nil:
			return errors.New("the certificate's key is of an algorithm this program does not know")
		default:
			return fmt.Errorf("unsupported key type %T", cert.PublicKey)
		}
		return certinfo.CheckUsage(cert, certinfo.Encryption)
	}()
	if err != nil {
		return &RecipientError{Cert: cert, Err: err}
	}
	return nil
}

// Encrypt reads an RFC 5322 message from r and writes it encrypted to w
// for every recipient. Before writing anything it checks every recipient
// certificate (see [CheckRecipient]) and chooses the cipher. The outer
// header fields are kept, except Bcc, which is removed.
//
// WARNING: on an error after output has begun (a write error, a message
// that ends early), w holds a partial message; callers that need all or
// nothing write to a temporary file and rename it on success.
func Encrypt(w io.Writer, r io.Reader, opts Options) error {
	if err := CheckCiphers(opts.Ciphers); err != nil {
		return err
	}
	e, err := mime.ReadEntity(r)
	if err != nil {
		return fmt.Errorf("encrypt: reading the message: %w", err)
	}
	certs := slices.Clone(opts.Recipients)
	if opts.Resolve != nil {
		more, err := opts.Resolve(headerAddresses(e.Header))
		if err != nil {
			return err
		}
		certs = append(certs, more...)
	}
	var uniq []*x509.Certificate
	var caps []Capabilities
	now := opts.now()
	for _, cert := range certs {
		if slices.ContainsFunc(uniq, cert.Equal) {
			continue
		}
		if err := CheckRecipient(cert, now); err != nil {
			return err
		}
		uniq = append(uniq, cert)
		var k Capabilities
		if opts.Capabilities != nil {
			if k, err = opts.Capabilities(cert); err != nil {
				return err
			}
		}
		caps = append(caps, k)
	}
	plan, err := Choose(opts.Ciphers, opts.OAEP, uniq, caps)
	if err != nil {
		return err
	}
	if opts.OnPlan != nil {
		opts.OnPlan(plan)
	}
	rs := make([]cms.Recipient, len(plan.Recipients))
	for i, rp := range plan.Recipients {
		rs[i] = cms.Recipient{Certificate: rp.Certificate, OAEP: rp.OAEP, SubjectKeyID: opts.SubjectKeyID}
	}
	c := plan.Cipher
	outer, entity := e.Header.Split()
	outer.Del("Bcc")
	if opts.ProtectHeaders {
		if mt, _, err := entity.MediaType(); err == nil && isSMIME(mt) {
			return errors.New("encrypt: the message is signed or encrypted already: its header fields can only be protected inside the innermost layer (sign with header protection first, or triple-wrap)")
		}
		po := mime.ProtectOptions{Encrypted: true, KeepSubject: opts.KeepSubject}
		if outer, entity, err = mime.Protect(outer, entity, po); err != nil {
			return fmt.Errorf("encrypt: protecting the header fields: %w", err)
		}
	}
	smimeType := "enveloped-data"
	if c.Authenticated() {
		smimeType = "authEnveloped-data"
	}
	pw, err := mime.NewPKCS7MimeWriter(w, outer, smimeType)
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	ew, err := cms.NewEnvelopedDataWriter(pw, cms.EnvelopeOptions{Recipients: rs, Cipher: c.cms(), Rand: opts.Rand})
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	cw := mime.NewCanonicalWriter(ew)
	if err := writeEntity(cw, entity, e.Body); err != nil {
		return err
	}
	for _, cl := range []io.Closer{cw, ew, pw} {
		if err := cl.Close(); err != nil {
			return fmt.Errorf("encrypt: %w", err)
		}
	}
	return nil
}

// isSMIME reports whether the media type is an S/MIME layer.
func isSMIME(mt string) bool {
	switch mt {
	case "multipart/signed", "application/pkcs7-mime", "application/x-pkcs7-mime":
		return true
	}
	return false
}

// headerAddresses returns the addr-specs of the To, Cc and Bcc fields of
// h. Fields that do not parse are skipped.
func headerAddresses(h mime.Header) Addresses {
	get := func(name string) []string {
		var out []string
		for _, v := range h.Values(name) {
			list, err := mail.ParseAddressList(v)
			if err != nil {
				continue
			}
			for _, a := range list {
				out = append(out, a.Address)
			}
		}
		return out
	}
	return Addresses{To: get("To"), Cc: get("Cc"), Bcc: get("Bcc")}
}

// writeEntity writes the MIME entity: its header fields, the blank line
// and the body.
func writeEntity(w io.Writer, entity mime.Header, body io.Reader) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if entity.Len() == 0 {
		// RFC 2045 section 5.2: the default is text/plain; say so, since
		// the outer header no longer describes the content.
		entity.Set("Content-Type", "text/plain; charset=us-ascii")
	}
	if _, err := entity.WriteTo(bw); err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if _, err := bw.WriteString("\r\n"); err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if _, err := io.Copy(bw, body); err != nil {
		return fmt.Errorf("encrypt: reading the message body: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	return nil
}
