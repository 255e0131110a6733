package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/testpeer"
	"github.com/smimectl/smimectl/pkg/directory"
)

// TestDirectoryHostileSLAPD: what a hostile or broken directory gets (issue
// #14): a 900 KB value, a value over directory.MaxValueSize, 3,000 values on
// one user, a truncated PKCS#7 and a referral to another server. list
// finishes, reads nothing it should not, names the unreadable values and the
// referral (not followed); clean --only untrusted removes those values with
// a backup that ldapmodify restores.
func TestDirectoryHostileSLAPD(t *testing.T) {
	f := newDirFixture(t, 0)
	_ = f // the fixture's lab; a second server holds the hostile entries
	p7, err := cms.CertsOnly(append(f.lab.Chain()[:0:0], f.lab.User("bob").Cert, f.lab.Intermediate.Cert))
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	var b strings.Builder
	entry := func(uid string, values ...[]byte) {
		fmt.Fprintf(&b, "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\n", uid, testpeer.SLAPDSuffix, uid, uid, uid)
		for _, v := range values {
			fmt.Fprintf(&b, "userSMIMECertificate:: %s\n", b64(v))
		}
		b.WriteString("\n")
	}
	entry("huge", bytes.Repeat([]byte{0x30, 0x82}, 450_000))
	entry("oversized", append([]byte{0x30, 0x83, 0x18, 0x00, 0x00}, bytes.Repeat([]byte{1}, directory.MaxValueSize+0x8000)...))
	many := make([][]byte, 3000)
	for i := range many {
		many[i] = fmt.Appendf(nil, "value %04d", i)
	}
	entry("many", many...)
	entry("malformed", p7[:len(p7)/2], p7)
	// A name and a value that would drive the terminal: clear the screen,
	// reverse the text.
	fmt.Fprintf(&b, "dn: uid=mallory,%s\nobjectClass: inetOrgPerson\nuid: mallory\ncn: mallory\nsn: mallory\ndisplayName:: %s\nuserSMIMECertificate:: %s\n\n",
		testpeer.SLAPDSuffix, b64([]byte("Mallory\x1b[2J\u202eevil")), b64([]byte("\x1b]0;owned\x07")))
	fmt.Fprintf(&b, "dn: ou=elsewhere,%s\nobjectClass: referral\nobjectClass: extensibleObject\nou: elsewhere\nref: ldap://evil.example:389/ou=people,dc=evil\n\n", testpeer.SLAPDSuffix)
	srv := testpeer.StartSLAPDWith(t, b.String(), testpeer.SLAPDOptions{SMIMEEquality: true})
	h := &dirFixture{srv: srv, dir: f.dir, labDir: f.labDir, lab: f.lab}
	before := h.snapshot(t)
	root := filepath.Join(f.labDir, "root.crt")

	start := time.Now()
	code, out, stderr := h.cli("directory", "list", "--ldap", h.ldapURL(), "--verbose", "--trust", root, "--page-size", "2")
	if code != 0 || time.Since(start) > 20*time.Second {
		t.Fatalf("list: exit %d after %v\n%s", code, time.Since(start), stderr)
	}
	for _, want := range []string{
		"  huge (uid=huge,dc=example,dc=com): 1 value(s)\n    value 1: 900000 bytes",
		"bytes is larger than 1048576 bytes; not read\n",
		"  many (uid=many,dc=example,dc=com): 3000 value(s)\n",
		"  malformed (uid=malformed,dc=example,dc=com): 2 value(s)\n    value 1: ",
		"  Mallory\\x1b[2J\\u202eevil (uid=mallory,dc=example,dc=com): 1 value(s)\n",
		"Processed 5 users. Found 5 userSMIMECertificate attributes with values.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list --verbose lacks %q", want)
		}
	}
	if strings.Count(out, "unreadable: ") != 4+3000 {
		t.Errorf("%d unreadable values, want 3004", strings.Count(out, "unreadable: "))
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("control characters from the directory reached the terminal")
	}
	if stderr != "smimectl: warning: the search met 1 referral(s), not followed: ldap://evil.example:389/ou=people,dc=evil??sub\n" {
		t.Errorf("stderr: %q", stderr)
	}
	// The values no certificate can be read from go; bob's readable,
	// trusted value beside the truncated one stays.
	code, out, stderr = h.cli("directory", "clean", "--ldap", h.ldapURL(), "--only", "untrusted", "--trust", root, "--intermediates", filepath.Join(f.labDir, "intermediate.crt"),
		"--apply", "--yes", "--backup", h.path("hostile.ldif"), "--ldap-bind-dn", dirAdmin, "--ldap-pass-file", h.path("admin.pw"))
	if code != 0 || !strings.Contains(out, "Removed 3004 value(s) from 5 user(s); 0 user(s) failed.") {
		t.Fatalf("clean: exit %d\n%s%s", code, out, stderr)
	}
	if v := h.values(t, "malformed"); len(v) != 1 || !bytes.Equal(v[0], p7) {
		t.Errorf("malformed: %d values left, want the readable one", len(v))
	}
	h.ldapmodify(t, h.path("hostile.ldif"))
	if h.snapshot(t) != before {
		t.Fatal("ldapmodify with the backup did not restore the hostile directory")
	}
}

