package main

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandTakesVerbose: every command that does something takes -v,
// --verbose (issue #16 item 7), so that adding -v to a command line is never
// an "unknown flag" error. withoutVerbose lists the commands not given one
// yet (issue #16 item 7 is open for them); the list may only shrink.
func TestEveryCommandTakesVerbose(t *testing.T) {
	withoutVerbose := []string{
		"smimectl config show",
	}
	root := newRootCmd(&env{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || !c.HasParent() || c.HasSubCommands() || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		f := c.Flags().ShorthandLookup("v")
		has := f != nil && f.Name == "verbose" && f.Value.Type() == "bool"
		if exempt := slices.Contains(withoutVerbose, c.CommandPath()); has == exempt {
			t.Errorf("%s: -v, --verbose flag: %v; on the list of commands without it: %v", c.CommandPath(), has, exempt)
		}
	}
	walk(root)
}
