package cms

import (
	"crypto"
	"crypto/hkdf"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/kem"
)

// KEM recipients: RFC 9629 (KEMRecipientInfo) with ML-KEM as RFC 9936
// profiles it.
var (
	// id-ori-kem OBJECT IDENTIFIER ::= { id-ori 3 }, id-ori = { id-smime 13 } (RFC 9629 section 3).
	oidORIKEM = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 13, 3}

	// id-alg-hkdf-with-sha256/384/512 (RFC 8619 section 2).
	oidHKDFSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 3, 28}
	oidHKDFSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 3, 29}
	oidHKDFSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 3, 30}
)

var kemKDFs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{{oidHKDFSHA256, crypto.SHA256}, {oidHKDFSHA384, crypto.SHA384}, {oidHKDFSHA512, crypto.SHA512}}

// MaxUKMBytes bounds the user keying material of a KEMRecipientInfo. RFC
// 9629 sets no size; senders write a few dozen bytes (Bouncy Castle 20),
// and the ukm goes into every key derivation, so a larger one is refused
// as a *LimitError rather than hashed.
const MaxUKMBytes = 1024

// parseORI reads an OtherRecipientInfo (RFC 5652 section 6.2.5); one with
// id-ori-kem is a KEMRecipientInfo, any other is kept as an
// OtherRecipient this package does not use.
//
//	OtherRecipientInfo ::= SEQUENCE {
//	  oriType OBJECT IDENTIFIER,
//	  oriValue ANY DEFINED BY oriType }
func parseORI(s cryptobyte.String) (*RecipientInfo, error) {
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidORIKEM) {
		// Like kekri and pwri, an ori of another type is skipped unread:
		// it is for someone else.
		return &RecipientInfo{Type: OtherRecipient}, nil
	}
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, &FormatError{"bad KEMRecipientInfo"}
	}
	return parseKEMRecipientInfo(body)
}

// parseKEMRecipientInfo reads the body of a KEMRecipientInfo (RFC 9629
// section 3). The algorithms are checked when the entry is used
// ([RecipientInfo.UnwrapKey]), so that an entry for another recipient
// with an algorithm unknown here does not stop ours from decrypting.
//
//	KEMRecipientInfo ::= SEQUENCE {
//	  version CMSVersion,  -- always set to 0
//	  rid RecipientIdentifier,
//	  kem KEMAlgorithmIdentifier,
//	  kemct OCTET STRING,
//	  kdf KeyDerivationAlgorithmIdentifier,
//	  kekLength INTEGER (1..65535),
//	  ukm [0] EXPLICIT UserKeyingMaterial OPTIONAL,
//	  wrap KeyEncryptionAlgorithmIdentifier,
//	  encryptedKey EncryptedKey }
func parseKEMRecipientInfo(s cryptobyte.String) (*RecipientInfo, error) {
	bad := func(what string) error { return &FormatError{"bad KEMRecipientInfo " + what} }
	ri := &RecipientInfo{Type: KEMRecipient}
	var v int64
	if !s.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v != 0 {
		return nil, bad("version (RFC 9629: always 0)")
	}
	if err := readRecipientID(&s, ri, cbasn1.Tag(0).ContextSpecific()); err != nil {
		return nil, err
	}
	var err error
	if ri.KEM, err = readAlgorithm(&s); err != nil {
		return nil, err
	}
	var ct cryptobyte.String
	if !s.ReadASN1(&ct, cbasn1.OCTET_STRING) {
		return nil, bad("kemct")
	}
	ri.KEMCiphertext = append([]byte(nil), ct...)
	if ri.KDF, err = readAlgorithm(&s); err != nil {
		return nil, err
	}
	var kekLen int64
	if !s.ReadASN1Int64WithTag(&kekLen, cbasn1.INTEGER) || kekLen < 1 || kekLen > 65535 {
		return nil, bad("kekLength (RFC 9629: 1 to 65535)")
	}
	ri.KEKLength = int(kekLen)
	if s.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()) {
		var u, o cryptobyte.String
		if !s.ReadASN1(&u, cbasn1.Tag(0).ContextSpecific().Constructed()) || !u.ReadASN1(&o, cbasn1.OCTET_STRING) || !u.Empty() {
			return nil, bad("ukm")
		}
		if len(o) > MaxUKMBytes {
			return nil, &LimitError{What: "KEMRecipientInfo user keying material (ukm)", Limit: MaxUKMBytes, Bytes: true}
		}
		ri.UKM = append([]byte{}, o...)
	}
	if ri.KeyEncryptionAlgorithm, err = readAlgorithm(&s); err != nil {
		return nil, err
	}
	var ek cryptobyte.String
	if !s.ReadASN1(&ek, cbasn1.OCTET_STRING) || !s.Empty() {
		return nil, bad("encryptedKey")
	}
	ri.EncryptedKey = append([]byte(nil), ek...)
	return ri, nil
}

