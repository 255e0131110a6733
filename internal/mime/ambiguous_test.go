package mime

import (
	"errors"
	"strings"
	"testing"
)

// TestReadSignedAmbiguous: issue #11 item 9. Every line of a multipart/signed
// body that starts with the boundary is an exact delimiter, or ReadSigned
// refuses the message with an *AmbiguousError: Dovecot (IMAP BODY[1]) takes any
// such line for a delimiter, so what smimectl skips as preamble or keeps as
// content another parser may show as the signed part.
func TestReadSignedAmbiguous(t *testing.T) {
	part1 := "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
	good := part1 + "--b1\r\n" + sigPart + "--b1--\r\n"
	ct := "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; "
	tests := []struct {
		name string
		msg  string
		want string // "" accepted; else a substring of the AmbiguousError
	}{
		{"preamble line with boundary and more", hdrSigned("") + "--b1x\r\nContent-Type: text/plain\r\n\r\nevil\r\n" + good, "not a delimiter"},
		{"preamble line with boundary and words", hdrSigned("") + "--b1 evil\r\n" + good, "not a delimiter"},
		{"preamble boundary in another case", hdrSigned("") + "--B1\r\n" + good, "not a delimiter"},
		{"opening delimiter padded past the buffer", hdrSigned("") + "--b1" + strings.Repeat(" ", 70000) + "\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1--\r\n", "too long"},
		{"opening delimiter padded to 2000", hdrSigned("") + "--b1" + strings.Repeat(" ", 2000) + "\r\n" + good[6:], "too long"},
		{"delimiter padded to 500", hdrSigned("") + "--b1" + strings.Repeat(" \t", 250) + "\r\n" + good[6:], ""},
		{"long line of the boundary in the preamble", hdrSigned("") + "--b1" + strings.Repeat("x", 70000) + "\r\n" + good, "too long"},
		{"long line in the content is fine", hdrSigned("") + part1 + strings.Repeat("x", 70000) + "\r\n--b1\r\n" + sigPart + "--b1--\r\n", ""},
		{"content line with boundary prefix", hdrSigned("") + part1 + "--b1x\r\nevil\r\n--b1\r\n" + sigPart + "--b1--\r\n", "not a delimiter"},
		{"signature part line with boundary prefix", hdrSigned("") + part1 + "--b1\r\n" + sigPart + "--b1-x\r\n--b1--\r\n", "not a delimiter"},
		{"delimiter in the epilogue", hdrSigned("") + good + "epilogue\r\n--b1\r\nContent-Type: text/plain\r\n\r\nmore\r\n", "after the close delimiter"},
		{"second close delimiter", hdrSigned("") + good + "--b1--\r\n", "second close delimiter"},
		{"boundary prefix in the epilogue", hdrSigned("") + good + "--b1x\r\n", "not a delimiter"},
		{"plain epilogue", hdrSigned("") + good + "epilogue\r\n-- b1\r\n", ""},
		{"two Content-Type fields", strings.Replace(hdrSigned(""), "\r\n\r\n", "\r\nContent-Type: text/plain\r\n\r\n", 1) + good, "more than one Content-Type"},
		{"two Content-Transfer-Encoding fields", "Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64\r\n" + hdrSigned("") + good, "more than one Content-Transfer-Encoding"},
		{"encoded multipart body", "Content-Transfer-Encoding: base64\r\n" + hdrSigned("") + good, "transfer encoding"},
		{"7bit multipart body", "Content-Transfer-Encoding: 7bit\r\n" + hdrSigned("") + good, ""},
		{"boundary in RFC 2231 form", ct + "boundary*0=\"b\"; boundary*1=\"1\"\r\n\r\n" + good, "RFC 2231"},
		{"boundary with characters outside bchars", ct + "boundary=\"b1;x\"\r\n\r\n" + strings.ReplaceAll(good, "b1", "b1;x"), "RFC 2046"},
		{"unquoted boundary", ct + "boundary=b1\r\n\r\n" + good, ""},
		{"boundary folded onto its own line", "Content-Type: multipart/signed;\r\n\tprotocol=\"application/pkcs7-signature\";\r\n micalg=sha-256;\r\n boundary=\"b1\"\r\n\r\n" + good, ""},
		{"signed part with two Content-Type fields", hdrSigned("") + "--b1\r\nContent-Type: text/html\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1--\r\n", "more than one Content-Type field in the signed part"},
		{"signed part with two Content-Transfer-Encoding fields", hdrSigned("") + "--b1\r\nContent-Transfer-Encoding: 7bit\r\ncontent-transfer-encoding : base64\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1--\r\n", "more than one Content-Transfer-Encoding field in the signed part"},
		{"Content-Type twice in the signed part's body is fine", hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\nContent-Type: x\r\nContent-Type: y\r\n--b1\r\n" + sigPart + "--b1--\r\n", ""},
		{"nested multipart whose boundary is a prefix", hdrSigned("") + "--b1\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\r\nevil\r\n--b--\r\n--b1\r\n" + sigPart + "--b1--\r\n", "reuses the boundary"},
		{"nested multipart prefix boundary folded", hdrSigned("") + "--b1\r\nContent-Type: multipart/mixed;\r\n\tboundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--b1\r\n" + sigPart + "--b1--\r\n", "reuses the boundary"},
		{"deeper nested multipart with a prefix boundary", hdrSigned("") + "--b1\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: multipart/alternative; BOUNDARY=\"\"\r\n\r\n--zz\r\nContent-type: multipart/related; boundary=\"b\"\r\n\r\n--zz--\r\n--b1\r\n" + sigPart + "--b1--\r\n", "reuses the boundary"},
		{"nested multipart extending the boundary", hdrSigned("") + "--b1\r\nContent-Type: multipart/mixed; boundary=\"b1-inner\"\r\n\r\n--b1-inner\r\n\r\nx\r\n--b1-inner--\r\n--b1\r\n" + sigPart + "--b1--\r\n", "boundary"},
		{"nested boundary in RFC 2231 form", hdrSigned("") + "--b1\r\nContent-Type: multipart/mixed; boundary*=''b\r\n\r\nx\r\n--b1\r\n" + sigPart + "--b1--\r\n", "RFC 2231"},
		{"nested multipart with its own boundary", hdrSigned("") + "--b1\r\nContent-Type: multipart/mixed; boundary=\"c2\"\r\n\r\n--c2\r\n\r\nx\r\n--c2--\r\n--b1\r\n" + sigPart + "--b1--\r\n", ""},
		// Red team (attack2): jsmime and libmime (Thunderbird) end a line at a
		// bare CR, so a boundary right after one is a delimiter there.
		{"preamble delimiter after a bare CR", hdrSigned("") + "x\r--b1\r\nContent-Type: text/plain\r\n\r\nevil\r\n" + good, "after a bare CR"},
		{"content delimiter after a bare CR", hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r--b1\r\n" + sigPart + "--b1\r\n" + sigPart + "--b1--\r\n", "after a bare CR"},
		{"delimiter in another case after a bare CR", hdrSigned("") + "x\r--B1\r\nContent-Type: text/plain\r\n\r\nevil\r\n" + good, "after a bare CR"},
		{"epilogue delimiter after a bare CR", hdrSigned("") + good + "x\r--b1\r\nContent-Type: text/plain\r\n\r\nmore\r\n", "after a bare CR"},
		{"delimiter after a bare CR at a buffer end", hdrSigned("") + strings.Repeat("x", readerBufSize-1) + "\r--b1\r\nevil\r\n" + good, "after a bare CR"},
		{"part of a delimiter after a bare CR at a buffer end", hdrSigned("") + strings.Repeat("x", readerBufSize-3) + "\r--b1\r\nevil\r\n" + good, "after a bare CR"},
		{"signed part header ending in LF CR LF", hdrSigned("") + "--b1\r\nContent-Type: text/plain; hp=\"clear\"\n\r\nFrom: alice@example.com\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1--\r\n", "LF CR LF"},
		{"signed part header in LF is fine", hdrSigned("") + "--b1\r\nContent-Type: text/plain\n\nhi\n\r\nho\r\n--b1\r\n" + sigPart + "--b1--\r\n", ""},
		{"LF CR LF in the signed part's body is fine", hdrSigned("") + part1 + "x\n\r\ny\r\n--b1\r\n" + sigPart + "--b1--\r\n", ""},
		{"bare CR before other text is fine", hdrSigned("") + part1[:len(part1)-2] + "\r-- b1\r\n--b1\r\n" + sigPart + "--b1--\r\n", ""},
		{"signature part with two Content-Type fields", hdrSigned("") + part1 + "--b1\r\nContent-Type: text/plain\r\n" + sigPart + "--b1--\r\n", "signature part"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ReadEntity(strings.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			p, err := ReadSigned(e, Spool{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ReadSigned: %v, want success", err)
				}
				p.Close()
				return
			}
			var ae *AmbiguousError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an AmbiguousError with %q", err, tc.want)
			}
			if p != nil {
				t.Error("parts returned with the error")
			}
		})
	}
}

func TestLaxBoundaries(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ext  bool
	}{
		{`multipart/mixed; boundary="a b"`, []string{"a b"}, false},
		{`multipart/mixed;boundary=abc`, []string{"abc"}, false},
		{"multipart/mixed;\r\n BOUNDARY = \"a\\\"c\"", []string{`a"c`}, false},
		{`multipart/mixed; x-boundary=abc`, nil, false},
		{`multipart/mixed; boundary=a; boundary=b`, []string{"a", "b"}, false},
		{`multipart/mixed; boundary*0=a`, nil, true},
	}
	for _, tc := range tests {
		got, ext := laxBoundaries(tc.in)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || ext != tc.ext {
			t.Errorf("laxBoundaries(%q) = %q, %v; want %q, %v", tc.in, got, ext, tc.want, tc.ext)
		}
	}
}
