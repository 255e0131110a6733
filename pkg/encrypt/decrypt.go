package encrypt

import (
	"bufio"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/mime"
)

// KeyAgreer is an EC private key that computes ECDH shared secrets, as
// *ecdh.PrivateKey does; a token key implements it (its Public may return
// an *ecdsa.PublicKey, since it is a crypto.Signer too). An
// *ecdsa.PrivateKey is accepted too.
type KeyAgreer interface {
	Public() crypto.PublicKey
	ECDH(remote *ecdh.PublicKey) ([]byte, error)
}

// DecryptOptions controls [Decrypt]. Certificate and Key are required.
type DecryptOptions struct {
	// Certificate is ours: the recipient entry naming it is used.
	Certificate *x509.Certificate
	// Key is the certificate's private key: a crypto.Decrypter for RSA,
	// a KeyAgreer or *ecdsa.PrivateKey for EC, a crypto.Decapsulator for
	// ML-KEM.
	Key crypto.PrivateKey
	// TryAll, when no recipient entry names Certificate, tries Key on
	// the entries that could be for it: key transport to an RSA modulus of
	// Key's size, or key agreement on Key's curve. Each distinct entry is
	// tried once, and at most MaxKeyAttempts private-key operations are
	// made, however many entries the message lists. WARNING: an RSA
	// PKCS#1 v1.5 entry can't tell a wrong key (see Decrypt), so among
	// those only the first is tried; OAEP and ECDH entries are each tried.
	TryAll bool
	// SpoolDir is where plaintext larger than SpoolThreshold waits until
	// it is authenticated; "" is the system temporary directory.
	SpoolDir string
	// SpoolThreshold is 8 MiB if zero.
	SpoolThreshold int64
	// Rand, if nil, is crypto/rand.Reader (the RSA blinding and the random
	// key of a failed PKCS#1 v1.5 decryption).
	Rand io.Reader
	// KeepPayloadHeader writes a decrypted entity that carries protected
	// header fields (RFC 9788) as it is, after the outer header fields,
	// instead of letting the protected fields stand for the outer ones.
	// verify.Open uses it to compare them itself.
	KeepPayloadHeader bool
	// Form is how the input presents the message: the zero value detects
	// a mail message or a bare CMS file (DER, PEM or bare base64) by its
	// first bytes (issue #15 item 1); see verify.Form. The content of a
	// bare CMS file is written as it is, with nothing before it.
	Form InputForm
}

// MaxKeyAttempts bounds the private-key operations of
// DecryptOptions.TryAll: a message of a thousand recipient entries (the
// most Decrypt reads; a message with more is malformed) costs at most this
// many RSA or ECDH operations.
const MaxKeyAttempts = 16

// Recipient is one recipient entry of an encrypted message.
type Recipient struct {
	// Issuer (RFC 4514) and Serial (hexadecimal) name the recipient's
	// certificate, or SubjectKeyID (hexadecimal) does.
	Issuer       string `json:"issuer,omitempty"`
	Serial       string `json:"serial,omitempty"`
	SubjectKeyID string `json:"subject_key_id,omitempty"`
	// KeyManagement is "rsa-pkcs1v15", "rsa-oaep-sha256",
	// "ecdh-sha256kdf-aes256wrap", ...
	KeyManagement string `json:"key_management"`
	// Kind is the kind of the entry: key transport, key agreement, KEM.
	// (Not in decrypt's JSON, whose objects name the key management.)
	Kind RecipientKind `json:"-"`
	// Us is true for the entry that decrypted the message.
	Us bool `json:"us,omitempty"`
}

func (r Recipient) String() string {
	if r.SubjectKeyID != "" {
		return "subject key identifier " + r.SubjectKeyID
	}
	return fmt.Sprintf("issuer %s, serial %s", r.Issuer, r.Serial)
}

// Result describes a decrypted message.
type Result struct {
	// SMIMEType is "enveloped-data" or "authEnveloped-data".
	SMIMEType  string      `json:"smime_type"`
	Cipher     Cipher      `json:"-"`
	CipherName string      `json:"cipher"`
	Recipients []Recipient `json:"recipients"`
	// KeyManagement is how our entry carried the session key.
	KeyManagement string `json:"key_management"`
	// Warnings are soft problems: an old, weak cipher (3DES, DES, RC2).
	Warnings []string `json:"warnings,omitempty"`
	// ProtectedHeaders, if not nil, are the header fields the sender
	// protected inside the encryption (RFC 9788). They are unauthenticated
	// unless a signature inside covers them.
	ProtectedHeaders *ProtectedHeaders `json:"protected_headers,omitempty"`
}

// ErrNotEncrypted means the message is not S/MIME encrypted.
var ErrNotEncrypted = errors.New("decrypt: the message is not encrypted (no application/pkcs7-mime enveloped-data)")

