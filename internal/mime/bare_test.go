package mime

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// A SignedData ContentInfo's start, DER and BER, with a little content.
var (
	derCMS = []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x00}
	berCMS = []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0, 0, 0, 0}
)

func wrap64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 64 {
		out.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return out.String() + s + "\n"
}

// Issue #15 item 1: OpenInput tells mail from bare CMS files and words the rest.
func TestOpenInput(t *testing.T) {
	big := bytes.Repeat(derCMS, 1)
	tests := []struct {
		name  string
		in    string
		form  Form
		want  Form
		body  string // the decoded body expected from the entity, when not ""
		start string // the NotMailError's Start, when an error is expected
	}{
		{"mail", "From: a@example.com\r\nSubject: x\r\n\r\nhi\r\n", FormAuto, FormMIME, "", ""},
		{"mbox From line", "From a@example.com Sat Jan  1 00:00:00 2026\nFrom: a\n\nhi\n", FormAuto, FormMIME, "", ""},
		{"empty header", "\r\nbody\r\n", FormAuto, FormMIME, "", ""},
		{"empty input", "", FormAuto, FormMIME, "", ""},
		{"DER", string(big), FormAuto, FormDER, string(big), ""},
		{"BER", string(berCMS), FormAuto, FormDER, string(berCMS), ""},
		{"PEM CMS", string(pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: derCMS})), FormAuto, FormPEM, string(derCMS), ""},
		{"PEM PKCS7 after blank lines", "\n\n" + string(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: berCMS})) + "trailing text\n", FormAuto, FormPEM, string(berCMS), ""},
		{"PEM CRLF", strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "PKCS #7 SIGNED DATA", Bytes: derCMS})), "\n", "\r\n"), FormAuto, FormPEM, string(derCMS), ""},
		{"bare base64", wrap64(derCMS), FormAuto, FormPEM, string(derCMS), ""},
		{"forced der", "anything", FormDER, FormDER, "anything", ""},
		{"forced pem, bare", wrap64(berCMS), FormPEM, FormPEM, string(berCMS), ""},
		{"binary", "\x00\x01\x02\xff\xfe garbage", FormAuto, FormAuto, "", "binary data"},
		{"a SEQUENCE that is not a ContentInfo", "\x30\x03\x02\x01\x01", FormAuto, FormAuto, "", "binary data"},
		{"text", "This is a test message.\r\nMore.\r\n", FormAuto, FormAuto, "", "text that is not a header field"},
		{"base64 of something else", wrap64([]byte("hello world, not CMS at all")), FormAuto, FormAuto, "", "base64 that is not a CMS message"},
		{"PEM certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", FormAuto, FormAuto, "", "a PEM CERTIFICATE block, not a CMS message"},
		{"PEM label with control bytes", "-----BEGIN \x01\x02-----\n", FormAuto, FormAuto, "", "a PEM ?? block, not a CMS message"},
		{"not a PEM line", "-----BEGIN CMS\n", FormAuto, FormAuto, "", "a line that looks like a PEM header but is not one"},
		{"forced smime on DER", string(derCMS), FormMIME, FormAuto, "", "binary data"},
		{"forced smime on mail", "Subject: x\n\nhi", FormMIME, FormMIME, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, form, err := OpenInput(strings.NewReader(tc.in), tc.form)
			if tc.start != "" {
				var ne *NotMailError
				if !errors.As(err, &ne) || ne.Start != tc.start {
					t.Fatalf("got %v, want a NotMailError starting with %q", err, tc.start)
				}
				if strings.Contains(err.Error(), "\\x") {
					t.Errorf("error %q quotes bytes", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenInput: %v", err)
			}
			if form != tc.want {
				t.Errorf("form %v, want %v", form, tc.want)
			}
			if !form.Bare() {
				// Mail comes back as it was given.
				got, _ := io.ReadAll(r)
				if string(got) != tc.in {
					t.Errorf("mail changed: %q", got)
				}
				return
			}
			e, err := ReadEntity(r)
			if err != nil {
				t.Fatalf("ReadEntity: %v", err)
			}
			if mt, _, _ := e.Header.MediaType(); mt != "application/pkcs7-mime" {
				t.Errorf("media type %q", mt)
			}
			if e.Header.Get("From") != "" {
				t.Errorf("a bare file got a From field")
			}
			body, err := DecodeBody(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(body)
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if string(got) != tc.body {
				t.Errorf("body %x, want %x", got, tc.body)
			}
		})
	}
}