// TestDirectoryStockSchema: OpenLDAP's stock userSMIMECertificate has no
// equality rule, so the server can't delete one value; clean reports each
// user and changes nothing rather than delete the attribute (issue #14 item 2).
func TestDirectoryStockSchema(t *testing.T) {
	f := newDirFixture(t, 0)
	p7, err := cms.CertsOnly(f.lab.Chain())
	if err != nil {
		t.Fatal(err)
	}
	srv := testpeer.StartSLAPD(t, fmt.Sprintf("dn: uid=x,%s\nobjectClass: inetOrgPerson\nuid: x\ncn: X\nsn: X\nuserSMIMECertificate:: %s\n",
		testpeer.SLAPDSuffix, base64.StdEncoding.EncodeToString(p7)))
	h := &dirFixture{srv: srv, dir: f.dir, labDir: f.labDir, lab: f.lab}
	before := h.snapshot(t)
	code, out, stderr := h.cli("directory", "clean", "--ldap", h.ldapURL(), "--only", "all", "--apply", "--yes", "--backup", h.path("stock.ldif"),
		"--ldap-bind-dn", dirAdmin, "--ldap-pass-file", h.path("admin.pw"))
	if code != exitUsage || !strings.Contains(stderr, "smimectl: error: user X (uid=x,dc=example,dc=com): the directory can't delete single values of the attribute: its schema has no equality matching rule for it\n") ||
		!strings.Contains(stderr, "smimectl: hint: give the attribute an equality rule") || !strings.Contains(out, "1 user(s) failed") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if h.snapshot(t) != before {
		t.Fatal("the directory changed")
	}
}

