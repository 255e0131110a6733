package keys

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/cms"
)

// PKCS#12 files written by NSS's pk12util (Thunderbird and Firefox
// certificate backups) are BER with indefinite lengths, inside the
// authenticated safe as well as around it (issue #15 item 3), which the
// PKCS#12 decoder, a DER reader, refuses. The MAC covers the authenticated
// safe's bytes as written, BER included, so they can't simply be
// re-encoded: normalizePKCS12 checks the MAC over the original bytes
// itself, re-encodes everything outside the encrypted parts as DER, and
// protects the result with a new MAC under the same password for the
// decoder, in memory only.

var (
	oidP12Data          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidP12EncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidMacSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidMacSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidMacSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidMacSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// errP12Malformed is every structural failure of normalizePKCS12.
var errP12Malformed = errors.New("keys: malformed PKCS#12 file")

// pfx is the part of a PFX normalizePKCS12 needs (RFC 7292 section 4):
//
//	PFX ::= SEQUENCE {
//	  version  INTEGER {v3(3)}(v3,...),
//	  authSafe ContentInfo,
//	  macData  MacData OPTIONAL }
//	MacData ::= SEQUENCE {
//	  mac        DigestInfo,
//	  macSalt    OCTET STRING,
//	  iterations INTEGER DEFAULT 1 }
type pfx struct {
	authSafe []byte // the content octets of the data ContentInfo: the MAC'd bytes
	macAlg   asn1.ObjectIdentifier
	mac      []byte
	salt     []byte
	iter     int
	hasMac   bool
}

// normalizePKCS12 returns data unchanged when it is DER throughout the
// parts the decoder reads unencrypted, and otherwise a DER PFX with the
// same bags, whose MAC (SHA-256) is made with password, after checking
// the original MAC with password. A wrong password gives
// ErrIncorrectPassphrase, as the decoder would.
func normalizePKCS12(data, password []byte) ([]byte, error) {
	der, err := cms.ToDER(data)
	if err != nil {
		return nil, errP12Malformed
	}
	p, err := parsePFX(der)
	if err != nil {
		return nil, err
	}
	safe, err := cms.ToDER(p.authSafe)
	if err != nil {
		return nil, errP12Malformed
	}
	contents, changed, err := normalizeAuthSafe(safe)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(der, data) && bytes.Equal(safe, p.authSafe) && !changed {
		return data, nil
	}
	if !p.hasMac {
		return nil, errors.New("keys: the PKCS#12 file has no MAC: its integrity can't be checked")
	}
	if p.iter > maxPBKDF2Iterations {
		return nil, fmt.Errorf("keys: PKCS#12 iteration count %d out of range", p.iter)
	}
	h, u, v, err := macHash(p.macAlg)
	if err != nil {
		return nil, err
	}
	bmp := bmpPassword(password)
	if !hmac.Equal(p12MAC(h, u, v, p.salt, bmp, p.iter, p.authSafe), p.mac) {
		// Some writers use an empty byte string for the empty password.
		if len(password) != 0 || !hmac.Equal(p12MAC(h, u, v, p.salt, nil, p.iter, p.authSafe), p.mac) {
			return nil, fmt.Errorf("%w", ErrIncorrectPassphrase)
		}
	}
	// The new file never leaves memory: one iteration, a fixed salt.
	salt := []byte("smimectl")
	mac := p12MAC(sha256.New, 32, 64, salt, bmp, 1, contents)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3)
		addContentInfo(b, oidP12Data, func(b *cryptobyte.Builder) { b.AddASN1OctetString(contents) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidMacSHA256)
					b.AddASN1NULL()
				})
				b.AddASN1OctetString(mac)
			})
			b.AddASN1OctetString(salt)
			b.AddASN1Int64(1)
		})
	})
	return b.Bytes()
}

func addContentInfo(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, content func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), content)
	})
}

