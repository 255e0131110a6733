package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/revocation"
)

// groupOptions holds every shared flag group, as a command's options struct would.
type groupOptions struct {
	io    ioFlags
	key   keyFlags
	trust trustFlags
}

// parseGroups parses argv as a command carrying every flag group, through the root
// command so that flag errors take the same path as in a real command.
func parseGroups(t *testing.T, argv ...string) (*groupOptions, int, string) {
	t.Helper()
	opts := &groupOptions{}
	e, _, stderr := testEnv("", nil)
	root := newRootCmd(e)
	cmd := &cobra.Command{Use: "groups", Args: noArgs, RunE: func(*cobra.Command, []string) error { return nil }}
	opts.io.addFlags(cmd.Flags())
	opts.key.addFlags(cmd.Flags())
	opts.trust.addFlags(cmd.Flags())
	root.AddCommand(cmd)
	root.SetArgs(append([]string{"groups"}, argv...))
	err := root.Execute()
	reportError(stderr, err, false)
	return opts, exitCode(err), stderr.String()
}

func TestFlagGroups(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want groupOptions
	}{
		{
			name: "defaults",
			want: groupOptions{trust: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}},
		},
		{
			name: "io",
			argv: []string{"--in", "msg.eml", "--out", "-"},
			want: groupOptions{io: ioFlags{In: "msg.eml", Out: "-"}, trust: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}},
		},
		{
			name: "key",
			argv: []string{"--key", "k.pem", "--cert", "c.pem", "--pass-env", "PASS"},
			want: groupOptions{key: keyFlags{Key: "k.pem", Cert: "c.pem", PassEnv: "PASS"}, trust: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}},
		},
		{
			name: "trust repeated",
			argv: []string{"--trust", "a.pem", "--trust=b.pem", "--intermediates", "i.pem", "--crl", "x.crl",
				"--revocation", "hard", "--at", "2024-05-01", "--revocation-max-age", "30m"},
			want: groupOptions{trust: trustFlags{
				Trust: []string{"a.pem", "b.pem"}, Intermediates: []string{"i.pem"}, CRLs: []string{"x.crl"},
				Revocation: "hard", At: "2024-05-01", MaxAge: 30 * time.Minute,
			}},
		},
		{
			name: "trust file names with commas stay whole",
			argv: []string{"--trust", "a,b.pem"},
			want: groupOptions{trust: trustFlags{Trust: []string{"a,b.pem"}, Revocation: "soft", MaxAge: revocation.DefaultMaxAge}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, code, stderr := parseGroups(t, tc.argv...)
			if code != exitOK {
				t.Fatalf("status %d, stderr:\n%s", code, stderr)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestFlagGroupErrors(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		wantErr string
	}{
		{"bad enum", []string{"--revocation", "maybe"}, `invalid argument "maybe" for "--revocation" flag: want one of soft, hard, off`},
		{"unknown flag", []string{"--trusted", "a.pem"}, "unknown flag: --trusted"},
		{"missing value", []string{"--in"}, "flag needs an argument: --in"},
		{"argument", []string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, code, stderr := parseGroups(t, tc.argv...)
			if code != exitUsage {
				t.Errorf("status %d, want %d", code, exitUsage)
			}
			if !strings.HasPrefix(stderr, errorPrefix+tc.wantErr+"\n") {
				t.Errorf("stderr:\n%s\nwant it to start %q", stderr, errorPrefix+tc.wantErr)
			}
			if !strings.Contains(stderr, hintPrefix+"usage: smimectl groups") {
				t.Errorf("stderr has no usage line:\n%s", stderr)
			}
		})
	}
}

func TestEnumCompletion(t *testing.T) {
	e, stdout, _ := testEnv("", nil)
	root := newRootCmd(e)
	var tf trustFlags
	cmd := &cobra.Command{Use: "groups", RunE: func(*cobra.Command, []string) error { return nil }}
	tf.addFlags(cmd.Flags())
	root.AddCommand(cmd)
	if err := completeEnums(cmd); err != nil {
		t.Fatal(err)
	}
	root.SetArgs([]string{cobra.ShellCompRequestCmd, "groups", "--revocation", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(stdout.String())
	for _, m := range revocationModes {
		if !slices.Contains(got, m) {
			t.Errorf("completion of --revocation lacks %q: %q", m, got)
		}
	}
}

func TestParseAt(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-05-01T12:30:00Z", time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC), true},
		{"2024-05-01T14:30:00+02:00", time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC), true},
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), true},
		{"@1714564800", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), true},
		{"@-1", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{"", time.Time{}, false},
		{"@", time.Time{}, false},
		{"@12x", time.Time{}, false},
		{"2024-13-01", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"2024-05-01 12:00", time.Time{}, false},
	}
	for _, tc := range tests {
		got, err := parseAt(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parseAt(%q): error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && !got.Equal(tc.want) {
			t.Errorf("parseAt(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestEvalTime(t *testing.T) {
	e, _, _ := testEnv("", nil)
	got, err := (&trustFlags{}).evalTime(e)
	if err != nil || !got.Equal(testNow) {
		t.Errorf("no --at: got %v, %v; want %v", got, err, testNow)
	}
	got, err = (&trustFlags{At: "2020-01-02"}).evalTime(e)
	if want := time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("--at 2020-01-02: got %v, %v; want %v", got, err, want)
	}
	_, err = (&trustFlags{At: "soon"}).evalTime(e)
	if err == nil || exitCode(err) != exitUsage || !strings.HasPrefix(err.Error(), "--at: ") {
		t.Errorf("--at soon: got %v (status %d), want a usage error about --at", err, exitCode(err))
	}
}

func TestKeyFlagsCheck(t *testing.T) {
	tests := []struct {
		name string
		f    keyFlags
		ok   bool
	}{
		{"none", keyFlags{}, true},
		{"pem", keyFlags{Key: "k.pem", Cert: "c.pem"}, true},
		{"p12", keyFlags{P12: "id.p12", PassFile: "pass"}, true},
		{"p12 and key", keyFlags{P12: "id.p12", Key: "k.pem", Cert: "c.pem"}, false},
		{"key without cert", keyFlags{Key: "k.pem"}, false},
		{"two passphrase sources", keyFlags{P12: "id.p12", PassFile: "p", PassEnv: "P"}, false},
	}
	for _, tc := range tests {
		err := tc.f.check()
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Errorf("%s: status %d, want %d", tc.name, exitCode(err), exitUsage)
		}
	}
}

func TestPassphrase(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	if err := os.WriteFile(passFile, []byte("s3cret\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"PASS": "from-env"}
	tests := []struct {
		name    string
		f       keyFlags
		want    string
		wantErr string
	}{
		{"file, first line without CR LF", keyFlags{PassFile: passFile}, "s3cret", ""},
		{"env", keyFlags{PassEnv: "PASS"}, "from-env", ""},
		{"env unset", keyFlags{PassEnv: "NOPE"}, "", "environment variable NOPE named by --pass-env is empty or unset"},
		{"neither", keyFlags{}, "", "the key is encrypted; give its passphrase with --pass-file or --pass-env"},
		{"missing file", keyFlags{PassFile: filepath.Join(dir, "missing")}, "", "missing"},
	}
	for _, tc := range tests {
		e, _, _ := testEnv("", vars)
		got, err := tc.f.passphrase(e)()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: got %q, %v; want error %q", tc.name, got, err, tc.wantErr)
			} else if exitCode(err) != exitUsage {
				t.Errorf("%s: status %d, want %d", tc.name, exitCode(err), exitUsage)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestFileFlagsComplete checks that file flags name the extensions the shell offers.
func TestFileFlagsComplete(t *testing.T) {
	var opts groupOptions
	cmd := &cobra.Command{Use: "groups"}
	opts.io.addFlags(cmd.Flags())
	opts.key.addFlags(cmd.Flags())
	opts.trust.addFlags(cmd.Flags())
	for _, name := range []string{"in", "out", "key", "cert", "p12", "trust", "intermediates", "crl"} {
		f := cmd.Flags().Lookup(name)
		if f == nil {
			t.Errorf("--%s: no such flag", name)
			continue
		}
		if len(f.Annotations[cobra.BashCompFilenameExt]) == 0 {
			t.Errorf("--%s: no file extensions for completion", name)
		}
	}
}

func TestArgValidators(t *testing.T) {
	cmd := &cobra.Command{Use: "verify [<message>]"}
	tests := []struct {
		name  string
		check cobra.PositionalArgs
		args  []string
		ok    bool
	}{
		{"noArgs none", noArgs, nil, true},
		{"noArgs one", noArgs, []string{"a"}, false},
		{"exactArgs(1) one", exactArgs(1), []string{"a"}, true},
		{"exactArgs(1) none", exactArgs(1), nil, false},
		{"exactArgs(1) two", exactArgs(1), []string{"a", "b"}, false},
		{"maxArgs(1) none", maxArgs(1), nil, true},
		{"maxArgs(1) one", maxArgs(1), []string{"a"}, true},
		{"maxArgs(1) two", maxArgs(1), []string{"a", "b"}, false},
	}
	for _, tc := range tests {
		err := tc.check(cmd, tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		if exitCode(err) != exitUsage {
			t.Errorf("%s: status %d, want %d", tc.name, exitCode(err), exitUsage)
		}
		var buf strings.Builder
		reportError(&buf, err, false)
		if !strings.Contains(buf.String(), hintPrefix+"usage: verify [<message>]") {
			t.Errorf("%s: no usage line in\n%s", tc.name, buf.String())
		}
	}
}
