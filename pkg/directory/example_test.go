package directory_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/directory"
)

// memory is a one-entry directory in memory, the way a test or another
// backend implements directory.Conn.
type memory struct{ entry *directory.Entry }

func (m *memory) RootDSE(context.Context) (*directory.Entry, error) {
	return &directory.Entry{Attrs: map[string][][]byte{"namingContexts": {[]byte("dc=example,dc=com")}}}, nil
}

func (m *memory) Search(_ context.Context, _ directory.SearchRequest, fn func(*directory.Entry) error) ([]string, error) {
	return nil, fn(m.entry)
}

func (m *memory) Read(context.Context, string, []string) (*directory.Entry, error) {
	return m.entry, nil
}

func (m *memory) Modify(_ context.Context, dn string, mods []directory.Mod) error {
	for _, mod := range mods {
		fmt.Printf("modify %s: %s %d value(s) of %s\n", dn, mod.Op, len(mod.Values), mod.Attr)
	}
	return nil
}

// Scan the users, plan the removal of the values not issued by the
// organisation's CA, and apply it with a backup written first.
func ExampleApply() {
	corp, _ := lab.New(lab.Options{})
	other, _ := lab.New(lab.Options{Seed: "2"})
	own, _ := cms.CertsOnly([]*x509.Certificate{corp.User("bob").Cert, corp.Intermediate.Cert})
	foreign, _ := cms.CertsOnly([]*x509.Certificate{other.User("bob").Cert, other.Intermediate.Cert})
	conn := &memory{entry: &directory.Entry{DN: "uid=bob,dc=example,dc=com",
		Attrs: map[string][][]byte{"cn": {[]byte("Bob")}, "userSMIMECertificate": {own, foreign}}}}

	ctx := context.Background()
	judge := directory.Judge{Roots: []*x509.Certificate{corp.Root.Cert}, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var changes []*directory.Change
	sum, err := directory.Scan(ctx, conn, directory.ScanOptions{Judge: judge}, func(u *directory.User) error {
		ch, err := directory.PlanClean(u, directory.OnlyUntrusted)
		if ch != nil {
			changes = append(changes, ch)
		}
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Processed %d users. Found %d with values.\n", sum.Users, sum.WithValues)
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	backup := &directory.BackupFile{Path: filepath.Join(dir, "removed.ldif")}
	outcomes, err := directory.Apply(ctx, conn, changes, backup)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range outcomes {
		fmt.Printf("%s: removed %d, kept %d, error %v\n", o.Change.DN, len(o.Change.Removed), o.Change.Kept, o.Err)
	}
	// Output:
	// Processed 1 users. Found 1 with values.
	// modify uid=bob,dc=example,dc=com: delete 1 value(s) of userSMIMECertificate
	// uid=bob,dc=example,dc=com: removed 1, kept 1, error <nil>
}
