package apicheck_test

import (
	"encoding"
	"fmt"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/directory"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestUnmarshalTextHostile (issue #17 item 4, redteam17): every public
// type a CLI or config file binds with UnmarshalText refuses hostile text
// cleanly: an error, the value left as it was, and an error message of
// bounded size that shows no raw control byte (it ends up on a terminal or
// in a log line).
func TestUnmarshalTextHostile(t *testing.T) {
	types := map[string]func() encoding.TextUnmarshaler{
		"sign.Mode":          func() encoding.TextUnmarshaler { return new(sign.Mode) },
		"sign.Include":       func() encoding.TextUnmarshaler { return new(sign.Include) },
		"revocation.Mode":    func() encoding.TextUnmarshaler { return new(revocation.Mode) },
		"encrypt.Cipher":     func() encoding.TextUnmarshaler { return new(encrypt.Cipher) },
		"encrypt.InputForm":  func() encoding.TextUnmarshaler { return new(encrypt.InputForm) },
		"certsel.Purpose":    func() encoding.TextUnmarshaler { return new(certsel.Purpose) },
		"directory.Only":     func() encoding.TextUnmarshaler { return new(directory.Only) },
		"verify.Purpose":     func() encoding.TextUnmarshaler { return new(verify.Purpose) },
		"verify.Requirement": func() encoding.TextUnmarshaler { return new(verify.Requirement) },
		"verify.SenderCheck": func() encoding.TextUnmarshaler { return new(verify.SenderCheck) },
	}
	inputs := map[string]string{
		"huge":    strings.Repeat("x", 1<<20),
		"NUL":     "\x00",
		"escape":  "\x1b[2J\x1b[31mvalid",
		"newline": "a\nb",
		"bidi":    "\u202egnirts",
		"invalid": "\xff\xfe",
	}
	for name, mk := range types {
		for in, text := range inputs {
			t.Run(name+"/"+in, func(t *testing.T) {
				v := mk()
				before := fmt.Sprint(v)
				err := v.UnmarshalText([]byte(text))
				if err == nil {
					t.Fatalf("accepted %q", trunc(text))
				}
				if after := fmt.Sprint(v); after != before {
					t.Errorf("value changed on error: %s -> %s", before, after)
				}
				msg := err.Error()
				if len(msg) > 300 {
					t.Errorf("error message is %d bytes long: %.120q...", len(msg), msg)
				}
				if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x202e }) {
					t.Errorf("error message holds a raw control character: %q", msg)
				}
			})
		}
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
