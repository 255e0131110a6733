package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"time"

	"github.com/smimectl/smimectl/internal/mldsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Signer describes the one signer of a SignedData this package writes.
type Signer struct {
	// Key signs; its public key must be Certificate's.
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Hash is the digest algorithm; zero means SHA-256, or SHA-512 for
	// Ed25519 and ML-DSA keys ([Signer.DigestHash]). MD5 and SHA-1 are
	// refused for signing, and so is a digest a pure scheme does not allow
	// (RFC 8419: Ed25519 with SHA-512 only; RFC 9882: a digest as strong
	// as the ML-DSA parameter set).
	Hash crypto.Hash
	// PSS selects RSASSA-PSS (RFC 4056) with a salt of the hash length
	// instead of RSA PKCS#1 v1.5; RSA keys only.
	PSS bool
	// SubjectKeyID identifies the signer by subject key identifier instead
	// of issuer and serial number (SignerInfo version 3).
	SubjectKeyID bool
	// SigningTime, if not zero, is written as the signingTime attribute.
	SigningTime time.Time
	// Capabilities, if not empty, is written as the S/MIME capabilities
	// attribute (RFC 8551 section 2.5.2), most preferred first.
	Capabilities []asn1.ObjectIdentifier
	// EncryptionKeyPreference, if not nil, names the certificate others
	// should encrypt to (RFC 8551 section 2.5.3), by issuer and serial.
	EncryptionKeyPreference *x509.Certificate
}

// SignOptions controls [NewSignedDataWriter] and [SignDetachedDigest].
type SignOptions struct {
	Signer Signer
	// Certificates are written to the certificates field in this order.
	Certificates []*x509.Certificate
	// ContentType is the eContentType; nil means id-data.
	ContentType asn1.ObjectIdentifier
	// Rand is the randomness for signatures; nil means crypto/rand.Reader.
	Rand io.Reader
}

func (o *SignOptions) hash() crypto.Hash { return o.Signer.DigestHash() }

// DigestHash is the digest algorithm s signs with: Hash, or if zero,
// SHA-512 for Ed25519 and ML-DSA keys and SHA-256 for the others.
func (s Signer) DigestHash() crypto.Hash {
	if s.Hash != 0 {
		return s.Hash
	}
	if s.Key != nil {
		if h, ok := pureSignerHash(s.Key.Public()); ok {
			return h
		}
	}
	return crypto.SHA256
}

func (o *SignOptions) contentType() asn1.ObjectIdentifier {
	if o.ContentType == nil {
		return OIDData
	}
	return o.ContentType
}

// Check reports what would make signing with o fail before anything is
// written: a missing key or certificate, a digest the key may not sign
// with, a key that is not the certificate's. Callers that stream output
// call it first.
func (o *SignOptions) Check() error { return o.check() }

func (o *SignOptions) check() error {
	s := o.Signer
	if s.Key == nil || s.Certificate == nil {
		return errors.New("cms: a signer needs a key and a certificate")
	}
	switch o.hash() {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return fmt.Errorf("cms: refusing to sign with digest %v: use SHA-256, SHA-384 or SHA-512", o.hash())
	}
	switch s.Key.Public().(type) {
	case *rsa.PublicKey:
	case *ecdsa.PublicKey:
		if s.PSS {
			return errors.New("cms: RSASSA-PSS needs an RSA key")
		}
	case ed25519.PublicKey, *mldsa.PublicKey:
		if s.PSS {
			return errors.New("cms: RSASSA-PSS needs an RSA key")
		}
		_, oid, _ := pureSignatureAlgorithm(s.Key.Public())
		if err := pureDigestAllowed(oid, o.hash()); err != nil {
			return fmt.Errorf("cms: refusing to sign: %s", err.(*FormatError).Msg)
		}
		if !matchesCertificate(s.Key.Public(), s.Certificate) {
			return errors.New("cms: the signing key does not match the certificate")
		}
	default:
		return fmt.Errorf("cms: unsupported signing key type %T", s.Key.Public())
	}
	if s.SubjectKeyID && len(s.Certificate.SubjectKeyId) == 0 {
		return errors.New("cms: the signer certificate has no subject key identifier")
	}
	return nil
}

// SignDetachedDigest returns a DER ContentInfo holding a SignedData with no
// encapsulated content (a detached signature, as multipart/signed carries)
// whose signer signs the given content digest, computed by the caller with
// opts.Signer.Hash (SHA-256 if zero).
func SignDetachedDigest(digest []byte, opts SignOptions) ([]byte, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	si, err := opts.signerInfo(digest)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(opts.signedDataHead())
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(opts.contentType())
				})
				b.AddBytes(opts.signedDataTail(si))
			})
		})
	})
	return b.Bytes()
}