// NotForUsError reports a message none of whose recipient entries names
// our certificate: the guide's "this message can't be decrypted".
type NotForUsError struct {
	Recipients []Recipient
}

func (e *NotForUsError) Error() string {
	return "decrypt: this message can't be decrypted: none of its recipients matches your certificate (" + e.Summary() + ")"
}

// MaxListedRecipients is how many recipients [NotForUsError.Summary]
// names; the rest are counted.
const MaxListedRecipients = 10

// Summary names the recipients in a few words: how many there are, and
// the first MaxListedRecipients of them ("2 recipients: issuer ..., serial
// ...; subject key identifier ..."), so that a message of a thousand
// recipients does not give an error of a thousand lines' worth.
func (e *NotForUsError) Summary() string {
	n := len(e.Recipients)
	noun := "recipients"
	if n == 1 {
		noun = "recipient"
	}
	var list []string
	for i, r := range e.Recipients {
		if i == MaxListedRecipients {
			list = append(list, fmt.Sprintf("and %d more", n-i))
			break
		}
		list = append(list, r.String())
	}
	if n == 0 {
		return "no recipients"
	}
	return fmt.Sprintf("%d %s: %s", n, noun, strings.Join(list, "; "))
}

// DecryptError reports a message addressed to us that does not decrypt:
// the key is not the certificate's, or the message was modified in
// transit (for AES-GCM, its tag does not verify).
type DecryptError struct{ Err error }

func (e *DecryptError) Error() string {
	return "decrypt: the message can't be decrypted: wrong key, or it was modified in transit"
}

func (e *DecryptError) Unwrap() error { return e.Err }

// ErrKEMUnwrap is why an ML-KEM recipient entry naming our certificate does
// not give the content key. ML-KEM decapsulation never fails (a ciphertext
// for another key gives a pseudorandom secret, FIPS 203's implicit
// rejection), so a key that is not the recipient's, or an entry changed in
// transit, shows only when the AES key-wrap integrity check after it fails.
// errors.Is finds it in the [*DecryptError] Decrypt returns then.
var ErrKEMUnwrap = errors.New("decrypt: the ML-KEM recipient entry does not unwrap the content key with this key")

// Is reports ErrKEMUnwrap for a failed ML-KEM key unwrap.
func (e *DecryptError) Is(target error) bool {
	return target == ErrKEMUnwrap && errors.Is(e.Err, cms.ErrKEMUnwrap)
}

// MalformedError reports a message that is not well-formed S/MIME or uses
// an algorithm this package does not support.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return "decrypt: malformed message: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// Decrypt reads an encrypted message from r and writes it decrypted to w:
// the outer header fields of the encrypted message, then the decrypted
// MIME entity. It finds the recipient entry naming opts.Certificate (by
// issuer and serial number, or subject key identifier), recovers the
// session key with opts.Key, and decrypts.
//
// Decrypt writes nothing to w unless the whole message decrypted: the
// plaintext is spooled (memory, then a temporary file in SpoolDir) and
// released only after the CBC padding or the AES-GCM tag has been checked
// and the structure read to its end. An RSA PKCS#1 v1.5 key transport that
// fails is not reported as such (which would help an attacker, RFC 3218
// section 2.3): decryption continues with a random key and fails on the
// content. WARNING: an unauthenticated cipher (CBC) cannot always detect a
// wrong key or a modification; AES-GCM can.
func Decrypt(w io.Writer, r io.Reader, opts DecryptOptions) (*Result, error) {
	if opts.Certificate == nil || opts.Key == nil {
		return nil, errors.New("decrypt: a certificate and its private key are required to decrypt")
	}
	r, f, err := OpenInput(r, opts.Form)
	if err != nil {
		return nil, &MalformedError{err}
	}
	form := mime.Form(f)
	e, err := mime.ReadEntity(r)
	if err != nil {
		return nil, &MalformedError{fmt.Errorf("reading the message: %w", err)}
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		return nil, &MalformedError{err}
	}
	st := strings.ToLower(params["smime-type"])
	if (mt != "application/pkcs7-mime" && mt != "application/x-pkcs7-mime") ||
		(st != "" && st != "enveloped-data" && st != "authenveloped-data") {
		if st != "" {
			return nil, fmt.Errorf("%w: it is %s (smime-type=%s)", ErrNotEncrypted, mt, st)
		}
		return nil, fmt.Errorf("%w: its type is %s", ErrNotEncrypted, mt)
	}
	body, err := mime.DecodeBody(e)
	if err != nil {
		return nil, &MalformedError{err}
	}
	spool := &mime.Spool{Dir: opts.SpoolDir, Threshold: opts.SpoolThreshold}
	defer spool.Close()
	res := &Result{}
	env, err := cms.ReadEnveloped(bodyReader{body}, spool, func(env *cms.Enveloped) ([]byte, error) {
		return unwrap(env, res, &opts)
	})
	if err != nil {
		return nil, classify(err)
	}
	if !env.Cipher.AEAD() && !form.Bare() {
		if err := checkEntity(spool); err != nil {
			return nil, err
		}
	}
	res.Cipher = Cipher(env.Cipher)
	res.CipherName = res.Cipher.String()
	res.SMIMEType = "enveloped-data"
	if env.Auth {
		res.SMIMEType = "authEnveloped-data"
	}
	if res.Cipher.Weak() {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the message was encrypted with %v, a weak cipher of older clients", res.Cipher))
	}
	outer, _ := e.Header.Split()
	if !opts.KeepPayloadHeader {
		plain, err := spool.Open()
		if err != nil {
			return nil, fmt.Errorf("decrypt: %w", err)
		}
		if res.ProtectedHeaders = protectedHeaders(mime.PeekProtection(outer, plain)); res.ProtectedHeaders != nil {
			// The protected fields stand for the outer ones (RFC 9788
			// section 4): Subject "[...]" outside becomes the real one.
			if plain, err = spool.Open(); err == nil {
				err = mime.WriteEffective(w, outer, plain)
			}
			if err != nil {
				return nil, fmt.Errorf("decrypt: writing the decrypted message: %w", err)
			}
			return res, nil
		}
	}
	if _, err := outer.WriteTo(w); err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	plain, err := spool.Open()
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	br := bufio.NewReaderSize(plain, mime.MaxFirstLine)
	if head, _ := br.Peek(mime.MaxFirstLine); !form.Bare() && !mime.StartsEntity(head) {
		// A body encrypted without a MIME header (issue #15 item 4): RFC
		// 2045's defaults, after the blank line that ends the header.
		if _, err := io.WriteString(w, "\r\n"); err != nil {
			return nil, fmt.Errorf("decrypt: writing the decrypted message: %w", err)
		}
	}
	if _, err := io.Copy(w, br); err != nil {
		return nil, fmt.Errorf("decrypt: writing the decrypted message: %w", err)
	}
	return res, nil
}

