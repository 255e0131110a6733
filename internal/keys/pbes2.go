package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"

	"github.com/smimectl/smimectl/internal/kem"
)

// maxPBKDF2Iterations bounds the work a hostile file can demand, for PBES2
// keys and PKCS#12 files alike. OpenSSL and go-pkcs12 write 2048, Windows
// 2000 or 10000, and OWASP's 2023 advice is 600000 (HMAC-SHA-256) to 1300000
// (HMAC-SHA-1); two million still costs about a second. Fuzzing with ten
// million showed seconds-long stalls per input.
const maxPBKDF2Iterations = 2_000_000

var (
	// PKCS #5 v2.1 (RFC 8018) Appendix A and B.
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidDESEDE3CBC     = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	// NIST AES OIDs, RFC 3565 §4.1.
	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// encryptedPrivateKeyInfo is RFC 5958 §3:
//
//	EncryptedPrivateKeyInfo ::= SEQUENCE {
//	  encryptionAlgorithm  EncryptionAlgorithmIdentifier,
//	  encryptedData        EncryptedData }
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// pbes2Params is RFC 8018 Appendix A.4:
//
//	PBES2-params ::= SEQUENCE {
//	  keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
//	  encryptionScheme AlgorithmIdentifier {{PBES2-Encs}} }
type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

// pbkdf2Params is RFC 8018 Appendix A.2:
//
//	PBKDF2-params ::= SEQUENCE {
//	  salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}} },
//	  iterationCount INTEGER (1..MAX),
//	  keyLength INTEGER (1..MAX) OPTIONAL,
//	  prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
//
// Only the "specified" salt is defined by the RFC, so only it is accepted.
type pbkdf2Params struct {
	Salt           asn1.RawValue
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// isEncryptedPrivateKeyInfo reports whether der parses as an
// EncryptedPrivateKeyInfo, to tell it from a key that failed to parse.
func isEncryptedPrivateKeyInfo(der []byte) bool {
	var info encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(der, &info)
	return err == nil && len(rest) == 0
}

// parseEncryptedPKCS8 decrypts an EncryptedPrivateKeyInfo protected with
// PBES2 (RFC 8018 §6.2), as `openssl pkcs8 -topk8 -v2 ...` writes it.
func parseEncryptedPKCS8(der []byte, p *passphrase) (crypto.Signer, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, errors.New("keys: malformed EncryptedPrivateKeyInfo")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("keys: unsupported private key encryption %v (only PBES2 is supported)", info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, errors.New("keys: malformed PBES2 parameters")
	}
	newCipher, keyLen, iv, err := pbes2Cipher(params.EncryptionScheme)
	if err != nil {
		return nil, err
	}
	salt, iter, prf, err := pbkdf2Parameters(params.KeyDerivationFunc, keyLen)
	if err != nil {
		return nil, err
	}
	if len(info.EncryptedData) == 0 || len(info.EncryptedData)%len(iv) != 0 {
		return nil, errors.New("keys: malformed EncryptedPrivateKeyInfo: encrypted data is not a whole number of blocks")
	}

	pw, err := p.get()
	if err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(prf, string(pw), salt, iter, keyLen)
	if err != nil {
		return nil, fmt.Errorf("keys: deriving the key encryption key: %w", err)
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	plain := make([]byte, len(info.EncryptedData))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.EncryptedData)
	plain, ok := unpad(plain, block.BlockSize())
	if !ok {
		return nil, fmt.Errorf("%w", ErrIncorrectPassphrase)
	}
	if k, err := kem.ParsePKCS8PrivateKey(plain); err == nil {
		return k, nil
	} else if !errors.Is(err, kem.ErrNotMLKEMKey) {
		return nil, fmt.Errorf("keys: parsing the decrypted PKCS#8 key: %w", err)
	}
	k, err := parsePKCS8(plain)
	if err != nil {
		return nil, decryptedParseError(plain, fmt.Errorf("keys: parsing the decrypted PKCS#8 key: %w", err))
	}
	return toSigner(k)
}

// pbes2Cipher returns the block cipher, key length and IV of a PBES2
// encryptionScheme (RFC 8018 Appendix B.2: the parameter is the IV).
func pbes2Cipher(alg pkix.AlgorithmIdentifier) (func([]byte) (cipher.Block, error), int, []byte, error) {
	var newCipher func([]byte) (cipher.Block, error)
	var keyLen, blockLen int
	switch {
	case alg.Algorithm.Equal(oidAES128CBC):
		newCipher, keyLen, blockLen = aes.NewCipher, 16, aes.BlockSize
	case alg.Algorithm.Equal(oidAES192CBC):
		newCipher, keyLen, blockLen = aes.NewCipher, 24, aes.BlockSize
	case alg.Algorithm.Equal(oidAES256CBC):
		newCipher, keyLen, blockLen = aes.NewCipher, 32, aes.BlockSize
	case alg.Algorithm.Equal(oidDESEDE3CBC):
		newCipher, keyLen, blockLen = des.NewTripleDESCipher, 24, des.BlockSize
	default:
		return nil, 0, nil, fmt.Errorf("keys: unsupported PBES2 encryption scheme %v", alg.Algorithm)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 || len(iv) != blockLen {
		return nil, 0, nil, errors.New("keys: malformed PBES2 encryption scheme parameters")
	}
	return newCipher, keyLen, iv, nil
}

// pbkdf2Parameters checks a PBES2 keyDerivationFunc and returns its salt,
// iteration count and PRF.
func pbkdf2Parameters(alg pkix.AlgorithmIdentifier, keyLen int) ([]byte, int, func() hash.Hash, error) {
	if !alg.Algorithm.Equal(oidPBKDF2) {
		return nil, 0, nil, fmt.Errorf("keys: unsupported PBES2 key derivation function %v", alg.Algorithm)
	}
	var params pbkdf2Params
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, 0, nil, errors.New("keys: malformed PBKDF2 parameters")
	}
	if params.Salt.Class != asn1.ClassUniversal || params.Salt.Tag != asn1.TagOctetString || params.Salt.IsCompound {
		return nil, 0, nil, errors.New("keys: unsupported PBKDF2 salt source")
	}
	if params.IterationCount < 1 || params.IterationCount > maxPBKDF2Iterations {
		return nil, 0, nil, fmt.Errorf("keys: PBKDF2 iteration count %d out of range", params.IterationCount)
	}
	if params.KeyLength != 0 && params.KeyLength != keyLen {
		return nil, 0, nil, fmt.Errorf("keys: PBKDF2 key length %d does not match the cipher's %d", params.KeyLength, keyLen)
	}
	var prf func() hash.Hash
	switch a := params.PRF.Algorithm; {
	case len(a) == 0, a.Equal(oidHMACWithSHA1): // DEFAULT algid-hmacWithSHA1
		prf = sha1.New
	case a.Equal(oidHMACWithSHA224):
		prf = sha256.New224
	case a.Equal(oidHMACWithSHA256):
		prf = sha256.New
	case a.Equal(oidHMACWithSHA384):
		prf = sha512.New384
	case a.Equal(oidHMACWithSHA512):
		prf = sha512.New
	default:
		return nil, 0, nil, fmt.Errorf("keys: unsupported PBKDF2 PRF %v", a)
	}
	return params.Salt.Bytes, params.IterationCount, prf, nil
}

// unpad removes PKCS#7 padding (RFC 8018 §6.1.1 step 4, RFC 5652 §6.3).
func unpad(b []byte, blockSize int) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, false
	}
	pad := b[len(b)-n:]
	for _, c := range pad[:n-1] {
		if subtle.ConstantTimeByteEq(c, byte(n)) != 1 {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}
