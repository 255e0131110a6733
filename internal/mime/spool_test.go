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

// TestSpoolDrop: a spool whose Drop says yes keeps the first DropAfter
// bytes, counts the rest, and a reader gets the kept bytes and then
// ErrDropped, never an EOF, with Missed set; one that stops before the
// end misses nothing. Drop is asked once, with exactly the first
// DropAfter bytes, whether they are in memory or in the file (issue #13,
// large messages).
func TestSpoolDrop(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	for _, tc := range []struct {
		name      string
		threshold int64
		after     int
		writes    []int
		drop      bool
		asked     bool
	}{
		{"dropped in memory", 500, 100, []int{60, 60, 880}, true, true},
		{"dropped in the file", 50, 100, []int{60, 60, 880}, true, true},
		{"at the boundary", 500, 100, []int{100, 1, 899}, true, true},
		{"one write", 50, 100, []int{1000}, true, true},
		{"kept", 50, 100, []int{60, 60, 880}, false, true},
		{"never past DropAfter", 50, 1000, []int{600, 400}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := 0
			s := &Spool{Threshold: tc.threshold, Dir: t.TempDir(), DropAfter: tc.after, Drop: func(head []byte) bool {
				asked++
				if !bytes.Equal(head, data[:tc.after]) {
					t.Errorf("Drop got %q, want the first %d bytes", head, tc.after)
				}
				return tc.drop
			}}
			defer s.Close()
			off := 0
			for _, n := range tc.writes {
				if m, err := s.Write(data[off : off+n]); m != n || err != nil {
					t.Fatalf("Write = %d, %v", m, err)
				}
				off += n
			}
			if asked != map[bool]int{true: 1, false: 0}[tc.asked] {
				t.Fatalf("Drop asked %d times", asked)
			}
			dropped := tc.drop && tc.asked
			if s.Size() != int64(len(data)) || s.Dropped() != dropped {
				t.Fatalf("Size %d, Dropped %v; want %d, %v", s.Size(), s.Dropped(), len(data), dropped)
			}
			// A reader that stops at the kept bytes misses nothing.
			r, _ := s.Open()
			head := make([]byte, tc.after)
			if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head, data[:tc.after]) || s.Missed() {
				t.Fatalf("reading the head: %v, missed %v", err, s.Missed())
			}
			r, _ = s.Open()
			got, err := io.ReadAll(r)
			if !dropped {
				if err != nil || !bytes.Equal(got, data) || s.Missed() {
					t.Fatalf("ReadAll: %d bytes, %v, missed %v; want all of them", len(got), err, s.Missed())
				}
				return
			}
			if !errors.Is(err, ErrDropped) || !bytes.Equal(got, data[:tc.after]) || !s.Missed() {
				t.Fatalf("ReadAll: %d bytes, %v, missed %v; want %d and ErrDropped", len(got), err, s.Missed(), tc.after)
			}
			// io.Copy must not end quietly at the kept bytes either.
			r, _ = s.Open()
			if _, err := io.Copy(io.Discard, r); !errors.Is(err, ErrDropped) {
				t.Fatalf("io.Copy: %v, want ErrDropped", err)
			}
		})
	}
}
