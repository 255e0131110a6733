package directory

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab"
)

// fakeConn is a directory in memory: entries by DN, a log of what was
// called, and failures to inject.
type fakeConn struct {
	dse     *Entry
	entries []*Entry
	refs    []string
	log     []string
	fail    map[string]error // DN -> error of Modify
	onMod   func(dn string)  // called before each Modify
}

func (f *fakeConn) RootDSE(context.Context) (*Entry, error) {
	if f.dse == nil {
		return &Entry{Attrs: map[string][][]byte{}}, nil
	}
	return f.dse, nil
}

func (f *fakeConn) Search(_ context.Context, req SearchRequest, fn func(*Entry) error) ([]string, error) {
	f.log = append(f.log, "search "+req.Base+" "+req.Filter)
	for _, e := range f.entries {
		if err := fn(e); err != nil {
			return f.refs, err
		}
	}
	return f.refs, nil
}

func (f *fakeConn) Read(_ context.Context, dn string, _ []string) (*Entry, error) {
	for _, e := range f.entries {
		if e.DN == dn {
			return e, nil
		}
	}
	return nil, nil
}

func (f *fakeConn) Modify(_ context.Context, dn string, mods []Mod) error {
	if f.onMod != nil {
		f.onMod(dn)
	}
	var parts []string
	for _, m := range mods {
		parts = append(parts, fmt.Sprintf("%s %s %d", m.Op, m.Attr, len(m.Values)))
	}
	f.log = append(f.log, "modify "+dn+": "+strings.Join(parts, ", "))
	if err := f.fail[dn]; err != nil {
		return err
	}
	return nil
}

// memBackup records what each Save held.
type memBackup struct {
	saves [][]string
	err   error
	log   *[]string
}

func (b *memBackup) Save(changes []*Change) error {
	var dns []string
	for _, c := range changes {
		dns = append(dns, c.DN)
	}
	b.saves = append(b.saves, dns)
	if b.log != nil {
		*b.log = append(*b.log, fmt.Sprintf("backup %d", len(changes)))
	}
	return b.err
}

type fixture struct {
	l, other *lab.Lab
	now      time.Time
}

var (
	labsOnce  sync.Once
	labs      [2]*lab.Lab
	labsError error
)

// newFixture returns the lab (seed 1) and another CA (seed 2) whose names
// are the lab's, made once for the package's tests.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	labsOnce.Do(func() {
		if labs[0], labsError = lab.New(lab.Options{}); labsError == nil {
			labs[1], labsError = lab.New(lab.Options{Seed: "2"})
		}
	})
	if labsError != nil {
		t.Fatal(labsError)
	}
	return &fixture{l: labs[0], other: labs[1], now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *fixture) p7(t *testing.T, lb *lab.Lab, users ...string) []byte {
	t.Helper()
	var certs []*x509.Certificate
	for _, u := range users {
		certs = append(certs, lb.User(u).Cert)
	}
	der, err := cms.CertsOnly(append(certs, lb.Chain()...))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (f *fixture) judge() Judge {
	return Judge{Roots: []*x509.Certificate{f.l.Root.Cert}, Intermediates: []*x509.Certificate{f.l.Intermediate.Cert}, Now: f.now}
}

// TestReadValue judges values: the lab's certificates are trusted, another
// CA's under the same names is not, an expired one is expired but trusted,
// garbage and oversized values are unreadable and untrusted (issue #14 item 1).
func TestReadValue(t *testing.T) {
	f := newFixture(t)
	big := bytes.Repeat([]byte{0x30}, MaxValueSize+1)
	for _, tc := range []struct {
		name                        string
		raw                         []byte
		untrusted, expired, readErr bool
	}{
		{"lab", f.p7(t, f.l, "bob"), false, false, false},
		{"other CA, same names", f.p7(t, f.other, "bob"), true, false, false},
		{"expired", f.p7(t, f.l, "dave-expired"), false, true, false},
		{"signing and encryption, one expired", f.p7(t, f.l, "alice-sign", "dave-expired"), false, false, false},
		{"mixed CAs in one value", append(f.p7(t, f.l, "bob")[:0:0], mustP7(t, f.l.User("bob").Cert, f.other.User("carol").Cert, f.l.Intermediate.Cert)...), true, false, false},
		{"DER certificate, chain from Intermediates", f.l.User("bob").Cert.Raw, false, false, false},
		{"malformed PKCS#7", f.p7(t, f.l, "bob")[:200], true, false, true},
		{"empty", []byte{}, true, false, true},
		{"oversized", big, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := f.judge().ReadValue(tc.raw)
			if v.Untrusted != tc.untrusted || (v.Err == nil && v.Expired != tc.expired) || (v.Err != nil) != tc.readErr {
				t.Errorf("got untrusted %v expired %v err %v, want %v %v %v", v.Untrusted, v.Expired, v.Err, tc.untrusted, tc.expired, tc.readErr)
			}
		})
	}
	if v := (Judge{Now: f.now}).ReadValue(f.p7(t, f.other, "bob")); v.TrustChecked || v.Untrusted {
		t.Errorf("without roots: checked %v untrusted %v, want neither", v.TrustChecked, v.Untrusted)
	}
}

