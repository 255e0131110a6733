package directory_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/smimectl/smimectl/pkg/directory"
	"github.com/smimectl/smimectl/pkg/verify"
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
// organisation's CA, and apply it with a backup written first. Bob's entry
// holds two certs-only PKCS#7 values from the lab's files in
// ../testdata/example/directory: his certificate from the organisation's
// CA and one from another CA.
func ExampleApply() {
	read := func(name string) []byte {
		data, err := os.ReadFile("../testdata/example/" + name)
		if err != nil {
			log.Fatal(err)
		}
		return data
	}
	roots, err := verify.ReadCertificates(bytes.NewReader(read("root.crt")))
	if err != nil {
		log.Fatal(err)
	}
	own, foreign := read("directory/bob.p7c"), read("directory/bob-other-ca.p7c")
	conn := &memory{entry: &directory.Entry{DN: "uid=bob,dc=example,dc=com",
		Attrs: map[string][][]byte{"cn": {[]byte("Bob")}, "userSMIMECertificate": {own, foreign}}}}

	ctx := context.Background()
	judge := directory.Judge{Roots: roots, Now: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
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
