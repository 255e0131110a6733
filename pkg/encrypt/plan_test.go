package encrypt

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/certsel"
)

// TestPlanRecipients (issue #17 item 3): the planning that lived in the
// command — each address once, the --allow-missing policy, the certificate
// and rule for every address, what is missing — is the library's.
func TestPlanRecipients(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	var found []certsel.Found
	for _, u := range l.Users {
		found = append(found, certsel.Found{Cert: u.Cert, Origin: u.Name})
	}
	sel := certsel.Options{Sources: []certsel.Source{certsel.Memory{Name: "lab", Found: found}}, Now: now,
		Roots: []*x509.Certificate{l.Root.Cert}, Intermediates: []*x509.Certificate{l.Intermediate.Cert}}
	bob, carol, alice := l.User("bob").Cert, l.User("carol").Cert, l.User("alice-encrypt").Cert
	type want struct {
		recipients []string // "role:addresses:origin"
		missing    []string
		duplicates []string
		err        string // "" none, "missing", "limit", "none"
		cipher     Cipher
	}
	for _, tc := range []struct {
		name  string
		addrs []string
		opts  func(*PlanOptions)
		want  want
	}{
		{"found", []string{"bob@example.com", "carol@example.com"}, nil,
			want{recipients: []string{"recipient:bob@example.com:bob", "recipient:carol@example.com:carol"}, cipher: AES256CBC}},
		{"missing stops", []string{"bob@example.com", "dave@example.com", "zoe@example.com"}, nil,
			want{recipients: []string{"recipient:bob@example.com:bob"}, missing: []string{"dave@example.com", "zoe@example.com"}, err: "missing"}},
		{"allow missing", []string{"bob@example.com", "zoe@example.com"}, func(o *PlanOptions) { o.AllowMissing = true },
			want{recipients: []string{"recipient:bob@example.com:bob"}, missing: []string{"zoe@example.com"}, cipher: AES256CBC}},
		{"allow missing, only the sender left", []string{"zoe@example.com"}, func(o *PlanOptions) { o.AllowMissing, o.Sender = true, alice },
			want{recipients: []string{"sender::"}, missing: []string{"zoe@example.com"}, err: "missing"}},
		{"allow missing, a certificate given", []string{"zoe@example.com"}, func(o *PlanOptions) {
			o.AllowMissing, o.Certificates = true, []*x509.Certificate{carol}
		}, want{recipients: []string{"certificate::"}, missing: []string{"zoe@example.com"}, cipher: AES256CBC}},
		{"duplicates looked up once", []string{"bob@example.com", "bob@EXAMPLE.com", "carol@example.com", "bob@example.com"}, nil,
			want{recipients: []string{"recipient:bob@example.com:bob", "recipient:carol@example.com:carol"},
				duplicates: []string{"bob@EXAMPLE.com", "bob@example.com"}, cipher: AES256CBC}},
		{"local parts are not folded", []string{"bob@example.com", "BOB@example.com"}, nil,
			want{recipients: []string{"recipient:bob@example.com:bob"}, missing: []string{"BOB@example.com"}, err: "missing"}},
		{"a given certificate and an address share one entry", []string{"bob@example.com"}, func(o *PlanOptions) {
			o.Certificates, o.Sender = []*x509.Certificate{bob}, alice
		}, want{recipients: []string{"certificate:bob@example.com:bob", "sender::"}, cipher: AES256CBC}},
		{"GCM when asked alone", []string{"carol@example.com"}, func(o *PlanOptions) { o.Ciphers = []Cipher{AES256GCM} },
			want{recipients: []string{"recipient:carol@example.com:carol"}, cipher: AES256GCM}},
		{"limit", []string{"a@example.com", "b@example.com"}, func(o *PlanOptions) { o.MaxRecipients = 1 }, want{err: "limit"}},
		{"nobody", nil, nil, want{err: "none"}},
		{"untrusted without roots", []string{"bob@example.com"}, func(o *PlanOptions) { o.Select.Roots = nil },
			want{missing: []string{"bob@example.com"}, err: "missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := PlanOptions{Select: sel}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			p, err := PlanRecipients(context.Background(), tc.addrs, opts)
			var me *certsel.MissingError
			var le *certsel.LimitError
			switch tc.want.err {
			case "":
				if err != nil {
					t.Fatal(err)
				}
			case "missing":
				if !errors.As(err, &me) || p == nil {
					t.Fatalf("got %v, %v; want a plan and a *certsel.MissingError", p, err)
				}
			case "limit":
				if !errors.As(err, &le) || p != nil {
					t.Fatalf("got %v, %v; want a *certsel.LimitError", p, err)
				}
				return
			case "none":
				if err == nil || !strings.Contains(err.Error(), "no recipients") {
					t.Fatalf("got %v, %v", p, err)
				}
				return
			}
			var got []string
			for _, rp := range p.Recipients {
				origin := ""
				if rp.Selection != nil {
					origin = rp.Selection.Origin
					if rule, _ := rp.Selection.Decided(); rule != certsel.Passed {
						t.Errorf("%v: decided by %v", rp.Addresses, rule)
					}
				}
				got = append(got, rp.Role.String()+":"+strings.Join(rp.Addresses, ",")+":"+origin)
			}
			if !slices.Equal(got, tc.want.recipients) {
				t.Errorf("recipients %q, want %q", got, tc.want.recipients)
			}
			var missing []string
			for _, nm := range p.Missing {
				missing = append(missing, nm.Address)
			}
			if !slices.Equal(missing, tc.want.missing) || !slices.Equal(p.Duplicates, tc.want.duplicates) {
				t.Errorf("missing %q, duplicates %q; want %q, %q", missing, p.Duplicates, tc.want.missing, tc.want.duplicates)
			}
			if p.Cipher != tc.want.cipher {
				t.Errorf("cipher %v, want %v", p.Cipher, tc.want.cipher)
			}
			if tc.want.cipher != 0 && len(p.Certificates()) != len(p.Recipients) {
				t.Errorf("Certificates() lists %d of %d", len(p.Certificates()), len(p.Recipients))
			}
		})
	}
}

