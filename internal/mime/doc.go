// Package mime reads and writes the MIME structures S/MIME needs: header
// fields with their raw bytes kept, CRLF canonicalisation, the
// multipart/signed clear-signed form and the application/pkcs7-mime opaque
// form, and a spool that keeps large bodies out of memory.
//
// # Model
//
// A message is a [Header] followed by a body (RFC 5322, RFC 2045). For
// signing, [Header.Split] separates the outer header fields (From, To,
// Subject, MIME-Version, trace fields...) from the Content-* fields that
// belong to the MIME entity being signed (RFC 8551 section 3.1).
//
// Clear-signed output follows RFC 1847 section 2.1 and RFC 8551 section
// 3.5.3: [NewSignedWriter] writes the multipart/signed header and the first
// delimiter, the caller writes the entity (canonicalised to CRLF on the fly
// and copied to a digest), and [SignedWriter.Finish] writes the
// application/pkcs7-signature part. Opaque output (RFC 8551 section 3.5.2,
// 3.3, 3.4) is produced by [NewPKCS7MimeWriter].
//
// Reading goes through [ReadEntity] and, for multipart/signed, [ReadSigned],
// which streams the first body part into a [Spool] byte-exact except that
// bare LF line ends become CRLF (RFC 8551 section 3.1.1: the signature is
// computed over the canonical form). Boundaries are recognised only at the
// start of a line, and the line end before a delimiter belongs to the
// delimiter (RFC 2046 section 5.1.1), so the captured bytes are exactly the
// signed bytes.
//
// # Limits
//
// Header blocks are limited to 1 MiB and 10,000 fields, a signature part to
// 16 MiB decoded; body parts of any size are streamed with memory bounded by
// the bufio buffer and the spool threshold. Input may use LF or CRLF line
// ends; output always uses CRLF.
package mime