// TestDirectoryErrors: the script's error cases in plain words (issue #14
// item 5): a directory that stalls or is down exits 75 within --timeout, a
// refused bind exits 2, an unknown option exits 2, missing flags are usage
// errors.
func TestDirectoryErrors(t *testing.T) {
	// A server that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = c.Read(make([]byte, 1<<20)); time.Sleep(30 * time.Second); c.Close() }()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "ldap://" + closed.Addr().String()
	closed.Close()
	f := newDirFixture(t, 0)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		within time.Duration
	}{
		{"stalls", []string{"directory", "list", "--ldap", "ldap://" + l.Addr().String(), "--timeout", "1s"}, exitTempFail,
			"smimectl: error: the directory is unavailable: ", 5 * time.Second},
		{"stalls with a base", []string{"directory", "clean", "--only", "all", "--ldap", "ldap://" + l.Addr().String() + "/dc=example,dc=com", "--timeout", "1s"}, exitTempFail,
			"smimectl: hint: check --ldap, the network and the server; try again later, or raise --timeout\n", 5 * time.Second},
		{"down", []string{"directory", "list", "--ldap", down, "--timeout", "2s"}, exitTempFail, "smimectl: error: the directory is unavailable: ", 5 * time.Second},
		{"wrong password", []string{"directory", "list", "--ldap", f.ldapURL(), "--ldap-bind-dn", dirReader, "--ldap-pass-file", f.path("admin.pw")}, exitUsage,
			"smimectl: error: the directory refused the bind as cn=reader,dc=example,dc=com: ", 10 * time.Second},
		{"unknown option", []string{"directory", "list", "--ldap", f.ldapURL(), "/remove"}, exitUsage, "smimectl: error: ", time.Second},
		{"unknown flag", []string{"directory", "clean", "--ldap", f.ldapURL(), "--remove"}, exitUsage, "smimectl: error: unknown flag: --remove", time.Second},
		{"unknown subcommand", []string{"directory", "remove"}, exitUsage, "smimectl: error: unknown command \"remove\" for smimectl directory\n", time.Second},
		{"no --ldap", []string{"directory", "list"}, exitUsage, "smimectl: error: directory list needs --ldap\n", time.Second},
		{"no --only", []string{"directory", "clean", "--ldap", f.ldapURL()}, exitUsage, "smimectl: error: directory clean needs --only\n", time.Second},
		{"untrusted without --trust", []string{"directory", "clean", "--ldap", f.ldapURL(), "--only", "untrusted"}, exitUsage, "--only untrusted needs --trust", time.Second},
		{"bad URL", []string{"directory", "list", "--ldap", "http://x"}, exitFailed, `smimectl: error: invalid URL "http://x"`, time.Second},
		{"no certificates", []string{"directory", "publish", "--ldap", f.ldapURL()}, exitUsage, "needs --cert or --p12", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out, stderr := f.cli(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) || out != "" && code != 0 && !strings.HasPrefix(out, "Users with") {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, stderr)
			}
			if d := time.Since(start); d > tc.within {
				t.Errorf("took %v, want at most %v", d, tc.within)
			}
		})
	}
}

// TestDirectoryExitCodes: each directory error type has its exit status and
// its sentence (issue #14 item 5).
func TestDirectoryExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{&directory.UnavailableError{Op: "connecting", Err: errors.New("i/o timeout")}, exitTempFail, "the directory is unavailable: i/o timeout (connecting)"},
		{&directory.PermissionError{Op: "modify", DN: "uid=a", Err: errors.New("50")}, exitUsage, "the directory refused: no permission to modify uid=a"},
		{fmt.Errorf("x: %w", directory.ErrNoNamingContext), exitUsage, "the directory names no default naming context to search"},
		{&directory.RefusedError{Reasons: []string{"expired"}}, exitNoCert, "refusing to publish: expired"},
		{&partialError{failed: 1, total: 3, backup: "b.ldif", err: &directory.PermissionError{Op: "modify", Err: errors.New("50")}}, exitUsage,
			`1 of 3 users could not be changed (see above); the others were, and the backup "b.ldif" holds what was removed`},
	} {
		msg, _ := describe(tc.err)
		if got := exitCode(tc.err); got != tc.code || !strings.HasPrefix(msg, tc.msg) {
			t.Errorf("%T: exit %d %q, want %d %q", tc.err, got, msg, tc.code, tc.msg)
		}
	}
}

// directoryBench, with -directory-bench, runs the 2,000-user list as a
// separate smimectl process under /usr/bin/time and logs its time and peak
// RSS (the figure of issue #14's note).
var directoryBench = flag.Bool("directory-bench", false, "measure directory list over 2,000 users with /usr/bin/time")

