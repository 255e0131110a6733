package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestPlanSaysWhatEncryptDoes (issue #17 item 3, redteam17): for one
// message, encrypt --plan --json names the certificates, key transports
// and cipher that encrypt then uses, and the message written has one
// recipient entry per planned recipient, with the planned serials.
// TestPlanMatchesEncrypt (pkg/encrypt) hands the plan's certificates to
// Encrypt, so it cannot see a plan and an encryption that chose different
// certificates; this runs both commands over the same header (To, Cc, Bcc,
// repeats, a domain in capitals, a missing recipient, the sender).
func TestPlanSaysWhatEncryptDoes(t *testing.T) {
	labDir := planLab(t)
	dir := t.TempDir()
	msg := filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.com\r\n"+
		"To: \"Bob, the builder\" <bob@example.com>\r\n"+
		"Cc: bob@EXAMPLE.com, dave@example.com\r\n"+
		"Bcc: Carol <carol@example.com>, alice@example.com, bob@example.com\r\n"+
		"Subject: x\r\n\r\nbody\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--certs", labDir, "--from", "alice@example.com", "--allow-missing", "--at", "2026-01-01T00:00:00Z", "--in", msg}
	type recipient struct {
		Serial       string `json:"serial"`
		Fingerprint  string `json:"fingerprint_sha256"`
		KeyTransport string `json:"key_transport"`
	}
	type report struct {
		Cipher     string      `json:"cipher"`
		Recipients []recipient `json:"recipients"`
	}
	runJSON := func(args ...string) report {
		t.Helper()
		e, stdout, stderr := testEnv("", nil)
		if code := run(e, append(args, common...)); code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		var r report
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stdout)
		}
		return r
	}
	out := filepath.Join(dir, "sealed.eml")
	plan := runJSON("encrypt", "--plan", "--json")
	enc := runJSON("encrypt", "--json", "--out", out)

	// encrypt --json lists the sender beside its own entry as a
	// recipient; as sets, the two must agree.
	set := func(rs []recipient) []recipient {
		out := slices.Clone(rs)
		slices.SortFunc(out, func(a, b recipient) int {
			if a.Fingerprint < b.Fingerprint {
				return -1
			} else if a.Fingerprint > b.Fingerprint {
				return 1
			}
			return 0
		})
		return slices.Compact(out)
	}
	if got, want := set(enc.Recipients), set(plan.Recipients); !slices.Equal(got, want) || len(want) != 3 {
		t.Errorf("encrypt used\n%+v\nthe plan said\n%+v\n(want bob, carol and alice)", got, want)
	}
	if enc.Cipher != plan.Cipher || plan.Cipher == "" {
		t.Errorf("encrypt used cipher %q, the plan said %q", enc.Cipher, plan.Cipher)
	}

	// The message itself: one recipient entry per planned certificate.
	e, stdout, stderr := testEnv("", nil)
	if code := run(e, []string{"inspect", "--json", out}); code != exitOK {
		t.Fatalf("inspect: exit %d\n%s%s", code, stdout, stderr)
	}
	var ins struct {
		Layers []struct {
			Recipients []struct {
				Serial string `json:"serial"`
			} `json:"recipients"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &ins); err != nil || len(ins.Layers) != 1 {
		t.Fatalf("inspect --json: %v\n%s", err, stdout)
	}
	var serials, planned []string
	for _, r := range ins.Layers[0].Recipients {
		serials = append(serials, r.Serial)
	}
	for _, r := range plan.Recipients {
		planned = append(planned, r.Serial)
	}
	slices.Sort(serials)
	slices.Sort(planned)
	if !slices.Equal(serials, planned) {
		t.Errorf("the message is encrypted to serials %v, the plan said %v", serials, planned)
	}
}

// headerOnlyReader gives a message's header and blank line, then fails the
// test if anything reads on: the body is never there to be read.
type headerOnlyReader struct {
	t      *testing.T
	header []byte
}

func (r *headerOnlyReader) Read(p []byte) (int, error) {
	if len(r.header) == 0 {
		r.t.Error("encrypt --plan read past the message's header")
		return 0, errors.New("the body is not for --plan")
	}
	n := copy(p, r.header)
	r.header = r.header[n:]
	return n, nil
}

// TestPlanReadsHeaderOnly (issue #17 item 3, redteam17): encrypt --plan on
// standard input reads the header and stops; a body that never ends (a
// pipe from a process still writing) does not hold it.
func TestPlanReadsHeaderOnly(t *testing.T) {
	labDir := planLab(t)
	for _, form := range [][]string{nil, {"--json"}} {
		e, stdout, stderr := testEnv("", nil)
		e.Stdin = &headerOnlyReader{t: t, header: []byte("From: alice@example.com\r\nTo: bob@example.com\r\nSubject: x\r\n\r\n")}
		args := append([]string{"encrypt", "--plan", "--certs", labDir, "--no-self", "--at", "2026-01-01T00:00:00Z"}, form...)
		if code := run(e, args); code != exitOK || !strings.Contains(stdout.String(), "bob@example.com") {
			t.Errorf("%v: exit %d\n%s%s", form, code, stdout, stderr)
		}
	}
}

// TestPlanJSONSchemaHostile (issue #17 item 3, redteam17): every object
// encrypt --plan --json prints, for hostile and ordinary plans alike,
// matches docs/schema/encrypt-plan.json, and a failure that is no plan
// (the recipient limit, a usage error) prints nothing at all.
func TestPlanJSONSchemaHostile(t *testing.T) {
	schema := compileSchemas(t)["encrypt-plan"]
	labDir := planLab(t)
	msg := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.com\r\nTo: bob@example.com, bob@EXAMPLE.com\r\n"+
		"Cc: \"\x1b[2J\"@example.com\r\nBcc: carol@example.com, eve\u202emoc@example.com\r\n\r\nbody\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"encrypt", "--plan", "--json", "--certs", labDir, "--at", "2026-01-01T00:00:00Z"}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		object bool
	}{
		{"found", []string{"--no-self", "--to", "bob@example.com"}, exitOK, true},
		{"sender and certificate", []string{"--from", "alice@example.com", "--recipient-cert", filepath.Join(labDir, "carol.crt"), "--to", "bob@example.com"}, exitOK, true},
		{"hostile header, allow missing", []string{"--no-self", "--allow-missing", "--in", msg}, exitOK, true},
		{"hostile header, missing", []string{"--no-self", "--in", msg}, exitNoCert, true},
		{"hostile --to", []string{"--no-self", "--to", "bob@example.com\r\nX: \x1b[31m", "--to", "dave@example.com"}, exitNoCert, true},
		{"nobody left", []string{"--from", "alice@example.com", "--allow-missing", "--to", "zoe@example.com"}, exitNoCert, true},
		{"limit", []string{"--no-self", "--max-recipients", "1", "--to", "bob@example.com", "--to", "carol@example.com"}, exitFailed, false},
		{"usage", []string{"--no-self", "--to", "bob@example.com", "--out", filepath.Join(t.TempDir(), "x.eml")}, exitUsage, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, stdout, stderr := testEnv("", nil)
			if code := run(e, append(slices.Clone(base), tc.args...)); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if !tc.object {
				if stdout.Len() != 0 {
					t.Errorf("a failure that is no plan printed %q", stdout)
				}
				return
			}
			if r, ok := rawControl(stdout.String()); ok && r != '\u202e' {
				t.Errorf("stdout holds %U raw", r)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(stdout.Bytes()))
			if err != nil {
				t.Fatalf("not one JSON object: %v\n%s", err, stdout)
			}
			if err := schema.Validate(v); err != nil {
				t.Errorf("does not match docs/schema/encrypt-plan.json:\n%v\n%s", err, stdout)
			}
		})
	}
}