// checkEntity fails, as a wrong key or a modification does, when the
// plaintext of an unauthenticated cipher does not start with a MIME
// header: a CBC message whose padding happens to check out after a wrong
// key or a change in transit decrypts to such garbage, and it must be
// told from a bad padding by nothing at all (no padding oracle: the same
// *DecryptError, so the same words, exit status and verdict). S/MIME
// encrypts a MIME entity (RFC 8551 section 3.3), which has a header.
//
// A body some clients encrypt without a MIME header (issue #15 item 4)
// passes only if all of it is text (UTF-8, no controls but tab, CR, LF and
// form feed): the 16 bytes of garbage a changed ciphertext block decrypts
// to are text about once in a million.
//
// A bare CMS file (not mail, Form DER or PEM) is not held to this: its
// content is whatever the sender encrypted.
func checkEntity(spool *mime.Spool) error {
	plain, err := spool.Open()
	if err != nil {
		return fmt.Errorf("decrypt: %w", err)
	}
	br := bufio.NewReaderSize(plain, mime.MaxFirstLine)
	if head, _ := br.Peek(mime.MaxFirstLine); !mime.StartsEntity(head) {
		var tw mime.TextWriter
		_, err := io.Copy(&tw, br)
		var se *mime.SpoolError
		if errors.As(err, &se) {
			return fmt.Errorf("decrypt: %w", se)
		}
		if err != nil || !tw.Text() {
			return &DecryptError{Err: fmt.Errorf("the decrypted content is neither a MIME entity nor text: %w", cms.ErrDecrypt)}
		}
		return nil
	}
	e, err := mime.ReadEntity(br)
	var se *mime.SpoolError
	if errors.As(err, &se) {
		// The spool file could not be read back: a fault of this
		// machine, not of the message.
		return fmt.Errorf("decrypt: %w", se)
	}
	if err != nil || e.Header.Len() == 0 {
		return &DecryptError{Err: fmt.Errorf("the decrypted content is not a MIME entity: %w", cms.ErrDecrypt)}
	}
	return nil
}

// bodyReader reports an error reading the body (base64 cut off in the
// middle of a group, a character outside the alphabet, broken
// quoted-printable) as a *MalformedError, as Decrypt does for the header:
// cms passes its reader's errors through unclassified, so a truncated
// message otherwise failed with a bare "unexpected EOF".
type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &MalformedError{fmt.Errorf("reading the message body: %w", err)}
	}
	return n, err
}

