package cms

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/kem"
)

// Key-management algorithms (RFC 8017 / RFC 4055 for RSA, RFC 5753 and
// RFC 8418's SEC 1 arcs for ECDH, RFC 3565 for AES key wrap).
var (
	oidRSAESOAEP  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidPSpecified = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}

	oidECDHSHA1KDF   = asn1.ObjectIdentifier{1, 3, 133, 16, 840, 63, 0, 2}
	oidECDHSHA224KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 0}
	oidECDHSHA256KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 1}
	oidECDHSHA384KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 2}
	oidECDHSHA512KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 3}

	oidAES128Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 5}
	oidAES192Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 25}
	oidAES256Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}
)

var ecdhKDFs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidECDHSHA1KDF, crypto.SHA1}, {oidECDHSHA224KDF, crypto.SHA224}, {oidECDHSHA256KDF, crypto.SHA256},
	{oidECDHSHA384KDF, crypto.SHA384}, {oidECDHSHA512KDF, crypto.SHA512},
}

var keyWraps = []struct {
	oid    asn1.ObjectIdentifier
	keyLen int
}{{oidAES128Wrap, 16}, {oidAES192Wrap, 24}, {oidAES256Wrap, 32}}

// RecipientType is the kind of a RecipientInfo (RFC 5652 section 6.2).
type RecipientType int

const (
	// KeyTransport is ktri: the content key encrypted to an RSA key.
	KeyTransport RecipientType = iota + 1
	// KeyAgreement is kari: the content key wrapped under an ECDH secret.
	KeyAgreement
	// OtherRecipient is kekri, pwri or an ori other than KEM, which this
	// package does not use.
	OtherRecipient
	// KEMRecipient is an ori of type id-ori-kem, a KEMRecipientInfo (RFC
	// 9629): the content key wrapped under a key derived from an ML-KEM
	// shared secret.
	KEMRecipient
)

// RecipientInfo is one recipient of an EnvelopedData or AuthEnvelopedData.
// A KeyAgreeRecipientInfo naming several recipients becomes one
// RecipientInfo per RecipientEncryptedKey, sharing the originator key.
//
//	RecipientInfo ::= CHOICE {
//	  ktri KeyTransRecipientInfo,
//	  kari [1] KeyAgreeRecipientInfo,
//	  kekri [2] KEKRecipientInfo,
//	  pwri [3] PasswordRecipientinfo,
//	  ori [4] OtherRecipientInfo }
//
//	OtherRecipientInfo ::= SEQUENCE {   -- [4] IMPLICIT here
//	  oriType OBJECT IDENTIFIER,          -- id-ori-kem: KEMRecipientInfo (kemri.go)
//	  oriValue ANY DEFINED BY oriType }
//
//	KeyTransRecipientInfo ::= SEQUENCE {
//	  version CMSVersion,  -- always set to 0 or 2
//	  rid RecipientIdentifier,
//	  keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//	  encryptedKey EncryptedKey }
//
//	RecipientIdentifier ::= CHOICE {
//	  issuerAndSerialNumber IssuerAndSerialNumber,
//	  subjectKeyIdentifier [0] SubjectKeyIdentifier }
type RecipientInfo struct {
	Type RecipientType
	// Exactly one of IssuerAndSerial and SubjectKeyID is set for
	// KeyTransport, KeyAgreement and KEMRecipient recipients.
	IssuerAndSerial *IssuerAndSerial
	SubjectKeyID    []byte
	// KeyEncryptionAlgorithm is rsaEncryption, id-RSAES-OAEP, a
	// dhSinglePass scheme whose parameters name the key wrap, or, for a
	// KEM recipient, the key wrap itself (the "wrap" field).
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte

	// Key agreement only: the originator's ephemeral public key (an
	// uncompressed point). Key agreement and KEM: the user keying
	// material, if any.
	OriginatorKey []byte
	UKM           []byte

	// KEM recipients only (RFC 9629 section 3): KEM is the KEM algorithm
	// (id-alg-ml-kem-768, ...) and KEMCiphertext its ciphertext (kemct);
	// KDF derives the key-encryption key of KEKLength bytes, for the key
	// wrap in KeyEncryptionAlgorithm.
	KEM           pkix.AlgorithmIdentifier
	KEMCiphertext []byte
	KDF           pkix.AlgorithmIdentifier
	KEKLength     int
}

