package cms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Cipher is a content-encryption algorithm.
type Cipher int

// Content-encryption algorithms. The AES ones are written (RFC 3565, RFC
// 5084); 3DES and DES are read only, for mail from the guide's era (RFC
// 3370 section 5.1) and RC2 (RFC 3370 section 5.2).
const (
	// AES256CBC is id-aes256-CBC, the zero-value default of [EnvelopeOptions].
	AES256CBC Cipher = iota + 1
	AES128CBC
	// AES256GCM and AES128GCM give AuthEnvelopedData (RFC 5083, 5084).
	AES256GCM
	AES128GCM
	// DES3CBC is des-ede3-cbc (RFC 3370 section 5.1); read only.
	DES3CBC
	// DESCBC is desCBC (FIPS 81, withdrawn); read only.
	DESCBC
	// RC2CBC40, RC2CBC64 and RC2CBC128 are rc2-cbc with 40, 64 and 128
	// effective key bits (RFC 2268); read only.
	RC2CBC40
	RC2CBC64
	RC2CBC128
)

var (
	oidDES3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidDESCBC  = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidRC2CBC  = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}
)

var cipherInfo = map[Cipher]struct {
	name   string
	oid    asn1.ObjectIdentifier
	keyLen int
}{
	AES256CBC: {"aes-256-cbc", OIDAES256CBC, 32},
	AES128CBC: {"aes-128-cbc", OIDAES128CBC, 16},
	AES256GCM: {"aes-256-gcm", OIDAES256GCM, 32},
	AES128GCM: {"aes-128-gcm", OIDAES128GCM, 16},
	DES3CBC:   {"des-ede3-cbc", oidDES3CBC, 24},
	DESCBC:    {"des-cbc", oidDESCBC, 8},
	RC2CBC40:  {"rc2-40-cbc", oidRC2CBC, 5},
	RC2CBC64:  {"rc2-64-cbc", oidRC2CBC, 8},
	RC2CBC128: {"rc2-128-cbc", oidRC2CBC, 16},
}

// String returns the OpenSSL-style name: "aes-256-cbc", "des-ede3-cbc".
func (c Cipher) String() string {
	if i, ok := cipherInfo[c]; ok {
		return i.name
	}
	return fmt.Sprintf("cipher(%d)", int(c))
}

// KeySize is the length in bytes of the content-encryption key.
func (c Cipher) KeySize() int { return cipherInfo[c].keyLen }

// OID returns the algorithm's object identifier.
func (c Cipher) OID() asn1.ObjectIdentifier { return cipherInfo[c].oid }

// AEAD reports whether c is authenticated (AES-GCM, AuthEnvelopedData).
func (c Cipher) AEAD() bool { return c == AES256GCM || c == AES128GCM }

// Writable reports whether this package encrypts with c; the others are
// read for old mail only.
func (c Cipher) Writable() bool {
	switch c {
	case AES256CBC, AES128CBC, AES256GCM, AES128GCM:
		return true
	}
	return false
}

