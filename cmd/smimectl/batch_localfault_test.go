//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Issue #13 item 4: a fault of this machine met inside a message of a batch
// (its spool can't be written: TMPDIR missing or full) is the verdict
// "error" with reason local-fault, never "fail", and the run exits as a run
// on that message alone would (2, or 75 for a full disk); the other
// messages are still checked. Before, the batch mapped a full TMPDIR (75) to
// "fail", as if the message were bad.
func TestBatchLocalFault(t *testing.T) {
	// Larger than the in-memory spool threshold (8 MiB): the spool goes to disk.
	m, err := makeBigMessages(t.TempDir(), 9<<20)
	if err != nil {
		t.Fatal(err)
	}
	lab := filepath.Join(m.dir, "lab")
	small, err := makeBigMessages(t.TempDir(), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	fx := t.TempDir()
	for name, src := range map[string]string{
		"1-big.eml": filepath.Join(m.dir, "signed.eml"), "2-small.eml": filepath.Join(small.dir, "signed.eml"),
		"3-big-enc.eml": filepath.Join(m.dir, "enc.eml"), "4-small-enc.eml": filepath.Join(small.dir, "enc.eml"),
	} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if name == "1-big.eml" {
			// Issue #13: a message whose content goes nowhere (--json) is
			// not spooled unless the signer's digest is one its micalg
			// does not name; this one's micalg lies, so it needs the
			// spool. 5-big-fast.eml, the same message honest, needs none.
			if err := os.WriteFile(filepath.Join(fx, "5-big-fast.eml"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			data = lyingMicalg(t, data)
		}
		if err := os.WriteFile(filepath.Join(fx, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Both labs are made from the same seed: one root.
	trust := []string{"--trust", lab + "/root.crt", "--intermediates", lab + "/intermediate.crt", "--revocation", "off"}
	bob := []string{"--key", lab + "/bob.key", "--cert", lab + "/bob.crt"}
	commands := []struct {
		name  string
		args  []string
		check []string // the inputs that need the spool; the others pass
		pass  []string
	}{
		{"verify", append([]string{"verify", "--json", fx + "/1-big.eml", fx + "/2-small.eml", fx + "/5-big-fast.eml"}, trust...),
			[]string{"1-big.eml"}, []string{"2-small.eml", "5-big-fast.eml"}},
		{"decrypt --trust", append(append([]string{"decrypt", "--json", fx + "/3-big-enc.eml", fx + "/4-small-enc.eml"}, bob...), trust...), []string{"3-big-enc.eml"}, []string{"4-small-enc.eml"}},
	}
	tmpdirs := []struct {
		name   string
		dir    func(t *testing.T) string
		status int
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") }, exitUsage},
		{"full", func(t *testing.T) string { return mountTmpfs(t, "size=1m") }, exitTempFail},
	}
	for _, td := range tmpdirs {
		t.Run(td.name, func(t *testing.T) {
			tmp := td.dir(t)
			for _, c := range commands {
				t.Run(c.name, func(t *testing.T) {
					cmd := exec.Command("smimectl", c.args...)
					cmd.Dir = t.TempDir()
					cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
					var stdout, stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					if status := exitStatus(t, cmd.Run()); status != td.status {
						t.Errorf("exit status %d, want %d; stderr:\n%s", status, td.status, stderr.String())
					}
					got := map[string]string{}
					for line := range strings.SplitSeq(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
						var obj struct{ Input, Verdict, Reason string }
						if err := json.Unmarshal([]byte(line), &obj); err != nil {
							t.Fatalf("not a JSON line: %q", line)
						}
						got[filepath.Base(obj.Input)] = obj.Verdict + " " + obj.Reason
					}
					for _, in := range c.check {
						if got[in] != "error local-fault" {
							t.Errorf("%s: %q, want verdict error, reason local-fault", in, got[in])
						}
					}
					for _, in := range c.pass {
						if got[in] != "pass " {
							t.Errorf("%s: %q, want pass", in, got[in])
						}
					}
					summary := fmt.Sprintf("smimectl: %d passed, 0 failed, %d not checked (error)\n", len(c.pass), len(c.check))
					if !strings.HasSuffix(stderr.String(), summary) {
						t.Errorf("stderr:\n%s\nwant the summary %s", stderr.String(), summary)
					}
				})
			}
		})
	}
}
