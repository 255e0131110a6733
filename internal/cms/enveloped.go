package cms

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// EnvelopedData (RFC 5652 section 6.1) and AuthEnvelopedData (RFC 5083
// section 2.1):
//
//	EnvelopedData ::= SEQUENCE {
//	  version CMSVersion,
//	  originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//	  recipientInfos RecipientInfos,
//	  encryptedContentInfo EncryptedContentInfo,
//	  unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
//
//	AuthEnvelopedData ::= SEQUENCE {
//	  version CMSVersion,
//	  originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//	  recipientInfos RecipientInfos,
//	  authEncryptedContentInfo EncryptedContentInfo,
//	  authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
//	  mac MessageAuthenticationCode,
//	  unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }
//
//	EncryptedContentInfo ::= SEQUENCE {
//	  contentType ContentType,
//	  contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
//	  encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }

// EnvelopeOptions controls [NewEnvelopedDataWriter].
type EnvelopeOptions struct {
	// Recipients each get the content-encryption key; at least one.
	Recipients []Recipient
	// Cipher is the content encryption; zero means AES256CBC. AES-GCM
	// writes AuthEnvelopedData. 3DES and DES are refused.
	Cipher Cipher
	// ContentType is the type of the encrypted content; nil means id-data.
	ContentType asn1.ObjectIdentifier
	// Rand is the source of the content key, IV, nonce, RSA padding and
	// ephemeral ECDH keys; nil means crypto/rand.Reader. ML-KEM
	// encapsulation always draws from crypto/rand (crypto/mlkem takes no
	// other source).
	Rand io.Reader
}

// NewEnvelopedDataWriter returns a writer that streams a ContentInfo
// holding EnvelopedData (CBC ciphers) or AuthEnvelopedData (GCM) to w. A
// fresh content-encryption key is encrypted for each recipient, then the
// content written to the returned writer is encrypted and emitted as a
// constructed, indefinite-length OCTET STRING of 32 KiB segments. The
// caller must call Close, which writes the last block (and the GCM tag);
// the output is complete only after Close returns nil.
func NewEnvelopedDataWriter(w io.Writer, opts EnvelopeOptions) (io.WriteCloser, error) {
	c := opts.Cipher
	if c == 0 {
		c = AES256CBC
	}
	if !c.Writable() {
		return nil, fmt.Errorf("cms: refusing to encrypt with %v: use AES", c)
	}
	if len(opts.Recipients) == 0 {
		return nil, errors.New("cms: no recipients")
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	ct := opts.ContentType
	if ct == nil {
		ct = OIDData
	}
	cek := make([]byte, c.KeySize())
	if _, err := io.ReadFull(rnd, cek); err != nil {
		return nil, fmt.Errorf("cms: generating the content key: %w", err)
	}
	p := contentParams{iv: make([]byte, 16)}
	if c.AEAD() {
		p = contentParams{iv: make([]byte, gcmNonceSize), tagLen: 16}
	}
	if _, err := io.ReadFull(rnd, p.iv); err != nil {
		return nil, fmt.Errorf("cms: generating the IV: %w", err)
	}
	version := 0
	var ris cryptobyte.Builder
	ris.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, r := range opts.Recipients {
			if err := r.check(); err != nil {
				b.SetError(err)
				return
			}
			// RFC 5652 section 6.1: 3 with an ori (or pwri), else 2 when
			// a RecipientInfo's version is not 0.
			switch {
			case r.isORI():
				version = 3
			case r.version() != 0 && version < 2:
				version = 2
			}
			der, err := r.recipientInfoDER(cek, rnd)
			if err != nil {
				b.SetError(err)
				return
			}
			b.AddBytes(der)
		}
	})
	risDER, err := ris.Bytes()
	if err != nil {
		return nil, err
	}
	block, err := c.newBlock(cek)
	if err != nil {
		return nil, err
	}
	ew := &envWriter{w: w, seg: segmentWriter{w: w}, c: c, buf: make([]byte, 0, chunkSize)}
	typeOID := OIDEnvelopedData
	if c.AEAD() {
		typeOID = OIDAuthEnvelopedData
		version = 0 // RFC 5083 section 2.1: always 0
		if ew.gcm, err = newGCMStream(block, p.iv); err != nil {
			return nil, err
		}
	} else {
		ew.cbc = cipher.NewCBCEncrypter(block, p.iv)
	}
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(typeOID)
	oid := b.BytesOrPanic()
	var v, cto cryptobyte.Builder
	v.AddASN1Int64(int64(version))
	cto.AddASN1ObjectIdentifier(ct)
	head := [][]byte{
		{0x30, 0x80}, oid, // ContentInfo
		{0xa0, 0x80},                           // [0] EXPLICIT
		{0x30, 0x80}, v.BytesOrPanic(), risDER, // (Auth)EnvelopedData
		{0x30, 0x80}, cto.BytesOrPanic(), contentAlgorithmDER(c, p), // EncryptedContentInfo
		{0xa0, 0x80}, // encryptedContent [0] IMPLICIT OCTET STRING, constructed
	}
	if _, err := w.Write(bytes.Join(head, nil)); err != nil {
		return nil, err
	}
	return ew, nil
}

