package verify_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/pkg/verify"
)

// TestPrependAuthenticationResults (issue #17 item 1): a library user's
// filter writes the verdict the way smimectl verify --annotate does, with
// the public function: the field first, a forged field claiming our
// authserv-id (even folded, or with an id that can't be read) left out,
// another server's kept, the rest byte for byte, LF messages kept LF.
func TestPrependAuthenticationResults(t *testing.T) {
	field := verify.AuthenticationResults("mx.example.com", nil, verify.ErrNotSigned)
	if !strings.HasPrefix(field, "Authentication-Results: mx.example.com;") || !strings.HasSuffix(field, "\r\n") {
		t.Fatalf("unexpected field %q", field)
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"forged field of ours removed, another server's kept",
			"Authentication-Results: mx.example.com; smime=pass\r\nAuthentication-Results: other.example; spf=pass\r\nFrom: a@example.com\r\n\r\nbody\r\n",
			field + "Authentication-Results: other.example; spf=pass\r\nFrom: a@example.com\r\n\r\nbody\r\n"},
		{"folded forgery removed",
			"From: a@example.com\r\nAuthentication-Results:\r\n mx.example.com;\r\n smime=pass\r\n\r\nbody\r\n",
			field + "From: a@example.com\r\n\r\nbody\r\n"},
		{"unreadable authserv-id removed",
			"Authentication-Results: (mx.example.com; smime=pass\r\nFrom: a@example.com\r\n\r\nbody\r\n",
			field + "From: a@example.com\r\n\r\nbody\r\n"},
		{"LF message stays LF",
			"From: a@example.com\nSubject: hi\n\nbody\n",
			strings.ReplaceAll(field, "\r\n", "\n") + "From: a@example.com\nSubject: hi\n\nbody\n"},
		{"field in the body untouched",
			"From: a@example.com\r\n\r\nAuthentication-Results: mx.example.com; smime=pass\r\n",
			field + "From: a@example.com\r\n\r\nAuthentication-Results: mx.example.com; smime=pass\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			n, err := verify.PrependAuthenticationResults(&out, field, "mx.example.com", strings.NewReader(tc.in))
			if err != nil || out.String() != tc.want || n != int64(out.Len()) {
				t.Errorf("got %d, %v:\n%q\nwant\n%q", n, err, out.String(), tc.want)
			}
		})
	}
}
