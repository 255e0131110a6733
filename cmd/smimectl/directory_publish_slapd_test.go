package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/testpeer"
	"github.com/smimectl/smimectl/pkg/directory"
)

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
