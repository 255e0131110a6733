package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCommandDocs checks that every visible command and help topic has Short, Long
// and Example, and that Short is one line (STYLE rule 14).
func TestCommandDocs(t *testing.T) {
	e, _, _ := testEnv("", nil)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
			return
		}
		path := c.CommandPath()
		if c.Short == "" || strings.Contains(c.Short, "\n") || strings.HasSuffix(c.Short, ".") {
			t.Errorf("%s: Short %q, want one line without a final period", path, c.Short)
		}
		if c.Long == "" {
			t.Errorf("%s: no Long", path)
		}
		if c.Example == "" {
			t.Errorf("%s: no Example", path)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(e))
}

// TestVisibleCommands pins what --help lists: only commands that work.
func TestVisibleCommands(t *testing.T) {
	stdout, _, code := runArgs(t, "--help")
	if code != exitOK {
		t.Fatalf("--help: status %d", code)
	}
	for _, want := range []string{"\n  completion ", "\n  help ", "\n  version ", "\n  help exit-codes ", "EXIT STATUS"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--help lacks %q:\n%s", want, stdout)
		}
	}
}

func TestNewVersionCmd(t *testing.T) {
	tests := []struct {
		argv []string
		ok   bool
	}{
		{nil, true},
		{[]string{"extra"}, false},
		{[]string{"--json"}, false},
	}
	for _, tc := range tests {
		e, stdout, _ := testEnv("", nil)
		var got *versionOptions
		cmd := newVersionCmd(e, func(o *versionOptions) error { got = o; return nil })
		cmd.SetArgs(tc.argv)
		cmd.SetOut(new(bytes.Buffer))
		cmd.SetErr(new(bytes.Buffer))
		err := cmd.Execute()
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok=%v", tc.argv, err, tc.ok)
		}
		if tc.ok && (got == nil || got.Out != stdout) {
			t.Errorf("%q: options %+v, want Out = the env's stdout", tc.argv, got)
		}
	}
}

func TestNewCompletionCmd(t *testing.T) {
	tests := []struct {
		argv      []string
		wantShell string
		wantCode  int
	}{
		{[]string{"completion", "bash"}, "bash", exitOK},
		{[]string{"completion", "zsh"}, "zsh", exitOK},
		{[]string{"completion", "fish"}, "fish", exitOK},
		{[]string{"completion", "powershell"}, "powershell", exitOK},
		{[]string{"completion"}, "", exitUsage},
		{[]string{"completion", "ksh"}, "", exitUsage},
		{[]string{"completion", "bash", "zsh"}, "", exitUsage},
	}
	for _, tc := range tests {
		e, _, _ := testEnv("", nil)
		var got *completionOptions
		root := &cobra.Command{Use: "smimectl", SilenceErrors: true, SilenceUsage: true}
		root.AddCommand(newCompletionCmd(e, func(o *completionOptions) error { got = o; return nil }))
		root.SetArgs(tc.argv)
		err := root.Execute()
		if code := exitCode(err); code != tc.wantCode {
			t.Errorf("%q: status %d (%v), want %d", tc.argv, code, err, tc.wantCode)
		}
		if tc.wantCode == exitOK && (got == nil || got.Shell != tc.wantShell || got.Root != root) {
			t.Errorf("%q: options %+v, want shell %q", tc.argv, got, tc.wantShell)
		}
	}
}

// TestCompletionScripts checks that each shell's script comes out on stdout.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range completionShells {
		stdout, stderr, code := runArgs(t, "completion", sh)
		if code != exitOK || stderr != "" || !strings.Contains(stdout, "smimectl") {
			t.Errorf("completion %s: status %d, stderr %q, %d bytes of stdout", sh, code, stderr, len(stdout))
		}
	}
}

// TestVersion: version and --version print the same lines (issue #16 item 17).
func TestVersion(t *testing.T) {
	old := version
	defer func() { version = old }()
	version = "v1.2.3"
	want := versionString()
	if !strings.HasPrefix(want, "smimectl v1.2.3\n") || !strings.HasSuffix(want, "go: "+runtime.Version()+"\n") {
		t.Fatalf("versionString() = %q", want)
	}
	for _, argv := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr, code := runArgs(t, argv...)
		if code != exitOK || stderr != "" || stdout != want {
			t.Errorf("%q: got %q, stderr %q, status %d, want %q", argv, stdout, stderr, code, want)
		}
	}
}

// TestVersionText: the release, the VCS revision and time when the build
// information has them, and the Go version (issue #16 item 17).
func TestVersionText(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-06T21:00:00Z"}}
	goLine := "go: " + runtime.Version() + "\n"
	tests := []struct {
		name    string
		ldflags string
		bi      *debug.BuildInfo
		want    string
	}{
		{"no build information", "", nil, "smimectl (devel)\n" + goLine},
		{"release", "", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.3.0"}},
			"smimectl v0.3.0\ngo: go1.26.1\n"},
		{"ldflags first", "v9.9.9", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.3.0"}},
			"smimectl v9.9.9\ngo: go1.26.1\n"},
		{"devel without vcs", "", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}},
			"smimectl (devel)\ngo: go1.26.1\n"},
		{"vcs", "", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"smimectl (devel)\nrevision: " + rev + "\nrevision time: 2026-12-06T21:00:00Z\ngo: go1.26.1\n"},
		{"vcs modified", "", &debug.BuildInfo{GoVersion: "go1.26.1", Settings: append(vcs[:3:3], debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
			"smimectl (devel)\nrevision: " + rev + ", modified\nrevision time: 2026-12-06T21:00:00Z\ngo: go1.26.1\n"},
	}
	for _, tc := range tests {
		if got := versionText(tc.ldflags, tc.bi); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNoArgsShowsHelp(t *testing.T) {
	stdout, stderr, code := runArgs(t)
	if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "smimectl signs") {
		t.Errorf("no arguments: status %d, stderr %q, stdout %q", code, stderr, stdout)
	}
}

func TestUnknownCommandSuggests(t *testing.T) {
	_, stderr, code := runArgs(t, "verison")
	want := errorPrefix + "unknown command \"verison\"\n" + hintPrefix + "did you mean \"version\"?\n"
	if code != exitUsage || stderr != want {
		t.Errorf("got status %d, stderr\n%s\nwant status %d, stderr\n%s", code, stderr, exitUsage, want)
	}
}

// TestHelpBoolFlags (issue #16 item 10): no command's help shows a boolean flag
// as "--flag[=true|false]".
func TestHelpBoolFlags(t *testing.T) {
	e, _, _ := testEnv("", nil)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		if u := c.UsageString(); strings.Contains(u, "[=true|false]") {
			t.Errorf("%s: help shows [=true|false]:\n%s", c.CommandPath(), u)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(e))
}
