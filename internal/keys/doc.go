// Package keys loads the material an S/MIME signer or verifier starts from:
// certificates and private keys held in files.
//
// Certificates come as PEM ("CERTIFICATE", "PKCS7", "CMS"), as a single DER
// certificate, or as a PKCS#7 "certs-only" bundle (.p7b/.p7c, RFC 2315 /
// RFC 5652 §5 SignedData with no signers, the format of LDAP's
// userSMIMECertificate attribute, RFC 8551 §3.8): see [ParseCertificates] and
// [LoadCertificates].
//
// Private keys come as PEM or DER PKCS#1 (RFC 8017), PKCS#8 (RFC 5208/5958)
// or SEC 1 (RFC 5915), as legacy OpenSSL encrypted PEM (RFC 1421
// Proc-Type/DEK-Info headers), as PKCS#8 EncryptedPrivateKeyInfo with PBES2
// (RFC 8018 §6.2: PBKDF2 with HMAC-SHA-1/SHA-2 and AES-CBC or 3DES), or
// inside a PKCS#12 file (RFC 7292). Every key becomes a [crypto.Signer]; RSA
// and ECDSA on P-256, P-384 and P-521 are supported, Ed25519 and other
// algorithms are rejected because the S/MIME profile built on this package
// does not sign with them.
//
// [ParsePrivateKey] asks for a passphrase through a [PassphraseFunc] only when
// the key is encrypted, and reports a wrong one as [ErrIncorrectPassphrase].
// [ParsePKCS12] and [LoadIdentity] pair a key with its certificate and chain as
// an [Identity]; [MatchesKey] checks that a certificate belongs to a key.
//
// Keys on PKCS#11 tokens (smart cards) are found by RFC 7512 URI
// ([ParsePKCS11URI]) and opened with [OpenTokenIdentity] or [OpenToken]; they
// stay on the token and need cgo (see token.go).
//
// The package reads files only in the Load functions and holds no state.
package keys
