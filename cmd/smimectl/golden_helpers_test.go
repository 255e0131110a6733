package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// compareGolden compares got with the golden file path, or writes it there
// with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test ./cmd/smimectl -run TestGoldenJSON -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is meant, run go test ./cmd/smimectl -run TestGoldenJSON -update and review the diff\ngot:\n%s", path, got)
	}
}

// checkBatchLine checks one line of a batch's JSON Lines: one JSON object
// with no key twice (issue #13 item 3: the batch fields and the message's
// object come from one helper), "error" and "reason" both or neither, no
// package prefixes, and "error" the line's "detail" (what the text output
// says) when the message failed.
func checkBatchLine(t *testing.T, line []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %q", line)
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if seen[key.(string)] {
			t.Errorf("key %q twice in %s", key, line)
		}
		seen[key.(string)] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	var obj struct{ Input, Verdict, Detail, Reason, Error, Expected string }
	if err := json.Unmarshal(line, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Input == "" {
		t.Errorf("no input: %s", line)
	}
	if (obj.Error == "") != (obj.Reason == "") {
		t.Errorf("error %q with reason %q: both or neither", obj.Error, obj.Reason)
	}
	for _, p := range []string{"verify: ", "chain: ", "revocation: ", "decrypt: ", "cms: ", "batch: "} {
		if strings.Contains(obj.Error, p) {
			t.Errorf("error %q has the package prefix %q", obj.Error, p)
		}
	}
	if (obj.Verdict == "fail" || obj.Verdict == "error") && obj.Expected == "" && obj.Error != obj.Detail {
		t.Errorf("error %q is not the detail %q", obj.Error, obj.Detail)
	}
}

// coSignLab clear-signs msg by the lab users named, in one SignedData, at the
// golden signing time.
func coSignLab(t *testing.T, msg []byte, f func(string) string, users ...string) []byte {
	t.Helper()
	chain, err := keys.LoadCertificates(f("chain.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var signers []labtest.CoSigner
	for _, u := range users {
		id, err := keys.LoadIdentity(f(u+".key"), f(u+".crt"), nil)
		if err != nil {
			t.Fatal(err)
		}
		signers = append(signers, labtest.CoSigner{Key: id.Signer, Certificate: id.Certificate})
	}
	out, err := labtest.CoSign(msg, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), chain, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkErrorIsStderr checks that the "error" of a --json object is the error
// line on standard error (issue #13 item 6): one text for people and scripts,
// without package prefixes. cert-match --json prints its verdict only in the
// object, so there the error must be what it would print without --json.
func checkErrorIsStderr(t *testing.T, out []byte, stderr string) {
	t.Helper()
	var obj struct {
		Error   string `json:"error"`
		Reason  string `json:"reason"`
		Address string `json:"address"`
	}
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatal(err)
	}
	if (obj.Error == "") != (obj.Reason == "") {
		t.Errorf("error %q with reason %q: both or neither", obj.Error, obj.Reason)
	}
	if obj.Error == "" {
		if strings.Contains(stderr, errorPrefix) {
			t.Errorf("standard error has an error, the object none:\n%s", stderr)
		}
		return
	}
	for _, p := range []string{"verify: ", "chain: ", "revocation: ", "decrypt: ", "cms: "} {
		if strings.Contains(obj.Error, p) {
			t.Errorf("error %q has the package prefix %q", obj.Error, p)
		}
	}
	if obj.Address != "" && stderr == "" {
		return // cert-match --json: the verdict is in the object only
	}
	var line string // the first error line; warnings may come before it
	for l := range strings.SplitSeq(stderr, "\n") {
		if strings.HasPrefix(l, errorPrefix) {
			line = l
			break
		}
	}
	if line != errorPrefix+obj.Error {
		t.Errorf("error is not standard error's:\n json: %s\n stderr: %s", obj.Error, line)
	}
}
