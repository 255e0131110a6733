package mime

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

func TestPKCS7MimeWriter(t *testing.T) {
	for _, n := range []int{0, 1, 56, 57, 58, 114, 1000, 100000} {
		t.Run("", func(t *testing.T) {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(i * 7)
			}
			var out bytes.Buffer
			w, err := NewPKCS7MimeWriter(&out, testOuter(), "signed-data")
			if err != nil {
				t.Fatal(err)
			}
			for rest := data; len(rest) > 0; {
				k := min(13, len(rest))
				w.Write(rest[:k])
				rest = rest[k:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			msg := out.Bytes()
			e, err := ReadEntity(bytes.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			mt, params, err := e.Header.MediaType()
			if err != nil || mt != "application/pkcs7-mime" || params["smime-type"] != "signed-data" || params["name"] != "smime.p7m" {
				t.Errorf("Content-Type %q %v %v", mt, params, err)
			}
			if got := e.Header.Get("Content-Disposition"); got != `attachment; filename="smime.p7m"` {
				t.Errorf("Content-Disposition %q", got)
			}
			if e.Header.Get("MIME-Version") != "1.0" || e.Header.Get("Subject") != "test" {
				t.Error("outer fields missing")
			}
			raw, _ := io.ReadAll(e.Body)
			if n > 0 {
				checkBase64Lines(t, raw)
			} else if len(raw) != 0 {
				t.Errorf("empty content gave body %q", raw)
			}
			e2, _ := ReadEntity(bytes.NewReader(msg))
			dec, err := DecodeBody(e2)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(dec)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("decoded %d bytes (%v), want %d", len(got), err, n)
			}
		})
	}
	if _, err := NewPKCS7MimeWriter(io.Discard, Header{}, "signed data"); err == nil {
		t.Error("invalid smime-type accepted")
	}
	if _, err := NewPKCS7MimeWriter(failWriter{}, Header{}, "enveloped-data"); err == nil {
		t.Error("write error not reported")
	}
}

func TestBase64Lines(t *testing.T) {
	var out bytes.Buffer
	w := newBase64Writer(&out)
	w.Write(make([]byte, 57*3)) // exactly three full lines
	w.Close()
	if want := strings.Repeat(strings.Repeat("A", 76)+"\r\n", 3); out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestDecodeBody(t *testing.T) {
	tests := []struct {
		name    string
		cte     string
		body    string
		want    string
		wantErr string // from DecodeBody or reading
	}{
		{"none", "", "raw\r\nbytes", "raw\r\nbytes", ""},
		{"7bit", "7bit", "abc", "abc", ""},
		{"8bit upper case", "8BIT", "caf\xc3\xa9", "caf\xc3\xa9", ""},
		{"binary", "binary", "\x00\x01\r\n", "\x00\x01\r\n", ""},
		{"base64 crlf", "base64", "aGVs\r\nbG8=\r\n", "hello", ""},
		{"base64 lf and spaces", " Base64 ", "aGVs\n bG8=\t\n\n", "hello", ""},
		{"base64 invalid", "base64", "aGVs!!!!", "", "illegal"},
		{"base64 truncated", "base64", "aGVsbG", "", "EOF"},
		{"quoted-printable", "quoted-printable", "caf=C3=A9 soft=\r\nbreak\r\n", "caf\xc3\xa9 softbreak\r\n", ""},
		{"quoted-printable lf", "quoted-printable", "a=3Db=\nc\n", "a=bc\n", ""},
		{"unknown", "x-uuencode", "begin", "", "unsupported Content-Transfer-Encoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := "Content-Type: application/octet-stream\r\n"
			if tc.cte != "" {
				hdr += "Content-Transfer-Encoding:" + tc.cte + "\r\n"
			}
			e, err := ReadEntity(strings.NewReader(hdr + "\r\n" + tc.body))
			if err != nil {
				t.Fatal(err)
			}
			r, err := DecodeBody(e)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(r)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := DecodeBody(&Entity{}); err == nil {
		t.Error("entity without body accepted")
	}
}

func TestBase64LargeRoundTrip(t *testing.T) {
	data := make([]byte, 1<<20+5)
	for i := range data {
		data[i] = byte(i >> 3)
	}
	var out bytes.Buffer
	w := newBase64Writer(&out)
	w.Write(data)
	w.Close()
	checkBase64Lines(t, out.Bytes())
	got, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(out.String(), "\r\n", ""))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("round trip failed: %v", err)
	}
}