// Matches reports whether the recipient identifier names cert.
func (ri *RecipientInfo) Matches(cert *x509.Certificate) bool {
	switch {
	case ri.IssuerAndSerial != nil:
		return ri.IssuerAndSerial.Matches(cert)
	case len(ri.SubjectKeyID) > 0:
		return string(ri.SubjectKeyID) == string(cert.SubjectKeyId)
	}
	return false
}

// KeyManagement names the key transport or agreement, for reports:
// "rsa-pkcs1v15", "rsa-oaep-sha256", "ecdh-sha256kdf-aes256wrap".
func (ri *RecipientInfo) KeyManagement() string {
	alg := ri.KeyEncryptionAlgorithm
	switch {
	case ri.Type == OtherRecipient:
		return "unsupported"
	case ri.Type == KEMRecipient:
		return ri.kemKeyManagement()
	case alg.Algorithm.Equal(oidRSAEncryption):
		return "rsa-pkcs1v15"
	case alg.Algorithm.Equal(oidRSAESOAEP):
		p, err := parseOAEPParams(alg.Parameters.FullBytes)
		if err != nil {
			return "rsa-oaep"
		}
		return "rsa-oaep-" + hashName(p.hash)
	case ri.Type == KeyAgreement:
		h, wrap, err := parseKeyAgreeAlgorithm(alg)
		if err != nil {
			return "ecdh"
		}
		return fmt.Sprintf("ecdh-%skdf-aes%dwrap", hashName(h), wrap.keyLen*8)
	}
	return alg.Algorithm.String()
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA1:
		return "sha1"
	case crypto.SHA224:
		return "sha224"
	case crypto.SHA256:
		return "sha256"
	case crypto.SHA384:
		return "sha384"
	case crypto.SHA512:
		return "sha512"
	}
	return "unknown"
}

// parseRecipientInfo parses one RecipientInfo (DER); a
// KeyAgreeRecipientInfo gives one RecipientInfo per RecipientEncryptedKey,
// at most max of them before a *LimitError.
func parseRecipientInfo(der []byte, max int) ([]*RecipientInfo, error) {
	s := cryptobyte.String(der)
	var body cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&body, &tag) || !s.Empty() {
		return nil, &FormatError{"bad RecipientInfo"}
	}
	if max <= 0 {
		return nil, &LimitError{What: "recipients", Limit: MaxRecipients}
	}
	switch tag {
	case cbasn1.SEQUENCE:
		ri, err := parseKeyTrans(body)
		if err != nil {
			return nil, err
		}
		return []*RecipientInfo{ri}, nil
	case cbasn1.Tag(1).ContextSpecific().Constructed():
		return parseKeyAgree(body, max)
	case cbasn1.Tag(4).ContextSpecific().Constructed():
		ri, err := parseORI(body)
		if err != nil {
			return nil, err
		}
		return []*RecipientInfo{ri}, nil
	}
	return []*RecipientInfo{{Type: OtherRecipient}}, nil
}

func parseKeyTrans(s cryptobyte.String) (*RecipientInfo, error) {
	ri := &RecipientInfo{Type: KeyTransport}
	var v int64
	if !s.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || (v != 0 && v != 2) {
		return nil, &FormatError{"bad KeyTransRecipientInfo version"}
	}
	if err := readRecipientID(&s, ri, cbasn1.Tag(0).ContextSpecific()); err != nil {
		return nil, err
	}
	var err error
	if ri.KeyEncryptionAlgorithm, err = readAlgorithm(&s); err != nil {
		return nil, err
	}
	var ek cryptobyte.String
	if !s.ReadASN1(&ek, cbasn1.OCTET_STRING) || !s.Empty() {
		return nil, &FormatError{"bad KeyTransRecipientInfo encryptedKey"}
	}
	ri.EncryptedKey = append([]byte(nil), ek...)
	return ri, nil
}

