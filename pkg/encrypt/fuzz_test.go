package encrypt

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadAddresses: whatever the header, ReadAddresses returns (no panic,
// no hang), and the body is never read for addresses: a mailbox that
// appears only after the blank line ending the header is never returned
// (issue #17 item 3, encrypt --plan reads the header only).
func FuzzReadAddresses(f *testing.F) {
	f.Add([]byte(testMsg))
	f.Add([]byte("To: a@example.com, \"b c\" <b@example.com>\r\nCc: (x) c@example.com\r\nBcc:\r\n\r\n"))
	f.Add([]byte("To: =?utf-8?q?=E2=80=AE?= <x@example.com>\r\n\r\n"))
	f.Add([]byte("To: a@example.com\r\n folded@example.com\r\n\r\n"))
	f.Fuzz(func(t *testing.T, header []byte) {
		const bodyOnly = "body-only-mailbox@example.invalid"
		msg := append(bytes.Clone(header), "\r\n\r\nTo: "+bodyOnly+"\r\n"...)
		a, err := ReadAddresses(bytes.NewReader(msg))
		if err != nil {
			return
		}
		if bytes.Contains(header, []byte(bodyOnly)) {
			return
		}
		for _, x := range a.All() {
			if strings.Contains(x, bodyOnly) {
				t.Fatalf("an address from the body: %q", x)
			}
		}
	})
}

// FuzzTextValues: the text forms the CLI binds (Cipher, InputForm, Role)
// read back what they write, and whatever they accept names a value they
// can write (issue #17 item 4: Parse* became UnmarshalText).
func FuzzTextValues(f *testing.F) {
	for _, s := range []string{"aes-256-gcm", "AES-128-CBC", "3des", "des3", "rc2-40-cbc", "smime", "DER", "pem", "auto", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c Cipher
		if err := c.UnmarshalText([]byte(s)); err == nil {
			b, _ := c.MarshalText()
			var c2 Cipher
			if err := c2.UnmarshalText(b); err != nil || c2 != c || c == 0 {
				t.Fatalf("cipher %q -> %v -> %q -> %v, %v", s, c, b, c2, err)
			}
		} else if !strings.HasPrefix(err.Error(), "encrypt: unknown cipher ") {
			t.Fatalf("cipher %q: error %q", s, err)
		}
		var f InputForm
		if err := f.UnmarshalText([]byte(s)); err == nil {
			b, _ := f.MarshalText()
			var f2 InputForm
			if err := f2.UnmarshalText(b); err != nil || f2 != f || !strings.EqualFold(string(b), s) && s != "" {
				t.Fatalf("form %q -> %v -> %q -> %v, %v", s, f, b, f2, err)
			}
		}
	})
}