// kemParams are a KEMRecipientInfo's algorithms, checked.
type kemParams struct {
	set  kem.ParameterSet
	hash crypto.Hash
	wrap keyWrapAlg
}

// kemAlgorithms checks the algorithms of a KEM entry: an ML-KEM parameter
// set with a ciphertext of its size, HKDF, AES key wrap, and a kekLength
// that is the wrap's key size (RFC 9936 section 3: "Implementations MUST
// confirm that this value is consistent with the key size of the
// key-encryption algorithm"). Every parameter must be absent, as RFC 9936
// and RFC 3565 require.
func (ri *RecipientInfo) kemAlgorithms() (kemParams, error) {
	var p kemParams
	set, ok := kem.ForOID(ri.KEM.Algorithm)
	if !ok {
		return p, &UnsupportedAlgorithmError{What: "KEM", OID: ri.KEM.Algorithm}
	}
	if len(ri.KEM.Parameters.FullBytes) != 0 {
		return p, &FormatError{fmt.Sprintf("%v identifier with parameters (RFC 9936: absent)", set)}
	}
	if n := set.CiphertextSize(); len(ri.KEMCiphertext) != n {
		return p, &FormatError{fmt.Sprintf("%v ciphertext of %d bytes, want %d", set, len(ri.KEMCiphertext), n)}
	}
	p.set = set
	for _, k := range kemKDFs {
		if k.oid.Equal(ri.KDF.Algorithm) {
			p.hash = k.hash
		}
	}
	if p.hash == 0 {
		return p, &UnsupportedAlgorithmError{What: "KEM key-derivation", OID: ri.KDF.Algorithm}
	}
	if len(ri.KDF.Parameters.FullBytes) != 0 {
		return p, &FormatError{"HKDF identifier with parameters (RFC 9936: absent)"}
	}
	wrap := ri.KeyEncryptionAlgorithm
	for _, k := range keyWraps {
		if k.oid.Equal(wrap.Algorithm) {
			p.wrap = keyWrapAlg{oid: k.oid, keyLen: k.keyLen, raw: algorithmDER(k.oid, nil)}
		}
	}
	if p.wrap.keyLen == 0 {
		return p, &UnsupportedAlgorithmError{What: "key wrap", OID: wrap.Algorithm}
	}
	if len(wrap.Parameters.FullBytes) != 0 {
		return p, &FormatError{"AES key-wrap identifier with parameters (RFC 3565: absent)"}
	}
	if ri.KEKLength != p.wrap.keyLen {
		return p, &FormatError{fmt.Sprintf("kekLength %d does not match AES-%d key wrap, whose key is %d bytes",
			ri.KEKLength, p.wrap.keyLen*8, p.wrap.keyLen)}
	}
	return p, nil
}

// kemOtherInfo is the DER of CMSORIforKEMOtherInfo (RFC 9629 section 5),
// the info of the key derivation:
//
//	CMSORIforKEMOtherInfo ::= SEQUENCE {
//	  wrap KeyEncryptionAlgorithmIdentifier,
//	  kekLength INTEGER (1..65535),
//	  ukm [0] EXPLICIT UserKeyingMaterial OPTIONAL }
func kemOtherInfo(wrapDER []byte, kekLength int, ukm []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(wrapDER)
		b.AddASN1Int64(int64(kekLength))
		if ukm != nil {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(ukm)
			})
		}
	})
	return b.BytesOrPanic()
}

// deriveKEK is RFC 9629 section 5's KEK = KDF(IKM = ss, L = kekLength,
// info = CMSORIforKEMOtherInfo), with HKDF and an empty salt (RFC 9936
// section 3.2.1).
func deriveKEK(h crypto.Hash, ss, info []byte, n int) ([]byte, error) {
	return hkdf.Key(h.New, ss, nil, string(info), n)
}

// ErrKEMUnwrap is why an ML-KEM entry does not give the content key.
// ML-KEM decapsulation never fails (a ciphertext for another key gives a
// pseudorandom secret, FIPS 203's implicit rejection), so a key that is
// not the recipient's, or a kemct, ukm or encryptedKey changed in transit,
// shows only here, when the AES key-wrap integrity check fails. It wraps
// [ErrDecrypt].
var ErrKEMUnwrap = fmt.Errorf("cms: the ML-KEM recipient entry does not unwrap the content key with this key "+
	"(AES key-wrap integrity check failed: the entry was made for another ML-KEM key, or modified in transit): %w", ErrDecrypt)