// readRecipientID reads issuerAndSerialNumber or the subject key
// identifier under skiTag: [0] IMPLICIT SubjectKeyIdentifier in ktri, [0]
// IMPLICIT RecipientKeyIdentifier (a SEQUENCE) in kari.
func readRecipientID(s *cryptobyte.String, ri *RecipientInfo, skiTag cbasn1.Tag) error {
	switch {
	case s.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer cryptobyte.String
		serial := new(big.Int)
		if !s.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(serial) || !ias.Empty() {
			return &FormatError{"bad recipient issuerAndSerialNumber"}
		}
		ri.IssuerAndSerial = &IssuerAndSerial{RawIssuer: append([]byte(nil), issuer...), Serial: serial}
	case s.PeekASN1Tag(skiTag):
		var ski cryptobyte.String
		if !s.ReadASN1(&ski, skiTag) {
			return &FormatError{"bad recipient key identifier"}
		}
		if skiTag.Constructed() == skiTag {
			// RecipientKeyIdentifier ::= SEQUENCE { subjectKeyIdentifier,
			//   date GeneralizedTime OPTIONAL, other OtherKeyAttribute OPTIONAL }
			var id cryptobyte.String
			if !ski.ReadASN1(&id, cbasn1.OCTET_STRING) {
				return &FormatError{"bad RecipientKeyIdentifier"}
			}
			ski = id
		}
		ri.SubjectKeyID = append([]byte(nil), ski...)
	default:
		return &FormatError{"bad recipient identifier"}
	}
	return nil
}

// parseKeyAgree parses a KeyAgreeRecipientInfo (RFC 5652 section 6.2.2):
//
//	KeyAgreeRecipientInfo ::= SEQUENCE {
//	  version CMSVersion,  -- always set to 3
//	  originator [0] EXPLICIT OriginatorIdentifierOrKey,
//	  ukm [1] EXPLICIT UserKeyingMaterial OPTIONAL,
//	  keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//	  recipientEncryptedKeys RecipientEncryptedKeys }
//
//	OriginatorIdentifierOrKey ::= CHOICE {
//	  issuerAndSerialNumber IssuerAndSerialNumber,
//	  subjectKeyIdentifier [0] SubjectKeyIdentifier,
//	  originatorKey [1] OriginatorPublicKey }
//	OriginatorPublicKey ::= SEQUENCE { algorithm AlgorithmIdentifier, publicKey BIT STRING }
//	RecipientEncryptedKey ::= SEQUENCE { rid KeyAgreeRecipientIdentifier, encryptedKey EncryptedKey }
//
// RFC 5753 section 3.1.1: the originator MUST be originatorKey (ephemeral-static).
func parseKeyAgree(s cryptobyte.String, max int) ([]*RecipientInfo, error) {
	bad := func(what string) error { return &FormatError{"bad KeyAgreeRecipientInfo " + what} }
	var v int64
	if !s.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v != 3 {
		return nil, bad("version")
	}
	var orig, opk, alg cryptobyte.String
	if !s.ReadASN1(&orig, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, bad("originator")
	}
	var pub []byte
	if orig.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific().Constructed()) {
		var bits asn1.BitString
		if !orig.ReadASN1(&opk, cbasn1.Tag(1).ContextSpecific().Constructed()) ||
			!opk.ReadASN1(&alg, cbasn1.SEQUENCE) || !opk.ReadASN1BitString(&bits) || bits.BitLength%8 != 0 {
			return nil, bad("originatorKey")
		}
		pub = bits.Bytes
	}
	var ukm []byte
	if s.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific().Constructed()) {
		var u, o cryptobyte.String
		if !s.ReadASN1(&u, cbasn1.Tag(1).ContextSpecific().Constructed()) || !u.ReadASN1(&o, cbasn1.OCTET_STRING) {
			return nil, bad("ukm")
		}
		ukm = append([]byte(nil), o...)
	}
	kea, err := readAlgorithm(&s)
	if err != nil {
		return nil, err
	}
	var reks cryptobyte.String
	if !s.ReadASN1(&reks, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad("recipientEncryptedKeys")
	}
	var out []*RecipientInfo
	for !reks.Empty() {
		if len(out) == max {
			return out, &LimitError{What: "recipients", Limit: MaxRecipients}
		}
		var rek, ek cryptobyte.String
		if !reks.ReadASN1(&rek, cbasn1.SEQUENCE) {
			return nil, bad("RecipientEncryptedKey")
		}
		ri := &RecipientInfo{Type: KeyAgreement, KeyEncryptionAlgorithm: kea, OriginatorKey: pub, UKM: ukm}
		if err := readRecipientID(&rek, ri, cbasn1.Tag(0).ContextSpecific().Constructed()); err != nil {
			return nil, err
		}
		if !rek.ReadASN1(&ek, cbasn1.OCTET_STRING) || !rek.Empty() {
			return nil, bad("encryptedKey")
		}
		ri.EncryptedKey = append([]byte(nil), ek...)
		out = append(out, ri)
	}
	return out, nil
}

