package testpeer

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// readMessage splits msg into its header and body and parses its
// Content-Type.
func readMessage(msg []byte) (mail.Header, []byte, string, map[string]string, error) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("testpeer: reading message: %w", err)
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("testpeer: reading message body: %w", err)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("testpeer: parsing Content-Type: %w", err)
	}
	return m.Header, body, mediaType, params, nil
}

// boundary returns the boundary of a multipart message and its body.
func boundary(msg []byte) (string, []byte, error) {
	_, body, mediaType, params, err := readMessage(msg)
	if err != nil {
		return "", nil, err
	}
	if !strings.HasPrefix(mediaType, "multipart/") || params["boundary"] == "" {
		return "", nil, fmt.Errorf("testpeer: message is %s, not multipart with a boundary", mediaType)
	}
	return params["boundary"], body, nil
}

// MIMEPart returns the body of part n (counting from 1) of the multipart
// message msg, with its Content-Transfer-Encoding (base64 or
// quoted-printable) undone: for a multipart/signed message, part 2 is the
// DER signature that gpgsm and cmsutil read.
func MIMEPart(msg []byte, n int) ([]byte, error) {
	b, body, err := boundary(msg)
	if err != nil {
		return nil, err
	}
	r := multipart.NewReader(bytes.NewReader(body), b)
	for i := 1; ; i++ {
		// NextRawPart keeps quoted-printable as is; decode below.
		p, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("testpeer: message has %d parts, not %d", i-1, n)
		}
		if err != nil {
			return nil, fmt.Errorf("testpeer: reading part %d: %w", i, err)
		}
		if i < n {
			continue
		}
		var dec io.Reader = p
		switch cte := strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))); cte {
		case "base64":
			dec = base64.NewDecoder(base64.StdEncoding, &noSpace{r: p})
		case "quoted-printable":
			dec = quotedprintable.NewReader(p)
		case "", "7bit", "8bit", "binary":
		default:
			return nil, fmt.Errorf("testpeer: part %d has unknown Content-Transfer-Encoding %q", n, cte)
		}
		data, err := io.ReadAll(dec)
		if err != nil {
			return nil, fmt.Errorf("testpeer: decoding part %d: %w", n, err)
		}
		return data, nil
	}
}

// MIMEPartRaw returns part n (counting from 1) of the multipart message
// msg exactly as it stands between the boundaries, MIME header included,
// with line ends made CRLF (RFC 8551 §3.1.1 canonical form). For a
// multipart/signed message, part 1 is the signed content: the detached
// content that gpgsm and cmsutil check a signature against.
func MIMEPartRaw(msg []byte, n int) ([]byte, error) {
	b, body, err := boundary(msg)
	if err != nil {
		return nil, err
	}
	body = canonical(body)
	// RFC 2046 §5.1.1: a delimiter is CRLF "--" boundary at the start of a
	// line, then optional white space; the CRLF belongs to the delimiter.
	dash := "--" + b
	var starts, ends []int // part i spans body[starts[i]:ends[i]]
	closed := false
	for off := 0; off < len(body) && !closed; {
		end := bytes.Index(body[off:], []byte("\r\n"))
		next := off + end + 2
		if end < 0 {
			end, next = len(body)-off, len(body)
		}
		line := string(body[off : off+end])
		if rest, ok := strings.CutPrefix(line, dash); ok {
			rest, closing := strings.CutPrefix(rest, "--")
			if strings.TrimRight(rest, " \t") == "" {
				if len(starts) > len(ends) {
					ends = append(ends, max(off-2, starts[len(starts)-1]))
				}
				if closing {
					closed = true
				} else {
					starts = append(starts, next)
				}
			}
		}
		off = next
	}
	if len(starts) > len(ends) {
		return nil, errors.New("testpeer: multipart body has no closing boundary")
	}
	if n < 1 || n > len(starts) {
		return nil, fmt.Errorf("testpeer: message has %d parts, not %d", len(starts), n)
	}
	return body[starts[n-1]:ends[n-1]], nil
}

// canonical turns bare LF line ends into CRLF.
func canonical(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/32)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// noSpace drops white space, which base64 bodies carry between lines.
type noSpace struct{ r io.Reader }