func mustP7(t *testing.T, certs ...*x509.Certificate) []byte {
	t.Helper()
	der, err := cms.CertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestPlanClean: each selection removes exactly its values, by value, with
// the undo that adds them back (issue #14 item 2).
func TestPlanClean(t *testing.T) {
	f := newFixture(t)
	lab1, other, expired, junk := f.p7(t, f.l, "carol"), f.p7(t, f.other, "carol"), f.p7(t, f.l, "dave-expired"), []byte("junk")
	u := &User{DN: "uid=carol", Name: "Carol", Attr: AttrSMIME}
	for _, raw := range [][]byte{lab1, other, expired, junk} {
		u.Values = append(u.Values, f.judge().ReadValue(raw))
	}
	for _, tc := range []struct {
		only Only
		want [][]byte
	}{
		{OnlyUntrusted, [][]byte{other, junk}},
		{OnlyExpired, [][]byte{expired}},
		{OnlyAll, [][]byte{lab1, other, expired, junk}},
	} {
		t.Run(tc.only.String(), func(t *testing.T) {
			ch, err := PlanClean(u, tc.only)
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.Mods) != 1 || ch.Mods[0].Op != Delete || ch.Mods[0].Attr != AttrSMIME || !sameValues(ch.Mods[0].Values, tc.want) {
				t.Fatalf("mods %+v, want one delete of %d values", ch.Mods, len(tc.want))
			}
			if len(ch.Undo) != 1 || ch.Undo[0].Op != Add || !sameValues(ch.Undo[0].Values, tc.want) {
				t.Errorf("undo %+v, want one add of the same values", ch.Undo)
			}
			if ch.Kept != 4-len(tc.want) {
				t.Errorf("kept %d, want %d", ch.Kept, 4-len(tc.want))
			}
		})
	}
	if ch, err := PlanClean(&User{DN: "x", Attr: AttrSMIME, Values: []Value{f.judge().ReadValue(lab1)}}, OnlyUntrusted); ch != nil || err != nil {
		t.Errorf("nothing to remove: got %+v, %v", ch, err)
	}
	if _, err := PlanClean(&User{DN: "x", Attr: AttrSMIME, Values: []Value{(Judge{Now: f.now}).ReadValue(lab1)}}, OnlyUntrusted); err == nil {
		t.Error("untrusted without roots: no error")
	}
}

