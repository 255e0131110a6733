// Package cms reads and writes the Cryptographic Message Syntax (RFC 5652)
// structures S/MIME carries: ContentInfo and SignedData, with the S/MIME
// signed attributes of RFC 8551 section 2.5.
//
// Input may be BER (indefinite lengths and chunked OCTET STRINGs, as gpgsm,
// NSS, Outlook and OpenSSL's -stream write) or DER: [ReadSignedData]
// streams the encapsulated content to the caller while digesting it and
// keeps only the rest in memory. Output is DER, except that
// [NewSignedDataWriter] streams attached content in the indefinite-length
// form, as OpenSSL does.
//
// Signatures: RSA PKCS#1 v1.5, RSASSA-PSS (RFC 4056) and ECDSA (RFC 5753),
// with SHA-256, SHA-384 and SHA-512 (RFC 5754); SHA-1 and MD5 are read so
// that callers can apply a policy, and never written. Keys are
// crypto.Signer values, so a token key signs like a file key.
//
// Encryption: [NewEnvelopedDataWriter] streams EnvelopedData (RFC 5652
// section 6) with AES-CBC, or AuthEnvelopedData (RFC 5083) with AES-GCM
// (RFC 5084), to recipients by RSA PKCS#1 v1.5 or RSAES-OAEP key transport
// (RFC 8017, RFC 4055) or ECDH ephemeral-static key agreement with AES key
// wrap (RFC 5753, RFC 3394), named by issuer and serial or subject key
// identifier. [ReadEnveloped] streams the decryption of both, and reads
// 3DES, DES and RC2 content from older mail.
package cms
