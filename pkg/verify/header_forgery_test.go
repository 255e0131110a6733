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

// TestBareCRForgery: a CR not followed by LF in the outer header (red team,
// after issue #11 item 2). This package read "X-A: x<CR>From:
// alice@example.com" as one X-A field and checked carol's From below it;
// Thunderbird ends the line at the CR and shows the first From, alice's. The
// header is refused as ambiguous: exit 1, smime=permerror, nothing released.
func TestBareCRForgery(t *testing.T) {
	l := labtest.Default(t)
	carol := l.User("carol")
	signed := signWith(t, sign.Options{Key: carol.Key, Certificate: carol.Cert, Chain: l.Chain(), Mode: sign.Clear},
		[]byte(message("carol@example.com")))
	tests := []struct{ name, before string }{
		{"a From behind a bare CR", "X-A: x\rFrom: alice@example.com\r\n"},
		{"a Sender behind a bare CR", "Received: by mx.example.com\rSender: alice@example.com\r\n"},
		{"a header ending early behind CR CR LF", "X-A: x\r\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := append([]byte(tc.before), signed...)
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(msg), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
			})
			if err == nil || res != nil && res.Valid || out.Len() != 0 {
				t.Fatalf("got error %v, valid %v, %d bytes released; want a failure and nothing released", err, res != nil && res.Valid, out.Len())
			}
			if !strings.Contains(err.Error(), "ambiguous MIME structure: a bare CR") {
				t.Errorf("got error %q, want it to name the bare CR", err)
			}
			if ar := verify.AuthenticationResults("mx.example.com", res, err); !strings.Contains(ar, "smime=permerror") {
				t.Errorf("got %q, want smime=permerror", ar)
			}
		})
	}
}
