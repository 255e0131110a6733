package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// Issue #16 item 3: the precedence of settings, as a table. Each row gives
// --trust (or not), SMIMECTL_TRUST, the user's file and the system's file, and
// says which wins for verify.
func TestConfigPrecedence(t *testing.T) {
	const (
		userTop   = "trust = [\"/p/user-top.pem\"]\n"
		userCmd   = "[verify]\ntrust = [\"/p/user-verify.pem\"]\n"
		userOther = "[encrypt]\ntrust = [\"/p/user-encrypt.pem\"]\n"
		sysTop    = "trust = [\"/p/sys-top.pem\"]\n"
		sysCmd    = "[verify]\ntrust = [\"/p/sys-verify.pem\"]\n"
	)
	tests := []struct {
		name         string
		argv         []string
		env          string // SMIMECTL_TRUST
		user, system string // file contents; "" is no file
		want         []string
		from         string // "flag", "env", "user", "user [verify]", "system", "system [verify]", "default"
	}{
		{"default", nil, "", "", "", []string{}, "default"},
		{"system top", nil, "", "", sysTop, []string{"/p/sys-top.pem"}, "system"},
		{"system table beats system top", nil, "", "", sysTop + sysCmd, []string{"/p/sys-verify.pem"}, "system [verify]"},
		{"user top beats system table", nil, "", userTop, sysTop + sysCmd, []string{"/p/user-top.pem"}, "user"},
		{"user table beats user top", nil, "", userTop + userCmd, sysCmd, []string{"/p/user-verify.pem"}, "user [verify]"},
		{"another command's table is not used", nil, "", userOther, sysTop, []string{"/p/sys-top.pem"}, "system"},
		{"environment beats files", nil, "env.pem", userTop + userCmd, sysTop, []string{"env.pem"}, "env"},
		{"environment list is comma-separated", nil, "a.pem,b.pem", "", "", []string{"a.pem", "b.pem"}, "env"},
		{"flag beats everything", []string{"--trust", "flag.pem"}, "env.pem", userTop + userCmd, sysTop + sysCmd, []string{"flag.pem"}, "flag"},
		{"repeated flag is the whole list", []string{"--trust", "a.pem", "--trust", "system"}, "env.pem", userTop, "", []string{"a.pem", "system"}, "flag"},
		{"a relative path in the environment is as given", nil, "rel.pem", "", "", []string{"rel.pem"}, "env"},
		{"a relative path in a file is relative to the file", nil, "", "trust = [\"rel.pem\", \"system\", \"/abs.pem\"]\n", "", []string{"USERDIR/rel.pem", "system", "/abs.pem"}, "user"},
		{"a list is not merged across layers", nil, "", "trust = [\"/p/u1.pem\", \"/p/u2.pem\"]\n", "trust = [\"/p/s.pem\"]\n", []string{"/p/u1.pem", "/p/u2.pem"}, "user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			userPath := filepath.Join(dir, "user", "smimectl", "config.toml")
			sysPath := filepath.Join(dir, "etc", "config.toml")
			writeConfig(t, userPath, tc.user)
			writeConfig(t, sysPath, tc.system)
			e, _, _ := testEnv("", map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "user"), "SMIMECTL_TRUST": tc.env})
			e.SystemConfig = sysPath
			root := newRootCmd(e)
			cmd, _, err := root.Find([]string{"verify"})
			if err != nil {
				t.Fatal(err)
			}
			cmd.InheritedFlags() // merge --config into the command's flag set
			if err := cmd.ParseFlags(tc.argv); err != nil {
				t.Fatal(err)
			}
			settings, err := resolveConfig(e, cmd)
			if err != nil {
				t.Fatal(err)
			}
			s := findSetting(t, settings, "trust")
			from := map[string]string{userPath: "user", userPath + " [verify]": "user [verify]", sysPath: "system",
				sysPath + " [verify]": "system [verify]", "SMIMECTL_TRUST": "env", "flag": "flag", "default": "default"}[s.origin]
			if from != tc.from {
				t.Errorf("from %q (%s), want %s", from, s.origin, tc.from)
			}
			want := slices.Clone(tc.want)
			for i := range want {
				want[i] = strings.Replace(want[i], "USERDIR", filepath.Dir(userPath), 1)
			}
			if got := s.values; !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func writeConfig(t *testing.T, path, content string) {
	t.Helper()
	if content == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func findSetting(t *testing.T, settings []setting, name string) setting {
	t.Helper()
	for _, s := range settings {
		if s.flag.Name == name {
			return s
		}
	}
	t.Fatalf("no setting %q", name)
	return setting{}
}

// TestConfigExample loads examples/config.toml, the documented example, and
// checks what verify and encrypt take from it.
func TestConfigExample(t *testing.T) {
	path := filepath.Join(examplesDir, "config.toml")
	for _, tc := range []struct {
		command string
		want    map[string]string
	}{
		{"verify", map[string]string{
			"trust":        `["/etc/smimectl/roots.pem"]`,
			"crl-timeout":  `"5s"`,
			"authserv-id":  `"mx.example.org"`,
			"sender-check": `"strict"`,
		}},
		{"encrypt", map[string]string{
			"trust":  `["/etc/smimectl/roots.pem"]`,
			"cipher": `"aes-256-gcm,aes-256-cbc"`,
			"certs":  `["/etc/smimectl/addressbook.pem"]`,
		}},
	} {
		e, out, errOut := testEnv("", nil)
		if code := run(e, []string{"config", "show", "--config", path, tc.command}); code != exitOK {
			t.Fatalf("config show %s: status %d: %s", tc.command, code, errOut)
		}
		got := map[string]string{}
		for _, line := range strings.Split(out.String(), "\n")[1:] {
			var f []string // columns are separated by two spaces or more
			for _, c := range strings.Split(line, "  ") {
				if c = strings.TrimSpace(c); c != "" {
					f = append(f, c)
				}
			}
			if len(f) == 3 && f[2] != "default" {
				got[f[0]] = f[1]
			}
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %s, want %s", tc.command, k, got[k], v)
			}
		}
	}
}

// TestConfigurableFlagsExist: every key of the allow-list is a flag of some
// command, and none names a secret (a flag renamed elsewhere must not leave a
// key that is accepted and does nothing).
func TestConfigurableFlagsExist(t *testing.T) {
	e, _, _ := testEnv("", nil)
	root := newRootCmd(e)
	seen := map[string]bool{}
	for _, c := range root.Commands() {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { seen[f.Name] = true })
	}
	for _, k := range configKeys() {
		if !seen[k] {
			t.Errorf("configurable key %q is no command's flag", k)
		}
		if k == "pkcs11" || strings.Contains(k, "pin-value") || strings.HasSuffix(k, "password") {
			t.Errorf("configurable key %q may carry a secret", k)
		}
	}
}

