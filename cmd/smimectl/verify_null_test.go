package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVerifyNullDevice: content that goes nowhere (--out /dev/null, or
// --json without --out) is given to the library as io.Discard with the
// input file as it is, which then keeps none of the content past its
// header (issue #13, large messages). Whatever the message — good, with
// LF line ends, tampered, truncated, with a lying micalg, a triple wrap —
// the exit status, the stderr and the JSON are those of the same command
// writing to a file, and of the message read from standard input (which
// can't be read twice and is spooled); the file is there only for a valid
// message.
func TestVerifyNullDevice(t *testing.T) {
	if !isNullDevice(os.DevNull) {
		t.Fatalf("%s is not taken for the null device", os.DevNull)
	}
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	mustRun(t, "lab", "init", lab)
	p := func(name string) string { return filepath.Join(dir, name) }
	l := func(name string) string { return filepath.Join(lab, name) }
	var text strings.Builder
	text.WriteString("From: alice@example.com\nSubject: large\nContent-Type: text/plain\n\n")
	for i := 0; text.Len() < 1300<<10; i++ {
		fmt.Fprintf(&text, "line %06d of the signed text, long enough to be a line\n", i)
	}
	write := func(name string, b []byte) string {
		if err := os.WriteFile(p(name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p(name)
	}
	write("msg.eml", []byte(text.String()))
	sign := func(in, out string, mode string) []byte {
		mustRun(t, "sign", "--mode", mode, "--p12", l("alice-sign.p12"), "--pass-file", l("p12.pass"), "--at", annotateAt,
			"--in", in, "--out", p(out))
		b, err := os.ReadFile(p(out))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	clear := sign(p("msg.eml"), "clear.eml", "clear")
	mustRun(t, "encrypt", "--recipient-cert", l("bob.crt"), "--in", p("clear.eml"), "--out", p("sealed.eml"))
	triple := sign(p("sealed.eml"), "triple.eml", "opaque")
	change := func(old, new string) []byte {
		b := bytes.Replace(clear, []byte(old), []byte(new), 1)
		if bytes.Equal(b, clear) {
			t.Fatalf("no %q in the message", old)
		}
		return b
	}
	lying := regexp.MustCompile(`micalg="?sha-256"?`).ReplaceAll(clear, []byte("micalg=sha-512"))
	messages := map[string]string{
		"clear":     p("clear.eml"),
		"lf":        write("lf.eml", bytes.ReplaceAll(clear, []byte("\r\n"), []byte("\n"))),
		"tampered":  write("tampered.eml", change("line 010000 of the signed", "line 010000 of the forged")),
		"truncated": write("truncated.eml", clear[:len(clear)-1000]),
		"micalg":    write("micalg.eml", lying),
		"triple":    write("triple-in.eml", triple),
	}
	if bytes.Equal(lying, clear) {
		t.Fatal("no micalg to replace")
	}
	common := []string{"verify", "--trust", l("root.crt"), "--revocation", "off", "--at", annotateAt,
		"--p12", l("bob.p12"), "--pass-file", l("p12.pass")}
	for name, msg := range messages {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(msg)
			if err != nil {
				t.Fatal(err)
			}
			out := p(name + ".out")
			for _, json := range [][]string{nil, {"--json"}} {
				args := append(append(common[:len(common):len(common)], json...), "--in", msg)
				fileOut, fileErr, fileCode := runIn(t, "", append(args, "--out", out)...)
				_, statErr := os.Stat(out)
				if (statErr == nil) != (fileCode == exitOK) {
					t.Fatalf("%v: status %d, and the output file exists: %v", json, fileCode, statErr == nil)
				}
				os.Remove(out)
				nullOut, nullErr, nullCode := runIn(t, "", append(args, "--out", os.DevNull)...)
				if nullOut != fileOut || nullErr != fileErr || nullCode != fileCode {
					t.Fatalf("%v --out %s: status %d, stdout %.200q, stderr %q\nwant (--out FILE) %d, %.200q, %q",
						json, os.DevNull, nullCode, nullOut, nullErr, fileCode, fileOut, fileErr)
				}
				if json != nil {
					// --json alone: the content goes nowhere too.
					jOut, jErr, jCode := runIn(t, "", args...)
					if jOut != fileOut || jErr != fileErr || jCode != fileCode {
						t.Fatalf("--json: status %d, %.200q, %q; want %d, %.200q, %q", jCode, jOut, jErr, fileCode, fileOut, fileErr)
					}
					continue
				}
				// From standard input, which is spooled: the same verdict.
				stdArgs := append(common[:len(common):len(common)], "--out", os.DevNull)
				_, stdErr, stdCode := runIn(t, string(in), stdArgs...)
				if stdErr != nullErr || stdCode != nullCode {
					t.Fatalf("from standard input: status %d, %q; from the file %d, %q", stdCode, stdErr, nullCode, nullErr)
				}
			}
			if name == "clear" || name == "lf" || name == "micalg" || name == "triple" {
				if _, _, code := runIn(t, "", append(common, "--in", msg, "--out", os.DevNull)...); code != exitOK {
					t.Errorf("status %d, want %d for a good message", code, exitOK)
				}
			} else if _, _, code := runIn(t, "", append(common, "--in", msg, "--out", os.DevNull)...); code == exitOK {
				t.Errorf("status %d for a bad message", code)
			}
		})
	}
}

// TestIsNullDevice: only the null device, itself or through a link, or
// open, goes nowhere; a file, standard output and other devices do not.
func TestIsNullDevice(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "null")
	if err := os.Symlink(os.DevNull, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{os.DevNull: true, link: true, file: false, "": false, "-": false,
		"/dev/zero": false, filepath.Join(dir, "missing"): false} {
		if got := isNullDevice(path); got != want {
			t.Errorf("isNullDevice(%q) = %v, want %v", path, got, want)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			continue
		}
		if got := isNullFile(f); got != want {
			t.Errorf("isNullFile(%q) = %v, want %v", path, got, want)
		}
		if got := isNullFile(&stdioWriter{f: f}); got != want {
			t.Errorf("isNullFile(standard output open on %q) = %v, want %v", path, got, want)
		}
		f.Close()
	}
	if isNullFile(new(bytes.Buffer)) {
		t.Error("isNullFile(a buffer) = true")
	}
}
