package testpeer

import (
	"bytes"
	"encoding/asn1"
	"strings"
	"testing"
)

// crlf turns the LF line ends of a readable literal into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const multipartMsg = `MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="XyZ"

preamble
--XyZ
Content-Type: text/plain

first line
--XyZnot a delimiter
--XyZ  
Content-Type: application/pkcs7-signature
Content-Transfer-Encoding: base64

aGVs
bG8=
--XyZ
Content-Type: text/plain
Content-Transfer-Encoding: quoted-printable

caf=C3=A9 soft=
break
--XyZ--
epilogue
`

func TestMIMEPartRaw(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		n    int
		want string
		err  string
	}{
		{"first part, LF made CRLF", multipartMsg, 1,
			"Content-Type: text/plain\r\n\r\nfirst line\r\n--XyZnot a delimiter", ""},
		{"padding after boundary", multipartMsg, 2,
			crlf("Content-Type: application/pkcs7-signature\nContent-Transfer-Encoding: base64\n\naGVs\nbG8="), ""},
		{"CRLF input", crlf(multipartMsg), 3,
			crlf("Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 soft=\nbreak"), ""},
		{"out of range", multipartMsg, 4, "", "has 3 parts"},
		{"zero", multipartMsg, 0, "", "has 3 parts"},
		{"no closing boundary", strings.TrimSuffix(multipartMsg, "--XyZ--\nepilogue\n"), 1, "", "no closing boundary"},
		{"not multipart", "Content-Type: text/plain\n\nhi\n", 1, "", "not multipart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MIMEPartRaw([]byte(tc.msg), tc.n)
			checkResult(t, got, err, tc.want, tc.err)
		})
	}
}

func TestMIMEPart(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
		err  string
	}{
		{"identity", 1, "first line\n--XyZnot a delimiter", ""},
		{"base64", 2, "hello", ""},
		{"quoted-printable", 3, "café softbreak", ""},
		{"out of range", 4, "", "has 3 parts, not 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MIMEPart([]byte(multipartMsg), tc.n)
			checkResult(t, got, err, tc.want, tc.err)
		})
	}
}

func checkResult(t *testing.T, got []byte, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("got error %v, want one containing %q", err, wantErr)
		}
		if got != nil {
			t.Errorf("got %q with the error, want nil", got)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// cmsHeader returns the start of a ContentInfo of type oid, with a
// definite or an indefinite outer length.
func cmsHeader(t *testing.T, oid asn1.ObjectIdentifier, indefinite bool) []byte {
	t.Helper()
	o, err := asn1.Marshal(oid)
	if err != nil {
		t.Fatal(err)
	}
	if indefinite {
		return append(append([]byte{0x30, 0x80}, o...), 0xa0, 0x80, 0x05, 0x00, 0, 0, 0, 0)
	}
	body := append(o, 0xa0, 0x02, 0x05, 0x00)
	full, err := asn1.Marshal(asn1.RawValue{Class: 0, Tag: 16, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	return full
}

func TestWrapPKCS7MIMERoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		oid        asn1.ObjectIdentifier
		indefinite bool
		smimeType  string
	}{
		{"signed DER", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, false, "signed-data"},
		{"signed BER", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, true, "signed-data"},
		{"enveloped", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}, true, "enveloped-data"},
		{"authEnveloped", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}, false, "authEnveloped-data"},
		{"long", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, true, "signed-data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cms := cmsHeader(t, tc.oid, tc.indefinite)
			if tc.name == "long" {
				cms = append(cms, bytes.Repeat([]byte{0}, 500)...)
			}
			msg, err := WrapPKCS7MIME(cms)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(msg, []byte("smime-type="+tc.smimeType+";")) {
				t.Errorf("message lacks smime-type=%s:\n%s", tc.smimeType, msg)
			}
			if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("message has bare LF line ends")
			}
			got, err := SMIMEBody(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, cms) {
				t.Errorf("round trip: got %x, want %x", got, cms)
			}
		})
	}
}

func TestWrapPKCS7MIMEErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		err  string
	}{
		{"empty", nil, "not a CMS ContentInfo"},
		{"not a SEQUENCE", []byte{0x04, 0x01, 0x00}, "not a CMS ContentInfo"},
		{"truncated length", []byte{0x30, 0x84, 0x00}, "truncated"},
		{"no OID", []byte{0x30, 0x80, 0x04, 0x00}, "reading CMS content type"},
		{"data", cmsHeader(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, false), "has no smime-type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WrapPKCS7MIME(tc.in)
			checkResult(t, got, err, "", tc.err)
		})
	}
}

func TestSMIMEBodyErrors(t *testing.T) {
	tests := []struct {
		name, msg, err string
	}{
		{"multipart", multipartMsg, "not application/pkcs7-mime"},
		{"not base64", "Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: binary\n\nxx", "not base64"},
		{"bad base64", "Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\n!!!!\n", "decoding"},
		{"no header", "", "reading message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SMIMEBody([]byte(tc.msg))
			checkResult(t, got, err, "", tc.err)
		})
	}
}

func TestWrapSignedRoundTrip(t *testing.T) {
	content := []byte(crlf("Content-Type: text/plain\n\nline one\n--not a boundary\n"))
	sig := bytes.Repeat([]byte{0x30, 0x80, 0xff}, 100)
	msg, err := WrapSigned(content, sig, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msg, []byte(`protocol="application/pkcs7-signature"; micalg=sha-256;`)) {
		t.Errorf("Content-Type lacks protocol or micalg:\n%s", msg)
	}
	again, err := WrapSigned(content, sig, "")
	if err != nil || !bytes.Equal(again, msg) {
		t.Errorf("WrapSigned is not reproducible (err %v)", err)
	}
	part1, err := MIMEPartRaw(msg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part1, content) {
		t.Errorf("part 1: got %q, want %q", part1, content)
	}
	part2, err := MIMEPart(msg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part2, sig) {
		t.Errorf("part 2: got %x, want %x", part2, sig)
	}
	other, err := WrapSigned(content, sig, "sha-512")
	if err != nil || !bytes.Contains(other, []byte("micalg=sha-512;")) {
		t.Errorf("micalg sha-512: err %v, message:\n%s", err, other)
	}
}

func TestWrapSignedRejectsLF(t *testing.T) {
	got, err := WrapSigned([]byte("Content-Type: text/plain\n\nhi\n"), []byte{0x30, 0}, "")
	checkResult(t, got, err, "", "bare LF")
}
