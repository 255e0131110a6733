package main

import (
	"bytes"
	"encoding/json"
	"github.com/smimectl/smimectl/internal/testpeer"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGoldenJSON pins the --json output of inspect, verify, decrypt and cert-verify, the
// documented objects filters and CI checks parse (issue #5): every message is
// made from the lab PKI with seed 1 and signed at a fixed time, and every
// check runs at that time against the lab's CRLs, so the output is the same
// on every run and machine. The files in testdata/golden are written by
// "go test ./cmd/smimectl -run TestGoldenJSON -update" and never by hand;
// a change in them is a change of the documented format.
func TestGoldenJSON(t *testing.T) {
	dir := t.TempDir()
	const at = "2026-01-01T00:00:00Z"
	var stderr string // of the last run
	sm := func(t *testing.T, want int, stdin []byte, args ...string) []byte {
		t.Helper()
		var out, errb bytes.Buffer
		defer func() { stderr = errb.String() }()
		e := &env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb,
			Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }, Getenv: func(string) string { return "" }}
		if got := run(e, args); got != want {
			t.Fatalf("smimectl %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), got, want, errb.String())
		}
		return out.Bytes()
	}
	lab := filepath.Join(dir, "lab")
	sm(t, 0, nil, "lab", "init", lab, "--seed", "1")
	other := filepath.Join(dir, "other")
	sm(t, 0, nil, "lab", "init", other, "--seed", "2")
	// Run in the lab, so that the "input" of every object is a relative
	// path, the same on every run.
	golden, err := filepath.Abs(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(lab)
	f := func(name string) string { return name }
	msg := []byte("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: Secret plans\r\n" +
		"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <golden@example.com>\r\nContent-Type: text/plain\r\n\r\nMeet at noon.\r\n")
	alice := []string{"--p12", f("alice-sign.p12"), "--pass-file", f("p12.pass"), "--at", at}
	bob := []string{"--p12", f("bob.p12"), "--pass-file", f("p12.pass")}
	checks := []string{"--trust", f("root.crt"), "--crl", f("root.crl"), "--crl", f("intermediate.crl"), "--at", at, "--json"}
	args := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}

	clear := sm(t, 0, msg, args([]string{"clear-sign", "--protect-headers"}, alice)...)
	opaque := sm(t, 0, msg, args([]string{"opaque-sign", "--include", "chain+root"}, alice)...)
	triple := sm(t, 0, msg, args([]string{"triple-wrap", "--protect-headers", "--recipient-cert", f("bob.crt"), "--no-self"}, alice)...)
	forged := bytes.Replace(clear, []byte("From: Alice <alice@"), []byte("From: Alice <mallory@"), 1)
	// Issue #11 item 1: encrypted, not signed.
	sealed := sm(t, 0, msg, "encrypt", "--recipient-cert", f("bob.crt"))
	// Issue #11 item 2: carol co-signs alice's message; a From with a mailbox alice's
	// certificate does not carry.
	cosigned := coSignLab(t, msg, f, "alice-sign", "carol")
	ceo := sm(t, 0, bytes.Replace(msg, []byte("From: Alice <alice@example.com>"), []byte(`From: Alice <alice@example.com>, "CEO" <ceo@example.com>`), 1),
		args([]string{"clear-sign"}, alice)...)

	// Issue #15 items 1 and 2: a bare DER file, a detached signature over a file.
	bareDER, err := testpeer.SMIMEBody(opaque)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("data.txt", msg, 0o644); err != nil {
		t.Fatal(err)
	}
	detached := sm(t, 0, nil, args([]string{"sign", "--detached", "--in", "data.txt"}, alice)...)

	cases := []struct {
		name  string
		exit  int
		input []byte
		args  []string
	}{
		{"inspect-clear", 0, clear, []string{"inspect", "--json"}},
		{"inspect-opaque", 0, opaque, []string{"inspect", "--json"}},
		{"inspect-triple", 0, triple, []string{"inspect", "--json"}},
		{"verify-clear", 0, clear, args([]string{"verify"}, checks)},
		{"verify-opaque", 0, opaque, args([]string{"verify"}, checks)},
		{"verify-forged-from", 1, forged, args([]string{"verify"}, checks)},
		{"verify-untrusted", 1, clear, []string{"verify", "--trust", filepath.Join(other, "root.crt"), "--revocation", "off", "--at", at, "--json"}},
		{"decrypt-triple", 0, triple, args([]string{"decrypt"}, bob, checks)},
		// cert-verify (issue #11 item 7): the certificate, its chain and verify's checks.
		{"cert-verify-sign", 0, nil, args([]string{"cert-verify", f("alice-sign.crt"), "--intermediates", f("chain.pem"), "--purpose", "sign"}, checks)},
		{"cert-verify-revoked", 1, nil, args([]string{"cert-verify", f("eve-revoked.crt"), "--intermediates", f("chain.pem")}, checks)},
		{"verify-encrypted-only", 1, sealed, args([]string{"verify"}, bob, checks)},
		{"decrypt-encrypted-only", 0, sealed, args([]string{"decrypt"}, bob, checks)},
		{"verify-cosigned", 0, cosigned, args([]string{"verify"}, checks)},
		{"verify-from-uncovered", 1, ceo, args([]string{"verify"}, checks)},
		// Issue #13 item 6: every command's --json object, each validated
		// against its JSON Schema by TestSchemaGolden.
		{"decrypt-plain", 0, sealed, args([]string{"decrypt", "--json"}, bob)},
		{"decrypt-plain-not-for-us", 1, sealed, []string{"decrypt", "--json", "--p12", f("carol.p12"), "--pass-file", f("p12.pass")}},
		{"encrypt", 0, msg, []string{"encrypt", "--recipient-cert", f("bob.crt"), "--recipient-cert", f("carol.crt"), "--out", "sealed.eml", "--json"}},
		// Issue #17 item 3: encrypt --plan, found and missing.
		{"encrypt-plan", 0, nil, []string{"encrypt", "--plan", "--certs", f("bob.crt"), "--certs", f("carol.crt"), "--certs", f("alice-sign.crt"),
			"--to", "bob@example.com", "--to", "carol@example.com", "--recipient-cert", f("alice-encrypt.crt"), "--at", at, "--json"}},
		{"encrypt-plan-missing", 3, nil, []string{"encrypt", "--plan", "--certs", f("bob.crt"), "--certs", f("dave-expired.crt"),
			"--to", "bob@example.com", "--to", "dave@example.com", "--to", "bob@EXAMPLE.com", "--at", at, "--json"}},
		{"cert-match", 0, nil, []string{"cert-match", "bob@example.com", "--purpose", "encrypt", "--certs", f("bob.crt"), "--certs", f("alice-sign.crt"), "--intermediates", f("chain.pem"),
			"--trust", f("root.crt"), "--crl", f("root.crl"), "--crl", f("intermediate.crl"), "--at", at, "--json"}},
		{"cert-match-none", 3, nil, []string{"cert-match", "alice@example.com", "--purpose", "encrypt", "--certs", f("alice-sign.crt"), "--intermediates", f("chain.pem"),
			"--trust", f("root.crt"), "--crl", f("root.crl"), "--crl", f("intermediate.crl"), "--at", at, "--json"}},
		{"cert-verify-untrusted", 1, nil, []string{"cert-verify", f("alice-sign.crt"), "--trust", filepath.Join(other, "root.crt"), "--revocation", "off", "--at", at, "--json"}},
		{"verify-changed", 1, bytes.Replace(clear, []byte("Meet at noon."), []byte("Meet at nine."), 1), args([]string{"verify"}, checks)},
		{"inspect-not-smime", 0, msg, []string{"inspect", "--json"}},
		{"verify-bare-der", 0, bareDER, args([]string{"verify", "--signer", "alice@example.com"}, checks)},
		{"verify-detached", 0, detached, args([]string{"verify", "--content", "data.txt"}, checks)},
		{"inspect-bare-detached", 0, detached, []string{"inspect", "--json"}},
		// Issue #15 item 5: a signed message in a mailing list's wrapper.
		{"verify-list-footer", 1, listWrap(sm(t, 0, msg, args([]string{"clear-sign"}, alice)...)), args([]string{"verify"}, checks)},
	}
	// Issue #13 item 3: the JSON Lines of a batch (verify, decrypt --trust
	// with --out-dir, inspect over a directory and an mbox), one object a
	// line, each validated against its command's schema by
	// TestSchemaGolden like the objects above.
	if err := os.Mkdir("batch", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"batch/clear.eml": clear, "batch/changed.eml": bytes.Replace(clear, []byte("Meet at noon."), []byte("Meet at nine."), 1),
		"batch/plain.eml": msg, "batch/sealed.eml": sealed, "batch/triple.eml": triple,
		"inbox": slices.Concat([]byte("From alice@example.com Thu Jan  1 00:00:00 2026\n"), opaque, []byte("\n"),
			[]byte("From alice@example.com Thu Jan  1 00:01:00 2026\n"), cosigned, []byte("\n")),
	} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	batches := []struct {
		name string
		exit int
		args []string
	}{
		{"verify-batch", 1, args([]string{"verify", "batch", "inbox", "--skip-unsigned"}, checks)},
		{"decrypt-batch", 1, args([]string{"decrypt", "batch", "inbox", "--out-dir", "plain"}, bob, checks)},
		{"inspect-batch", 0, []string{"inspect", "--json", "batch", "inbox"}},
	}
	for _, tc := range batches {
		t.Run(tc.name, func(t *testing.T) {
			out := sm(t, tc.exit, nil, tc.args...)
			for line := range bytes.Lines(out) {
				checkBatchLine(t, line)
			}
			compareGolden(t, filepath.Join(golden, tc.name+".jsonl"), out)
		})
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := sm(t, tc.exit, tc.input, tc.args...)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "  "); err != nil || bytes.Count(out, []byte("\n")) != 1 {
				t.Fatalf("output is not one line of JSON (%v): %q", err, out)
			}
			checkErrorIsStderr(t, out, stderr)
			compareGolden(t, filepath.Join(golden, tc.name+".json"), pretty.Bytes())
		})
	}
}
