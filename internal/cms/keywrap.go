package cms

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
)

// AES key wrap (RFC 3394 section 2.2), used by ECDH key agreement (RFC 5753
// section 7.2) to carry the content-encryption key.

var keyWrapIV = []byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}

// errUnwrap is the key-wrap integrity check failing: wrong key, or a
// modified message.
var errUnwrap = errors.New("cms: key unwrap integrity check failed")

// aesKeyWrap wraps key (a multiple of 8 bytes, at least 16) under kek.
func aesKeyWrap(kek, key []byte) ([]byte, error) {
	if len(key)%8 != 0 || len(key) < 16 {
		return nil, errors.New("cms: key to wrap must be a multiple of 8 bytes, at least 16")
	}
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(key) / 8
	out := make([]byte, 8+len(key))
	copy(out, keyWrapIV)
	copy(out[8:], key)
	var buf [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(buf[:8], out[:8])
			copy(buf[8:], out[8*i:8*i+8])
			b.Encrypt(buf[:], buf[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(buf[:8])^t)
			copy(out[8*i:], buf[8:])
		}
	}
	return out, nil
}

// aesKeyUnwrap reverses aesKeyWrap and checks the integrity value.
func aesKeyUnwrap(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped)%8 != 0 || len(wrapped) < 24 {
		return nil, &FormatError{"wrapped key has a bad length"}
	}
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(wrapped)/8 - 1
	r := append([]byte(nil), wrapped...)
	var buf [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(r[:8])^t)
			copy(buf[8:], r[8*i:8*i+8])
			b.Decrypt(buf[:], buf[:])
			copy(r[:8], buf[:8])
			copy(r[8*i:], buf[8:])
		}
	}
	if subtle.ConstantTimeCompare(r[:8], keyWrapIV) != 1 {
		return nil, errUnwrap
	}
	return r[8:], nil
}

// x963KDF is the ANSI X9.63 key derivation function RFC 5753 section 7.2
// names: K = H(Z || counter || SharedInfo) for counter = 1, 2, ... (32 bits,
// big-endian), concatenated and truncated to n bytes.
func x963KDF(h func() hash.Hash, z, sharedInfo []byte, n int) []byte {
	var out []byte
	for counter := uint32(1); len(out) < n; counter++ {
		d := h()
		d.Write(z)
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], counter)
		d.Write(c[:])
		d.Write(sharedInfo)
		out = d.Sum(out)
	}
	return out[:n]
}
