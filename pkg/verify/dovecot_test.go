package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/internal/testpeer"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestDovecotDifferential: issue #11 item 9. What is marked smime=pass must
// be what the mail client shows: a real Dovecot (IMAP FETCH BODY[1.MIME] and
// BODY[1]) reads every message of the table, and whenever filter mode would
// write smime=pass, Dovecot's first part must be byte for byte the part that
// was verified. The attacks (a preamble line that Dovecot takes for a
// delimiter, a delimiter padded past the reader's buffer, fields given twice,
// a nested boundary overlapping the outer one...) must not pass.
func TestDovecotDifferential(t *testing.T) {
	dc := testpeer.StartDovecot(t)
	l := labtest.Default(t)
	u := l.User("alice-sign")
	signMsg := func(t *testing.T, msg string) []byte {
		var out bytes.Buffer
		if err := sign.Sign(context.Background(), &out, strings.NewReader(msg), sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(),
			Mode: sign.Clear, Now: func() time.Time { return at.Add(-time.Hour) }}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	honest := signMsg(t, message("alice@example.com"))
	b := regexp.MustCompile(`boundary="([^"]+)"`).FindSubmatch(honest)
	if b == nil {
		t.Fatal("no boundary in the signed message")
	}
	delim := "--" + string(b[1])
	open := bytes.Index(honest, []byte(delim+"\r\n")) // the opening delimiter
	hdrEnd := bytes.Index(honest, []byte("\r\n\r\n")) + 2
	if open < hdrEnd || hdrEnd < 2 {
		t.Fatal("no opening delimiter after the header")
	}
	insert := func(at int, s string) []byte {
		return append(append(append([]byte(nil), honest[:at]...), s...), honest[at:]...)
	}
	// inject puts text before the opening delimiter, as preamble.
	inject := func(pre string) []byte { return insert(open, "preamble\r\n"+pre) }
	evil := "Content-Type: text/plain\r\n\r\nPay mallory.\r\n"
	// A signed multipart whose own boundary is a prefix of the outer one:
	// sign writes the outer boundary as "----=_smimectl_" and random hex.
	nested := signMsg(t, "From: alice@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"----=_smimectl_\"\r\n\r\n"+
		"------=_smimectl_\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n------=_smimectl_--\r\n")
	tb, tbOpts := thunderbird(t)

	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	tests := []struct {
		name   string
		msg    []byte
		opts   verify.Options
		attack bool
		shown  string // for attacks: text Dovecot shows as part 1
	}{
		{name: "lab clear-signed", msg: honest, opts: opts},
		{name: "thunderbird vector", msg: tb, opts: tbOpts},
		{name: "delimiter with a little transport padding", msg: insert(open+len(delim), strings.Repeat(" ", 500)), opts: opts},
		{name: "epilogue", msg: append(append([]byte(nil), honest...), "epilogue text\r\n"...), opts: opts},
		{name: "preamble line with the boundary and more", msg: inject(delim + "x\r\n" + evil), opts: opts, attack: true, shown: "Pay mallory."},
		{name: "delimiter padded past the reader's buffer", msg: inject(delim + strings.Repeat(" ", 70000) + "\r\n" + evil), opts: opts, attack: true, shown: "Pay mallory."},
		{name: "boundary in another case", msg: inject(strings.ToUpper(delim) + "\r\n" + evil), opts: opts, attack: true},
		{name: "second Content-Type", msg: insert(hdrEnd, "Content-Type: text/plain\r\n"), opts: opts, attack: true},
		{name: "second Content-Transfer-Encoding", msg: insert(hdrEnd, "Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: 7bit\r\n"), opts: opts, attack: true},
		{name: "delimiter in the epilogue", msg: append(append([]byte(nil), honest...), delim+"\r\n"+evil+delim+"--\r\n"...), opts: opts, attack: true},
		{name: "nested boundary a prefix of the outer one", msg: nested, opts: opts, attack: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verify.Open(context.Background(), io.Discard, bytes.NewReader(tc.msg), tc.opts)
			field := verify.AuthenticationResults("mx.example.com", res, err)
			pass := strings.Contains(field, "smime=pass") && !strings.Contains(field, "smime=permerror") && !strings.Contains(field, "smime=fail")
			box := dc.Deliver(t, tc.msg)
			shown := append(dc.Fetch(t, box, "body.1.mime"), dc.Fetch(t, box, "body.1")...)
			if tc.shown != "" && !bytes.Contains(shown, []byte(tc.shown)) {
				t.Errorf("Dovecot's part 1 is %q, want the attack's %q (the attack no longer shows)", trim(shown), tc.shown)
			}
			if tc.attack {
				if pass || !strings.Contains(field, "ambiguous MIME structure") {
					t.Errorf("got %s, want permerror \"ambiguous MIME structure\"", field)
				}
				return
			}
			if !pass {
				t.Fatalf("honest message: got %s (%v)", field, err)
			}
			e, err := mime.ReadEntity(bytes.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			parts, err := mime.ReadSigned(e, mime.Spool{})
			if err != nil {
				t.Fatal(err)
			}
			defer parts.Close()
			r, err := parts.Content.Open()
			if err != nil {
				t.Fatal(err)
			}
			verified, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(shown, verified) {
				t.Errorf("smime=pass, but Dovecot shows %q as part 1 where %q was verified", trim(shown), trim(verified))
			}
		})
	}
}

func trim(b []byte) []byte { return b[:min(len(b), 200)] }

// thunderbird is the Thunderbird vector and the options it verifies with.
func thunderbird(t *testing.T) ([]byte, verify.Options) {
	dir := "../../../shared/vectors/mimekit/"
	msg, err := os.ReadFile(dir + "thunderbird-signed.txt")
	if err != nil {
		t.Fatalf("the shared vectors must be next to the checkout: %v", err)
	}
	var roots []*x509.Certificate
	for _, f := range []string{"StartComCertificationAuthority.crt", "StartComClass1PrimaryIntermediateClientCA.crt"} {
		b, err := os.ReadFile(dir + f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parsePEMCert(b)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, c)
	}
	then := time.Date(2013, 11, 2, 20, 28, 4, 0, time.UTC)
	return msg, verify.Options{Roots: roots[:1], Intermediates: roots[1:], Now: func() time.Time { return then }}
}
