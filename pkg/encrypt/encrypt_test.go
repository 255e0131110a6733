package encrypt

import (
	"bytes"
	"crypto/x509"
	"errors"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func now() time.Time { return testNow }

const testMsg = "From: alice@example.com\r\nTo: bob@example.com, carol@example.com\r\n" +
	"Bcc: alice@example.com\r\nSubject: plans\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=us-ascii\r\n\r\nMeet at noon.\r\n"

func encryptMsg(t *testing.T, msg string, opts Options) []byte {
	t.Helper()
	var out bytes.Buffer
	if opts.Now == nil {
		opts.Now = now
	}
	if err := Encrypt(&out, strings.NewReader(msg), opts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestRoundTrip(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	users := []string{"alice-encrypt", "bob", "carol"}
	var certs []*x509.Certificate
	for _, u := range users {
		certs = append(certs, l.User(u).Cert)
	}
	for _, tc := range []struct {
		name      string
		opts      Options
		smimeType string
		cipher    Cipher
	}{
		{"default", Options{}, "enveloped-data", AES256CBC},
		// Issue #18 item 2: AES-GCM first in the list is used only when
		// every recipient advertised it.
		{"gcm-oaep-keyid", Options{Ciphers: []Cipher{AES256GCM, AES256CBC}, OAEP: true, SubjectKeyID: true, Capabilities: advertiseGCM}, "authEnveloped-data", AES256GCM},
		{"gcm-unknown-capabilities", Options{Ciphers: []Cipher{AES256GCM, AES256CBC}}, "enveloped-data", AES256CBC},
		{"default-all-advertise-gcm", Options{Capabilities: advertiseGCM}, "authEnveloped-data", AES256GCM},
		{"cbc-before-gcm", Options{Ciphers: []Cipher{AES128CBC, AES128GCM}}, "enveloped-data", AES128CBC},
		{"aes128gcm", Options{Ciphers: []Cipher{AES128GCM}}, "authEnveloped-data", AES128GCM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Recipients = certs
			enc := encryptMsg(t, testMsg, tc.opts)
			head := string(enc[:bytes.Index(enc, []byte("\r\n\r\n"))])
			for _, want := range []string{"From: alice@example.com", "Subject: plans", "smime-type=" + tc.smimeType, `name="smime.p7m"`} {
				if !strings.Contains(head, want) {
					t.Errorf("header lacks %q:\n%s", want, head)
				}
			}
			if strings.Contains(string(enc), "Bcc") || strings.Contains(string(enc), "Meet at noon") {
				t.Error("Bcc or plaintext in the output")
			}
			for _, u := range users {
				var out bytes.Buffer
				res, err := Decrypt(&out, bytes.NewReader(enc), DecryptOptions{Certificate: l.User(u).Cert, Key: l.User(u).Key})
				if err != nil {
					t.Fatalf("%s: %v", u, err)
				}
				got := out.String()
				if !strings.HasPrefix(got, "From: alice@example.com\r\n") || !strings.HasSuffix(got, "Content-Type: text/plain; charset=us-ascii\r\n\r\nMeet at noon.\r\n") {
					t.Errorf("%s: got %q", u, got)
				}
				if res.Cipher != tc.cipher || res.SMIMEType != tc.smimeType || len(res.Recipients) != 3 {
					t.Errorf("%s: got %+v", u, res)
				}
				us := 0
				for _, r := range res.Recipients {
					if r.Us {
						us++
					}
				}
				if us != 1 || res.KeyManagement == "" {
					t.Errorf("%s: %d recipients marked us, key management %q", u, us, res.KeyManagement)
				}
			}
		})
	}
}

func TestEncryptRefuses(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"signing-only", Options{Recipients: []*x509.Certificate{l.User("alice-sign").Cert}}, "key usage does not allow it"},
		{"expired", Options{Recipients: []*x509.Certificate{l.User("dave-expired").Cert}}, "expired"},
		{"3des", Options{Recipients: []*x509.Certificate{l.User("bob").Cert}, Ciphers: []Cipher{DES3CBC}}, "refusing"},
		{"gcm not first", Options{Recipients: []*x509.Certificate{l.User("bob").Cert}, Ciphers: []Cipher{0, AES256GCM}[1:2:2]}, ""},
		{"none", Options{}, "no recipients"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tc.opts.Now = now
			err := Encrypt(&out, strings.NewReader(testMsg), tc.opts)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Error("output written before the refusal")
			}
		})
	}
}

