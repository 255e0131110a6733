package mime

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
)

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "smimectl-spool-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
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
			if got := len(spoolFiles(t, dir)); (got == 1) != tc.wantFile || got > 1 {
				t.Errorf("%d spool files, want file %v", got, tc.wantFile)
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
	if n := len(spoolFiles(t, dir)); n != 1 {
		t.Errorf("%d spool files, want 1", n)
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
