package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestLineEndForgery: line ends other parsers read otherwise in the outer
// header (red team, after issue #11 item 2). This package read "X-A:
// x<CR>From: alice@example.com" as one X-A field and checked carol's From
// below it; Thunderbird's parsers end the line at the CR and see alice's
// From too. A header ending in LF CR LF ended here, while jsmime reads on,
// into what is the preamble here. Such headers are refused as ambiguous:
// exit 1, smime=permerror, nothing released.
func TestLineEndForgery(t *testing.T) {
	l := labtest.Default(t)
	carol := l.User("carol")
	signed := signWith(t, sign.Options{Key: carol.Key, Certificate: carol.Cert, Chain: l.Chain(), Mode: sign.Clear},
		[]byte(message("carol@example.com")))
	// lfcrlf ends the outer header in LF CR LF and puts a From after it:
	// the preamble here, a header field for jsmime, which ends a header
	// only at a repeated line end.
	lfcrlf := bytes.Replace(signed, []byte("\r\n\r\n"), []byte("\n\r\nFrom: alice@example.com\r\n\r\n"), 1)
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"a From behind a bare CR", append([]byte("X-A: x\rFrom: alice@example.com\r\n"), signed...), "a bare CR"},
		{"a Sender behind a bare CR", append([]byte("Received: by mx.example.com\rSender: alice@example.com\r\n"), signed...), "a bare CR"},
		{"a header ending early behind CR CR LF", append([]byte("X-A: x\r\r\n"), signed...), "a bare CR"},
		{"a From after LF CR LF", lfcrlf, "a header that ends in LF CR LF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(msg), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
			})
			if err == nil || res != nil && res.Valid || out.Len() != 0 {
				t.Fatalf("got error %v, valid %v, %d bytes released; want a failure and nothing released", err, res != nil && res.Valid, out.Len())
			}
			if !strings.Contains(err.Error(), "ambiguous MIME structure: "+tc.want) {
				t.Errorf("got error %q, want it to say %q", err, tc.want)
			}
			if ar := verify.AuthenticationResults("mx.example.com", res, err); !strings.Contains(ar, "smime=permerror") {
				t.Errorf("got %q, want smime=permerror", ar)
			}
		})
	}
}

// TestBareCRDelimiter: a boundary after a bare CR in the body of a
// multipart/signed message (red team, after issue #11 item 9). Thunderbird's
// parsers (jsmime, libmime) end a line at a bare CR, so "x<CR>--boundary" in
// the preamble of alice's genuine message opens a first part there, with the
// attacker's text, while this package and Dovecot read it as preamble and
// said smime=pass for alice. Refused as ambiguous.
func TestBareCRDelimiter(t *testing.T) {
	l := labtest.Default(t)
	alice := l.User("alice-sign")
	signed := signWith(t, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Mode: sign.Clear},
		[]byte(message("alice@example.com")))
	i := bytes.Index(signed, []byte("\r\n--"))
	j := bytes.Index(signed[i+4:], []byte("\r\n"))
	if i < 0 || j < 0 {
		t.Fatal("no delimiter in the signed message")
	}
	delim := string(signed[i+2 : i+4+j])
	forged := bytes.Replace(signed, []byte("\r\n"+delim+"\r\n"),
		[]byte("\r\nx\r"+delim+"\r\nContent-Type: text/plain\r\n\r\nPlease wire the money to account 666.\r\n"+delim+"\r\n"), 1)
	var out bytes.Buffer
	res, err := verify.Open(context.Background(), &out, bytes.NewReader(forged), verify.Options{
		Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
	})
	if err == nil || res != nil && res.Valid || out.Len() != 0 {
		t.Fatalf("got error %v, valid %v, %d bytes released; want a failure and nothing released", err, res != nil && res.Valid, out.Len())
	}
	if !strings.Contains(err.Error(), "ambiguous MIME structure: a boundary after a bare CR") {
		t.Errorf("got error %q", err)
	}
	if ar := verify.AuthenticationResults("mx.example.com", res, err); !strings.Contains(ar, "smime=permerror") {
		t.Errorf("got %q, want smime=permerror", ar)
	}
}

// TestSignedPartLFCRLF: the header of the signed part ends in LF CR LF
// (red team, after issue #11 item 9). carol signs, with header protection
// and no From inside, a body that starts "From: alice@example.com"; in
// transit the line end before the blank line becomes a bare LF, which
// canonicalisation restores, so the signature holds. jsmime ends a header
// only at a repeated line end and reads alice's From as a protected field;
// this package read it as body and checked the outer From, carol's.
func TestSignedPartLFCRLF(t *testing.T) {
	l := labtest.Default(t)
	carol := l.User("carol")
	signed := signWith(t, sign.Options{Key: carol.Key, Certificate: carol.Cert, Chain: l.Chain(), Mode: sign.Clear,
		ProtectHeaders: true, Force: true},
		[]byte("To: bob@example.com\r\nSubject: money\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"+
			"From: alice@example.com\r\n\r\nPlease wire the money.\r\n"))
	signed = append([]byte("From: carol@example.com\r\n"), signed...)
	forged := bytes.Replace(signed, []byte("\r\n\r\nFrom: alice@example.com"), []byte("\n\r\nFrom: alice@example.com"), 1)
	if bytes.Equal(forged, signed) {
		t.Fatal("no signed part header to end in LF CR LF")
	}
	var out bytes.Buffer
	res, err := verify.Open(context.Background(), &out, bytes.NewReader(forged), verify.Options{
		Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
	})
	if err == nil || res != nil && res.Valid || out.Len() != 0 {
		t.Fatalf("got error %v, valid %v, %d bytes released; want a failure and nothing released", err, res != nil && res.Valid, out.Len())
	}
	if !strings.Contains(err.Error(), "ambiguous MIME structure: a header that ends in LF CR LF") {
		t.Errorf("got error %q", err)
	}
}
