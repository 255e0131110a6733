package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// dirNames returns the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenOutputCommit(t *testing.T) {
	for _, perm := range []fs.FileMode{modePublic, modePrivate} {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.eml")
		e, _, _ := testEnv("", nil)
		w, commit, abort := openOutputMode(e, path, perm)
		if _, err := io.WriteString(w, "hello\r\n"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%s exists before commit (err %v)", path, err)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		abort() // after commit: does nothing
		b, err := os.ReadFile(path)
		if err != nil || string(b) != "hello\r\n" {
			t.Fatalf("after commit: got %q, %v; want %q", b, err, "hello\r\n")
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("directory holds %q, want only out.eml", names)
		}
		if runtime.GOOS != "windows" {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != perm {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), perm)
			}
		}
		if _, err := w.Write([]byte("late")); err == nil {
			t.Error("write after commit: got no error")
		}
	}
}

func TestOpenOutputAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.eml")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, _ := testEnv("", nil)
	w, commit, abort := openOutput(e, path)
	if _, err := io.WriteString(w, "half a message"); err != nil {
		t.Fatal(err)
	}
	abort()
	abort()
	if err := commit(); err == nil {
		t.Error("commit after abort: got no error")
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "old" {
		t.Errorf("after abort: got %q, %v; want the old content", b, err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only out.eml", names)
	}
}

func TestOpenOutputBadDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "out.eml")
	e, _, _ := testEnv("", nil)
	w, commit, abort := openOutput(e, path)
	defer abort()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write into a missing directory: got no error")
	}
	err := commit()
	if err == nil {
		t.Fatal("commit into a missing directory: got no error")
	}
	if got := exitCode(err); got != exitUsage {
		t.Errorf("exit status %d, want %d", got, exitUsage)
	}
}

func TestOpenOutputStdout(t *testing.T) {
	for _, path := range []string{"", "-"} {
		e, stdout, _ := testEnv("", nil)
		w, commit, abort := openOutput(e, path)
		io.WriteString(w, "through")
		if stdout.String() != "through" {
			t.Errorf("%q: stdout %q before commit, want it written through", path, stdout)
		}
		abort()
		if err := commit(); err != nil {
			t.Errorf("%q: commit: %v", path, err)
		}
	}
}

func TestOpenInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.eml")
	if err := os.WriteFile(path, []byte("from file"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"", "from stdin"},
		{"-", "from stdin"},
		{path, "from file"},
	}
	for _, tc := range tests {
		e, _, _ := testEnv("from stdin", nil)
		r, err := openInput(e, tc.path)
		if err != nil {
			t.Fatalf("%q: %v", tc.path, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(b) != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.path, b, err, tc.want)
		}
	}
	e, _, _ := testEnv("", nil)
	_, err := openInput(e, filepath.Join(dir, "missing.eml"))
	if err == nil || exitCode(err) != exitUsage {
		t.Errorf("missing file: got %v (status %d), want an error with status %d", err, exitCode(err), exitUsage)
	}
}

// TestOutputDevice: --out /dev/null writes through to the device instead of
// renaming a temporary file over it.
func TestOutputDevice(t *testing.T) {
	fi, err := os.Stat(os.DevNull)
	if err != nil || fi.Mode().IsRegular() {
		t.Skip("no device at", os.DevNull)
	}
	e, _, _ := testEnv("", nil)
	w, commit, _ := openOutput(e, os.DevNull)
	if _, err := w.Write([]byte("discarded")); err != nil {
		t.Fatal(err)
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Fatalf("%s is now a regular file", os.DevNull)
	}
}
