package mime

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestPeekBody: the first bytes of a body, transfer encoding removed,
// without consuming it (issue #17 item 2: what pkg/verify sniffed itself).
func TestPeekBody(t *testing.T) {
	payload := bytes.Repeat([]byte{0x30, 0x80, 0x06, 0x09, 0xff}, 40)
	b64 := base64.StdEncoding.EncodeToString(payload)
	folded := b64[:60] + "\r\n " + b64[60:120] + "\r\n\t" + b64[120:]
	for _, tc := range []struct {
		name, cte, body string
		want            []byte
		ok              bool
	}{
		{"binary", "binary", string(payload), payload, true},
		{"none", "", string(payload), payload, true},
		{"base64 folded", "base64", folded, payload, true},
		{"base64 broken", "base64", "!!!!" + b64, nil, false},
		{"quoted-printable", "quoted-printable", "abc", nil, false},
	} {
		msg := "Content-Type: application/pkcs7-mime\r\n"
		if tc.cte != "" {
			msg += "Content-Transfer-Encoding: " + tc.cte + "\r\n"
		}
		e, err := ReadEntity(strings.NewReader(msg + "\r\n" + tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := PeekBody(e, 4096)
		if (err == nil) != tc.ok || tc.ok && !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %x, %v", tc.name, got, err)
			continue
		}
		if rest, _ := DecodeBody(e); tc.ok && rest != nil {
			all := new(bytes.Buffer)
			all.ReadFrom(rest)
			if !bytes.Equal(all.Bytes(), tc.want) {
				t.Errorf("%s: the body was consumed: %d bytes left", tc.name, all.Len())
			}
		}
	}
}
