package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// planLab writes the default lab into a temporary directory for the
// encrypt --plan tests.
func planLab(t *testing.T) string {
	t.Helper()
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	if err := l.WriteDir(dir, "pw"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rawControl reports the first control character (other than the newline
// ending each line) in s: what a hostile address must never put on a
// terminal.
func rawControl(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' || r == '\u2028') {
			return r, true
		}
	}
	return 0, false
}

// TestEncryptPlanHostileAddresses (issue #17 item 3): addresses with CR, LF,
// escape sequences or a bidi override, from --to or from the message's
// header, never reach standard output or standard error raw, in text or
// JSON, and no line of output passes for one smimectl wrote.
func TestEncryptPlanHostileAddresses(t *testing.T) {
	labDir := planLab(t)
	hostile := []string{
		"bob@example.com\r\nsmimectl: error: forged",
		"\x1b[2J\x1b[31mbob@example.com",
		"eve\u202emoc.elpmaxe@example.com",
		"x\x00y@example.com",
	}
	for _, h := range hostile {
		for _, form := range []string{"text", "json"} {
			t.Run(fmt.Sprintf("%q/%s", h, form), func(t *testing.T) {
				args := []string{"encrypt", "--plan", "--certs", labDir, "--no-self", "--at", "2026-01-01T00:00:00Z", "--to", "bob@example.com", "--to", h}
				if form == "json" {
					args = append(args, "--json")
				}
				e, stdout, stderr := testEnv("", nil)
				code := run(e, args)
				if code != exitNoCert {
					t.Fatalf("exit %d, want %d\n%s%s", code, exitNoCert, stdout, stderr)
				}
				for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
					if r, ok := rawControl(out); ok && !(form == "json" && name == "stdout" && r == '\u202e') {
						// JSON escapes every control character; like every
						// --json object, it carries other text as it is.
						t.Errorf("%s holds %U raw:\n%q", name, r, out)
					}
					if strings.Contains(out, "\nsmimectl: error: forged") {
						t.Errorf("%s has a forged line:\n%s", name, out)
					}
				}
				if form == "json" {
					var obj struct {
						Recipients []struct{ Address string }
						Missing    []struct{ Address string }
					}
					if err := json.Unmarshal(stdout.Bytes(), &obj); err != nil || len(obj.Missing) != 1 || obj.Missing[0].Address != h ||
						len(obj.Recipients) != 1 || obj.Recipients[0].Address != "bob@example.com" {
						t.Errorf("JSON %v: %s", err, stdout)
					}
				}
			})
		}
	}
	// The same from the message's header: a quoted local part with an
	// escape, and Bcc with a bidi override, read from the header only.
	msg := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.com\r\nTo: bob@example.com\r\nCc: \"\x1b]0;pwned\x07\"@example.com\r\n"+
		"Cc: \"carol\u202e\"@example.com\r\nBcc: eve\u202emoc@example.com\r\nSubject: x\r\n\r\nbody\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, stdout, stderr := testEnv("", nil)
	code := run(e, []string{"encrypt", "--plan", "--certs", labDir, "--no-self", "--allow-missing", "--at", "2026-01-01T00:00:00Z", "--in", msg})
	if code != exitOK || !strings.Contains(stdout.String(), "bob@example.com (to): Bob") || !strings.Contains(stdout.String(), `eve\u202emoc@example.com (bcc): no usable`) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if r, ok := rawControl(out); ok {
			t.Errorf("%s holds %U raw:\n%q", name, r, out)
		}
	}
}

// TestEncryptPlanHostileLDAP (issue #17 item 3): a directory that answers
// with a garbage certificate value, or a huge one, fails the plan with an
// error naming the entry (exit 2, nothing on standard output), and a huge
// valid-looking value is no reason to hang or to print it.
func TestEncryptPlanHostileLDAP(t *testing.T) {
	labDir := planLab(t)
	garbage := make([]byte, 300)
	if _, err := rand.Read(garbage); err != nil {
		t.Fatal(err)
	}
	huge := append([]byte{0x30, 0x84, 0x00, 0x10, 0x00, 0x00}, bytes.Repeat([]byte{0x41}, 1<<20)...) // a SEQUENCE of 1 MiB
	b64 := base64.StdEncoding.EncodeToString
	srv := testpeer.StartSLAPD(t, fmt.Sprintf(`dn: cn=Bob,%[1]s
objectClass: inetOrgPerson
mail: bob@example.com
cn: Bob the garbage
sn: Garbage
userSMIMECertificate:: %[2]s

dn: cn=Carol\0D\0A\1B[2J,%[1]s
objectClass: inetOrgPerson
cn: Carol
sn: Carol
mail: carol@example.com
userSMIMECertificate:: %[3]s
`, testpeer.SLAPDSuffix, b64(garbage), b64(huge)))
	for _, to := range []string{"bob@example.com", "carol@example.com"} {
		e, stdout, stderr := testEnv("", nil)
		code := run(e, []string{"encrypt", "--plan", "--certs", srv.URL, "--no-self", "--to", to, "--lookup-timeout", "20s"})
		if code == exitOK || code == exitNoCert || stdout.Len() != 0 || !strings.Contains(stderr.String(), "smimectl: error: ") {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %s", to, code, stdout, stderr)
		}
		if r, ok := rawControl(stderr.String()); ok {
			t.Errorf("%s: stderr holds %U raw: %q", to, r, stderr)
		}
		t.Logf("%s: exit %d: %s", to, code, stderr)
		if stderr.Len() > 4096 {
			t.Errorf("%s: %d bytes of error", to, stderr.Len())
		}
	}
	// A good directory answer beside a bad entry for another address: the
	// plan for bob from the lab files is not affected by carol's entry.
	e, stdout, stderr := testEnv("", nil)
	if code := run(e, []string{"encrypt", "--plan", "--certs", labDir, "--no-self", "--at", "2026-01-01T00:00:00Z", "--to", "bob@example.com"}); code != exitOK ||
		!strings.Contains(stdout.String(), "bob@example.com: Bob") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}