// PEM blocks that end early or wrongly fail when read, never as a shorter CMS.
func TestOpenInputBrokenPEM(t *testing.T) {
	full := string(pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: bytes.Repeat(derCMS, 20)}))
	for _, tc := range []struct{ name, in string }{
		{"no END line", full[:strings.Index(full, "-----END")]},
		{"cut mid-line", full[:len(full)/2]},
		{"another END", strings.Replace(full, "-----END CMS-----", "-----END PKCS7-----", 1)},
		{"not base64 inside", "-----BEGIN CMS-----\nthis is * not base64\n-----END CMS-----\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := OpenInput(strings.NewReader(tc.in), FormAuto)
			if err != nil {
				t.Fatal(err)
			}
			e, err := ReadEntity(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := DecodeBody(e)
			if _, err := io.ReadAll(body); err == nil {
				t.Errorf("read a broken PEM block without an error")
			}
		})
	}
}

// A hostile input: 8 MiB of one base64 line, or of binary, is decided from its
// first bytes, quickly, and streams through.
func TestOpenInputLarge(t *testing.T) {
	huge := bytes.Repeat([]byte("QUFB"), 2<<20)
	start := time.Now()
	_, _, err := OpenInput(bytes.NewReader(huge), FormAuto)
	var ne *NotMailError
	if !errors.As(err, &ne) {
		t.Errorf("got %v, want a NotMailError", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}

// Issue #15 item 4: content without a header is told from an entity.
func TestStartsEntity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"Content-Type: text/plain\r\n\r\nhi", true},
		{"\r\nbody", true},
		{"", true},
		{" folded", true},
		{"This is a test message.\r\n", false},
		{"Hello world: a colon after a space\r\n", false},
		{"Note:this reads as a field\r\n", true},
		{"\x00\x01binary", false},
	} {
		if got := StartsEntity([]byte(tc.in)); got != tc.want {
			t.Errorf("StartsEntity(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTextWriter(t *testing.T) {
	for _, tc := range []struct {
		chunks []string
		want   bool
	}{
		{[]string{"plain text\r\n", "more\ttabs\f"}, true},
		{[]string{"caf\xc3", "\xa9 split rune"}, true},
		{[]string{"cut rune at the end \xc3"}, false},
		{[]string{"nul \x00"}, false},
		{[]string{"invalid \xff utf-8"}, false},
		{[]string{"del \x7f"}, false},
	} {
		var w TextWriter
		for _, c := range tc.chunks {
			w.Write([]byte(c))
		}
		if got := w.Text(); got != tc.want {
			t.Errorf("Text(%q) = %v, want %v", tc.chunks, got, tc.want)
		}
	}
}

// FuzzOpenInput: no input panics or stalls OpenInput; mail comes back byte for
// byte; a bare file's entity carries nothing but the CMS (no From), and never
// more bytes than the input.
func FuzzOpenInput(f *testing.F) {
	f.Add([]byte("From: a@example.com\r\n\r\nhi\r\n"), uint8(0))
	f.Add(derCMS, uint8(0))
	f.Add(berCMS, uint8(0))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: derCMS}), uint8(0))
	f.Add([]byte(wrap64(berCMS)), uint8(0))
	f.Add([]byte("-----BEGIN PKCS7-----\nMIAG\n"), uint8(3))
	f.Add([]byte("text\n"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, form uint8) {
		r, got, err := OpenInput(bytes.NewReader(in), Form(form%4))
		if err != nil {
			var ne *NotMailError
			if !errors.As(err, &ne) {
				t.Fatalf("error %v is not a NotMailError", err)
			}
			return
		}
		out, err := io.ReadAll(io.LimitReader(r, int64(len(in))+200))
		if err != nil && !got.Bare() {
			t.Fatalf("reading mail: %v", err)
		}
		if got == FormMIME {
			if !bytes.Equal(out, in) {
				t.Fatalf("mail changed: %q -> %q", in, out)
			}
			return
		}
		if !got.Bare() {
			t.Fatalf("form %v", got)
		}
		e, err := ReadEntity(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("the bare entity's header: %v", err)
		}
		if e.Header.Len() != 2 || e.Header.Get("From") != "" {
			t.Fatalf("bare header %v", e.Header.Fields())
		}
		if len(out) > len(in)+100 {
			t.Fatalf("%d bytes out of %d", len(out), len(in))
		}
	})
}