// ParseCipher reads a name as [Cipher.String] writes it; "des3" and
// "3des" are accepted for des-ede3-cbc.
func ParseCipher(name string) (Cipher, error) {
	switch name {
	case "des3", "3des":
		return DES3CBC, nil
	}
	for c, i := range cipherInfo {
		if i.name == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("cms: unknown cipher %q", name)
}

func cipherForOID(oid asn1.ObjectIdentifier) Cipher {
	if oid.Equal(oidRC2CBC) {
		return RC2CBC128 // the parameters say which
	}
	for c, i := range cipherInfo {
		if i.oid.Equal(oid) {
			return c
		}
	}
	return 0
}

func (c Cipher) isRC2() bool { return c == RC2CBC40 || c == RC2CBC64 || c == RC2CBC128 }

// newBlock returns the block cipher of c under key.
func (c Cipher) newBlock(key []byte) (cipher.Block, error) {
	if len(key) != c.KeySize() {
		return nil, fmt.Errorf("cms: %v needs a %d-byte key, got %d", c, c.KeySize(), len(key))
	}
	switch c {
	case DES3CBC:
		return des.NewTripleDESCipher(key)
	case DESCBC:
		return des.NewCipher(key)
	case RC2CBC40:
		return newRC2(key, 40), nil
	case RC2CBC64:
		return newRC2(key, 64), nil
	case RC2CBC128:
		return newRC2(key, 128), nil
	}
	return aes.NewCipher(key)
}

// contentParams holds the parameters of a content-encryption algorithm:
// the IV of a CBC mode, or the nonce and tag length of GCM.
type contentParams struct {
	iv     []byte
	tagLen int
}

// parseContentAlgorithm reads the content-encryption AlgorithmIdentifier.
//
//	CBC (RFC 3565 section 4.1, RFC 3370 section 5.1): parameters IV ::= OCTET STRING
//	GCM (RFC 5084 section 3.2):
//	  GCMParameters ::= SEQUENCE {
//	    aes-nonce OCTET STRING, -- recommended size is 12 octets
//	    aes-ICVlen AES-GCM-ICVlen DEFAULT 12 }
func parseContentAlgorithm(ai pkix.AlgorithmIdentifier) (Cipher, contentParams, error) {
	c := cipherForOID(ai.Algorithm)
	if c == 0 {
		return 0, contentParams{}, &UnsupportedAlgorithmError{What: "content-encryption", OID: ai.Algorithm}
	}
	s := cryptobyte.String(ai.Parameters.FullBytes)
	var p contentParams
	if c.AEAD() {
		var seq, nonce cryptobyte.String
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1(&nonce, cbasn1.OCTET_STRING) {
			return 0, p, &FormatError{"bad GCM parameters"}
		}
		p.tagLen = 12
		if !seq.Empty() {
			var l int64
			if !seq.ReadASN1Int64WithTag(&l, cbasn1.INTEGER) || !seq.Empty() {
				return 0, p, &FormatError{"bad GCM parameters"}
			}
			p.tagLen = int(l)
		}
		// RFC 5084 section 3.2: ICVlen is 12 to 16; we use the 12-byte
		// nonce everyone writes (96-bit IV, SP 800-38D section 8.2).
		if p.tagLen < 12 || p.tagLen > 16 {
			return 0, p, &FormatError{"GCM tag length out of range"}
		}
		if len(nonce) != gcmNonceSize {
			return 0, p, &FormatError{fmt.Sprintf("GCM nonce of %d bytes, want 12", len(nonce))}
		}
		p.iv = append([]byte(nil), nonce...)
		return c, p, nil
	}
	var iv cryptobyte.String
	if c == RC2CBC128 {
		// RC2CBCParameter ::= SEQUENCE { rc2ParameterVersion INTEGER, iv OCTET STRING }
		var seq cryptobyte.String
		var v int64
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) {
			return 0, p, &FormatError{"bad RC2 parameters"}
		}
		switch rc2Bits(v) {
		case 40:
			c = RC2CBC40
		case 64:
			c = RC2CBC64
		case 128:
		default:
			return 0, p, &UnsupportedAlgorithmError{What: fmt.Sprintf("RC2 key length (version %d)", v), OID: oidRC2CBC}
		}
		s = seq
	}
	if !s.ReadASN1(&iv, cbasn1.OCTET_STRING) || !s.Empty() {
		return 0, p, &FormatError{"bad CBC parameters"}
	}
	bs := aes.BlockSize
	if c == DES3CBC || c == DESCBC || c.isRC2() {
		bs = des.BlockSize
	}
	if len(iv) != bs {
		return 0, p, &FormatError{fmt.Sprintf("CBC IV of %d bytes, want %d", len(iv), bs)}
	}
	p.iv = append([]byte(nil), iv...)
	return c, p, nil
}

// contentAlgorithmDER writes the AlgorithmIdentifier for c with p. GCM is
// written with a 16-byte tag, as OpenSSL does.
func contentAlgorithmDER(c Cipher, p contentParams) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(c.OID())
		if c.AEAD() {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(p.iv)
				b.AddASN1Int64(int64(p.tagLen))
			})
		} else {
			b.AddASN1OctetString(p.iv)
		}
	})
	return b.BytesOrPanic()
}
