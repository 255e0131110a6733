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