type envWriter struct {
	w   io.Writer
	seg segmentWriter
	c   Cipher
	cbc cipher.BlockMode
	gcm *gcmStream
	buf []byte
	err error
}

func (e *envWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(e.buf[len(e.buf):cap(e.buf)], p)
		e.buf = e.buf[:len(e.buf)+k]
		p = p[k:]
		if len(e.buf) == cap(e.buf) {
			e.emit()
		}
	}
	return n, e.err
}

// emit encrypts the buffer in place and writes it as one segment.
func (e *envWriter) emit() {
	if e.err != nil || len(e.buf) == 0 {
		return
	}
	if e.gcm != nil {
		if err := e.gcm.seal(e.buf); err != nil {
			e.err = err
			return
		}
	} else {
		e.cbc.CryptBlocks(e.buf, e.buf)
	}
	e.err = e.seg.write(e.buf)
	e.buf = e.buf[:0]
}

func (e *envWriter) Close() error {
	if e.err != nil {
		return e.err
	}
	if e.cbc != nil {
		// PKCS #7 padding (RFC 5652 section 6.3): 1 to 16 bytes.
		bs := e.cbc.BlockSize()
		if len(e.buf) == cap(e.buf) {
			e.emit()
		}
		pad := bs - len(e.buf)%bs
		for i := 0; i < pad; i++ {
			e.buf = append(e.buf, byte(pad))
		}
	}
	e.emit()
	if e.err != nil {
		return e.err
	}
	eoc := []byte{0, 0}
	tail := [][]byte{eoc, eoc} // encryptedContent, EncryptedContentInfo
	if e.gcm != nil {
		var b cryptobyte.Builder
		b.AddASN1OctetString(e.gcm.tag(nil))
		tail = append(tail, b.BytesOrPanic())
	}
	tail = append(tail, eoc, eoc, eoc)
	if _, err := e.w.Write(bytes.Join(tail, nil)); err != nil {
		e.err = err
		return err
	}
	e.err = errors.New("cms: write after Close")
	return nil
}

// Enveloped describes an EnvelopedData or AuthEnvelopedData that
// [ReadEnveloped] read.
type Enveloped struct {
	// Auth is true for AuthEnvelopedData (RFC 5083).
	Auth    bool
	Version int
	// Recipients lists every recipient, in order.
	Recipients []*RecipientInfo
	// ContentType is the type of the encrypted content.
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	// Cipher is the content encryption, if this package knows it.
	Cipher Cipher
	// ContentLength is the number of plaintext bytes written.
	ContentLength int64

	params contentParams
}

// maxEnvelopedOverhead bounds what ReadEnveloped holds in memory besides
// the streamed content and the recipients (see [MaxRecipients]): the
// algorithm identifiers and attributes.
const maxEnvelopedOverhead = 4 << 20