func sameValues(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestApply: the backup is saved before the first modify; a user that fails
// does not stop the others; the final backup holds the changes made and
// those whose outcome is unknown, not the refused ones; a backup that can't
// be written stops everything before any modify (issue #14 item 2).
func TestApply(t *testing.T) {
	changes := []*Change{
		{DN: "uid=a", Mods: []Mod{{Op: Delete, Attr: AttrSMIME, Values: [][]byte{{1}, {2}}}}},
		{DN: "uid=b", Mods: []Mod{{Op: Delete, Attr: AttrSMIME, Values: [][]byte{{3}}}}},
		{DN: "uid=c", Mods: []Mod{{Op: Delete, Attr: AttrSMIME, Values: [][]byte{{4}}}}},
		{DN: "uid=d", Mods: []Mod{{Op: Delete, Attr: AttrSMIME, Values: [][]byte{{5}}}}},
	}
	for _, tc := range []struct {
		name       string
		fail       map[string]error
		backupErr  error
		wantLog    string
		wantSaves  string
		wantErrs   []bool
		wantUnkown []bool
		wantErr    bool
	}{
		{name: "all made", wantLog: "backup 4|modify uid=a: delete userSMIMECertificate 2|modify uid=b: delete userSMIMECertificate 1|modify uid=c: delete userSMIMECertificate 1|modify uid=d: delete userSMIMECertificate 1",
			wantSaves: "uid=a uid=b uid=c uid=d", wantErrs: []bool{false, false, false, false}, wantUnkown: []bool{false, false, false, false}},
		{name: "refused and unknown", fail: map[string]error{"uid=b": &PermissionError{Op: "modify", DN: "uid=b", Err: errors.New("50")},
			"uid=c": &UnavailableError{Op: "modifying", Err: errors.New("timeout")}},
			// No answer for c: d is not sent (ErrNotAttempted), and not in the backup.
			wantLog:   "backup 4|modify uid=a: delete userSMIMECertificate 2|modify uid=b: delete userSMIMECertificate 1|modify uid=c: delete userSMIMECertificate 1|backup 2",
			wantSaves: "uid=a uid=b uid=c uid=d;uid=a uid=c", wantErrs: []bool{false, true, true, true}, wantUnkown: []bool{false, false, true, false}},
		{name: "backup fails", backupErr: errors.New("disk full"), wantLog: "backup 4", wantSaves: "uid=a uid=b uid=c uid=d", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeConn{fail: tc.fail}
			b := &memBackup{err: tc.backupErr, log: &c.log}
			outs, err := Apply(context.Background(), c, changes, b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if got := strings.Join(c.log, "|"); got != tc.wantLog {
				t.Errorf("calls:\n%s\nwant:\n%s", got, tc.wantLog)
			}
			var saves []string
			for _, s := range b.saves {
				saves = append(saves, strings.Join(s, " "))
			}
			if got := strings.Join(saves, ";"); got != tc.wantSaves {
				t.Errorf("saves %q, want %q", got, tc.wantSaves)
			}
			for i, o := range outs {
				if (o.Err != nil) != tc.wantErrs[i] || o.Unknown != tc.wantUnkown[i] {
					t.Errorf("outcome %d: err %v unknown %v", i, o.Err, o.Unknown)
				}
			}
		})
	}
}

// TestBackupFile: the file is LDIF whose records add back what was removed,
// never replaces a file that was there, and the second Save replaces the
// first (issue #14 item 2).
func TestBackupFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.ldif")
	ch := &Change{DN: "uid=é,dc=example,dc=com", Note: "removed 1", Undo: []Mod{{Op: Add, Attr: AttrSMIME, Values: [][]byte{bytes.Repeat([]byte{0, 1, 2}, 40)}}}}
	ch2 := &Change{DN: "uid=b,dc=example,dc=com", Undo: []Mod{{Op: Delete, Attr: AttrCert}, {Op: Replace, Attr: "mail", Values: [][]byte{[]byte("b@example.com")}}}}
	b := &BackupFile{Path: path, Header: []string{"test"}}
	if err := b.Save([]*Change{ch, ch2}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# test\n# 2 change(s) to undo\nversion: 1\n\n# removed 1\ndn:: dWlkPcOpLGRjPWV4YW1wbGUsZGM9Y29t\nchangetype: modify\nadd: userSMIMECertificate\n" +
		"userSMIMECertificate:: " + strings.Repeat("AAEC", 40) + "\n-\n\n" +
		"dn: uid=b,dc=example,dc=com\nchangetype: modify\ndelete: userCertificate;binary\n-\nreplace: mail\nmail: b@example.com\n-\n\n"
	if unfold := strings.ReplaceAll(string(got), "\n ", ""); unfold != strings.ReplaceAll(want, "\n ", "") {
		t.Errorf("backup:\n%s\nwant:\n%s", got, want)
	}
	for l := range strings.SplitSeq(string(got), "\n") {
		if len(l) > 77 {
			t.Errorf("line of %d characters: %s", len(l), l)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if err := b.Save(nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); bytes.Contains(got, []byte("dn:")) {
		t.Errorf("second save kept the first's records:\n%s", got)
	}
	other := &BackupFile{Path: path}
	if err := other.Save([]*Change{ch}); !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "a backup is never replaced") {
		t.Errorf("existing file: got %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestDefaultBase: defaultNamingContext first, else the one namingContexts;
// none or several is ErrNoNamingContext (issue #14 item 5).
func TestDefaultBase(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs map[string][][]byte
		want  string
	}{
		{"ad", map[string][][]byte{"defaultNamingContext": {[]byte("DC=corp,DC=example")}, "namingContexts": {[]byte("CN=Configuration"), []byte("DC=corp,DC=example")}}, "DC=corp,DC=example"},
		{"openldap", map[string][][]byte{"namingContexts": {[]byte("dc=example,dc=com")}}, "dc=example,dc=com"},
		{"none", map[string][][]byte{}, ""},
		{"several", map[string][][]byte{"namingContexts": {[]byte("dc=a"), []byte("dc=b")}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DefaultBase(context.Background(), &fakeConn{dse: &Entry{Attrs: tc.attrs}})
			if got != tc.want || (tc.want == "") != errors.Is(err, ErrNoNamingContext) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestScan counts every user and passes on those with values, with the
// referrals the search met (issue #14 item 1).
func TestScan(t *testing.T) {
	f := newFixture(t)
	c := &fakeConn{refs: []string{"ldap://elsewhere/ou=x"}, dse: &Entry{Attrs: map[string][][]byte{"namingContexts": {[]byte("dc=example,dc=com")}}}}
	for i := range 10 {
		e := &Entry{DN: fmt.Sprintf("uid=u%d,ou=people,DC=Example,dc=com", i), Attrs: map[string][][]byte{"cn": {[]byte(fmt.Sprint("U", i))}}}
		if i%4 == 0 {
			e.Attrs["userSMIMECertificate;binary"] = [][]byte{f.p7(t, f.l, "bob"), []byte("junk")}
		}
		c.entries = append(c.entries, e)
	}
	c.entries = append(c.entries, &Entry{DN: "uid=evil,dc=elsewhere", Attrs: map[string][][]byte{"cn": {[]byte("Evil")}, "userSMIMECertificate": {[]byte("x")}}},
		&Entry{DN: "not a DN", Attrs: map[string][][]byte{"cn": {[]byte("Bad")}}})
	var names []string
	sum, err := Scan(context.Background(), c, ScanOptions{Filter: "mail=*", Judge: f.judge()}, func(u *User) error {
		names = append(names, u.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "U0,U4,U8" || sum.Users != 10 || sum.WithValues != 3 || sum.Values != 6 || sum.Unreadable != 3 ||
		sum.Base != "dc=example,dc=com" || len(sum.Referrals) != 1 || sum.Outside != 2 {
		t.Errorf("names %v, summary %+v", names, sum)
	}
	if c.log[0] != "search dc=example,dc=com (&(objectClass=person)(mail=*))" {
		t.Errorf("search %q", c.log[0])
	}
	if _, err := Scan(context.Background(), c, ScanOptions{Filter: "(mail=", Judge: f.judge()}, nil); err == nil {
		t.Error("a filter that does not parse: no error")
	}
}

// TestPlanPublish: Outlook's form (PKCS#7 of every certificate, DER of the
// encryption ones), refusals, --force warnings, add vs replace, and the
// undo of each (issue #14 item 3).
func TestPlanPublish(t *testing.T) {
	f := newFixture(t)
	alice := &Entry{DN: "uid=alice,dc=example,dc=com", Attrs: map[string][][]byte{"mail": {[]byte("alice@example.com")}, "cn": {[]byte("Alice")}}}
	c := &fakeConn{entries: []*Entry{alice}, dse: &Entry{Attrs: map[string][][]byte{"namingContexts": {[]byte("dc=example,dc=com")}}}}
	certs := []*x509.Certificate{f.l.User("alice-sign").Cert, f.l.User("alice-encrypt").Cert, f.l.Intermediate.Cert}
	ch, warn, err := PlanPublish(context.Background(), c, PublishOptions{Certs: certs, Now: f.now})
	if err != nil || len(warn) != 0 {
		t.Fatal(err, warn)
	}
	if len(ch.Mods) != 2 || ch.Mods[0].Op != Add || ch.Mods[0].Attr != AttrSMIME || ch.Mods[1].Attr != AttrCert ||
		len(ch.Mods[1].Values) != 1 || !bytes.Equal(ch.Mods[1].Values[0], f.l.User("alice-encrypt").Cert.Raw) {
		t.Fatalf("mods %+v", ch.Mods)
	}
	got, err := cms.Certificates(ch.Mods[0].Values[0])
	if err != nil || len(got) != 3 || !got[0].Equal(certs[0]) || !got[2].Equal(certs[2]) {
		t.Fatalf("PKCS#7: %d certificates, %v", len(got), err)
	}
	if len(ch.Undo) != 2 || ch.Undo[0].Op != Delete || !sameValues(ch.Undo[0].Values, ch.Mods[0].Values) {
		t.Errorf("undo %+v", ch.Undo)
	}
	// Already there: nothing to add.
	alice.Attrs[AttrSMIME] = ch.Mods[0].Values
	alice.Attrs[AttrCert] = ch.Mods[1].Values
	if again, _, err := PlanPublish(context.Background(), c, PublishOptions{Certs: certs, Now: f.now}); again != nil || err != nil {
		t.Errorf("again: %+v, %v", again, err)
	}
	// Replace: the undo puts the old values back.
	rep, _, err := PlanPublish(context.Background(), c, PublishOptions{Certs: certs[1:2], Replace: true, Now: f.now})
	if err != nil || rep.Mods[0].Op != Replace || rep.Undo[0].Op != Replace || !sameValues(rep.Undo[0].Values, alice.Attrs[AttrSMIME]) {
		t.Fatalf("replace: %+v %v", rep, err)
	}
	// Replace with a signing certificate only: userCertificate, which it
	// has nothing for, is left alone.
	sig, _, err := PlanPublish(context.Background(), c, PublishOptions{Certs: certs[:1], Replace: true, Now: f.now})
	if err != nil || len(sig.Mods) != 1 || sig.Mods[0].Attr != AttrSMIME {
		t.Fatalf("replace with a signing certificate: %+v %v", sig, err)
	}
	for _, tc := range []struct {
		name  string
		opts  PublishOptions
		want  string
		found bool
	}{
		{"someone else's", PublishOptions{Certs: []*x509.Certificate{f.l.User("bob").Cert}, DN: "uid=alice,dc=example,dc=com"}, `certificate "Bob" carries none of the entry's addresses`, false},
		{"expired", PublishOptions{Certs: []*x509.Certificate{f.l.User("dave-expired").Cert}, DN: "uid=alice,dc=example,dc=com"}, `expired on 2025-06-30`, false},
		{"no entry", PublishOptions{Certs: []*x509.Certificate{f.l.User("carol").Cert}, DN: "uid=nobody"}, `no entry for "uid=nobody"`, false},
		{"only CAs", PublishOptions{Certs: []*x509.Certificate{f.l.Root.Cert}}, "no end-entity certificate", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = f.now
			_, _, err := PlanPublish(context.Background(), c, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			tc.opts.Force = true
			if _, warn, err := PlanPublish(context.Background(), c, tc.opts); tc.name != "no entry" && tc.name != "only CAs" && (err != nil || len(warn) == 0) {
				t.Errorf("--force: %v, warnings %v", err, warn)
			}
		})
	}
}
