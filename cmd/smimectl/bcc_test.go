//go:build linux

package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
)

// Issue #11 item 16: encrypt --bcc separate writes all of its files or none,
// an exit status other than 0 leaves none, and the Bcc file names, made from
// header addresses, can't leave --out-dir.

// runNow runs a command line in process with the real clock (the lab's
// certificates are valid from 2025).
func runNow(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	e, out, errOut := testEnv("", nil)
	e.Now = time.Now
	code = run(e, args)
	return out.String(), errOut.String(), code
}

// bccLab writes the lab into dir/lab, plus encryption certificates (bob's
// key) for each address in extra, and returns the lab directory.
func bccLab(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	labDir := filepath.Join(dir, "lab")
	if err := l.WriteDir(labDir, "pass"); err != nil {
		t.Fatal(err)
	}
	bob := l.User("bob")
	for i, addr := range extra {
		serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			Subject:               pkix.Name{CommonName: fmt.Sprintf("hostile %d", i)},
			NotBefore:             l.Options.Epoch,
			NotAfter:              l.Options.Epoch.AddDate(10, 0, 0),
			KeyUsage:              x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			BasicConstraintsValid: true,
			EmailAddresses:        []string{addr},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, l.Intermediate.Cert, bob.Cert.PublicKey, l.Intermediate.Key)
		if err != nil {
			t.Fatalf("certificate for %q: %v", addr, err)
		}
		p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(filepath.Join(labDir, fmt.Sprintf("hostile%d.crt", i)), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return labDir
}

// tree lists every file and directory under root, relative to it.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(root, path); rel != "." {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// bccMessage is a message to bob with the given Bcc field values.
func bccMessage(bcc ...string) string {
	return "From: alice@example.com\r\nTo: bob@example.com\r\n" +
		"Bcc: " + strings.Join(bcc, ", ") + "\r\nSubject: surprise\r\nContent-Type: text/plain\r\n\r\nSecret party on Friday.\r\n"
}

// TestBccHostileAddresses: Bcc addresses that are paths, very long, or
// differ only in what the file name can't hold, each get a file of their
// own inside --out-dir, and nothing is written anywhere else.
func TestBccHostileAddresses(t *testing.T) {
	root := t.TempDir()
	hostile := []string{
		"../../x@example.com",
		"/etc/passwd@example.com",
		"a/b@example.com",
		strings.Repeat("l", 200) + "@example.com",
		"a:b@example.com", // these two transform to the same text
		"a;b@example.com",
	}
	labDir := bccLab(t, filepath.Join(root, "setup"), hostile...)
	// As a header field carries them.
	fields := []string{`"../../x"@example.com`, `"/etc/passwd"@example.com`, `"a/b"@example.com`,
		strings.Repeat("l", 200) + "@example.com", `"a:b"@example.com`, `"a;b"@example.com`, "carol@example.com"}
	work := filepath.Join(root, "work", "deep", "er")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(root, "setup", "msg.eml")
	if err := os.WriteFile(in, []byte(bccMessage(fields...)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := tree(t, root)
	out := filepath.Join(work, "out")
	_, stderr, code := runNow(t, "encrypt", "--certs", labDir, "--bcc", "separate", "--out-dir", out, "--in", in)
	if code != exitOK {
		t.Fatalf("exit status %d, want 0: %s", code, stderr)
	}
	var created []string
	for _, p := range tree(t, root) {
		if !slices.Contains(before, p) {
			created = append(created, p)
		}
	}
	var files []string
	for _, p := range created {
		rel, err := filepath.Rel(filepath.Join("work", "deep", "er", "out"), p)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("written outside --out-dir: %s", p)
			continue
		}
		if rel == "." {
			continue // --out-dir itself
		}
		if strings.Contains(rel, string(filepath.Separator)) {
			t.Errorf("written below --out-dir: %s", rel)
		}
		files = append(files, rel)
	}
	if want := 1 + len(hostile) + 1; len(files) != want {
		t.Errorf("%d files in --out-dir, want %d (message.eml and one per Bcc recipient): %q", len(files), want, files)
	}
	for _, f := range files {
		if strings.HasPrefix(f, ".") {
			t.Errorf("hidden file %q left in --out-dir", f)
		}
	}
	// Each Bcc file is for its recipient (bob's key, in these certificates).
	for _, f := range files {
		if f == "message.eml" || f == "bcc-carol@example.com.eml" {
			continue
		}
		stdout, stderr, code := runNow(t, "decrypt", "--key", labDir+"/bob.key", "--cert", labDir+"/bob.crt", "--try-all", "--in", filepath.Join(out, f))
		if code != exitOK || !strings.Contains(stdout, "Secret party") {
			t.Errorf("decrypt %s: exit %d: %s", f, code, stderr)
		}
	}
}

// TestBccAllOrNothing: a run that does not exit 0 leaves no file in
// --out-dir, whether a recipient has no certificate, or the writing or the
// renaming of a later file fails; with --allow-missing a recipient without a
// certificate gets no file and the run succeeds.
func TestBccAllOrNothing(t *testing.T) {
	root := t.TempDir()
	labDir := bccLab(t, root)
	in := filepath.Join(root, "msg.eml")
	if err := os.WriteFile(in, []byte(bccMessage("carol@example.com", "zoe@example.com")), 0o644); err != nil {
		t.Fatal(err)
	}
	encrypt := func(out string, extra ...string) (string, int) {
		_, stderr, code := runNow(t, append([]string{"encrypt", "--certs", labDir, "--bcc", "separate", "--out-dir", out, "--in", in}, extra...)...)
		return stderr, code
	}

	t.Run("missing certificate", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		stderr, code := encrypt(out)
		if code != exitNoCert || !strings.Contains(stderr, "no encryption certificate for zoe@example.com") {
			t.Errorf("exit %d, stderr %q; want 3 naming zoe", code, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("--out-dir exists: %v %q", err, tree(t, filepath.Dir(out)))
		}
	})
	t.Run("--allow-missing", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		stderr, code := encrypt(out, "--allow-missing")
		if code != exitOK {
			t.Fatalf("exit %d, want 0: %s", code, stderr)
		}
		if !regexp.MustCompile(`^smimectl: warning: no encryption certificate for zoe@example.com \(.*\): the message is not encrypted for it\n$`).MatchString(stderr) {
			t.Errorf("stderr %q, want one warning about zoe", stderr)
		}
		if got, want := tree(t, out), []string{"bcc-carol@example.com.eml", "message.eml"}; !slices.Equal(got, want) {
			t.Errorf("--out-dir holds %q, want %q", got, want)
		}
	})
	t.Run("rename fails", func(t *testing.T) {
		// A directory stands where carol's file must go: message.eml
		// is renamed into place first, then carol's rename fails.
		out := t.TempDir()
		if err := os.MkdirAll(filepath.Join(out, "bcc-carol@example.com.eml", "keep"), 0o755); err != nil {
			t.Fatal(err)
		}
		in2 := filepath.Join(root, "msg2.eml")
		if err := os.WriteFile(in2, []byte(bccMessage("carol@example.com")), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runNow(t, "encrypt", "--certs", labDir, "--bcc", "separate", "--out-dir", out, "--in", in2)
		if code != exitUsage {
			t.Errorf("exit %d, want %d: %s", code, exitUsage, stderr)
		}
		if got, want := tree(t, out), []string{"bcc-carol@example.com.eml", filepath.Join("bcc-carol@example.com.eml", "keep")}; !slices.Equal(got, want) {
			t.Errorf("--out-dir holds %q, want only what was there: %q", got, want)
		}
	})
	t.Run("disk full", func(t *testing.T) {
		// Room for message.eml, not for carol's as well.
		out := mountTmpfs(t, "size=48k")
		big := bccMessage("carol@example.com") + strings.Repeat("x", 20<<10) + "\r\n"
		in3 := filepath.Join(root, "msg3.eml")
		if err := os.WriteFile(in3, []byte(big), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runNow(t, "encrypt", "--certs", labDir, "--bcc", "separate", "--out-dir", out, "--in", in3)
		if code != exitTempFail || !strings.Contains(stderr, "no space left on device") {
			t.Errorf("exit %d, want %d: %s", code, exitTempFail, stderr)
		}
		if got := tree(t, out); len(got) != 0 {
			t.Errorf("--out-dir holds %q, want nothing", got)
		}
	})
}
