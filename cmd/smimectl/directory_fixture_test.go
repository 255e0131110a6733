package main

// dirFixture: a real slapd with a lab directory, for the directory commands' tests.

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