// TestConfigHostileFiles: what a config file can't do.
func TestConfigHostileFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", maxConfigSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "dir.toml")
	if err := os.Mkdir(fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"too large", big, "larger than 1 MiB"},
		{"not a file", fifo, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, errOut := testEnv("", nil)
			code := run(e, []string{"config", "show", "--config", tc.path})
			if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("status %d, stderr %q; want %d and %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
}

// TestReadmeConfigShow: the config show output in the README is what
// examples/config.toml gives (issue #16 item 3).
func TestReadmeConfigShow(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const cmdLine = "$ SMIMECTL_CRL_TIMEOUT=2s smimectl config show verify\n"
	_, block, ok := strings.Cut(string(readme), cmdLine)
	if !ok {
		t.Fatalf("README.md lacks %q", cmdLine)
	}
	want, _, _ := strings.Cut(block, "```")
	example, err := os.ReadFile(filepath.Join(examplesDir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeConfig(t, filepath.Join(dir, "smimectl", "config.toml"), string(example))
	e, out, errOut := testEnv("", map[string]string{"XDG_CONFIG_HOME": dir, "SMIMECTL_CRL_TIMEOUT": "2s"})
	if code := run(e, []string{"config", "show", "verify"}); code != exitOK {
		t.Fatalf("status %d: %s", code, errOut)
	}
	if got := strings.ReplaceAll(out.String(), dir, "/home/alice/.config"); got != want {
		t.Errorf("README.md shows\n%s\nconfig show prints\n%s", want, got)
	}
}
