package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smimectl/smimectl/internal/batch"
)

// cmdFilemode checks the permission bits of a file: "filemode 0600 f".
func cmdFilemode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: filemode <octal mode> <file>")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Lstat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fi.Mode().Perm(); uint64(got) != want {
		ts.Fatalf("%s has mode %#o, want %#o", args[1], got, want)
	}
}

// Issue #13 item 1, hostile names: whatever an input's path, its file
// under decrypt --out-dir is inside the directory (no "..", no leading
// "/"), and an mbox message has "#N" after the mbox's name.
func TestOutDirName(t *testing.T) {
	tests := []struct {
		path  string
		index int
		want  string
	}{
		{"fx/a.eml", -1, "fx/a.eml"},
		{"./fx//sub/../a.eml", -1, "fx/a.eml"},
		{"../../etc/passwd", -1, "etc/passwd"},
		{"/var/mail/../../etc/shadow", -1, "etc/shadow"},
		{"/home/u/Maildir/cur/1:2,S", -1, "home/u/Maildir/cur/1:2,S"},
		{"inbox", 2, "inbox#2"},
		{"..", -1, ""},
		{"/", -1, ""},
		{"-", -1, ""},
		{"a/..\n/b", -1, "a/..\n/b"}, // not "..": a name of its own
	}
	for _, tc := range tests {
		got, err := outDirName(batch.Input{Path: tc.path, MboxIndex: tc.index})
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: got %q, want an error", tc.path, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}

// Issue #13 item 1: decrypt --out-dir's files, with and without O_TMPFILE:
// mode 0600, complete or absent, never over a name that is taken (even one
// taken while the message was written), never through a symbolic link out
// of the directory, nothing left of a discarded one, and a signal's
// clean-up finds every temporary name.
func TestOutDir(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(map[bool]string{false: "unnamed until complete", true: "named from the start"}[named], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			temps := &tempFiles{named: named}
			e := &env{temps: temps, Umask: 0o022}
			od, err := openOutDir(e, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer e.releaseAll()
			in := func(p string) batch.Input { return batch.Input{Path: p, MboxIndex: -1} }

			a, err := od.create(in("fx/sub/a.eml"))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(a, "plaintext a")
			// The same name again, before the first is in place: both are
			// written, only the first gets the name.
			a2, err := od.create(in("./fx/sub/a.eml"))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(a2, "plaintext a2")
			if named && len(temps.names) != 2 {
				t.Errorf("recorded %v, want the two temporary names", temps.names)
			}
			if err := a.place(); err != nil {
				t.Fatal(err)
			}
			if err := a2.place(); !errors.Is(err, fs.ErrExist) {
				t.Errorf("second place: %v, want it refused as existing", err)
			}
			a2.discard()
			if b, err := os.ReadFile(filepath.Join(dir, "fx/sub/a.eml")); err != nil || string(b) != "plaintext a" {
				t.Errorf("fx/sub/a.eml: %q, %v", b, err)
			}
			if fi, err := os.Stat(filepath.Join(dir, "fx/sub/a.eml")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
			}
			// Taken before: refused at once.
			if _, err := od.create(in("fx/sub/a.eml")); !errors.Is(err, fs.ErrExist) {
				t.Errorf("create over an existing file: %v, want it refused", err)
			}
			// A discarded one leaves nothing.
			b, err := od.create(in("b.eml"))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(b, "plaintext b")
			b.discard()
			// A symbolic link out of the directory is not followed.
			outside := t.TempDir()
			if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			if _, err := od.create(in("link/c.eml")); err == nil {
				t.Error("created a file through a symbolic link out of --out-dir")
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("written outside: %v", entries)
			}
			var files []string
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					files = append(files, rel)
				}
				return nil
			})
			if want := []string{"fx/sub/a.eml", "link"}; !slices.Equal(files, want) {
				t.Errorf("out-dir holds %q, want %q", files, want)
			}
			if len(temps.names) != 0 {
				t.Errorf("still recorded: %v", temps.names)
			}
			// A signal while a file is written: its temporary name goes, as
			// does the directory made for it (removeAll keeps the set locked
			// for the exit that follows: a set of its own).
			sigTemps := &tempFiles{named: named}
			sig, err := openOutDir(&env{temps: sigTemps}, dir)
			if err != nil {
				t.Fatal(err)
			}
			c, err := sig.create(in("new/c.eml"))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "plaintext c")
			sigTemps.removeAll()
			c.f.Close()
			c.d.Close()
			sig.root.Close()
			if _, err := os.Lstat(filepath.Join(dir, "new")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after a signal new/ is there (%v), want it gone with its file", err)
			}
		})
	}
}
