package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
	"github.com/smimectl/smimectl/pkg/directory"
)

// dirFixture is a real slapd loaded with 100 users below ou=people, four of
// them with userSMIMECertificate values (issue #14 "Must show"):
//
//	bob    the lab's bob certificate and chain (issued by the lab CA: trusted)
//	carol  two values: the lab's carol (trusted) and another CA's carol (untrusted)
//	dave   the lab's dave-expired (trusted, expired)
//	eve    another CA's eve, self-published (untrusted)
//
// The other CA is a second lab (seed 2) whose CAs bear the same names as the
// lab's: trust is decided by signatures, never by the issuer's name. Alice
// (ou=sales) has no certificate yet, for publish. Bob and Carol are in
// ou=sales, Dave and Eve in ou=eng; cn=cleaner may write userSMIMECertificate
// in ou=sales only, cn=reader nowhere.
type dirFixture struct {
	srv         *testpeer.SLAPD
	dir, labDir string
	lab, other  *lab.Lab
}

const (
	dirAdmin   = "cn=admin," + testpeer.SLAPDSuffix
	dirCleaner = "cn=cleaner," + testpeer.SLAPDSuffix
	dirReader  = "cn=reader," + testpeer.SLAPDSuffix
)

func newDirFixture(t *testing.T, extraUsers int) *dirFixture {
	t.Helper()
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := lab.New(lab.Options{Seed: "2"})
	if err != nil {
		t.Fatal(err)
	}
	f := &dirFixture{dir: t.TempDir(), lab: l, other: other}
	f.labDir = filepath.Join(f.dir, "lab")
	if err := l.WriteDir(f.labDir, "pw"); err != nil {
		t.Fatal(err)
	}
	p7 := func(lb *lab.Lab, user string) string {
		der, err := cms.CertsOnly(append([]*x509.Certificate{lb.User(user).Cert}, lb.Chain()...))
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(der)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dn: ou=people,%[1]s\nobjectClass: organizationalUnit\nou: people\n\n"+
		"dn: ou=sales,ou=people,%[1]s\nobjectClass: organizationalUnit\nou: sales\n\n"+
		"dn: ou=eng,ou=people,%[1]s\nobjectClass: organizationalUnit\nou: eng\n\n", testpeer.SLAPDSuffix)
	for _, a := range []struct{ cn, pw string }{{"cleaner", "cleanerpw"}, {"reader", "readerpw"}} {
		fmt.Fprintf(&b, "dn: cn=%s,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: %s\nuserPassword: %s\n\n", a.cn, testpeer.SLAPDSuffix, a.cn, a.pw)
	}
	person := func(uid, ou, name string, values ...string) {
		fmt.Fprintf(&b, "dn: uid=%s,ou=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\ndisplayName: %s\nmail: %s@example.com\n",
			uid, ou, testpeer.SLAPDSuffix, uid, name, name, name, uid)
		for _, v := range values {
			fmt.Fprintf(&b, "userSMIMECertificate:: %s\n", v)
		}
		b.WriteString("\n")
	}
	person("alice", "sales", "Alice")
	person("bob", "sales", "Bob", p7(l, "bob"))
	person("carol", "sales", "Carol", p7(l, "carol"), p7(other, "carol"))
	person("dave", "eng", "Dave", p7(l, "dave-expired"))
	person("eve", "eng", "Eve", p7(other, "eve-revoked"))
	for i := range 95 + extraUsers {
		ou := "sales"
		if i%2 == 1 {
			ou = "eng"
		}
		person(fmt.Sprintf("user%04d", i), ou, fmt.Sprintf("User %04d", i))
	}
	f.srv = testpeer.StartSLAPDWith(t, b.String(), testpeer.SLAPDOptions{SMIMEEquality: true,
		// As Active Directory, a page is limited (500 entries, slapd's
		// default) but a paged search is not.
		DBConfig: "sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited\n" + fmt.Sprintf("access to dn.subtree=\"ou=sales,ou=people,%s\" attrs=userSMIMECertificate by dn.exact=%q write by * read\n", testpeer.SLAPDSuffix, dirCleaner)})
	for name, pw := range map[string]string{"admin.pw": "secret", "cleaner.pw": "cleanerpw", "reader.pw": "readerpw"} {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// ldapURL is the server's URL without a base DN: the base comes from the
// root DSE, as the script's default naming context.
func (f *dirFixture) ldapURL() string { return "ldap://" + f.srv.Addr }

func (f *dirFixture) path(name string) string { return filepath.Join(f.dir, name) }

// bind returns the flags that bind as dn with its password file.
func (f *dirFixture) bind(dn, pwFile string) []string {
	return []string{"--ldap-bind-dn", dn, "--ldap-pass-file", f.path(pwFile)}
}

// cli runs smimectl in-process at 2026-01-01, with no terminal.
func (f *dirFixture) cli(args ...string) (int, string, string) {
	return f.cliConfirm(nil, args...)
}

// cliConfirm is cli on a terminal that answers with confirm.
func (f *dirFixture) cliConfirm(confirm func(string) (bool, error), args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Confirm: confirm,
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, Getenv: func(string) string { return "" }}
	code := run(e, args)
	return code, out.String(), errb.String()
}

// snapshot reads every entry with every attribute, as the admin, into one
// sorted text: the directory's state to compare.
func (f *dirFixture) snapshot(t *testing.T) string {
	t.Helper()
	c, err := directory.Dial(context.Background(), directory.Config{URL: f.ldapURL(), BindDN: dirAdmin,
		Password: func() ([]byte, error) { return []byte("secret"), nil }, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var entries []string
	_, err = c.Search(context.Background(), directory.SearchRequest{Base: testpeer.SLAPDSuffix, Filter: "(objectClass=*)",
		Attrs: []string{"*"}, PageSize: 1000}, func(e *directory.Entry) error {
		var lines []string
		for k, vs := range e.Attrs {
			for _, v := range vs {
				lines = append(lines, strings.ToLower(k)+": "+base64.StdEncoding.EncodeToString(v))
			}
		}
		slices.Sort(lines)
		entries = append(entries, "dn: "+e.DN+"\n"+strings.Join(lines, "\n"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(entries)
	return strings.Join(entries, "\n\n")
}

// values returns the userSMIMECertificate values of uid.
func (f *dirFixture) values(t *testing.T, uid string) [][]byte {
	t.Helper()
	return f.attr(t, uid, directory.AttrSMIME)
}

func (f *dirFixture) attr(t *testing.T, uid, attr string) [][]byte {
	t.Helper()
	c, err := directory.Dial(context.Background(), directory.Config{URL: f.ldapURL(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out [][]byte
	_, err = c.Search(context.Background(), directory.SearchRequest{Base: testpeer.SLAPDSuffix, Filter: "(uid=" + uid + ")",
		Attrs: []string{attr}}, func(e *directory.Entry) error {
		out = append(out, e.Get(attr)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ldapmodify applies an LDIF file as the admin with OpenLDAP's ldapmodify.
func (f *dirFixture) ldapmodify(t *testing.T, ldif string) {
	t.Helper()
	testpeer.Require(t, "slapd")
	out, err := exec.Command("ldapmodify", "-x", "-H", f.ldapURL(), "-D", dirAdmin, "-w", "secret", "-f", ldif).CombinedOutput()
	if err != nil {
		t.Fatalf("ldapmodify -f %s: %v\n%s", ldif, err, out)
	}
}

// TestDirectoryListSLAPD: list and list --verbose over a real slapd with 100
// users, 4 with values (issue #14 item 1, "Must show").
func TestDirectoryListSLAPD(t *testing.T) {
	f := newDirFixture(t, 0)
	root := filepath.Join(f.labDir, "root.crt")
	code, out, stderr := f.cli("directory", "list", "--ldap", f.ldapURL())
	if code != 0 {
		t.Fatalf("list: exit %d\n%s%s", code, out, stderr)
	}
	wantList := "Users with userSMIMECertificate values:\n" +
		"  Bob (uid=bob,ou=sales,ou=people,dc=example,dc=com): 1 value(s)\n" +
		"  Carol (uid=carol,ou=sales,ou=people,dc=example,dc=com): 2 value(s)\n" +
		"  Dave (uid=dave,ou=eng,ou=people,dc=example,dc=com): 1 value(s)\n" +
		"  Eve (uid=eve,ou=eng,ou=people,dc=example,dc=com): 1 value(s)\n" +
		"Processed 100 users. Found 4 userSMIMECertificate attributes with values.\n"
	if out != wantList || stderr != "" {
		t.Errorf("list:\ngot:\n%s%s\nwant:\n%s", out, stderr, wantList)
	}
	code, out, stderr = f.cli("directory", "list", "--ldap", f.ldapURL(), "--verbose", "--trust", root)
	if code != 0 {
		t.Fatalf("list --verbose: exit %d\n%s%s", code, out, stderr)
	}
	for _, re := range []string{
		`(?m)^  Bob .*\n    value 1: \d+ bytes, sha256 [0-9a-f]{16}\n      CN=smimectl lab intermediate CA,O=smimectl lab \(subject: E=bob@example.com,CN=Bob,O=smimectl lab\) serial [0-9A-F]+, valid 2025-01-01..2035-01-01, trusted\n` +
			`      CN=smimectl lab root CA,O=smimectl lab \(subject: CN=smimectl lab intermediate CA,O=smimectl lab\) serial [0-9A-F]+, .*, CA certificate\n      .*CA certificate\n`,
		`(?m)^  Carol .*\n    value 1: .*\n      .*\(subject: E=carol@example.com,CN=Carol,O=smimectl lab\).*, trusted\n(      .*CA certificate\n){2}    value 2: .*\n      .*\(subject: E=carol@example.com,CN=Carol,O=smimectl lab\).*, untrusted\n`,
		`(?m)^  Dave .*\n    value 1: .*\n      .*\(subject: E=dave@example.com,CN=Dave,O=smimectl lab\).*valid 2025-01-01..2025-06-30, trusted, expired\n`,
		`(?m)^  Eve .*\n    value 1: .*\n      .*\(subject: E=eve@example.com,CN=Eve,O=smimectl lab\).*, untrusted\n`,
		`(?m)^Processed 100 users. Found 4 userSMIMECertificate attributes with values.\n\z`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("list --verbose does not match %s:\n%s", re, out)
		}
	}
	// --filter narrows the users; a filter that does not parse is a usage error.
	code, out, _ = f.cli("directory", "list", "--ldap", f.ldapURL(), "--filter", "(ou=eng)")
	if code != 0 || !strings.Contains(out, "Processed 0 users") {
		// ou is not an attribute of the users; the DN's ou is not matched.
		t.Errorf("--filter (ou=eng): exit %d\n%s", code, out)
	}
	code, out, _ = f.cli("directory", "list", "--ldap", f.ldapURL(), "--filter", "mail=d*")
	if code != 0 || !strings.Contains(out, "Processed 1 users. Found 1 ") || !strings.Contains(out, "Dave") {
		t.Errorf("--filter mail=d*: exit %d\n%s", code, out)
	}
	code, _, stderr = f.cli("directory", "list", "--ldap", f.ldapURL(), "--filter", "(mail=")
	if code != exitUsage || !strings.Contains(stderr, "smimectl: error: --filter: ") {
		t.Errorf("--filter '(mail=': exit %d: %s", code, stderr)
	}
	// The JSON object, checked against the golden file.
	code, out, stderr = f.cli("directory", "list", "--ldap", f.ldapURL(), "--trust", root, "--json")
	if code != 0 {
		t.Fatalf("list --json: exit %d\n%s", code, stderr)
	}
	checkDirectoryGolden(t, "directory-list", out)
}

// TestDirectoryCleanSLAPD: clean --only untrusted changes nothing without
// --apply; with --apply --yes it removes exactly the untrusted values, each
// by value, after writing an LDIF backup, and ldapmodify with the backup
// restores the directory (issue #14 item 2, "Must show"). Binds that may not
// write fail per user, nothing half-changed, exit non-zero.
func TestDirectoryCleanSLAPD(t *testing.T) {
	f := newDirFixture(t, 0)
	root := filepath.Join(f.labDir, "root.crt")
	before := f.snapshot(t)
	clean := []string{"directory", "clean", "--ldap", f.ldapURL(), "--only", "untrusted", "--trust", root}

	// Dry run, even bound as the admin: nothing changes, no backup.
	t.Chdir(f.dir)
	code, out, stderr := f.cli(append(clean, f.bind(dirAdmin, "admin.pw")...)...)
	if code != 0 || !strings.HasPrefix(out, "Dry run: nothing was changed") ||
		!strings.Contains(out, "  Carol (uid=carol,ou=sales,ou=people,dc=example,dc=com): would remove 1 of 2 value(s) (untrusted)\n") ||
		!strings.Contains(out, "  Eve (uid=eve,ou=eng,ou=people,dc=example,dc=com): would remove 1 of 1 value(s) (untrusted)\n") ||
		strings.Contains(out, "Bob") || strings.Contains(out, "Dave") || !strings.HasSuffix(out, "2 value(s) of 2 user(s) to remove.\n") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	if got := f.snapshot(t); got != before {
		t.Fatal("the dry run changed the directory")
	}
	if m, _ := filepath.Glob(f.path("directory-backup-*")); len(m) != 0 {
		t.Fatalf("the dry run wrote %v", m)
	}
	code, out, _ = f.cli(append(clean, "--json")...)
	if code != 0 {
		t.Fatalf("dry run --json: exit %d", code)
	}
	checkDirectoryGolden(t, "directory-clean-dry-run", out)

	// --only expired: Dave's value only; --only all: every value.
	code, out, _ = f.cli("directory", "clean", "--ldap", f.ldapURL(), "--only", "expired")
	if code != 0 || !strings.Contains(out, "  Dave (uid=dave,ou=eng,ou=people,dc=example,dc=com): would remove 1 of 1 value(s) (expired)\n") ||
		!strings.HasSuffix(out, "1 value(s) of 1 user(s) to remove.\n") {
		t.Fatalf("--only expired: exit %d\n%s", code, out)
	}
	code, out, _ = f.cli("directory", "clean", "--ldap", f.ldapURL(), "--only", "all")
	if code != 0 || !strings.HasSuffix(out, "5 value(s) of 4 user(s) to remove.\n") {
		t.Fatalf("--only all: exit %d\n%s", code, out)
	}

	// --apply without a terminal and without --yes: refused, nothing changes.
	code, out, stderr = f.cli(append(clean, "--apply")...)
	if code != exitUsage || out != "" || !strings.Contains(stderr, "smimectl: error: --apply asks for confirmation on a terminal, and there is none\n") {
		t.Fatalf("--apply without --yes: exit %d\n%s%s", code, out, stderr)
	}

	// A read-only bind: every user fails, each reported, nothing changes, exit 2.
	code, out, stderr = f.cli(append(append(clean, f.bind(dirReader, "reader.pw")...), "--apply", "--yes", "--backup", f.path("reader.ldif"))...)
	if code != exitUsage || strings.Count(stderr, "smimectl: error: user ") != 2 ||
		!strings.Contains(stderr, "smimectl: error: user Eve (uid=eve,ou=eng,ou=people,dc=example,dc=com): the directory refused: no permission to modify uid=eve,ou=eng,ou=people,dc=example,dc=com\n") ||
		!strings.Contains(stderr, "smimectl: error: 2 of 2 users could not be changed") ||
		!strings.Contains(out, "Removed 0 value(s) from 0 user(s); 2 user(s) failed.") {
		t.Fatalf("read-only bind: exit %d\n%s%s", code, out, stderr)
	}
	if got := f.snapshot(t); got != before {
		t.Fatal("a refused clean changed the directory")
	}
	if b, err := os.ReadFile(f.path("reader.ldif")); err != nil || bytes.Contains(b, []byte("dn:")) {
		t.Fatalf("the backup of a clean that changed nothing holds changes (%v):\n%s", err, b)
	}

	// cn=cleaner may write in ou=sales only: Carol's untrusted value goes,
	// Eve (ou=eng) fails and keeps hers; exit 2; the backup holds Carol only.
	code, out, stderr = f.cli(append(append(clean, f.bind(dirCleaner, "cleaner.pw")...), "--apply", "--yes", "--backup", f.path("cleaner.ldif"))...)
	if code != exitUsage || strings.Count(stderr, "smimectl: error: user ") != 1 || !strings.Contains(stderr, "user Eve") ||
		!strings.Contains(out, "Carol (uid=carol,ou=sales,ou=people,dc=example,dc=com): removed 1 of 2 value(s)") ||
		!strings.Contains(out, "Eve (uid=eve,ou=eng,ou=people,dc=example,dc=com): failed to remove 1 of 1 value(s)") {
		t.Fatalf("partial bind: exit %d\n%s%s", code, out, stderr)
	}
	carol := f.values(t, "carol")
	if len(carol) != 1 || !bytes.Contains(carol[0], f.lab.User("carol").Cert.Raw) {
		t.Fatalf("carol: %d values left, want her lab certificate only", len(carol))
	}
	if len(f.values(t, "eve")) != 1 {
		t.Fatal("eve's value was removed by a refused modify")
	}
	backup, err := os.ReadFile(f.path("cleaner.ldif"))
	if err != nil || bytes.Count(backup, []byte("\ndn: ")) != 1 || !bytes.Contains(backup, []byte("dn: uid=carol,")) {
		t.Fatalf("cleaner backup (%v):\n%s", err, backup)
	}
	f.ldapmodify(t, f.path("cleaner.ldif"))
	if got := f.snapshot(t); got != before {
		t.Fatal("ldapmodify with the cleaner's backup did not restore the directory")
	}

	// As the admin: exactly the untrusted values go, the backup restores them.
	code, out, stderr = f.cli(append(append(clean, f.bind(dirAdmin, "admin.pw")...), "--apply", "--yes", "--backup", "admin.ldif", "--json")...)
	if code != 0 {
		t.Fatalf("admin clean: exit %d\n%s%s", code, out, stderr)
	}
	checkDirectoryGolden(t, "directory-clean-applied", out)
	after := f.snapshot(t)
	for uid, want := range map[string][][]byte{
		"bob":   {f.lab.User("bob").Cert.Raw},
		"carol": {f.lab.User("carol").Cert.Raw},
		"dave":  {f.lab.User("dave-expired").Cert.Raw},
		"eve":   nil,
	} {
		got := f.values(t, uid)
		if len(got) != len(want) {
			t.Errorf("%s: %d values, want %d", uid, len(got), len(want))
			continue
		}
		for i := range got {
			if !bytes.Contains(got[i], want[i]) {
				t.Errorf("%s: value %d is not the lab's certificate", uid, i+1)
			}
		}
	}
	// Only the userSMIMECertificate lines of two entries differ.
	if d := diffLines(before, after); len(d) != 2 {
		t.Errorf("the clean changed %d lines, want the 2 untrusted values:\n%s", len(d), strings.Join(d, "\n"))
	}
	f.ldapmodify(t, f.path("admin.ldif"))
	if got := f.snapshot(t); got != before {
		t.Fatal("ldapmodify with the backup did not restore the directory")
	}

	// A backup file that exists is never replaced: the run stops before any change.
	code, _, stderr = f.cli(append(append(clean, f.bind(dirAdmin, "admin.pw")...), "--apply", "--yes", "--backup", "admin.ldif")...)
	if code != exitUsage || !strings.Contains(stderr, `admin.ldif: file already exists (a backup is never replaced)`) {
		t.Fatalf("existing backup: exit %d: %s", code, stderr)
	}
	if got := f.snapshot(t); got != before {
		t.Fatal("a clean whose backup could not be written changed the directory")
	}
}

// diffLines returns the lines of a that are not in b and of b not in a.
func diffLines(a, b string) []string {
	count := map[string]int{}
	for l := range strings.SplitSeq(a, "\n") {
		count[l]++
	}
	for l := range strings.SplitSeq(b, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		if n != 0 {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// directoryGolden is testdata/golden, found before any test changes directory.
var directoryGolden, _ = filepath.Abs(filepath.Join("testdata", "golden"))

// checkDirectoryGolden compares one line of JSON with testdata/golden/name.json,
// or writes it with -update. TestSchemaGolden validates the files against
// docs/schema.
func checkDirectoryGolden(t *testing.T, name, out string) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(out), "", "  "); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("%s: not one line of JSON (%v): %q", name, err, out)
	}
	path := filepath.Join(directoryGolden, name+".json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test ./cmd/smimectl -run 'TestDirectory' -update", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from the golden file; if the change is meant, run go test ./cmd/smimectl -run TestDirectory -update\ngot:\n%s", path, pretty.Bytes())
	}
}

// TestDirectoryPublishSLAPD: publish Alice's two certificates ("Publish to
// GAL"), list --verbose shows them, cert-match over the directory picks the
// encryption one, openssl reads the stored PKCS#7; refusals, and the backup
// undoes the publication (issue #14 item 3, "Must show").
func TestDirectoryPublishSLAPD(t *testing.T) {
	testpeer.Require(t, "openssl")
	f := newDirFixture(t, 0)
	t.Chdir(f.dir)
	before := f.snapshot(t)
	ld := func(name string) string { return filepath.Join(f.labDir, name) }
	pub := []string{"directory", "publish", "--ldap", f.ldapURL(), "--p12", ld("alice-sign.p12"), "--p12", ld("alice-encrypt.p12"), "--pass-file", ld("p12.pass")}

	// Dry run: nothing changes.
	code, out, stderr := f.cli(pub...)
	if code != 0 || !strings.HasPrefix(out, "Dry run: nothing was changed") ||
		!strings.Contains(out, "Alice (uid=alice,ou=sales,ou=people,dc=example,dc=com):\n  add userSMIMECertificate: 1 value(s)\n  add userCertificate;binary: 1 value(s)\n") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	if f.snapshot(t) != before {
		t.Fatal("the dry run changed the directory")
	}
	// A certificate that is not Alice's, or expired, is refused (exit 3);
	// --force publishes it with a warning (dry run here).
	aliceDN := "uid=alice,ou=sales,ou=people," + testpeer.SLAPDSuffix
	code, _, stderr = f.cli("directory", "publish", "--ldap", f.ldapURL(), "--cert", ld("bob.crt"), "--dn", aliceDN)
	if code != exitNoCert || !strings.Contains(stderr, `smimectl: error: refusing to publish: certificate "Bob" carries none of the entry's addresses (alice@example.com)`) {
		t.Fatalf("bob's certificate to alice: exit %d: %s", code, stderr)
	}
	code, _, stderr = f.cli("directory", "publish", "--ldap", f.ldapURL(), "--cert", ld("dave-expired.crt"))
	if code != exitNoCert || !strings.Contains(stderr, `certificate "Dave" expired on 2025-06-30`) {
		t.Fatalf("expired: exit %d: %s", code, stderr)
	}
	code, _, stderr = f.cli("directory", "publish", "--ldap", f.ldapURL(), "--cert", ld("dave-expired.crt"), "--force")
	if code != 0 || !strings.Contains(stderr, `smimectl: warning: publishing anyway (--force): certificate "Dave" expired on 2025-06-30`) {
		t.Fatalf("expired --force: exit %d: %s", code, stderr)
	}
	if f.snapshot(t) != before {
		t.Fatal("a refused or dry-run publish changed the directory")
	}

	// Publish as the admin.
	code, out, stderr = f.cli(append(append(pub, f.bind(dirAdmin, "admin.pw")...), "--apply", "--yes", "--backup", "publish.ldif", "--json")...)
	if code != 0 {
		t.Fatalf("publish: exit %d\n%s%s", code, out, stderr)
	}
	checkDirectoryGolden(t, "directory-publish", out)
	code, out, _ = f.cli("directory", "list", "--ldap", f.ldapURL(), "--verbose", "--trust", ld("root.crt"), "--filter", "(uid=alice)")
	if code != 0 || !regexp.MustCompile(`(?m)^  Alice \(uid=alice,.*\): 1 value\(s\)\n    value 1: .*\n`+
		`      .*\(subject: E=alice@example.com,CN=Alice,O=smimectl lab\) .*, trusted\n`+
		`      .*\(subject: E=alice@example.com,CN=Alice,O=smimectl lab\) .*, trusted\n(      .*CA certificate\n){2}`).MatchString(out) {
		t.Fatalf("list after publish: exit %d\n%s", code, out)
	}
	// cert-match over the same directory picks the encryption certificate.
	code, out, stderr = f.cli("cert-match", "alice@example.com", "--purpose", "encrypt", "--certs", f.ldapURL()+"/"+testpeer.SLAPDSuffix,
		"--trust", ld("root.crt"), "--attr-order", "smime-first")
	if want := fmt.Sprintf("serial %X ", f.lab.User("alice-encrypt").Cert.SerialNumber); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("cert-match: exit %d, want %s\n%s%s", code, want, out, stderr)
	}
	// Outlook's form: openssl reads the stored value as PKCS#7 with both certificates.
	vals := f.values(t, "alice")
	if len(vals) != 1 {
		t.Fatalf("alice has %d userSMIMECertificate values, want 1", len(vals))
	}
	p7 := f.path("alice.p7c")
	if err := os.WriteFile(p7, vals[0], 0o600); err != nil {
		t.Fatal(err)
	}
	printed, err := exec.Command("openssl", "pkcs7", "-inform", "DER", "-in", p7, "-print_certs", "-noout").CombinedOutput()
	if err != nil || strings.Count(string(printed), "subject=") != 4 || strings.Count(string(printed), "CN = Alice") != 2 {
		t.Fatalf("openssl pkcs7 -print_certs (%v):\n%s", err, printed)
	}
	if der := f.attr(t, "alice", directory.AttrCert); len(der) != 1 || !bytes.Equal(der[0], f.lab.User("alice-encrypt").Cert.Raw) {
		t.Fatalf("userCertificate;binary: %d values, want alice-encrypt's DER", len(der))
	}
	// Publishing again adds nothing.
	code, out, _ = f.cli(append(append(pub, f.bind(dirAdmin, "admin.pw")...), "--apply", "--yes", "--backup", "again.ldif")...)
	if code != 0 || !strings.Contains(out, "Nothing to do") {
		t.Fatalf("publish again: exit %d\n%s", code, out)
	}
	// The backup undoes the publication.
	f.ldapmodify(t, f.path("publish.ldif"))
	if f.snapshot(t) != before {
		t.Fatal("ldapmodify with the publish backup did not restore the directory")
	}
	// --replace writes over what is there; its backup puts the old values back.
	code, out, stderr = f.cli("directory", "publish", "--ldap", f.ldapURL(), "--cert", ld("carol.crt"), "--replace", "--apply", "--yes",
		"--backup", "replace.ldif", "--ldap-bind-dn", dirAdmin, "--ldap-pass-file", f.path("admin.pw"))
	if code != 0 || len(f.values(t, "carol")) != 1 {
		t.Fatalf("--replace: exit %d, carol has %d values\n%s%s", code, len(f.values(t, "carol")), out, stderr)
	}
	f.ldapmodify(t, f.path("replace.ldif"))
	if f.snapshot(t) != before {
		t.Fatal("ldapmodify with the --replace backup did not restore the directory")
	}
}

// TestDirectoryConfirmSLAPD: on a terminal --apply asks first; anything but
// yes changes nothing and writes no backup; --attribute userCertificate
// cleans the DER values (issue #14 item 2).
func TestDirectoryConfirmSLAPD(t *testing.T) {
	f := newDirFixture(t, 0)
	t.Chdir(f.dir)
	before := f.snapshot(t)
	args := append([]string{"directory", "clean", "--ldap", f.ldapURL(), "--only", "all", "--apply", "--backup", "c.ldif"}, f.bind(dirAdmin, "admin.pw")...)
	var asked []string
	no := func(p string) (bool, error) { asked = append(asked, p); return false, nil }
	code, out, stderr := f.cliConfirm(no, args...)
	if code != exitUsage || out != "" || !strings.Contains(stderr, "smimectl: error: not confirmed; nothing was changed") ||
		len(asked) != 1 || asked[0] != "Remove 5 value(s) from 4 user(s) in dc=example,dc=com? [y/N] " {
		t.Fatalf("no: exit %d, asked %q\n%s%s", code, asked, out, stderr)
	}
	if f.snapshot(t) != before {
		t.Fatal("an unconfirmed clean changed the directory")
	}
	if _, err := os.Stat("c.ldif"); !os.IsNotExist(err) {
		t.Fatalf("an unconfirmed clean wrote its backup (%v)", err)
	}
	yes := func(string) (bool, error) { return true, nil }
	code, out, stderr = f.cliConfirm(yes, args...)
	if code != 0 || !strings.Contains(out, "Removed 5 value(s) from 4 user(s); 0 user(s) failed.") {
		t.Fatalf("yes: exit %d\n%s%s", code, out, stderr)
	}
	f.ldapmodify(t, "c.ldif")
	if f.snapshot(t) != before {
		t.Fatal("the backup did not restore the directory")
	}
	// userCertificate;binary: publish Carol's DER certificate, then clean it.
	code, _, stderr = f.cli(append([]string{"directory", "publish", "--ldap", f.ldapURL(), "--cert", filepath.Join(f.labDir, "carol.crt"), "--apply", "--yes", "--backup", "p.ldif"}, f.bind(dirAdmin, "admin.pw")...)...)
	if code != 0 {
		t.Fatalf("publish carol: exit %d: %s", code, stderr)
	}
	code, out, _ = f.cli("directory", "list", "--ldap", f.ldapURL(), "--attribute", "userCertificate", "--verbose", "--trust", filepath.Join(f.labDir, "root.crt"),
		"--intermediates", filepath.Join(f.labDir, "intermediate.crt"))
	if code != 0 || !strings.Contains(out, "Users with userCertificate values:\n  Carol (uid=carol,ou=sales,ou=people,dc=example,dc=com): 1 value(s)\n") ||
		!strings.Contains(out, "Found 1 userCertificate attributes") || !strings.Contains(out, ", trusted\n") {
		t.Fatalf("list --attribute userCertificate: exit %d\n%s", code, out)
	}
	code, out, stderr = f.cli(append([]string{"directory", "clean", "--ldap", f.ldapURL(), "--attribute", "userCertificate", "--only", "all", "--apply", "--yes", "--backup", "uc.ldif"}, f.bind(dirAdmin, "admin.pw")...)...)
	if code != 0 || len(f.attr(t, "carol", directory.AttrCert)) != 0 || len(f.values(t, "carol")) != 3 {
		t.Fatalf("clean userCertificate: exit %d, %d DER and %d PKCS#7 values left\n%s%s", code, len(f.attr(t, "carol", directory.AttrCert)), len(f.values(t, "carol")), out, stderr)
	}
	f.ldapmodify(t, "uc.ldif")
	f.ldapmodify(t, "p.ldif")
	if f.snapshot(t) != before {
		t.Fatal("the backups did not restore the directory")
	}
}