// oaepParams are RSAES-OAEP-params (RFC 8017 appendix A.2.1, RFC 4055
// section 4.1):
//
//	RSAES-OAEP-params ::= SEQUENCE {
//	  hashFunc    [0] AlgorithmIdentifier DEFAULT sha1Identifier,
//	  maskGenFunc [1] AlgorithmIdentifier DEFAULT mgf1SHA1Identifier,
//	  pSourceFunc [2] AlgorithmIdentifier DEFAULT pSpecifiedEmptyIdentifier }
type oaepParams struct {
	hash, mgfHash crypto.Hash
	label         []byte
}

func parseOAEPParams(der []byte) (oaepParams, error) {
	p := oaepParams{hash: crypto.SHA1, mgfHash: crypto.SHA1}
	bad := &FormatError{"bad RSAES-OAEP parameters"}
	if len(der) == 0 {
		return p, nil // absent: all defaults
	}
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return p, bad
	}
	readHash := func(ai pkix.AlgorithmIdentifier) (crypto.Hash, error) {
		h := HashForOID(ai.Algorithm)
		if h == 0 || h == crypto.MD5 || !h.Available() {
			return 0, &UnsupportedAlgorithmError{What: "OAEP hash", OID: ai.Algorithm}
		}
		return h, nil
	}
	for _, tag := range []int{0, 1, 2} {
		ctag := cbasn1.Tag(tag).ContextSpecific().Constructed()
		if !seq.PeekASN1Tag(ctag) {
			continue
		}
		var f cryptobyte.String
		if !seq.ReadASN1(&f, ctag) {
			return p, bad
		}
		ai, err := readAlgorithm(&f)
		if err != nil || !f.Empty() {
			return p, bad
		}
		switch tag {
		case 0:
			if p.hash, err = readHash(ai); err != nil {
				return p, err
			}
		case 1:
			if !ai.Algorithm.Equal(oidMGF1) {
				return p, &UnsupportedAlgorithmError{What: "OAEP mask generation", OID: ai.Algorithm}
			}
			var inner pkix.AlgorithmIdentifier
			if rest, err := asn1.Unmarshal(ai.Parameters.FullBytes, &inner); err != nil || len(rest) > 0 {
				return p, bad
			}
			if p.mgfHash, err = readHash(inner); err != nil {
				return p, err
			}
		case 2:
			if !ai.Algorithm.Equal(oidPSpecified) {
				return p, &UnsupportedAlgorithmError{What: "OAEP label source", OID: ai.Algorithm}
			}
			ps := cryptobyte.String(ai.Parameters.FullBytes)
			var label cryptobyte.String
			if !ps.ReadASN1(&label, cbasn1.OCTET_STRING) || !ps.Empty() {
				return p, bad
			}
			p.label = append([]byte(nil), label...)
		}
	}
	if !seq.Empty() {
		return p, bad
	}
	return p, nil
}

// oaepAlgorithmSHA256 is id-RSAES-OAEP with SHA-256 and MGF1-SHA-256 and
// the default empty label, the parameters RFC 8551 section 2.2 recommends
// (hash identifiers with NULL parameters, as OpenSSL writes them).
func oaepAlgorithmSHA256() []byte {
	var p cryptobyte.Builder
	p.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			addAlgorithm(b, oidSHA256, derNull)
		})
		b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidMGF1)
				addAlgorithm(b, oidSHA256, derNull)
			})
		})
	})
	return algorithmDER(oidRSAESOAEP, p.BytesOrPanic())
}

type keyWrapAlg struct {
	oid    asn1.ObjectIdentifier
	keyLen int
	raw    []byte // the KeyWrapAlgorithm's DER, for ECC-CMS-SharedInfo
}