// TestDirectoryPaged2000: a paged search over 2,000 users, 100 a page,
// lists them all (issue #14 item 1, "Must show"); slapd's size limit (500 by
// default) would cut an unpaged search.
func TestDirectoryPaged2000(t *testing.T) {
	f := newDirFixture(t, 1900) // 100 + 1,900 users
	start := time.Now()
	code, out, stderr := f.cli("directory", "list", "--ldap", f.ldapURL(), "--page-size", "100")
	if code != 0 || !strings.HasSuffix(out, "Processed 2000 users. Found 4 userSMIMECertificate attributes with values.\n") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	t.Logf("in-process: 2,000 users in %v", time.Since(start))
	// The same search without paging stops at the server's size limit.
	o, err := exec.Command("ldapsearch", "-x", "-LLL", "-H", f.ldapURL(), "-b", testpeer.SLAPDSuffix, "(objectClass=person)", "dn").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 || strings.Count(string(o), "dn: ") != 500 {
		t.Fatalf("ldapsearch without paging: %v, %d entries, want size limit exceeded (4) after 500", err, strings.Count(string(o), "dn: "))
	}
	if *directoryBench {
		bin := filepath.Join(t.TempDir(), "smimectl")
		if o, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, o)
		}
		cmd := exec.Command("/usr/bin/time", "-f", "%e s %M KiB", bin, "directory", "list", "--ldap", f.ldapURL(), "--page-size", "100", "--verbose")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %s", err, errb.String())
		}
		t.Logf("smimectl directory list --page-size 100 --verbose over 2,000 users: %s", strings.TrimSpace(errb.String()))
	}
}

// TestDirectoryNoReadSLAPD: a server that lets only cn=reader read: an
// anonymous list is refused (exit 2, bind as an account that may read), a
// base that does not exist is named (exit 2), bound as the reader it works
// (issue #14 item 5).
func TestDirectoryNoReadSLAPD(t *testing.T) {
	f := newDirFixture(t, 0)
	srv := testpeer.StartSLAPDWith(t, fmt.Sprintf("dn: cn=reader,%[1]s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n"+
		"dn: uid=x,%[1]s\nobjectClass: inetOrgPerson\nuid: x\ncn: X\nsn: X\nuserSMIMECertificate: junk\n", testpeer.SLAPDSuffix),
		testpeer.SLAPDOptions{SMIMEEquality: true, DBConfig: fmt.Sprintf("access to dn.base=\"\" by dn.exact=%[1]q read by * none\naccess to * by dn.exact=%[1]q read by anonymous auth by * none\n", dirReader)})
	h := &dirFixture{srv: srv, dir: f.dir, labDir: f.labDir, lab: f.lab}
	code, out, stderr := h.cli("directory", "list", "--ldap", h.ldapURL())
	if code != exitUsage || out != "" || !strings.Contains(stderr, "smimectl: error: the directory refused: no permission to search below dc=example,dc=com\n") ||
		!strings.Contains(stderr, "smimectl: hint: bind with --ldap-bind-dn as an account allowed to read the users") {
		t.Errorf("anonymous: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = h.cli("directory", "list", "--ldap", h.ldapURL(), "--base", "ou=nothere,"+testpeer.SLAPDSuffix, "--ldap-bind-dn", dirReader, "--ldap-pass-file", h.path("reader.pw"))
	if code != exitUsage || out != "" || !strings.Contains(stderr, "smimectl: error: the directory has no entry ou=nothere,dc=example,dc=com to search below, or does not let this bind read it\n") {
		t.Errorf("anonymous with --base: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = h.cli("directory", "list", "--ldap", h.ldapURL(), "--ldap-bind-dn", dirReader, "--ldap-pass-file", h.path("reader.pw"))
	if code != 0 || !strings.Contains(out, "Processed 1 users. Found 1 ") {
		t.Errorf("reader: exit %d\n%s%s", code, out, stderr)
	}
}