// signedDataHead is the DER of version and digestAlgorithms.
func (o *SignOptions) signedDataHead() []byte {
	version := int64(1)
	if o.Signer.SubjectKeyID || !o.contentType().Equal(OIDData) {
		version = 3
	}
	oid, _ := oidForHash(o.hash())
	var b cryptobyte.Builder
	b.AddASN1Int64(version)
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		addAlgorithm(b, oid, nil)
	})
	return b.BytesOrPanic()
}

// signedDataTail is the DER of certificates and signerInfos.
func (o *SignOptions) signedDataTail(signerInfo []byte) []byte {
	var b cryptobyte.Builder
	if len(o.Certificates) > 0 {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			for _, c := range o.Certificates {
				b.AddBytes(c.Raw)
			}
		})
	}
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(signerInfo) })
	return b.BytesOrPanic()
}

func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, params []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddBytes(params)
	})
}

var derNull = []byte{0x05, 0x00}

// signerInfo builds and signs the SignerInfo for a content digest.
func (o *SignOptions) signerInfo(digest []byte) ([]byte, error) {
	s := o.Signer
	h := o.hash()
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("cms: digest is %d bytes, want %d for %v", len(digest), h.Size(), h)
	}
	attrs, err := o.signedAttributes(digest)
	if err != nil {
		return nil, err
	}
	hh := h.New()
	hh.Write(attrs)
	hashed := hh.Sum(nil)

	var sigOpts crypto.SignerOpts = h
	var sigAlg []byte
	if alg, _, pure := pureSignatureAlgorithm(s.Key.Public()); pure {
		// Ed25519 and ML-DSA sign the attributes themselves.
		hashed, sigOpts, sigAlg = attrs, crypto.Hash(0), alg
	}
	switch s.Key.Public().(type) {
	case *rsa.PublicKey:
		if s.PSS {
			sigOpts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
			sigAlg = pssAlgorithm(h)
		} else {
			sigAlg = algorithmDER(oidRSAEncryption, derNull)
		}
	case *ecdsa.PublicKey:
		sigAlg = algorithmDER(ecdsaOIDFor(h), nil)
	}
	r := o.Rand
	if r == nil {
		r = rand.Reader
	}
	sig, err := s.Key.Sign(r, hashed, sigOpts)
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	hashOID, _ := oidForHash(h)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if s.SubjectKeyID {
			b.AddASN1Int64(3)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(s.Certificate.SubjectKeyId)
			})
		} else {
			b.AddASN1Int64(1)
			addIssuerAndSerial(b, s.Certificate)
		}
		addAlgorithm(b, hashOID, nil)
		// signedAttrs [0] IMPLICIT: the SET OF with its tag replaced.
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddBytes(attrsBody(attrs))
		})
		b.AddBytes(sigAlg)
		b.AddASN1OctetString(sig)
	})
	return b.Bytes()
}

func attrsBody(set []byte) []byte {
	s := cryptobyte.String(set)
	var body cryptobyte.String
	s.ReadASN1(&body, cbasn1.SET)
	return body
}

func addIssuerAndSerial(b *cryptobyte.Builder, c *x509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(c.RawIssuer)
		b.AddASN1BigInt(c.SerialNumber)
	})
}

func algorithmDER(oid asn1.ObjectIdentifier, params []byte) []byte {
	var b cryptobyte.Builder
	addAlgorithm(&b, oid, params)
	return b.BytesOrPanic()
}

func ecdsaOIDFor(h crypto.Hash) asn1.ObjectIdentifier {
	for _, a := range signatureAlgorithms {
		if a.scheme == schemeECDSA && a.hash == h {
			return a.oid
		}
	}
	return oidECDSAWithSHA256
}

// pssAlgorithm is id-RSASSA-PSS with explicit parameters (RFC 4056
// section 3): the hash, MGF1 with the same hash, and a salt of the hash
// length. The hash identifiers carry NULL parameters, as OpenSSL and Go's
// crypto/x509 write them.
func pssAlgorithm(h crypto.Hash) []byte {
	hashOID, _ := oidForHash(h)
	var p cryptobyte.Builder
	p.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			addAlgorithm(b, hashOID, derNull)
		})
		b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidMGF1)
				addAlgorithm(b, hashOID, derNull)
			})
		})
		b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(h.Size()))
		})
	})
	return algorithmDER(oidRSAPSS, p.BytesOrPanic())
}

