package sign_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
)

// TestNoteOptionNames is issue #17 item 4: a note that says which option
// decides names it by its Go name ("Options.Force"), or in the caller's
// words when Options.OptionName gives them, never by a flag of smimectl.
func TestNoteOptionNames(t *testing.T) {
	l := labtest.Default(t)
	alice, dave := l.User("alice-sign"), l.User("dave-expired")
	text8 := "From: Alice <alice@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n"
	multi8 := "From: Alice <alice@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n--b--\r\n"
	flags := map[sign.Option]string{sign.OptionChain: "--intermediates", sign.OptionForce: "--force",
		sign.OptionFrom: "--from", sign.OptionBinary: "--binary"}
	flagLike := regexp.MustCompile(`--[a-z]`)
	for _, tc := range []struct {
		name   string
		in     string
		opts   sign.Options
		option sign.Option
		want   string // "{}" is where the option is named
	}{
		{"no chain", msg, sign.Options{Key: alice.Key, Certificate: alice.Cert}, sign.OptionChain, "(give it with {})"},
		{"expired, Force", strings.Replace(msg, "alice@", "dave@", 1), sign.Options{Key: dave.Key, Certificate: dave.Cert, Chain: l.Chain(), Force: true},
			sign.OptionForce, "signed anyway ({}), recipients"},
		{"no From", strings.Replace(msg, "From: Alice <alice@example.com>\r\n", "", 1), sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()},
			sign.OptionFrom, "no From field and no {} was given"},
		{"8-bit text", text8, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, sign.OptionBinary, "({} signs it as is)"},
		{"8-bit multipart", multi8, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, sign.OptionBinary, "({} silences this)"},
	} {
		for _, named := range []bool{false, true} {
			var notes []string
			opts := tc.opts
			opts.Now = func() time.Time { return now }
			opts.Notes = func(n sign.Note) { notes = append(notes, n.Text) }
			name := tc.option.String()
			if named {
				opts.OptionName = func(o sign.Option) string { return flags[o] }
				name = flags[tc.option]
			}
			if err := sign.Sign(context.Background(), new(bytes.Buffer), strings.NewReader(tc.in), opts); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := strings.Join(notes, "\n")
			if want := strings.ReplaceAll(tc.want, "{}", name); !strings.Contains(got, want) {
				t.Errorf("%s (OptionName %v): notes %q, want one saying %q", tc.name, named, got, want)
			}
			if !named && flagLike.MatchString(got) {
				t.Errorf("%s: without OptionName a note names a flag: %q", tc.name, got)
			}
		}
	}
}