// parsePFX reads a DER PFX.
func parsePFX(der []byte) (*pfx, error) {
	var p pfx
	s := cryptobyte.String(der)
	var seq, ci, content cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&ci, cbasn1.SEQUENCE) ||
		!ci.ReadASN1ObjectIdentifier(&oid) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
		return nil, errP12Malformed
	}
	if version != 3 || !oid.Equal(oidP12Data) {
		return nil, errors.New("keys: unsupported PKCS#12 file (not a version 3 password-protected PFX)")
	}
	var safe cryptobyte.String
	if !content.ReadASN1(&safe, cbasn1.OCTET_STRING) || !content.Empty() {
		return nil, errP12Malformed
	}
	p.authSafe = safe
	if seq.Empty() {
		return &p, nil
	}
	var macData, digestInfo, alg, mac, salt cryptobyte.String
	if !seq.ReadASN1(&macData, cbasn1.SEQUENCE) || !seq.Empty() ||
		!macData.ReadASN1(&digestInfo, cbasn1.SEQUENCE) ||
		!digestInfo.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&p.macAlg) ||
		!digestInfo.ReadASN1(&mac, cbasn1.OCTET_STRING) || !digestInfo.Empty() ||
		!macData.ReadASN1(&salt, cbasn1.OCTET_STRING) {
		return nil, errP12Malformed
	}
	p.mac, p.salt, p.iter, p.hasMac = mac, salt, 1, true
	if !macData.Empty() {
		var iter int64
		if !macData.ReadASN1Int64WithTag(&iter, cbasn1.INTEGER) || !macData.Empty() || iter < 1 || iter > maxPBKDF2Iterations {
			return nil, errors.New("keys: PKCS#12 iteration count out of range")
		}
		p.iter = int(iter)
	}
	return &p, nil
}

// normalizeAuthSafe re-encodes the ContentInfos of a DER
// AuthenticatedSafe: the SafeContents of a data ContentInfo as DER, and
// the encrypted content of an EncryptedData (RFC 5652 section 8) as one
// primitive string where NSS writes it in chunks. changed reports whether
// anything differs from safe.
//
//	AuthenticatedSafe ::= SEQUENCE OF ContentInfo
//	EncryptedData ::= SEQUENCE { version CMSVersion, encryptedContentInfo EncryptedContentInfo, ... }
//	EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
func normalizeAuthSafe(safe []byte) (out []byte, changed bool, err error) {
	s := cryptobyte.String(safe)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, false, errP12Malformed
	}
	var b cryptobyte.Builder
	var fail error
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for !seq.Empty() && fail == nil {
			var ci, content cryptobyte.String
			var oid asn1.ObjectIdentifier
			if !seq.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&oid) ||
				!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
				fail = errP12Malformed
				return
			}
			switch {
			case oid.Equal(oidP12Data):
				var octets cryptobyte.String
				if !content.ReadASN1(&octets, cbasn1.OCTET_STRING) || !content.Empty() {
					fail = errP12Malformed
					return
				}
				sc, err := cms.ToDER(octets)
				if err != nil {
					fail = errP12Malformed
					return
				}
				changed = changed || !bytes.Equal(sc, octets)
				addContentInfo(b, oidP12Data, func(b *cryptobyte.Builder) { b.AddASN1OctetString(sc) })
			case oid.Equal(oidP12EncryptedData):
				ed, edChanged, err := normalizeEncryptedData(content)
				if err != nil {
					fail = err
					return
				}
				changed = changed || edChanged
				addContentInfo(b, oidP12EncryptedData, func(b *cryptobyte.Builder) { b.AddBytes(ed) })
			default:
				fail = errors.New("keys: unsupported PKCS#12 file (a safe that is neither data nor password-encrypted)")
				return
			}
		}
	})
	if fail != nil {
		return nil, false, fail
	}
	out, err = b.Bytes()
	if err != nil {
		return nil, false, errP12Malformed
	}
	return out, changed, nil
}

