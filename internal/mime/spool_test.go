package mime

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// spoolFiles lists every name in dir: a spool leaves none, not even while
// it holds data (issue #11 item 14).
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestSpool(t *testing.T) {
	tests := []struct {
		name      string
		threshold int64
		writes    []int
		wantFile  bool
	}{
		{"empty", 10, nil, false},
		{"under threshold", 10, []int{3, 4}, false},
		{"exactly threshold", 10, []int{4, 6}, false},
		{"crosses threshold", 10, []int{4, 4, 4}, true},
		{"first write over threshold", 10, []int{11}, true},
		{"many writes in file", 10, []int{5, 5, 5, 5, 1000, 1}, true},
		{"default threshold", 0, []int{1 << 20}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := &Spool{Threshold: tc.threshold, Dir: dir}
			var want bytes.Buffer
			for i, n := range tc.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				want.Write(p)
				if k, err := s.Write(p); err != nil || k != n {
					t.Fatalf("Write: %d, %v", k, err)
				}
			}
			if s.Size() != int64(want.Len()) {
				t.Errorf("Size %d, want %d", s.Size(), want.Len())
			}
			if (s.file != nil) != tc.wantFile {
				t.Errorf("spooled to a file: %v, want %v", s.file != nil, tc.wantFile)
			}
			if got := spoolFiles(t, dir); len(got) != 0 {
				t.Errorf("names in the spool directory: %q, want none", got)
			}
			// Two readers at once, each from the start.
			r1, err := s.Open()
			if err != nil {
				t.Fatal(err)
			}
			r2, _ := s.Open()
			half := make([]byte, want.Len()/2)
			io.ReadFull(r1, half)
			got2, _ := io.ReadAll(r2)
			rest1, _ := io.ReadAll(r1)
			if !bytes.Equal(got2, want.Bytes()) || !bytes.Equal(append(half, rest1...), want.Bytes()) {
				t.Error("reread content differs")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := spoolFiles(t, dir); len(got) != 0 {
				t.Errorf("files left after Close: %q", got)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if _, err := s.Write([]byte("x")); err == nil {
				t.Error("Write after Close succeeded")
			}
			if _, err := s.Open(); err == nil {
				t.Error("Open after Close succeeded")
			}
		})
	}
}

func TestSpoolBadDir(t *testing.T) {
	s := &Spool{Threshold: 1, Dir: filepath.Join(t.TempDir(), "missing")}
	if _, err := s.Write([]byte("ab")); err == nil {
		t.Fatal("Write to a missing directory succeeded")
	}
	if _, err := s.Write([]byte("ab")); err == nil {
		t.Error("Write after a failed Write succeeded")
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

func TestReadSignedSpoolsToFile(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte("line of content\n"), 1000)
	msg, digested := signMessage(t, append([]byte("Content-Type: text/plain\n\n"), content...), []byte{1, 2, 3})
	p, got := readSignedBytes(t, msg, Spool{Threshold: 100, Dir: dir})
	if !bytes.Equal(got, digested) {
		t.Error("content differs from signed bytes")
	}
	if p.Content.file == nil {
		t.Error("content not spooled to a file")
	}
	if n := len(spoolFiles(t, dir)); n != 0 {
		t.Errorf("%d names in the spool directory, want 0", n)
	}
	p.Close()
	if n := len(spoolFiles(t, dir)); n != 0 {
		t.Errorf("%d spool files after Close, want 0", n)
	}
	// A failing parse leaves nothing behind either.
	e, _ := ReadEntity(bytes.NewReader(msg[:len(msg)-len("--\r\n")-40]))
	if _, err := ReadSigned(e, Spool{Threshold: 100, Dir: dir}); err == nil {
		t.Fatal("truncated message accepted")
	}
	if n := len(spoolFiles(t, dir)); n != 0 {
		t.Errorf("%d spool files after a failed parse, want 0", n)
	}
}

// TestSpoolUnnamed: a spool's temporary file has no name in its directory
// from the moment it exists, so a process killed while it holds decrypted
// plaintext leaves none of it on disk (issue #11 item 14). Both ways of
// getting such a file are checked: O_TMPFILE (Linux) and create-then-remove.
func TestSpoolUnnamed(t *testing.T) {
	creators := map[string]func(string) (*os.File, bool, error){
		"default":       createUnlinked,
		"create+remove": createRemoved,
	}
	for name, create := range creators {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := &Spool{Threshold: 10, Dir: dir, create: create}
			defer s.Close()
			want := bytes.Repeat([]byte("plaintext "), 100)
			if _, err := s.Write(want); err != nil {
				t.Fatal(err)
			}
			if s.file == nil {
				t.Fatal("not spooled to a file")
			}
			if got := spoolFiles(t, dir); len(got) != 0 {
				t.Fatalf("names in the spool directory while it holds data: %q", got)
			}
			if runtime.GOOS == "linux" {
				// The data is in a file of dir that the kernel knows is deleted.
				link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(s.file.Fd())))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(link, dir+"/") || !strings.HasSuffix(link, " (deleted)") {
					t.Errorf("spool file is %q, want a deleted file in %q", link, dir)
				}
			}
			r, err := s.Open()
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := io.ReadAll(r); !bytes.Equal(got, want) {
				t.Error("reread content differs")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSpoolLocalFaults: a temporary file that can't be created or written is
// a *SpoolError carrying the system's reason, so that callers can tell a
// fault of this machine from a fault of the message (issue #11 item 15).
func TestSpoolLocalFaults(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		dir    string
		create func(string) (*os.File, bool, error)
		op     string
		is     error
	}{
		{"missing directory", filepath.Join(t.TempDir(), "missing"), nil, "create", syscall.ENOENT},
		{"not a directory", notDir, nil, "create", syscall.ENOTDIR},
		{"disk full", t.TempDir(), openDevFull, "write", syscall.ENOSPC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Spool{Threshold: 4, Dir: tc.dir, create: tc.create}
			if _, err := s.Write([]byte("ab")); err != nil {
				t.Fatalf("in-memory Write: %v", err)
			}
			_, err := s.Write([]byte("cdef"))
			var se *SpoolError
			if !errors.As(err, &se) {
				t.Fatalf("got %T %v, want a *SpoolError", err, err)
			}
			if se.Op != tc.op || se.Dir != tc.dir || !errors.Is(err, tc.is) {
				t.Errorf("got %+v, want op %q, dir %q, cause %v", se, tc.op, tc.dir, tc.is)
			}
			if want := "mime: can't " + tc.op + " a temporary file in " + strconv.Quote(tc.dir) + ": " + tc.is.Error(); err.Error() != want {
				t.Errorf("got %q, want %q", err, want)
			}
			if _, err2 := s.Write([]byte("g")); err2 != err {
				t.Errorf("second Write: %v, want the first error again", err2)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// openDevFull stands in for a full disk: every write to /dev/full fails with
// ENOSPC.
func openDevFull(string) (*os.File, bool, error) {
	f, err := os.OpenFile("/dev/full", os.O_RDWR, 0)
	return f, false, err
}