// advertiseGCM says every recipient's signed mail advertised AES-256-GCM,
// AES-256-CBC and RSAES-OAEP.
func advertiseGCM(*x509.Certificate) (Capabilities, error) {
	return Capabilities{Source: SourceSignedMail, At: now(), Ciphers: []Cipher{AES256GCM, AES256CBC}, OAEP: true}, nil
}

func TestResolve(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	byAddr := map[string]*x509.Certificate{
		"bob@example.com":   l.User("bob").Cert,
		"carol@example.com": l.User("carol").Cert,
		"alice@example.com": l.User("alice-encrypt").Cert,
	}
	var seen Addresses
	enc := encryptMsg(t, testMsg, Options{Resolve: func(a Addresses) ([]*x509.Certificate, error) {
		seen = a
		var out []*x509.Certificate
		for _, addr := range a.All() {
			out = append(out, byAddr[addr])
		}
		return out, nil
	}})
	if strings.Join(seen.All(), ",") != "bob@example.com,carol@example.com,alice@example.com" {
		t.Errorf("addresses: got %+v", seen)
	}
	res, err := Decrypt(new(bytes.Buffer), bytes.NewReader(enc), DecryptOptions{Certificate: l.User("alice-encrypt").Cert, Key: l.User("alice-encrypt").Key})
	if err != nil || len(res.Recipients) != 3 {
		t.Fatalf("got %v, %v", res, err)
	}
	missing := errors.New("no certificate for x@example.com")
	err = Encrypt(new(bytes.Buffer), strings.NewReader(testMsg), Options{Resolve: func(Addresses) ([]*x509.Certificate, error) { return nil, missing }})
	if err != missing {
		t.Fatalf("got %v", err)
	}
}

func TestDecryptFailures(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob, carol := l.User("bob"), l.User("carol")
	gcm := encryptMsg(t, testMsg, Options{Recipients: []*x509.Certificate{bob.Cert}, Ciphers: []Cipher{AES256GCM}})
	bobOpts := DecryptOptions{Certificate: bob.Cert, Key: bob.Key}

	t.Run("not for us", func(t *testing.T) {
		var out bytes.Buffer
		_, err := Decrypt(&out, bytes.NewReader(gcm), DecryptOptions{Certificate: carol.Cert, Key: carol.Key})
		var nf *NotForUsError
		if !errors.As(err, &nf) || len(nf.Recipients) != 1 || !strings.Contains(err.Error(), "serial "+strings.ToUpper(bob.Cert.SerialNumber.Text(16))) {
			t.Fatalf("got %v", err)
		}
		if out.Len() != 0 {
			t.Error("output written")
		}
	})
	t.Run("flipped", func(t *testing.T) {
		// Change one base64 character of the body near its end (in the
		// ciphertext or the tag).
		bad := append([]byte(nil), gcm...)
		i := bytes.LastIndex(bad, []byte("\r\n")) - 40
		if bad[i] == 'A' {
			bad[i] = 'B'
		} else {
			bad[i] = 'A'
		}
		var out bytes.Buffer
		_, err := Decrypt(&out, bytes.NewReader(bad), bobOpts)
		var de *DecryptError
		var me *MalformedError
		if !errors.As(err, &de) && !errors.As(err, &me) {
			t.Fatalf("got %v", err)
		}
		if out.Len() != 0 {
			t.Error("output written")
		}
	})
	t.Run("truncated", func(t *testing.T) {
		// Cut off at each offset in a base64 group: most end the body in
		// the middle of one (found by FuzzOpen in pkg/verify).
		for cut := 100; cut < 104; cut++ {
			var out bytes.Buffer
			_, err := Decrypt(&out, bytes.NewReader(gcm[:len(gcm)-cut]), bobOpts)
			var me *MalformedError
			if !errors.As(err, &me) || out.Len() != 0 {
				t.Errorf("cut %d: got %v (%T), %d bytes out; want a *MalformedError", cut, err, err, out.Len())
			}
		}
	})
	t.Run("not encrypted", func(t *testing.T) {
		_, err := Decrypt(new(bytes.Buffer), strings.NewReader(testMsg), bobOpts)
		if !errors.Is(err, ErrNotEncrypted) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("try all", func(t *testing.T) {
		// Carol's key with a certificate that names someone else.
		cbc := encryptMsg(t, testMsg, Options{Recipients: []*x509.Certificate{bob.Cert, carol.Cert}})
		_, err := Decrypt(new(bytes.Buffer), bytes.NewReader(cbc), DecryptOptions{Certificate: bob.Cert, Key: carol.Key, TryAll: true})
		if err != nil {
			t.Fatal(err)
		}
	})
}