// parseKeyAgreeAlgorithm reads a dhSinglePass-stdDH-*kdf-scheme
// identifier, whose parameters are the KeyWrapAlgorithm (RFC 5753 section
// 7.1.4). The key-wrap parameters are absent (RFC 3565 section 2.3.2).
func parseKeyAgreeAlgorithm(ai pkix.AlgorithmIdentifier) (crypto.Hash, keyWrapAlg, error) {
	var h crypto.Hash
	for _, k := range ecdhKDFs {
		if k.oid.Equal(ai.Algorithm) {
			h = k.hash
		}
	}
	if h == 0 {
		return 0, keyWrapAlg{}, &UnsupportedAlgorithmError{What: "key agreement", OID: ai.Algorithm}
	}
	var wrap pkix.AlgorithmIdentifier
	if rest, err := asn1.Unmarshal(ai.Parameters.FullBytes, &wrap); err != nil || len(rest) > 0 {
		return 0, keyWrapAlg{}, &FormatError{"bad key-wrap algorithm"}
	}
	for _, k := range keyWraps {
		if k.oid.Equal(wrap.Algorithm) {
			return h, keyWrapAlg{oid: k.oid, keyLen: k.keyLen, raw: ai.Parameters.FullBytes}, nil
		}
	}
	return 0, keyWrapAlg{}, &UnsupportedAlgorithmError{What: "key wrap", OID: wrap.Algorithm}
}

// eccSharedInfo is the DER of ECC-CMS-SharedInfo (RFC 5753 section 7.2):
//
//	ECC-CMS-SharedInfo ::= SEQUENCE {
//	  keyInfo AlgorithmIdentifier,
//	  entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,
//	  suppPubInfo [2] EXPLICIT OCTET STRING }
//
// keyInfo is the key-wrap algorithm, suppPubInfo the KEK length in bits.
func eccSharedInfo(wrapDER, ukm []byte, kekLen int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(wrapDER)
		if ukm != nil {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(ukm)
			})
		}
		b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			bits := uint32(kekLen * 8)
			b.AddASN1OctetString([]byte{byte(bits >> 24), byte(bits >> 16), byte(bits >> 8), byte(bits)})
		})
	})
	return b.BytesOrPanic()
}

func hashFunc(h crypto.Hash) func() hash.Hash {
	switch h {
	case crypto.SHA1:
		return sha1.New
	case crypto.SHA224:
		return sha256.New224
	case crypto.SHA256:
		return sha256.New
	case crypto.SHA384:
		return sha512.New384
	}
	return sha512.New
}

// KeyAgreer is an EC private key that computes ECDH shared secrets, as
// *ecdh.PrivateKey does. A token key can implement it (DESIGN "Keys as
// interfaces"); Public then returns an *ecdh.PublicKey or, for a key that is
// also a crypto.Signer (a smart card's EC key, issue #12), an
// *ecdsa.PublicKey.
type KeyAgreer interface {
	Public() crypto.PublicKey
	ECDH(remote *ecdh.PublicKey) ([]byte, error)
}

// AgreerPublic returns ka's public key as an ECDH key, or nil if it is not
// an EC key of a supported curve.
func AgreerPublic(ka KeyAgreer) *ecdh.PublicKey {
	switch p := ka.Public().(type) {
	case *ecdh.PublicKey:
		return p
	case *ecdsa.PublicKey:
		e, err := p.ECDH()
		if err != nil {
			return nil
		}
		return e
	}
	return nil
}

// ErrDecrypt means the content-encryption key or the content did not
// decrypt: the key is not the recipient's, or the message was modified.
var ErrDecrypt = errors.New("cms: the message does not decrypt with this key (wrong key, or modified in transit)")

