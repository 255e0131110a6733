package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

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