func (n *noSpace) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// SMIMEBody returns the CMS object (DER or BER) carried base64-encoded in
// the body of an application/pkcs7-mime message (RFC 8551 §3.2), the form
// gpgsm and cmsutil read.
func SMIMEBody(msg []byte) ([]byte, error) {
	h, body, mediaType, _, err := readMessage(msg)
	if err != nil {
		return nil, err
	}
	if mediaType != "application/pkcs7-mime" && mediaType != "application/x-pkcs7-mime" {
		return nil, fmt.Errorf("testpeer: message is %s, not application/pkcs7-mime", mediaType)
	}
	if cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte != "base64" {
		return nil, fmt.Errorf("testpeer: application/pkcs7-mime body has Content-Transfer-Encoding %q, not base64", cte)
	}
	data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, &noSpace{r: bytes.NewReader(body)}))
	if err != nil {
		return nil, fmt.Errorf("testpeer: decoding application/pkcs7-mime body: %w", err)
	}
	return data, nil
}

// smimeType names CMS content types as the smime-type parameter does
// (RFC 8551 §3.2.2).
func smimeType(cms []byte) (string, error) {
	// ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER, ... }
	// (RFC 5652 §3). gpgsm and cmsutil write BER with an indefinite length,
	// which encoding/asn1 rejects, so step over the SEQUENCE header by hand.
	if len(cms) < 2 || cms[0] != 0x30 {
		return "", errors.New("testpeer: input is not a CMS ContentInfo")
	}
	off := 2
	if l := cms[1]; l > 0x80 {
		off += int(l & 0x7f)
	}
	if off > len(cms) {
		return "", errors.New("testpeer: CMS ContentInfo is truncated")
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(cms[off:], &oid); err != nil {
		return "", fmt.Errorf("testpeer: reading CMS content type: %w", err)
	}
	switch oid.String() {
	case "1.2.840.113549.1.7.2":
		return "signed-data", nil
	case "1.2.840.113549.1.7.3":
		return "enveloped-data", nil
	case "1.2.840.113549.1.9.16.1.23":
		return "authEnveloped-data", nil
	case "1.2.840.113549.1.9.16.1.9":
		return "compressed-data", nil
	}
	return "", fmt.Errorf("testpeer: CMS content type %s has no smime-type", oid)
}

// base64Lines encodes data in base64 lines of 64 characters ending in CRLF.
func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var out bytes.Buffer
	for len(enc) > 64 {
		out.WriteString(enc[:64] + "\r\n")
		enc = enc[64:]
	}
	out.WriteString(enc + "\r\n")
	return out.Bytes()
}

// WrapPKCS7MIME returns an application/pkcs7-mime message (RFC 8551 §3.2)
// carrying the raw CMS object cms, with smime-type taken from its content
// type and CRLF line ends.
func WrapPKCS7MIME(cms []byte) ([]byte, error) {
	st, err := smimeType(cms)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString("MIME-Version: 1.0\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=" + st + "; name=smime.p7m\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=smime.p7m\r\n\r\n")
	out.Write(base64Lines(cms))
	return out.Bytes(), nil
}

// WrapSigned returns a multipart/signed message (RFC 8551 §3.5.3,
// RFC 1847) whose first part is content, exactly — a MIME entity, header
// included, in canonical CRLF form, as it was signed — and whose second
// part is the detached signature sig. micalg names the digest
// ("sha-256" when empty). The boundary is derived from the inputs, so the
// output is reproducible.
func WrapSigned(content, sig []byte, micalg string) ([]byte, error) {
	if micalg == "" {
		micalg = "sha-256"
	}
	if bytes.Contains(bytes.ReplaceAll(content, []byte("\r\n"), nil), []byte("\n")) {
		return nil, errors.New("testpeer: signed content has bare LF line ends; it must be canonical CRLF")
	}
	sum := sha256.Sum256(append(append([]byte{}, content...), sig...))
	b := "testpeer-" + hex.EncodeToString(sum[:12])
	if bytes.Contains(content, []byte("--"+b)) {
		return nil, errors.New("testpeer: signed content contains the boundary")
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "MIME-Version: 1.0\r\n"+
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=%s; boundary=\"%s\"\r\n\r\n"+
		"This is an S/MIME signed message\r\n\r\n--%s\r\n", micalg, b, b)
	out.Write(content)
	fmt.Fprintf(&out, "\r\n--%s\r\n"+
		"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"+
		"Content-Transfer-Encoding: base64\r\n"+
		"Content-Disposition: attachment; filename=smime.p7s\r\n\r\n", b)
	out.Write(base64Lines(sig))
	fmt.Fprintf(&out, "\r\n--%s--\r\n", b)
	return out.Bytes(), nil
}