// signedAttributes returns the DER SET OF the signed attributes, sorted as
// DER requires.
func (o *SignOptions) signedAttributes(digest []byte) ([]byte, error) {
	s := o.Signer
	var attrs [][]byte
	add := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		attrs = append(attrs, b.BytesOrPanic())
	}
	add(OIDAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(o.contentType()) })
	add(OIDAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
	if !s.SigningTime.IsZero() {
		t := s.SigningTime.UTC()
		add(OIDAttrSigningTime, func(b *cryptobyte.Builder) {
			// RFC 5652 section 11.3: UTCTime for 1950 to 2049.
			if t.Year() >= 1950 && t.Year() < 2050 {
				b.AddASN1UTCTime(t)
			} else {
				b.AddASN1GeneralizedTime(t)
			}
		})
	}
	if len(s.Capabilities) > 0 {
		add(OIDAttrSMIMECapabilities, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, c := range s.Capabilities {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(c) })
				}
			})
		})
	}
	if c := s.EncryptionKeyPreference; c != nil {
		// SMIMEEncryptionKeyPreference ::= CHOICE {
		//   issuerAndSerialNumber [0] IssuerAndSerialNumber, ... }
		add(OIDAttrEncryptionKeyPreference, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddBytes(c.RawIssuer)
				b.AddASN1BigInt(c.SerialNumber)
			})
		})
	}
	slices.SortFunc(attrs, bytes.Compare)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	return b.Bytes()
}

// chunkSize is the size of the OCTET STRING segments of streamed content.
const chunkSize = 32 << 10

// NewSignedDataWriter returns a writer that streams a ContentInfo holding
// an attached SignedData (opaque signing) to w: content written to it is
// digested and emitted as a constructed, indefinite-length OCTET STRING,
// as OpenSSL's -stream writes it. The caller must call Close, which signs
// and writes the certificates and signer info; the output is complete only
// after Close returns nil.
func NewSignedDataWriter(w io.Writer, opts SignOptions) (io.WriteCloser, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	sw := &signedWriter{w: w, seg: segmentWriter{w: w}, opts: opts, h: opts.hash().New(), buf: make([]byte, 0, chunkSize)}
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(OIDSignedData)
	oid := b.BytesOrPanic()
	var ct cryptobyte.Builder
	ct.AddASN1ObjectIdentifier(opts.contentType())
	head := [][]byte{
		{0x30, 0x80}, oid, // ContentInfo
		{0xa0, 0x80},                        // [0] EXPLICIT
		{0x30, 0x80}, opts.signedDataHead(), // SignedData
		{0x30, 0x80}, ct.BytesOrPanic(), // EncapsulatedContentInfo
		{0xa0, 0x80}, // eContent [0] EXPLICIT
		{0x24, 0x80}, // OCTET STRING, constructed
	}
	if _, err := w.Write(bytes.Join(head, nil)); err != nil {
		return nil, err
	}
	return sw, nil
}

type signedWriter struct {
	w    io.Writer
	seg  segmentWriter
	opts SignOptions
	h    hash.Hash
	buf  []byte
	err  error
}

func (s *signedWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	s.h.Write(p)
	for len(p) > 0 {
		k := copy(s.buf[len(s.buf):cap(s.buf)], p)
		s.buf = s.buf[:len(s.buf)+k]
		p = p[k:]
		if len(s.buf) == cap(s.buf) {
			s.flush()
		}
	}
	return n, s.err
}

func (s *signedWriter) flush() {
	if len(s.buf) == 0 || s.err != nil {
		return
	}
	s.err = s.seg.write(s.buf)
	s.buf = s.buf[:0]
}

func (s *signedWriter) Close() error {
	if s.err != nil {
		return s.err
	}
	s.flush()
	if s.err != nil {
		return s.err
	}
	si, err := s.opts.signerInfo(s.h.Sum(nil))
	if err != nil {
		s.err = err
		return err
	}
	eoc := []byte{0, 0}
	tail := bytes.Join([][]byte{eoc, eoc, eoc, s.opts.signedDataTail(si), eoc, eoc, eoc}, nil)
	if _, err := s.w.Write(tail); err != nil {
		s.err = err
		return err
	}
	s.err = errors.New("cms: write after Close")
	return nil
}

// DefaultCapabilities lists what smimectl can decrypt, most preferred
// first, for the S/MIME capabilities attribute (RFC 8551 2.5.2): AES-GCM
// (AuthEnvelopedData), AES-CBC, and RSAES-OAEP key transport (RFC 3560
// section 5; no parameters: every hash this package reads). A sender that
// remembers capabilities (smimectl encrypt, Outlook) then uses AES-GCM for
// mail to us when all its recipients read it (issue #18).
func DefaultCapabilities() []asn1.ObjectIdentifier {
	return []asn1.ObjectIdentifier{OIDAES256GCM, OIDAES128GCM, OIDAES256CBC, OIDAES128CBC, oidRSAESOAEP}
}