// ReadEnveloped reads a BER or DER ContentInfo holding EnvelopedData or
// AuthEnvelopedData from r. When it has read the recipients and the
// content-encryption algorithm it calls key, which returns the
// content-encryption key (usually from [RecipientInfo.UnwrapKey]) or an
// error that ReadEnveloped returns as it is. The content is then decrypted
// and streamed to w.
//
// WARNING: plaintext reaches w before it is authenticated. ReadEnveloped
// returns nil only after the whole structure has been read, the CBC padding
// checked and the GCM tag verified; a caller that must not release
// unauthenticated plaintext (all of them, for GCM) writes to a spool and
// releases it only then. A wrong key or modified content gives an error
// wrapping [ErrDecrypt].
func ReadEnveloped(r io.Reader, w io.Writer, key func(*Enveloped) ([]byte, error)) (*Enveloped, error) {
	b := newBERReader(r)
	env, frames, err := readEnvelopedHead(b)
	if err != nil {
		return nil, err
	}
	cek, err := key(env)
	if err != nil {
		return nil, err
	}
	if len(cek) != env.Cipher.KeySize() {
		return nil, fmt.Errorf("cms: content key of %d bytes for %v", len(cek), env.Cipher)
	}
	block, err := env.Cipher.newBlock(cek)
	if err != nil {
		return nil, err
	}
	var g *gcmStream
	if env.Auth {
		if g, err = newGCMStream(block, env.params.iv); err != nil {
			return nil, err
		}
	}
	eci := frames[len(frames)-1]
	more, err := b.more(eci)
	if err != nil {
		return nil, err
	}
	if !more {
		return nil, &FormatError{"no encrypted content (detached content is not supported)"}
	}
	h, err := b.readHeader()
	if err != nil {
		return nil, err
	}
	if !h.is(classContext, 0) {
		return nil, &FormatError{"expected encryptedContent"}
	}
	cr := newContentReaderAt(b, h)
	if g != nil {
		env.ContentLength, err = decryptGCM(w, cr, g)
	} else {
		env.ContentLength, err = decryptCBC(w, cr, block, env.params.iv)
	}
	if err != nil {
		return nil, err
	}
	if err := b.close(eci); err != nil {
		return nil, err
	}
	if err := readEnvelopedTrailer(b, env, frames[2], g); err != nil {
		return nil, err
	}
	for i := 2; i >= 0; i-- {
		if err := b.close(frames[i]); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// readEnvelopedHead reads up to the encryptedContent and returns the
// open frames: ContentInfo, [0], (Auth)EnvelopedData, EncryptedContentInfo.
func readEnvelopedHead(b *berReader) (*Enveloped, []frame, error) {
	ci, err := b.open(classUniversal, 16, "ContentInfo")
	if err != nil {
		return nil, nil, err
	}
	budget := int64(maxEnvelopedOverhead)
	oid, err := b.readOID(&budget)
	if err != nil {
		return nil, nil, err
	}
	env := &Enveloped{}
	switch {
	case oid.Equal(OIDEnvelopedData):
	case oid.Equal(OIDAuthEnvelopedData):
		env.Auth = true
	default:
		return nil, nil, &FormatError{fmt.Sprintf("content type %v is not EnvelopedData or AuthEnvelopedData", oid)}
	}
	explicit, err := b.open(classContext, 0, "ContentInfo content")
	if err != nil {
		return nil, nil, err
	}
	ed, err := b.open(classUniversal, 16, "EnvelopedData")
	if err != nil {
		return nil, nil, err
	}
	v, err := b.readElement(&budget)
	if err != nil {
		return nil, nil, err
	}
	if env.Version, err = parseSmallInt(v); err != nil {
		return nil, nil, err
	}
	h, err := b.readHeader()
	if err != nil {
		return nil, nil, err
	}
	if h.is(classContext, 0) {
		// originatorInfo: certificates and CRLs of the originator; not
		// needed, so read past without keeping them.
		ob := int64(MaxCertificateBytes + MaxCRLBytes)
		if err := b.skip(h, 0, &ob); err == errTooLarge {
			return nil, nil, &LimitError{What: "originator information", Limit: MaxCertificateBytes + MaxCRLBytes, Bytes: true}
		} else if err != nil {
			return nil, nil, err
		}
		if h, err = b.readHeader(); err != nil {
			return nil, nil, err
		}
	}
	if !h.is(classUniversal, 17) {
		return nil, nil, &FormatError{"bad recipientInfos"}
	}
	fr := newFieldReader("recipients", MaxRecipients, MaxRecipientBytes)
	err = fr.read(b, h, func(der []byte) error {
		ris, err := parseRecipientInfo(der, MaxRecipients-len(env.Recipients))
		env.Recipients = append(env.Recipients, ris...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(env.Recipients) == 0 {
		return nil, nil, &FormatError{"no recipientInfos"}
	}
	eci, err := b.open(classUniversal, 16, "EncryptedContentInfo")
	if err != nil {
		return nil, nil, err
	}
	if env.ContentType, err = b.readOID(&budget); err != nil {
		return nil, nil, err
	}
	alg, err := b.readElement(&budget)
	if err != nil {
		return nil, nil, err
	}
	as := cryptobyte.String(alg)
	if env.ContentEncryptionAlgorithm, err = readAlgorithm(&as); err != nil {
		return nil, nil, err
	}
	if env.Cipher, env.params, err = parseContentAlgorithm(env.ContentEncryptionAlgorithm); err != nil {
		return nil, nil, err
	}
	if env.Auth != env.Cipher.AEAD() {
		if env.Auth {
			return nil, nil, &FormatError{fmt.Sprintf("AuthEnvelopedData with the unauthenticated cipher %v", env.Cipher)}
		}
		return nil, nil, &FormatError{fmt.Sprintf("%v in EnvelopedData (RFC 5083 puts it in AuthEnvelopedData)", env.Cipher)}
	}
	return env, []frame{ci, explicit, ed, eci}, nil
}

// readEnvelopedTrailer reads what follows the EncryptedContentInfo:
// unprotectedAttrs, or authAttrs, mac and unauthAttrs, and checks the tag.
func readEnvelopedTrailer(b *berReader, env *Enveloped, ed frame, g *gcmStream) error {
	budget := int64(maxEnvelopedOverhead)
	var aad, mac []byte
	for {
		more, err := b.more(ed)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		el, err := b.readElement(&budget)
		if err != nil {
			return err
		}
		switch {
		case !env.Auth && el[0] == 0xa1 && mac == nil: // unprotectedAttrs
			mac = []byte{}
		case env.Auth && el[0] == 0xa1 && aad == nil && mac == nil:
			// RFC 5083 section 2.2: the AAD is the DER of authAttrs with
			// the EXPLICIT SET OF tag.
			aad = append([]byte{0x31}, el[1:]...)
		case env.Auth && el[0] == 0x04 && mac == nil:
			s := cryptobyte.String(el)
			var m cryptobyte.String
			if !s.ReadASN1(&m, cbasn1.OCTET_STRING) {
				return &FormatError{"bad mac"}
			}
			mac = append([]byte{}, m...)
		case env.Auth && el[0] == 0xa2 && mac != nil: // unauthAttrs
		default:
			return &FormatError{fmt.Sprintf("unexpected field with tag %#x after the encrypted content", el[0])}
		}
	}
	if !env.Auth {
		return nil
	}
	if mac == nil {
		return &FormatError{"AuthEnvelopedData has no mac"}
	}
	if len(mac) != env.params.tagLen || !g.checkTag(aad, mac) {
		return fmt.Errorf("cms: AES-GCM tag mismatch: %w", ErrDecrypt)
	}
	return nil
}

// decryptCBC decrypts src to w, holding back the last block until the end
// of the content, where the padding is checked and removed.
func decryptCBC(w io.Writer, src io.Reader, block cipher.Block, iv []byte) (int64, error) {
	bs := block.BlockSize()
	mode := cipher.NewCBCDecrypter(block, iv)
	buf := make([]byte, chunkSize+bs)
	have := 0
	var n int64
	for {
		k, err := io.ReadFull(src, buf[have:])
		have += k
		if err == nil {
			m := have - bs
			mode.CryptBlocks(buf[:m], buf[:m])
			if _, err := w.Write(buf[:m]); err != nil {
				return n, err
			}
			n += int64(m)
			copy(buf, buf[m:have])
			have = bs
			continue
		}
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			return n, err
		}
		break
	}
	if have == 0 || have%bs != 0 {
		return n, &FormatError{"encrypted content is not a whole number of cipher blocks"}
	}
	mode.CryptBlocks(buf[:have], buf[:have])
	pad, good := checkPadding(buf[have-bs : have])
	if good != 1 {
		return n, fmt.Errorf("cms: bad CBC padding: %w", ErrDecrypt)
	}
	m, err := w.Write(buf[:have-pad])
	return n + int64(m), err
}

// checkPadding checks the PKCS #7 padding (RFC 5652 section 6.3) of the
// last cipher block: 1 to len(last) bytes, each the padding length. It
// returns the length and good = 1, or good = 0 and length 0, in time that
// depends on len(last) only: every byte is looked at, with no branch or
// early return on the plaintext, as TLS implementations check CBC padding
// (the Vaudenay and Lucky Thirteen padding oracles).
func checkPadding(last []byte) (pad, good int) {
	bs := len(last)
	p := int(last[bs-1])
	good = subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, bs)
	for i := 0; i < bs; i++ {
		// last[i] is padding if it is among the final p bytes.
		inPad := subtle.ConstantTimeLessOrEq(bs-i, p)
		eq := subtle.ConstantTimeByteEq(last[i], byte(p))
		good &= (inPad ^ 1) | eq
	}
	return subtle.ConstantTimeSelect(good, p, 0), good
}

// decryptGCM authenticates and decrypts src to w in chunks.
func decryptGCM(w io.Writer, src io.Reader, g *gcmStream) (int64, error) {
	buf := make([]byte, chunkSize)
	var n int64
	for {
		k, err := io.ReadFull(src, buf)
		if k > 0 {
			if err := g.open(buf[:k]); err != nil {
				return n, err
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
