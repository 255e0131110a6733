package keys

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/textproto"
	"strings"
)

// maxCertsOnlyHeader bounds the header of a certs-only message.
const maxCertsOnlyHeader = 64 << 10

// certsOnlyBody returns the PKCS#7 of a certs-only message (RFC 8551 section
// 3.6: Content-Type application/pkcs7-mime; smime-type=certs-only, usually
// with name=smime.p7c and base64 transfer encoding), ok false if data does
// not start with a MIME header naming application/pkcs7-mime (or the old
// application/x-pkcs7-mime). A pkcs7-mime entity of another smime-type
// (signed-data, enveloped-data) is an error: its certificates are not offered
// as certificates to use.
func certsOnlyBody(data []byte) (body []byte, ok bool, err error) {
	end, sep := bytes.Index(data, []byte("\n\n")), 2
	if e := bytes.Index(data, []byte("\r\n\r\n")); e >= 0 && (end < 0 || e < end) {
		end, sep = e, 4
	}
	if end < 0 || end > maxCertsOnlyHeader || !isText(data[:end]) {
		return nil, false, nil
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(data))).ReadMIMEHeader()
	if err != nil && h == nil {
		return nil, false, nil
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		return nil, false, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/pkcs7-mime" && mt != "application/x-pkcs7-mime") {
		return nil, false, nil
	}
	st := strings.ToLower(params["smime-type"])
	if st == "" && strings.HasSuffix(strings.ToLower(params["name"]), ".p7c") {
		st = "certs-only" // RFC 8551 3.6: the .p7c name says what it is
	}
	if st != "certs-only" {
		return nil, true, fmt.Errorf("keys: an S/MIME message of smime-type %q, not certs-only: it is a message, not a list of certificates", params["smime-type"])
	}
	raw := data[end+sep:] // the body starts after the blank line
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, raw)
		body = make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(body, clean)
		if err != nil {
			return nil, true, fmt.Errorf("keys: the certs-only message's base64 body is malformed: %w", err)
		}
		return body[:n], true, nil
	case "", "binary", "8bit", "7bit":
		return raw, true, nil
	default:
		return nil, true, errors.New("keys: the certs-only message has an unknown Content-Transfer-Encoding " + cte)
	}
}