// normalizeEncryptedData returns the EncryptedData in s with its
// encrypted content as one primitive [0].
func normalizeEncryptedData(s cryptobyte.String) ([]byte, bool, error) {
	var ed, eci, alg cryptobyte.String
	var version int64
	var ct asn1.ObjectIdentifier
	if !s.ReadASN1(&ed, cbasn1.SEQUENCE) || !s.Empty() ||
		!ed.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!ed.ReadASN1(&eci, cbasn1.SEQUENCE) ||
		!eci.ReadASN1ObjectIdentifier(&ct) ||
		!eci.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		return nil, false, errP12Malformed
	}
	var enc []byte
	changed := false
	switch {
	case eci.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var v cryptobyte.String
		eci.ReadASN1(&v, cbasn1.Tag(0).ContextSpecific())
		enc = v
	case eci.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()):
		var v cryptobyte.String
		eci.ReadASN1(&v, cbasn1.Tag(0).Constructed().ContextSpecific())
		for !v.Empty() {
			var chunk cryptobyte.String
			if !v.ReadASN1(&chunk, cbasn1.OCTET_STRING) {
				return nil, false, errP12Malformed
			}
			enc = append(enc, chunk...)
		}
		changed = true
	default:
		return nil, false, errP12Malformed
	}
	if !eci.Empty() {
		return nil, false, errP12Malformed
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(version)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(ct)
			b.AddBytes(alg)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(enc) })
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, false, errP12Malformed
	}
	return out, changed, nil
}

// macHash returns the hash of a PKCS#12 MAC algorithm with its output (u)
// and block (v) sizes in bytes, for the key derivation of RFC 7292
// Appendix B.
func macHash(oid asn1.ObjectIdentifier) (func() hash.Hash, int, int, error) {
	switch {
	case oid.Equal(oidMacSHA1):
		return sha1.New, 20, 64, nil
	case oid.Equal(oidMacSHA256):
		return sha256.New, 32, 64, nil
	case oid.Equal(oidMacSHA384):
		return sha512.New384, 48, 128, nil
	case oid.Equal(oidMacSHA512):
		return sha512.New, 64, 128, nil
	}
	return nil, 0, 0, fmt.Errorf("keys: unsupported PKCS#12 MAC algorithm %v", oid)
}

// bmpPassword is the password as RFC 7292 Appendix B.1 has the key
// derivation take it: UTF-16 big-endian with a terminating zero.
func bmpPassword(pw []byte) []byte {
	var out []byte
	for _, r := range utf16.Encode([]rune(string(pw))) {
		out = append(out, byte(r>>8), byte(r))
	}
	return append(out, 0, 0)
}

// p12MAC is the HMAC of msg under the key RFC 7292 Appendix B.2 derives
// (ID 3, MAC) from salt, the BMP password and iter rounds.
func p12MAC(h func() hash.Hash, u, v int, salt, password []byte, iter int, msg []byte) []byte {
	m := hmac.New(h, p12KDF(h, u, v, salt, password, iter, 3, u))
	m.Write(msg)
	return m.Sum(nil)
}

// p12KDF is RFC 7292 Appendix B.2: size bytes for purpose id.
func p12KDF(h func() hash.Hash, u, v int, salt, password []byte, iter int, id byte, size int) []byte {
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := bytes.Repeat([]byte{id}, v)
	I := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		hh := h()
		hh.Write(d)
		hh.Write(I)
		a := hh.Sum(nil)
		for j := 1; j < iter; j++ {
			hh.Reset()
			hh.Write(a)
			a = hh.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		bb := fill(a)
		for k := 0; k < len(I); k += v {
			carry := 1
			for n := v - 1; n >= 0; n-- {
				carry += int(I[k+n]) + int(bb[n])
				I[k+n] = byte(carry)
				carry >>= 8
			}
		}
	}
	return out[:size]
}