// UnwrapKey recovers the content-encryption key of cipher c (keyLen bytes)
// from ri with key: a crypto.Decrypter holding an RSA key for key
// transport, a [KeyAgreer] or *ecdsa.PrivateKey for key agreement, or a
// crypto.Decapsulator holding an ML-KEM key (a *kem.PrivateKey) for a KEM
// recipient. A KEM entry made for another key fails with [ErrKEMUnwrap].
//
// For RSA PKCS#1 v1.5 key transport, a padding failure is not reported:
// UnwrapKey returns a random key of the right length instead, in constant
// time, and decrypting the content then fails (RFC 3218 section 2.3.2, the
// Bleichenbacher countermeasure of rsa.DecryptPKCS1v15SessionKey).
//
// rand, if nil, is crypto/rand.Reader.
func (ri *RecipientInfo) UnwrapKey(key crypto.PrivateKey, keyLen int, rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch ri.Type {
	case KeyTransport:
		dec, ok := key.(crypto.Decrypter)
		if !ok {
			return nil, errors.New("cms: key transport needs an RSA private key")
		}
		if _, ok := dec.Public().(*rsa.PublicKey); !ok {
			return nil, errors.New("cms: key transport needs an RSA private key")
		}
		alg := ri.KeyEncryptionAlgorithm
		switch {
		case alg.Algorithm.Equal(oidRSAEncryption):
			// Most S/MIME mail uses PKCS#1 v1.5 key transport; SessionKeyLen
			// gives the constant-time, no-oracle decryption it needs.
			//lint:ignore SA1019 read for interop (RFC 8551 section 2.3 still requires it)
			k, err := dec.Decrypt(rnd, ri.EncryptedKey, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: keyLen})
			if err != nil {
				return nil, fmt.Errorf("cms: RSA decryption: %w", err)
			}
			return k, nil
		case alg.Algorithm.Equal(oidRSAESOAEP):
			p, err := parseOAEPParams(alg.Parameters.FullBytes)
			if err != nil {
				return nil, err
			}
			k, err := dec.Decrypt(rnd, ri.EncryptedKey, &rsa.OAEPOptions{Hash: p.hash, MGFHash: p.mgfHash, Label: p.label})
			if err != nil || len(k) != keyLen {
				return nil, ErrDecrypt
			}
			return k, nil
		}
		return nil, &UnsupportedAlgorithmError{What: "key transport", OID: alg.Algorithm}
	case KeyAgreement:
		ka, err := asKeyAgreer(key)
		if err != nil {
			return nil, err
		}
		return ri.agree(ka, keyLen)
	case KEMRecipient:
		dec, ok := key.(crypto.Decapsulator)
		if !ok {
			return nil, errors.New("cms: an ML-KEM recipient entry needs an ML-KEM private key")
		}
		return ri.unwrapKEM(dec, keyLen)
	}
	return nil, errors.New("cms: unsupported recipient type")
}

func asKeyAgreer(key crypto.PrivateKey) (KeyAgreer, error) {
	switch k := key.(type) {
	case KeyAgreer:
		return k, nil
	case *ecdsa.PrivateKey:
		e, err := k.ECDH()
		if err != nil {
			return nil, fmt.Errorf("cms: %w", err)
		}
		return e, nil
	}
	return nil, errors.New("cms: key agreement needs an EC private key")
}

func (ri *RecipientInfo) agree(ka KeyAgreer, keyLen int) ([]byte, error) {
	h, wrap, err := parseKeyAgreeAlgorithm(ri.KeyEncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	ours := AgreerPublic(ka)
	if ours == nil {
		return nil, errors.New("cms: key agreement needs an ECDH key")
	}
	peer, err := ours.Curve().NewPublicKey(ri.OriginatorKey)
	if err != nil {
		return nil, &FormatError{"bad originator public key"}
	}
	z, err := ka.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("cms: ECDH: %w", err)
	}
	kek := x963KDF(hashFunc(h), z, eccSharedInfo(wrap.raw, ri.UKM, wrap.keyLen), wrap.keyLen)
	k, err := aesKeyUnwrap(kek, ri.EncryptedKey)
	if err != nil {
		if errors.Is(err, errUnwrap) {
			return nil, ErrDecrypt
		}
		return nil, err
	}
	if len(k) != keyLen {
		return nil, ErrDecrypt
	}
	return k, nil
}

// Recipient is one recipient of a message this package encrypts.
type Recipient struct {
	// Certificate holds the recipient's RSA, EC (P-256, P-384, P-521) or
	// ML-KEM public key (a *kem.PublicKey, as kem.ParseCertificate reads
	// it).
	Certificate *x509.Certificate
	// OAEP selects RSAES-OAEP with SHA-256 instead of RSA PKCS#1 v1.5 key
	// transport; RSA keys only.
	OAEP bool
	// SubjectKeyID names the recipient by subject key identifier instead of
	// issuer and serial number (the guide's UseKeyIdentifier).
	SubjectKeyID bool
}

func (r Recipient) check() error {
	c := r.Certificate
	if c == nil {
		return errors.New("cms: a recipient needs a certificate")
	}
	if r.SubjectKeyID && len(c.SubjectKeyId) == 0 {
		return fmt.Errorf("cms: recipient certificate %q has no subject key identifier", c.Subject.CommonName)
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return nil
	case *ecdsa.PublicKey:
		if r.OAEP {
			return errors.New("cms: RSA-OAEP needs an RSA recipient")
		}
		if _, err := k.ECDH(); err != nil {
			return fmt.Errorf("cms: recipient key: %w", err)
		}
		return nil
	case *kem.PublicKey:
		if r.OAEP {
			return errors.New("cms: RSA-OAEP needs an RSA recipient")
		}
		return nil
	}
	if c.PublicKey == nil {
		return fmt.Errorf("cms: recipient certificate %q has a public key of an algorithm this program does not know", c.Subject.CommonName)
	}
	return fmt.Errorf("cms: unsupported recipient key type %T", c.PublicKey)
}