// classify turns a cms error into this package's types.
func classify(err error) error {
	var nf *NotForUsError
	var de *DecryptError
	switch {
	case errors.As(err, &nf), errors.As(err, &de):
		return err
	case errors.Is(err, cms.ErrDecrypt):
		return &DecryptError{Err: err}
	case cms.IsFormatError(err), cms.IsLimitError(err):
		return malformed(err)
	}
	var ua *cms.UnsupportedAlgorithmError
	if errors.As(err, &ua) {
		return &MalformedError{err}
	}
	// Anything else, such as a spool file that can't be written.
	return fmt.Errorf("decrypt: %w", err)
}

// unwrap picks our recipient entry and recovers the session key.
func unwrap(env *cms.Enveloped, res *Result, opts *DecryptOptions) ([]byte, error) {
	for _, ri := range env.Recipients {
		res.Recipients = append(res.Recipients, describe(ri))
	}
	keyLen := env.Cipher.KeySize()
	for i, ri := range env.Recipients {
		if !ri.Matches(opts.Certificate) || !fits(ri, opts.Key) {
			continue
		}
		k, err := ri.UnwrapKey(opts.Key, keyLen, opts.Rand)
		if err != nil {
			if ri.Type == cms.KEMRecipient && malformedEntry(err) {
				// A KEM entry says what is wrong with it (a kekLength
				// that does not fit the wrap, an unknown KDF, a
				// ciphertext of the wrong size): that is no key failure.
				return nil, malformed(fmt.Errorf("the recipient entry for your certificate: %w", err))
			}
			return nil, &DecryptError{Err: err}
		}
		res.Recipients[i].Us = true
		res.KeyManagement = res.Recipients[i].KeyManagement
		return k, nil
	}
	if opts.TryAll {
		v15 := false
		tried := map[string]bool{}
		for i, ri := range env.Recipients {
			if len(tried) == MaxKeyAttempts {
				break
			}
			if !fits(ri, opts.Key) || tried[string(ri.EncryptedKey)] {
				continue
			}
			isV15 := res.Recipients[i].KeyManagement == "rsa-pkcs1v15"
			if isV15 && v15 {
				continue
			}
			v15 = v15 || isV15
			tried[string(ri.EncryptedKey)] = true
			k, err := ri.UnwrapKey(opts.Key, keyLen, opts.Rand)
			if err != nil {
				continue
			}
			res.Recipients[i].Us = true
			res.KeyManagement = res.Recipients[i].KeyManagement
			return k, nil
		}
	}
	return nil, &NotForUsError{Recipients: res.Recipients}
}

// malformedEntry reports whether err is about the recipient entry's form
// or algorithms rather than the key.
func malformedEntry(err error) bool {
	var ua *cms.UnsupportedAlgorithmError
	return cms.IsFormatError(err) || cms.IsLimitError(err) || errors.As(err, &ua)
}

// fits reports whether key is of the kind ri needs.
func fits(ri *cms.RecipientInfo, key crypto.PrivateKey) bool {
	switch ri.Type {
	case cms.KeyTransport:
		d, ok := key.(crypto.Decrypter)
		if !ok {
			return false
		}
		pub, ok := d.Public().(*rsa.PublicKey)
		return ok && pub.Size() == len(ri.EncryptedKey)
	case cms.KeyAgreement:
		// The originator's ephemeral key is on our curve, or the entry
		// is not for this key.
		var pub *ecdh.PublicKey
		switch k := key.(type) {
		case *ecdsa.PrivateKey:
			e, err := k.PublicKey.ECDH()
			if err != nil {
				return false
			}
			pub = e
		case KeyAgreer:
			pub = cms.AgreerPublic(k)
		}
		return pub != nil && len(pub.Bytes()) == len(ri.OriginatorKey)
	case cms.KEMRecipient:
		// An ML-KEM key of the entry's parameter set.
		d, ok := key.(crypto.Decapsulator)
		if !ok {
			return false
		}
		set, ok := kem.ForOID(ri.KEM.Algorithm)
		return ok && len(d.Encapsulator().Bytes()) == set.PublicKeySize()
	}
	return false
}

func describe(ri *cms.RecipientInfo) Recipient {
	r := Recipient{KeyManagement: ri.KeyManagement()}
	switch ri.Type {
	case cms.KeyTransport:
		r.Kind = RecipientKeyTransport
	case cms.KeyAgreement:
		r.Kind = RecipientKeyAgreement
	case cms.KEMRecipient:
		r.Kind = RecipientKEM
	}
	switch {
	case ri.IssuerAndSerial != nil:
		var name pkix.RDNSequence
		if _, err := asn1.Unmarshal(ri.IssuerAndSerial.RawIssuer, &name); err == nil {
			var n pkix.Name
			n.FillFromRDNSequence(&name)
			r.Issuer = n.String()
		}
		r.Serial = strings.ToUpper(ri.IssuerAndSerial.Serial.Text(16))
	case ri.SubjectKeyID != nil:
		r.SubjectKeyID = strings.ToUpper(hex.EncodeToString(ri.SubjectKeyID))
	}
	return r
}
