package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Red team (attack3): --pin-file, the URI's pin-source, --pass-file and
// --ldap-pass-file read the whole file to take its first line, so
// --pin-file /dev/zero (or a large file named by mistake) ran the process
// out of memory and died with a runtime trace, and a pipe carrying the PIN
// followed by the message was read to its end. The first line is read
// alone now, bounded.
func TestReadFirstLineBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("7"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readFirstLine(big)
	if err == nil {
		t.Fatalf("a 1 MiB line was taken as a secret (%d bytes)", len(got))
	}
	if !strings.Contains(err.Error(), "longer than 4096 bytes") || strings.Contains(err.Error(), "7777") {
		t.Errorf("error %q: want the bound named and no content", err)
	}
	if code := exitCode(err); code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}

	crlf := filepath.Join(dir, "crlf")
	if err := os.WriteFile(crlf, []byte("314159\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := readFirstLine(crlf); err != nil || string(got) != "314159" {
		t.Errorf("CRLF file: got %q, %v", got, err)
	}
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, bytes.Repeat([]byte("p"), maxSecretLine), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := readFirstLine(exact); err != nil || len(got) != maxSecretLine {
		t.Errorf("a line of exactly %d bytes: got %d bytes, %v", maxSecretLine, len(got), err)
	}

	// A pipe with the PIN and then the message: only the PIN is taken.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		_, _ = w.Write([]byte("314159\nFrom: bob@example.com\n"))
		w.Close()
	}()
	got, err = readFirstLine("/dev/fd/" + strconv.Itoa(int(r.Fd())))
	if err != nil || string(got) != "314159" {
		t.Fatalf("pipe: got %q, %v", got, err)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "From: bob@example.com\n" {
		t.Errorf("the pipe was read past the PIN's line: %q left", rest)
	}
}
