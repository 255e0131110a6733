package main

import (
	"testing"
)

// Issue #13 (start-up time): run builds only the command it runs
// (newRootCmdFor). TestCommandTable checks that every entry of commandTable is a
// command of the whole tree under the same name.
func TestCommandTable(t *testing.T) {
	e, _, _ := testEnv("", nil)
	full := newRootCmd(e)
	for _, c := range commandTable(e) {
		sub, rest, err := full.Find([]string{c.name})
		if err != nil || len(rest) > 0 || sub == full || sub.Name() != c.name {
			t.Errorf("%s: not a command of the whole tree (found %v)", c.name, sub.Name())
			continue
		}
		if c.tree {
			continue
		}
		if got := c.build().Name(); got != c.name {
			t.Errorf("%s: builds a command named %q", c.name, got)
		}
		root := newRootCmdFor(e, []string{c.name, "--help"})
		if n := len(root.Commands()); n != 1 {
			t.Errorf("%s: the root for one command has %d commands", c.name, n)
		}
	}
	if n, want := len(newRootCmdFor(e, []string{"help", "verify"}).Commands()), len(full.Commands()); n != want {
		t.Errorf("help: %d commands, want the whole tree's %d", n, want)
	}
	if n, want := len(newRootCmdFor(e, []string{"completion", "bash"}).Commands()), len(full.Commands()); n != want {
		t.Errorf("completion: %d commands, want the whole tree's %d", n, want)
	}
}

// TestRootForOneCommand: a command run from a root built for it alone prints
// and exits exactly as from the whole tree, for help, a bad flag, a missing
// argument and a run that fails on its input.
func TestRootForOneCommand(t *testing.T) {
	e0, _, _ := testEnv("", nil)
	for _, c := range commandTable(e0) {
		if c.tree {
			continue
		}
		for _, argv := range [][]string{
			{c.name, "--help"},
			{c.name, "--no-such-flag"},
			{c.name, "--in", "no-such-file.eml"},
			{c.name},
		} {
			eFull, outFull, errFull := testEnv("not a message\r\n", nil)
			full := newRootCmd(eFull)
			full.SetArgs(argv)
			codeFull := exitOK
			if err := full.Execute(); err != nil {
				reportError(eFull.Stderr, err, false)
				codeFull = exitCode(err)
			}
			eFull.releaseAll()

			eOne, outOne, errOne := testEnv("not a message\r\n", nil)
			codeOne := run(eOne, argv)
			if outOne.String() != outFull.String() || errOne.String() != errFull.String() || codeOne != codeFull {
				t.Errorf("%q: one command gave status %d, stdout %q, stderr %q; the whole tree %d, %q, %q",
					argv, codeOne, outOne.String(), errOne.String(), codeFull, outFull.String(), errFull.String())
			}
		}
	}
}