// unwrapKEM recovers the content key of a KEMRecipientInfo with dec.
func (ri *RecipientInfo) unwrapKEM(dec crypto.Decapsulator, keyLen int) ([]byte, error) {
	p, err := ri.kemAlgorithms()
	if err != nil {
		return nil, err
	}
	if n := len(dec.Encapsulator().Bytes()); n != p.set.PublicKeySize() {
		return nil, fmt.Errorf("cms: the recipient entry is for an %v key and this private key is not one (its public key is %d bytes, want %d)",
			p.set, n, p.set.PublicKeySize())
	}
	ss, err := dec.Decapsulate(ri.KEMCiphertext)
	if err != nil {
		return nil, fmt.Errorf("cms: %v decapsulation: %w", p.set, err)
	}
	kek, err := deriveKEK(p.hash, ss, kemOtherInfo(p.wrap.raw, ri.KEKLength, ri.UKM), ri.KEKLength)
	if err != nil {
		return nil, fmt.Errorf("cms: deriving the key-encryption key: %w", err)
	}
	k, err := aesKeyUnwrap(kek, ri.EncryptedKey)
	if errors.Is(err, errUnwrap) {
		return nil, ErrKEMUnwrap
	}
	if err != nil {
		return nil, err
	}
	if len(k) != keyLen {
		return nil, fmt.Errorf("cms: the ML-KEM entry carries a %d-byte content key, the cipher needs %d: %w", len(k), keyLen, ErrDecrypt)
	}
	return k, nil
}

// kemKeyManagement names a KEM entry for reports: "ml-kem-768-hkdf-sha256-aes256wrap".
func (ri *RecipientInfo) kemKeyManagement() string {
	name := "kem-" + ri.KEM.Algorithm.String()
	if set, ok := kem.ForOID(ri.KEM.Algorithm); ok {
		name = strings.ToLower(set.String())
	}
	kdf := "kdf-" + ri.KDF.Algorithm.String()
	for _, k := range kemKDFs {
		if k.oid.Equal(ri.KDF.Algorithm) {
			kdf = "hkdf-" + hashName(k.hash)
		}
	}
	wrap := "wrap-" + ri.KeyEncryptionAlgorithm.Algorithm.String()
	for _, k := range keyWraps {
		if k.oid.Equal(ri.KeyEncryptionAlgorithm.Algorithm) {
			wrap = fmt.Sprintf("aes%dwrap", k.keyLen*8)
		}
	}
	return name + "-" + kdf + "-" + wrap
}

// kemWrapFor is the key wrap RFC 9936 section 3.2.2 requires for set:
// AES-128 for ML-KEM-512, AES-256 for ML-KEM-768 and ML-KEM-1024.
func kemWrapFor(set kem.ParameterSet) (asn1.ObjectIdentifier, int) {
	if set == kem.MLKEM512 {
		return oidAES128Wrap, 16
	}
	return oidAES256Wrap, 32
}

// kemRecipientInfo returns the RecipientInfo ([4] OtherRecipientInfo with
// id-ori-kem) carrying cek to pub: ML-KEM encapsulation (crypto/rand, the
// standard library takes no other source), HKDF-SHA256, AES key wrap, no
// ukm.
func (r Recipient) kemRecipientInfo(pub *kem.PublicKey, cek []byte) ([]byte, error) {
	ss, ct := pub.Encapsulate()
	wrapOID, kekLen := kemWrapFor(pub.ParameterSet())
	wrapDER := algorithmDER(wrapOID, nil)
	kek, err := deriveKEK(crypto.SHA256, ss, kemOtherInfo(wrapDER, kekLen, nil), kekLen)
	if err != nil {
		return nil, fmt.Errorf("cms: deriving the key-encryption key: %w", err)
	}
	wrapped, err := aesKeyWrap(kek, cek)
	if err != nil {
		return nil, err
	}
	c := r.Certificate
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidORIKEM)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			if r.SubjectKeyID {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(c.SubjectKeyId) })
			} else {
				addIssuerAndSerial(b, c)
			}
			addAlgorithm(b, pub.ParameterSet().OID(), nil)
			b.AddASN1OctetString(ct)
			addAlgorithm(b, oidHKDFSHA256, nil)
			b.AddASN1Int64(int64(kekLen))
			b.AddBytes(wrapDER)
			b.AddASN1OctetString(wrapped)
		})
	})
	return b.Bytes()
}