// TestPlanMatchesEncrypt: a message encrypted to a plan's certificates gets
// the plan's cipher and key transports (the plan is what Encrypt will do).
func TestPlanMatchesEncrypt(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	found := []certsel.Found{{Cert: l.User("bob").Cert, Origin: "bob"}, {Cert: l.User("carol").Cert, Origin: "carol"}}
	caps := func(c *x509.Certificate) (Capabilities, error) {
		if c.Equal(l.User("bob").Cert) {
			return Capabilities{Source: SourceSignedMail, At: testNow, Ciphers: []Cipher{AES256GCM, AES256CBC}, OAEP: true}, nil
		}
		return Capabilities{}, nil
	}
	p, err := PlanRecipients(context.Background(), []string{"bob@example.com", "carol@example.com"}, PlanOptions{
		Select:       certsel.Options{Sources: []certsel.Source{certsel.Memory{Name: "lab", Found: found}}, Now: now, SkipTrust: true},
		Capabilities: caps,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got Plan
	encryptMsg(t, testMsg, Options{Recipients: p.Certificates(), Capabilities: caps, OnPlan: func(pl Plan) { got = pl }})
	if got.Cipher != p.Cipher || got.Why != p.Why || len(got.Recipients) != len(p.Recipients) {
		t.Fatalf("Encrypt chose %v (%s), the plan %v (%s)", got.Cipher, got.Why, p.Cipher, p.Why)
	}
	for i, rp := range p.Recipients {
		if got.Recipients[i].KeyTransport() != rp.KeyTransport() || got.Recipients[i].Why != rp.Why {
			t.Errorf("recipient %d: Encrypt %s (%s), plan %s (%s)", i, got.Recipients[i].KeyTransport(), got.Recipients[i].Why, rp.KeyTransport(), rp.Why)
		}
	}
	if p.Recipients[0].KeyTransport() != "rsa-oaep" || p.Cipher != AES256CBC {
		t.Errorf("plan %v, bob %s", p.Cipher, p.Recipients[0].KeyTransport())
	}
}

// TestReadAddresses: the header's To, Cc and Bcc, the body never read; a
// header that does not end is an error, not a hang or a guess.
func TestReadAddresses(t *testing.T) {
	a, err := ReadAddresses(strings.NewReader(testMsg))
	if err != nil || !slices.Equal(a.To, []string{"bob@example.com", "carol@example.com"}) || !slices.Equal(a.Bcc, []string{"alice@example.com"}) {
		t.Fatalf("got %+v, %v", a, err)
	}
	if _, err := ReadAddresses(strings.NewReader("To: bob@example.com\r\nX: " + strings.Repeat("x", 10<<20))); err == nil {
		t.Error("a header line of 10 MB was read")
	}
	a, err = ReadAddresses(strings.NewReader("To: \"a\r\n b\" <x@example.com>, bad\x00@example.com\r\nCc: carol@example.com\r\n\r\n"))
	if err != nil || !slices.Equal(a.Cc, []string{"carol@example.com"}) {
		t.Errorf("got %+v, %v", a, err)
	}
}