// isORI reports whether r's RecipientInfo is an OtherRecipientInfo
// (ML-KEM), which makes an EnvelopedData version 3 (RFC 5652 section 6.1).
func (r Recipient) isORI() bool {
	_, ok := r.Certificate.PublicKey.(*kem.PublicKey)
	return ok
}

// version is the RecipientInfo version: ktri 0 (issuer and serial) or 2
// (subject key identifier), kari 3; an ori has none (0 here).
func (r Recipient) version() int {
	if r.isORI() {
		return 0
	}
	if _, ok := r.Certificate.PublicKey.(*ecdsa.PublicKey); ok {
		return 3
	}
	if r.SubjectKeyID {
		return 2
	}
	return 0
}

// recipientInfoDER encrypts cek for r and returns the RecipientInfo.
func (r Recipient) recipientInfoDER(cek []byte, rand io.Reader) ([]byte, error) {
	c := r.Certificate
	var b cryptobyte.Builder
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		var ek, alg []byte
		var err error
		if r.OAEP {
			ek, err = rsa.EncryptOAEP(sha256.New(), rand, pub, cek, nil)
			alg = oaepAlgorithmSHA256()
		} else {
			// gpgsm 2.2 and NSS read no OAEP (PEERS.md): v1.5 stays the default.
			//lint:ignore SA1019 written for interop (RFC 8551 section 2.3 still requires it)
			ek, err = rsa.EncryptPKCS1v15(rand, pub, cek)
			alg = algorithmDER(oidRSAEncryption, derNull)
		}
		if err != nil {
			return nil, fmt.Errorf("cms: RSA encryption: %w", err)
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(r.version()))
			if r.SubjectKeyID {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(c.SubjectKeyId) })
			} else {
				addIssuerAndSerial(b, c)
			}
			b.AddBytes(alg)
			b.AddASN1OctetString(ek)
		})
	case *ecdsa.PublicKey:
		kari, err := r.keyAgree(pub, cek, rand)
		if err != nil {
			return nil, err
		}
		b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(kari) })
	case *kem.PublicKey:
		return r.kemRecipientInfo(pub, cek)
	}
	return b.Bytes()
}

// keyAgree returns the body of a KeyAgreeRecipientInfo for one recipient:
// an ephemeral key on the recipient's curve, dhSinglePass-stdDH-sha256kdf,
// and AES key wrap of the content key's strength (RFC 5753 section 3.1,
// RFC 8551 section 2.7.1.2).
func (r Recipient) keyAgree(pub *ecdsa.PublicKey, cek []byte, rand io.Reader) ([]byte, error) {
	remote, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("cms: recipient key: %w", err)
	}
	eph, err := remote.Curve().GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("cms: ephemeral key: %w", err)
	}
	z, err := eph.ECDH(remote)
	if err != nil {
		return nil, fmt.Errorf("cms: ECDH: %w", err)
	}
	wrapOID := oidAES256Wrap
	if len(cek) <= 16 {
		wrapOID = oidAES128Wrap
	}
	kekLen := 32
	if wrapOID.Equal(oidAES128Wrap) {
		kekLen = 16
	}
	wrapDER := algorithmDER(wrapOID, nil)
	kek := x963KDF(sha256.New, z, eccSharedInfo(wrapDER, nil, kekLen), kekLen)
	wrapped, err := aesKeyWrap(kek, cek)
	if err != nil {
		return nil, err
	}
	c := r.Certificate
	var b cryptobyte.Builder
	b.AddASN1Int64(3)
	b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			// RFC 5753 section 7.1.2: id-ecPublicKey, parameters absent.
			addAlgorithm(b, oidECPublicKey, nil)
			b.AddASN1BitString(eph.PublicKey().Bytes())
		})
	})
	addAlgorithm(&b, oidECDHSHA256KDF, wrapDER)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if r.SubjectKeyID {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(c.SubjectKeyId)
				})
			} else {
				addIssuerAndSerial(b, c)
			}
			b.AddASN1OctetString(wrapped)
		})
	})
	return b.Bytes()
}
